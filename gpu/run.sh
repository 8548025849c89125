#!/usr/bin/env bash
# Unpack gpu/pack.sh's folder on a bare machine and run the benchmark (or any command) offline.
# Run from anywhere inside the repository copy that carries the pack:
#
#   bash gpu/run.sh [--pack .gpu-pack] [--work /tmp/parlab-gpu] [--software] \
#       [--exec CMD ARGS... | BENCH_ARGS...]
#
# BENCH_ARGS go to bench/gpu_bench.ts (default: its defaults: tiny models, cpu + webgpu, batch 1
# and 8; webgpu only when the pack was made without --with-cpu). --exec runs CMD instead, with the unpacked deno first on PATH. --software picks Mesa's
# llvmpipe ICD (the proof on a machine without a GPU). Needs: bash, xz, tar, dpkg-deb (or ar),
# and a GPU driver's Vulkan ICD (NVIDIA: /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
# is found by itself). Touches nothing outside the repository's node_modules/ and --work.
# Results: bench/results/gpu_bench.json, copied to $OUT when that is set (the device tool).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PACK=.gpu-pack
WORK=/tmp/parlab-gpu
SOFTWARE=0
EXEC=()
BENCH=()
while [ $# -gt 0 ]; do
  case "$1" in
    --pack) PACK=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --software) SOFTWARE=1; shift ;;
    --exec) shift; EXEC=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) BENCH+=("$1"); shift ;;
  esac
done
[ -f "$PACK/deno.xz" ] || { echo "run.sh: no $PACK/deno.xz. Fix: run gpu/pack.sh here and carry $PACK" >&2; exit 1; }
t0=$(date +%s.%N)
mkdir -p "$WORK/bin" "$WORK/root" "$WORK/deno_dir"

# 1. Deno.
[ -x "$WORK/bin/deno" ] || { xz -dc "$PACK/deno.xz" >"$WORK/bin/deno.tmp" && chmod +x "$WORK/bin/deno.tmp" && mv "$WORK/bin/deno.tmp" "$WORK/bin/deno"; }
export PATH="$WORK/bin:$PATH" DENO_DIR="$WORK/deno_dir" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1

# 2. node_modules (ignored by git, so it never travels with the tree).
if [ ! -f node_modules/.deno/.setup-cache.bin ]; then
  tar -xJf "$PACK/node_modules.tar.xz" -C "$ROOT"
fi

# 3. Vulkan loader from the pack (private prefix, nothing written to /), and the driver's ICD.
for deb in "$PACK"/debs/*.deb; do
  if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$deb" "$WORK/root"
  else (cd "$WORK/root" && ar p "$ROOT/$deb" data.tar.xz | tar -xJ); fi
done
export LD_LIBRARY_PATH="$WORK/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ "$SOFTWARE" = 1 ]; then
  export VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
elif [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
done
# Mesa's WSI asks for it; without it every run prints a harmless error line.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$WORK/xdg}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

t1=$(date +%s.%N)
echo "== unpacked in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s: $(command -v deno): $(deno --version | head -1)"
echo "== Vulkan loader: $(ls "$WORK"/root/usr/lib/x86_64-linux-gnu/libvulkan.so.1.* 2>/dev/null | head -1); VK_DRIVER_FILES=${VK_DRIVER_FILES:-(loader default)}"
deno eval 'const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
console.log("== WebGPU adapter:", a ? `${a.info.description || a.info.vendor} (fallback: ${a.info.isFallbackAdapter}, shader-f16: ${a.features.has("shader-f16")})` : "none");'

if [ ${#EXEC[@]} -gt 0 ]; then
  exec "${EXEC[@]}"
fi
status=0
# A pack without onnxruntime-node's native library (gpu/pack.sh without --with-cpu) runs WebGPU only.
if [ -f "$PACK/NO_CPU" ] && [ ${#BENCH[@]} -eq 0 ]; then BENCH=(--backends webgpu); fi
deno run -A --frozen --cached-only bench/gpu_bench.ts "${BENCH[@]}" || status=$?
if [ -n "${OUT:-}" ] && [ -f bench/results/gpu_bench.json ]; then cp bench/results/gpu_bench.json "$OUT/"; fi
exit $status
