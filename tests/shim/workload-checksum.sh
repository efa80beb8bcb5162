#!/bin/sh
# workload-checksum.sh BUILD_DIR ACCT_TOOL WORKLOAD [ARGS...]
# The sample workload gives the same checksum on the simulator directly and
# through the shim with a partition, and through the shim it really is
# partitioned: with a framebuffer too small for its weights it fails.
set -eu
build=$1 tool=$2 wl=$3
shift 3
dir=$(mktemp -d "${TMPDIR:-/tmp}/gv-shim-wl.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
export GPUVISOR_SIM_SHM_DIR="$dir"
unset GPUVISOR_ACCT GPUVISOR_REAL_LIBCUDA

direct=$(LD_LIBRARY_PATH="$build/lib/sim" "$wl" "$@" | grep '^checksum:')
"$tool" "$dir/big.acct" $((1024 * 1024 * 1024))
shimmed=$(LD_LIBRARY_PATH="$build/lib/shim" GPUVISOR_REAL_LIBCUDA="$build/lib/libcudasim.so" \
	GPUVISOR_ACCT="$dir/big.acct" "$wl" "$@" | grep '^checksum:')
echo "direct: $direct"
echo "shim:   $shimmed"
[ -n "$direct" ] && [ "$direct" = "$shimmed" ] || { echo "checksums differ"; exit 1; }

"$tool" "$dir/small.acct" $((8 * 1024 * 1024))
if LD_LIBRARY_PATH="$build/lib/shim" GPUVISOR_REAL_LIBCUDA="$build/lib/libcudasim.so" \
	GPUVISOR_ACCT="$dir/small.acct" "$wl" "$@" >"$dir/small.out" 2>&1; then
	echo "ran in an 8 MiB partition: the shim did not partition it"
	cat "$dir/small.out"
	exit 1
fi
grep -q 'OUT_OF_MEMORY\|out of memory' "$dir/small.out" ||
	{ echo "failed in an 8 MiB partition, but not for memory:"; cat "$dir/small.out"; exit 1; }
echo "ok"
