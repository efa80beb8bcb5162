#!/bin/sh
# check-exports.sh SHIM SYMBOLS_TXT [NAME_REGEX SONAME]: every driver entry
# point of symbols.txt is a defined dynamic symbol of the built shim, and the
# shim exports nothing else (its internals are hidden). NAME_REGEX and SONAME
# (default: the CUDA shim's, ^cu... and libcuda.so.1) let the NVML
# interposer be checked the same way.
set -eu
shim=$1 syms=$2 re=${3:-'^cu[A-Za-z0-9_]+$'} soname=${4:-libcuda.so.1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$shim" | awk '{ print $3 }' | LC_ALL=C sort -u >"$tmp/exported"
grep -E "$re" "$syms" | LC_ALL=C sort -u >"$tmp/wanted"
missing=$(LC_ALL=C comm -13 "$tmp/exported" "$tmp/wanted")
extra=$(LC_ALL=C comm -23 "$tmp/exported" "$tmp/wanted")
[ -z "$missing" ] || { echo "not exported by $shim:"; echo "$missing"; exit 1; }
[ -z "$extra" ] || { echo "exported but not an entry point of $syms:"; echo "$extra"; exit 1; }
test "$(readelf -d "$shim" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" = "$soname" ||
	{ echo "SONAME is not $soname"; exit 1; }
echo "ok: $(wc -l <"$tmp/wanted") entry points exported"
