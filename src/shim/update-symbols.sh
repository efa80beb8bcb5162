#!/bin/sh
# Regenerates symbols.txt: every name the NVIDIA driver exports (from the
# toolkit's stub libcuda.so, which mirrors the real driver's export list) plus
# every function cuda.h declares, including the legacy and per-thread-stream
# variants it only declares with __CUDA_API_VERSION_INTERNAL.
# Usage: src/shim/update-symbols.sh [CUDA_HOME]   (maintainers, after a toolkit update)
set -eu
cuda=${1:-${CUDA_HOME:-/usr/local/cuda}}
here=$(dirname "$0")
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
nm -D --defined-only "$cuda/lib64/stubs/libcuda.so" | awk '$2 == "T" { print $3 }' >"$tmp"
for def in "" "-D__CUDA_API_VERSION_INTERNAL"; do
	echo '#include <cuda.h>' | ${CC:-cc} -E -P $def -I"$cuda/include" - |
		grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | tr -d ' (' >>"$tmp"
done
LC_ALL=C sort -u "$tmp" >"$here/symbols.txt"
wc -l <"$here/symbols.txt"
