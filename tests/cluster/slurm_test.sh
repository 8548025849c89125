#!/usr/bin/env bash
# Sharded sampling on a real scheduler: a one-node Slurm cluster on localhost runs a 4-task
# array of `deno task sample --shard auto/4` (cluster/slurm/sample_array.sbatch), `deno task
# merge` joins the shards, and the result must equal the unsharded run byte for byte.
# Run by .ci/run (as root, with slurm-wlm and munge installed). Prints one "... ok" or
# "... FAILED" line and exits accordingly.
set -uo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/parlab-slurm-test-XXXXXX)
export SLURM_TEST_DIR=$work/cluster
cleanup() {
  bash cluster/slurm/local_cluster.sh stop >/dev/null 2>&1
  sleep 1 # let the daemons leave their state folder
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "$1"; echo "slurm: 4-task array, merged = unsharded ... FAILED"; exit 1; }

eval "$(bash cluster/slurm/local_cluster.sh start)" || fail "could not start the local cluster"
flags=(--model fixtures/models/tiny-par16.json --classes 0,1,2 --count 3 --batch 2 --seed 5)
deno run -q -A --frozen main/sample.ts "${flags[@]}" --out "$work/whole" >"$work/whole.log" 2>&1 ||
  fail "$(tail -5 "$work/whole.log")"
sbatch --wait --array=0-3 --chdir="$PWD" --output="$work/task-%a.log" \
  cluster/slurm/sample_array.sbatch "${flags[@]}" --out "$work/split" >"$work/sbatch.log" 2>&1 ||
  fail "sbatch failed: $(cat "$work/sbatch.log"; tail -3 "$work"/task-*.log 2>/dev/null)"
tasks=$(ls -d "$work"/split/shard-*-of-0004 2>/dev/null | wc -l)
[ "$tasks" -eq 4 ] || fail "expected 4 shard folders, found $tasks: $(tail -3 "$work"/task-*.log)"
deno run -q -A --frozen main/merge.ts --out "$work/split" >"$work/merge.log" 2>&1 ||
  fail "$(cat "$work/merge.log")"
for f in tokens.npy labels.npy; do
  cmp -s "$work/whole/$f" "$work/split/$f" || fail "$f: the merged shards differ from the unsharded run"
done
echo "slurm: 4-task array, merged = unsharded ... ok"
