#!/bin/sh
# check-exports.sh SHIM SYMBOLS_TXT: every driver entry point of symbols.txt
# is a defined dynamic symbol of the built shim, and the shim exports nothing
# else (its internals are hidden).
set -eu
shim=$1 syms=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$shim" | awk '{ print $3 }' | LC_ALL=C sort -u >"$tmp/exported"
grep -E '^cu[A-Za-z0-9_]+$' "$syms" | LC_ALL=C sort -u >"$tmp/wanted"
missing=$(LC_ALL=C comm -13 "$tmp/exported" "$tmp/wanted")
extra=$(LC_ALL=C comm -23 "$tmp/exported" "$tmp/wanted")
[ -z "$missing" ] || { echo "not exported by $shim:"; echo "$missing"; exit 1; }
[ -z "$extra" ] || { echo "exported but not a driver entry point:"; echo "$extra"; exit 1; }
test "$(readelf -d "$shim" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" = libcuda.so.1 ||
	{ echo "SONAME is not libcuda.so.1"; exit 1; }
echo "ok: $(wc -l <"$tmp/wanted") entry points exported"
