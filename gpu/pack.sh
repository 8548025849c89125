#!/usr/bin/env bash
# Pack what a bare GPU machine lacks into one folder (default .gpu-pack/, ignored by git):
#   deno.xz                 the Deno binary running here, xz-compressed
#   node_modules.tar.xz     this checkout's node_modules, trimmed to linux-x64 and to the files
#                           that run: onnxruntime-web's WebGPU bundle + its asyncify .wasm (and
#                           with --with-cpu onnxruntime-node's linux-x64 binding + .so; with
#                           --with-sharp sharp's glibc x64 build); no source maps, .d.ts,
#                           packages' tests, UMD bundles (Deno loads the ES modules), emoji
#                           pictures or emoji lists (read only to build data)
#   debs/libvulkan1_*.deb   the Vulkan loader (the GPU machine's image may have none)
#   models/                 extra models given with --models (the committed fixtures/models
#                           travel with the repository tree anyway)
#   MANIFEST.txt            what is inside, sizes, the Deno version
# It fails when the pack plus the repository files that travel exceed the device tool's 64 MiB.
#
#   gpu/pack.sh [--out .gpu-pack] [--models DIR_OR_FILE.json ...] [--xz-level 9] [--with-cpu]
#               [--with-sharp]
#
# onnxruntime-node's native library (12.5 MiB packed) is left out unless --with-cpu: the model
# loader imports it only for the cpu/cuda backends (src/deps/ort.ts loadOrtNode), so the WebGPU
# benchmark runs without it, and without it the pack fits beside the repository's fixtures.
# sharp's native libvips (6.1 MiB packed) is left out unless --with-sharp for the same reason:
# src/deps/sharp.ts imports it only to read or write pictures (PNG/WebP/GIF), which
# bench/gpu_bench.ts and par_l_reference.py never do; `deno task sample` (its samples.png) does,
# so `run.sh --exec "deno task sample ..."` needs a pack made with --with-sharp.
#
# Then: run(command="bash gpu/run.sh ...", carry=[".gpu-pack"]) on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=.gpu-pack
LEVEL=9
MODELS=()
WITH_CPU=0
WITH_SHARP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --models) MODELS+=("$2"); shift 2 ;;
    --xz-level) LEVEL=$2; shift 2 ;;
    --with-cpu) WITH_CPU=1; shift ;;
    --with-sharp) WITH_SHARP=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "pack.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
done
LIMIT=$((64 * 1024 * 1024))

command -v deno >/dev/null || { echo "pack.sh: deno is not on PATH. Fix: install Deno 2.9.6" >&2; exit 1; }
command -v xz >/dev/null || { echo "pack.sh: xz is missing. Fix: apt-get install xz-utils" >&2; exit 1; }
DENO_BIN=$(readlink -f "$(command -v deno)")
# npm's "deno" package installs a launcher script beside the real binary on some setups.
if ! head -c 4 "$DENO_BIN" | grep -q ELF; then
  for c in "$(dirname "$DENO_BIN")/deno" "$(dirname "$DENO_BIN")/bin/deno"; do
    if [ -f "$c" ] && head -c 4 "$c" | grep -q ELF; then DENO_BIN=$c; break; fi
  done
fi
head -c 4 "$DENO_BIN" | grep -q ELF || { echo "pack.sh: cannot find the deno ELF binary ($DENO_BIN)" >&2; exit 1; }

echo "== deno install (node_modules for this lockfile)"
deno install --frozen >/dev/null

TMP="$OUT.tmp"
rm -rf "$TMP"
mkdir -p "$TMP/debs" "$TMP/models"

# A rerun reuses an earlier pack's archives when their sources did not change (xz -9 is slow).
reuse() { # reuse NAME FINGERPRINT: copy $OUT/NAME into the new pack if it was made from FINGERPRINT
  if [ -f "$OUT/$1" ] && [ "$(cat "$OUT/$1.src" 2>/dev/null)" = "$2-$LEVEL" ]; then
    cp "$OUT/$1" "$TMP/$1"
    echo "$2-$LEVEL" >"$TMP/$1.src"
    echo "   (reused $OUT/$1)"
    return 0
  fi
  return 1
}

echo "== deno binary ($(du -h "$DENO_BIN" | cut -f1)) -> deno.xz"
fp=$(sha256sum "$DENO_BIN" | cut -c1-64)
if ! reuse deno.xz "$fp"; then
  xz -T0 "-$LEVEL" -c "$DENO_BIN" >"$TMP/deno.xz"
  echo "$fp-$LEVEL" >"$TMP/deno.xz.src"
fi

echo "== node_modules (trimmed) -> node_modules.tar.xz"
# Every package folder stays (Deno checks them against the lockfile); big files it never loads go.
LIST=$(mktemp)
(
  find node_modules -mindepth 1 \( -type f -o -type l \) |
    grep -Ev '\.(map|d\.ts|d\.mts|d\.cts|md|markdown)$' |
    grep -Ev '/onnxruntime-node/bin/napi-v6/(darwin|win32|linux/arm64)/' |
    { if [ "$WITH_CPU" = 1 ]; then cat; else grep -Ev '/onnxruntime-node/bin/napi-v6/linux/x64/'; fi; } |
    grep -Ev '/onnxruntime-web/dist/.+' |
    grep -Ev '/onnxruntime-web/lib/' |
    grep -Ev '/emoji-datasource-[a-z]+/(img/|(emoji|emoji_pretty|categories)\.json$)' |
    grep -Ev '(/tests?/|/__tests__/|\.test\.[cm]?[jt]s$|\.umd(\.min)?\.js$|/d3/dist/d3(\.min)?\.js$)' |
    grep -Ev '@img\+sharp-(libvips-)?linuxmusl-x64@.*\.(so[.0-9]*|node)$' |
    { if [ "$WITH_SHARP" = 1 ]; then cat; else grep -Ev '@img\+sharp-(libvips-)?linux-x64@.*\.(so[.0-9]*|node)$'; fi; }
  # onnxruntime-web: only the WebGPU bundle and its wasm are loaded (src/model/onnx_webgpu.ts).
  ls node_modules/.deno/onnxruntime-web@*/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs
  ls node_modules/.deno/onnxruntime-web@*/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm
) | sort -u >"$LIST"
fp=$(xargs -d '\n' stat -c '%n %s' <"$LIST" | sha256sum | cut -c1-64)
# run.sh reads this: without the CPU runtime the benchmark runs the webgpu backend only.
if [ "$WITH_CPU" = 1 ]; then rm -f "$TMP/NO_CPU"; else echo "packed without onnxruntime-node's native library" >"$TMP/NO_CPU"; fi
if ! reuse node_modules.tar.xz "$fp"; then
  tar -cf - --no-recursion -T "$LIST" | xz -T0 "-$LEVEL" >"$TMP/node_modules.tar.xz"
  echo "$fp-$LEVEL" >"$TMP/node_modules.tar.xz.src"
fi
rm -f "$LIST"

echo "== Vulkan loader deb"
(cd "$TMP/debs" && apt-get download libvulkan1 >/dev/null 2>&1) ||
  { echo "pack.sh: apt-get download libvulkan1 failed. Fix: apt-get update, then rerun" >&2; exit 1; }

for m in "${MODELS[@]}"; do
  if [ -d "$m" ]; then
    cp "$m"/*.json "$m"/*.onnx "$TMP/models/"
  elif [ -f "$m" ]; then
    base=${m%.json}; base=${base%.onnx}
    cp "$base.json" "$base.onnx" "$TMP/models/"
  else
    echo "pack.sh: --models $m: no such file or folder" >&2; exit 1
  fi
done

deno --version | head -1 >"$TMP/MANIFEST.txt"
(cd "$TMP" && find . -type f -printf '%s\t%p\n' | sort -k2) >>"$TMP/MANIFEST.txt"
rm -rf "$OUT"
mv "$TMP" "$OUT"

pack_bytes=$(du -sb "$OUT" | cut -f1)
# What else travels: tracked files and untracked files git does not ignore.
tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null |
  awk '{s += $1} END {print s + 0}')
total=$((pack_bytes + tree_bytes))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "== $OUT: $(mib "$pack_bytes") (deno $(mib "$(stat -c %s "$OUT/deno.xz")"), node_modules $(mib "$(stat -c %s "$OUT/node_modules.tar.xz")")); repository files $(mib "$tree_bytes"); together $(mib "$total") of 64 MiB"
if [ "$total" -gt "$LIMIT" ]; then
  echo "pack.sh: over the device tool's 64 MiB. Fix: fewer --models, no --with-cpu/--with-sharp, or --xz-level 9e" >&2
  exit 1
fi
