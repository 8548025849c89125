#!/usr/bin/env bash
# Train the experiment models (issue 5, issue 15): the six configurations at one size, one recipe
# and one step count, so they differ only in schedule. Resumable: rerunning the same command
# continues every run from its checkpoint (a finished run is only exported again).
#   bash python/train_experiments.sh [config ...]     (default: all six)
# Environment:
#   SIZE=cpu   (default) ~330k parameters, 300 steps: the committed fixtures of issue 5.
#   SIZE=cpu2  issue 15's recipe for this shared 2-core CPU: width 96, 4 layers, 2 heads of 48
#              (641k parameters), batch 8, AdamW lr 2e-3, 600 steps, evaluation at 300 and 600 on
#              all 770 val pictures, a checkpoint every 5 minutes in between; chosen from the
#              measurements in python/experiment_levers.json (why: python/experiment_levers.md).
#              Run it as SIZE=cpu2 LANES=2 THREADS=1 (two processes of one thread each).
#   SIZE=cpu3  issue 15's second recipe: the cpu2 shape on the 16x16 grid of fixtures/emoji16 (the
#              same 48x48 pictures cut into 3x3-pixel patches, K 1024), 3000 steps (3.5 epochs),
#              evaluation at 1000/2000/3000; a step costs 0.42 s on one thread against 1.10 s on
#              the 24x24 grid. Exports guidance 3: of 1.5, 3 and 5 on the raster and PAR-4x models
#              (6 pictures per class), 3 gave the lowest Fréchet and the highest class accuracy.
#              Run it as SIZE=cpu3 LANES=2 THREADS=1.
#   SIZE=video issue 19's video models on fixtures/video (5 frames of 8x8 tokens = 320 per clip):
#              width 64, 4 layers, 1 head of 64 (the cheapest shape measured; 0.45 s/step on the
#              clips with the machine shared), batch 8, 2000 steps; configs raster, par4, par16,
#              named video-<config>. Run it as SIZE=video LANES=1 THREADS=1 (or 2).
#   SIZE=gpu   ~1M parameters, batch 64, 6000 steps, meant for a GPU machine.
#   STEPS (override the step count), THREADS (per process, default 1), LANES (configs trained at
#   once, default 1; the configs are dealt round-robin to the lanes), OUT (export folder, default
#   fixtures/models), DATA (token fixtures, default fixtures/emoji; fixtures/emoji16 for cpu3), RUNS (run folders, default out/runs), EVAL_LIMIT (val pictures per evaluation,
#   default all 770).
set -euo pipefail
cd "$(dirname "$0")/.."
configs=("$@")
prefix=emoji
if [ "${SIZE:-cpu}" = video ]; then
  prefix=video
  [ ${#configs[@]} -eq 0 ] && configs=(raster par4 par16)
fi
[ ${#configs[@]} -eq 0 ] && configs=(raster par4 par16 raster4 par4-causal par4-noinit)
lr=2e-3; warmup=50; eval_every=250; extra=(); data=${DATA:-fixtures/emoji}; cfg=1.5
case "${SIZE:-cpu}" in
  cpu) size=(--dim 64 --layers 4 --heads 4 --kv-heads 2 --multiple-of 32 --batch 8); steps=${STEPS:-300} ;;
  cpu2) size=(--dim 96 --layers 4 --heads 2 --multiple-of 32 --batch 8); steps=${STEPS:-600}
        eval_every=300; extra=(--save-minutes 5) ;;
  cpu3) size=(--dim 96 --layers 4 --heads 2 --multiple-of 32 --batch 8); steps=${STEPS:-3000}
        eval_every=1000; extra=(--save-minutes 5); data=${DATA:-fixtures/emoji16}; cfg=3 ;;
  video) size=(--dim 64 --layers 4 --heads 1 --multiple-of 32 --batch 8); steps=${STEPS:-2000}
         eval_every=1000; extra=(--save-minutes 5); data=${DATA:-fixtures/video} ;;
  gpu) size=(--dim 128 --layers 4 --heads 4 --kv-heads 4 --multiple-of 64 --batch 64); steps=${STEPS:-6000} ;;
  *) echo "SIZE must be cpu, cpu2, cpu3, video or gpu" >&2; exit 2 ;;
esac
threads=${THREADS:-1}
# Debian's torch calls OpenBLAS, whose own thread pool ignores torch.set_num_threads; train.py
# limits it too, this covers the imports before that.
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
runs=${RUNS:-out/runs}
out=${OUT:-fixtures/models}
mkdir -p "$runs" "$out"

train_one() {
  local c=$1
  /usr/bin/python3 -m python.train --config "$c" --data "$data" --out "$runs/$prefix-$c" "${size[@]}" \
    --steps "$steps" --lr "$lr" --warmup "$warmup" --eval-every "$eval_every" --eval-limit "${EVAL_LIMIT:-770}" --seed 0 \
    "${extra[@]}" --threads "$threads" --export "$out" --name "$prefix-$c" --dtype float16 \
    --cfg-scale "$cfg"
  # The curves beside the model (for `deno task loss-curves`), without the per-cell arrays.
  /usr/bin/python3 - "$runs/$prefix-$c/log.json" "$out/$prefix-$c" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
manifest = json.load(open(sys.argv[2] + ".json"))
out = {"config": log["config"], "train": log["train"], "val": log["val"], "seconds": log["seconds"],
       "unigramEntropyNats": manifest["provenance"]["unigramEntropyNats"]}
json.dump(out, open(sys.argv[2] + ".log.json", "w"), indent=0)
PY
  echo "[$c] done $(date -u +%H:%M:%S)"
}

lanes=${LANES:-1}
pids=()
for ((lane = 0; lane < lanes; lane++)); do
  (
    for ((i = lane; i < ${#configs[@]}; i += lanes)); do
      train_one "${configs[$i]}"
    done
  ) &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
