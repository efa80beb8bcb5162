#!/bin/sh
# sim-query.sh BUILD_DIR: the simulator's NVML directly (nvml-query with
# LD_LIBRARY_PATH=<build>/lib/sim), on a private simulated node of two
# H100s, while gv-infer holds memory on the first through libcudasim:
# count 2, the catalog's name and memory, device-wide use = what gv-infer
# holds (its pid listed with those bytes), the second GPU idle.
set -eu
b=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/gv-nvml-sim.XXXXXX")
wl=
cleanup() {
	rc=$?
	if [ -n "$wl" ]; then
		kill "$wl" 2>/dev/null
		wait "$wl" 2>/dev/null || :
	fi
	rm -rf "$dir"
	exit $rc
}
trap cleanup EXIT INT TERM
export GPUVISOR_SIM_SHM_DIR="$dir" GPUVISOR_SIM_MODELS=h100-80gb:2
unset CUDA_VISIBLE_DEVICES GPUVISOR_SIM_NODE GPUVISOR_INSTANCE GPUVISOR_ACCT
fail() { echo "FAIL: $*"; cat "$dir/q.out" 2>/dev/null; exit 1; }
q() { LD_LIBRARY_PATH="$b/lib/sim" "$b/bin/nvml-query" >"$dir/q.out" || fail "nvml-query exited $?"; }
field() { sed -n "s/^gpu $1: $2 .*\\<$3=\\([0-9]*\\).*/\\1/p" "$dir/q.out" | head -1; }

q
grep -qx 'count: 2' "$dir/q.out" || fail "count is not 2"
grep -q '^gpu 0: memory total=85899345920 used=0 free=85899345920$' "$dir/q.out" ||
	fail "an idle H100 80GB is not 81920 MiB free"
grep -qx 'gpu 0: processes=0' "$dir/q.out" || fail "processes on an idle GPU"

LD_LIBRARY_PATH="$b/lib/sim" "$b/bin/gv-infer" --weights-mib 64 --steps 600 --step-ms 50 \
	>"$dir/wl.out" 2>&1 &
wl=$!
mib64=$((64 * 1024 * 1024))
for _ in $(seq 200); do
	q
	used=$(field 0 memory used)
	[ -n "$used" ] && [ "$used" -ge "$mib64" ] && grep -q "^gpu 0: process pid=$wl " "$dir/q.out" &&
		break
	sleep 0.1
done
cat "$dir/q.out"
grep -q '^gpu 0: uuid=GPU-.* name=NVIDIA H100 80GB HBM3$' "$dir/q.out" || fail "gpu 0's name"
used=$(field 0 memory used)
[ -n "$used" ] && [ "$used" -ge "$mib64" ] || fail "gv-infer's 64 MiB of weights are not in used"
held=$(sed -n "s/^gpu 0: process pid=$wl used=\\([0-9]*\\)$/\\1/p" "$dir/q.out")
[ -n "$held" ] || fail "gv-infer (pid $wl) is not listed"
[ "$held" = "$used" ] || fail "gv-infer holds $held bytes, the device shows $used used"
grep -qx 'gpu 0: processes=1' "$dir/q.out" || fail "not exactly one process on gpu 0"
v2=$(sed -n 's/^gpu 0: memory_v2 total=85899345920 reserved=0 used=\([0-9]*\) .*/\1/p' "$dir/q.out")
[ -n "$v2" ] || fail "memory_v2 of gpu 0"
grep -q '^gpu 1: memory total=85899345920 used=0 ' "$dir/q.out" || fail "gpu 1 is not idle"
grep -qx 'gpu 1: processes=0' "$dir/q.out" || fail "processes on gpu 1"
echo "PASS: nvml.sim"
