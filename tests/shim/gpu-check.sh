#!/bin/sh
# gpu-check.sh [BUILD_DIR]: the shim in front of NVIDIA's driver on a real
# GPU (run from the repository root on a machine with one; not part of
# CTest). Runs the shim test programs with the real driver as
# GPUVISOR_REAL_LIBCUDA, compares the sample workloads' checksums with and
# without the shim (and with the simulator), and runs the overhead bench.
set -u
b=$(cd "${1:-build}" && pwd)
real=$(ldconfig -p | awk '/libcuda\.so\.1 .*x86-64/ { print $NF; exit }')
nvidia-smi -L || true
ldd --version | head -1
echo "real driver: $real"
[ -n "$real" ] || { echo "no libcuda.so.1 on this machine"; exit 1; }
fail=0

# runtest NAME LIMIT [ARGS...]
runtest() {
	t=$1 l=$2
	shift 2
	echo "== shim.$t (limit $l) $*"
	if GPUVISOR_REAL_LIBCUDA="$real" LD_LIBRARY_PATH="$b/lib/shim" GPUVISOR_SHIM_DEBUG=1 \
		timeout 120 sh tests/shim/run-test.sh "$b/tests/shim/gv-shim-acct" "$l" \
		"$b/tests/shim/test_shim_$t" "$@"; then
		echo "PASS $t"
	else
		echo "FAIL $t"
		fail=1
	fi
}
sh tests/shim/check-exports.sh "$b/lib/libgpuvisor-cuda.so" src/shim/symbols.txt || fail=1
runtest noacct none
runtest procaddr 4294967296
runtest badargs 4294967296
runtest limit 4294967296
runtest meminfo 4294967296
runtest instances none
runtest kill 4294967296
# bulk memory as gpuvisor runs a workload (docs/shim.md "Bulk memory")
export GPUVISOR_INSTANCE=i-1
runtest bulk 4294967296 on
runtest bulk none on
unset GPUVISOR_INSTANCE

for wl in infer train; do
	d=$(timeout 120 env -u LD_LIBRARY_PATH "$b/bin/gv-$wl" 2>&1 | grep '^checksum:')
	dir=$(mktemp -d)
	"$b/tests/shim/gv-shim-acct" "$dir/a" $((2 * 1024 * 1024 * 1024))
	s=$(GPUVISOR_REAL_LIBCUDA="$real" LD_LIBRARY_PATH="$b/lib/shim" GPUVISOR_ACCT="$dir/a" \
		timeout 120 "$b/bin/gv-$wl" 2>&1 | grep '^checksum:')
	m=$(GPUVISOR_CATALOG=data/catalog.json GPUVISOR_SIM_SHM_DIR="$dir" \
		LD_LIBRARY_PATH="$b/lib/sim" timeout 120 "$b/bin/gv-$wl" 2>&1 | grep '^checksum:')
	rm -rf "$dir"
	echo "gv-$wl gpu: $d | gpu+shim: $s | simulator: $m"
	if [ -z "$d" ] || [ "$d" != "$s" ]; then
		echo "FAIL gv-$wl checksum"
		fail=1
	fi
done

echo "== bench (real driver)"
timeout 120 "$b/bench/shim_overhead" "$real" "$b/lib/libgpuvisor-cuda.so" 20000 \
	"$b/lib/gv_kernels.fatbin" gv_count || echo "bench did not run"
echo "gpu-check: $([ $fail = 0 ] && echo PASS || echo FAIL)"
exit $fail
