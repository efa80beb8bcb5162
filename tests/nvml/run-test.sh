#!/bin/sh
# run-test.sh BUILD_DIR MODE: runs tests/nvml/test_nvml MODE with the NVML
# interposer first on LD_LIBRARY_PATH and the simulator's NVML as the real
# one, on a private simulated node of two GPUs (GPUVISOR_SIM_SHM_DIR in a
# fresh directory). MODE instance and closed get an instance environment.
set -eu
b=$1 mode=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/gv-nvml-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
export GPUVISOR_SIM_SHM_DIR="$dir" GPUVISOR_SIM_MODELS=h100-80gb:2
unset GPUVISOR_INSTANCE GPUVISOR_ACCT GPUVISOR_LIMIT CUDA_VISIBLE_DEVICES GPUVISOR_SIM_NODE
sim=$b/lib/libnvmlsim.so
prog=$b/tests/nvml/test_nvml
# the two GPUs' UUIDs, from the simulator's NVML directly
uuids=$(LD_LIBRARY_PATH="$b/lib/sim" "$b/bin/nvml-query" | sed -n 's/^gpu [0-9]*: uuid=\([^ ]*\) .*/\1/p')
first=$(echo "$uuids" | sed -n 1p)
second=$(echo "$uuids" | sed -n 2p)
[ -n "$first" ] && [ -n "$second" ] || { echo "no UUIDs from nvml-query: $uuids"; exit 1; }
case $mode in
instance)
	LD_LIBRARY_PATH="$b/lib/shim" "$prog" files "$dir/i.acct" "$dir/i.limit"
	export GPUVISOR_INSTANCE=i-1 CUDA_VISIBLE_DEVICES="$second" GV_TEST_OTHER_UUID="$first" \
		GPUVISOR_ACCT="$dir/i.acct" GPUVISOR_LIMIT="$dir/i.limit"
	;;
closed)
	echo "not an accounting file" >"$dir/bad.acct"
	export GPUVISOR_INSTANCE=i-1 CUDA_VISIBLE_DEVICES=GPU-00000000-0000-4000-8000-000000000000 \
		GPUVISOR_ACCT="$dir/bad.acct"
	;;
esac
LD_LIBRARY_PATH="$b/lib/shim" GPUVISOR_REAL_LIBNVML="$sim" "$prog" "$mode" "$sim"
