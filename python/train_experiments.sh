#!/usr/bin/env bash
# Train the experiment models (issue 5): the six configurations at one size and one step count,
# so they differ only in schedule. Resumable: rerunning continues from each run's checkpoint.
#   bash python/train_experiments.sh [config ...]     (default: all six, one after another)
# Environment: SIZE=cpu (default; ~330k parameters, 300 steps: what 2 shared CPU cores finish in a session) or
# SIZE=gpu (~1M parameters, the 2.5 MB fp16 budget), STEPS, THREADS, OUT (export folder),
# RUNS (run folders).
set -euo pipefail
cd "$(dirname "$0")/.."
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(raster par4 par16 raster4 par4-causal par4-noinit)
case "${SIZE:-cpu}" in
  cpu) size=(--dim 64 --layers 4 --heads 4 --kv-heads 2 --multiple-of 32 --batch 8); steps=${STEPS:-300} ;;
  gpu) size=(--dim 128 --layers 4 --heads 4 --kv-heads 4 --multiple-of 64 --batch 64); steps=${STEPS:-6000} ;;
  *) echo "SIZE must be cpu or gpu" >&2; exit 2 ;;
esac
for c in "${configs[@]}"; do
  /usr/bin/python3 -m python.train --config "$c" --out "${RUNS:-out/runs}/emoji-$c" "${size[@]}" \
    --steps "$steps" --lr 2e-3 --warmup 50 --eval-every 250 --eval-limit 770 --seed 0 \
    --threads "${THREADS:-1}" --export "${OUT:-fixtures/models}" --name "emoji-$c" --dtype float16
  # The curves beside the model (for `deno task loss-curves`), without the per-cell arrays.
  /usr/bin/python3 - "${RUNS:-out/runs}/emoji-$c/log.json" "${OUT:-fixtures/models}/emoji-$c" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
manifest = json.load(open(sys.argv[2] + ".json"))
out = {"config": log["config"], "train": log["train"], "val": log["val"], "seconds": log["seconds"],
       "unigramEntropyNats": manifest["provenance"]["unigramEntropyNats"]}
json.dump(out, open(sys.argv[2] + ".log.json", "w"), indent=0)
PY
done
