#!/bin/bash
# migrate-daemon-check.sh BUILD_DIR
# Live migration driven by gpuvisord on a real GPU (not part of CTest): a
# daemon on the node's GPUs (NVML), GPU 0 in timeslice mode with two
# instances of one profile, gv-infer started with `gpuvisor run
# --migratable` on the first, `gpuvisor migrate` to the second (pre-copy),
# then back to GPU 0 (stop-and-copy, into a new instance). Prints both
# reports as the CLI shows them and compares the checksum with a run
# without the shim. Same device on both sides: this checks the daemon's
# real-GPU path (NVML backend, env, registration moves), the shim's
# same-device move is migrate-check.sh's. Under 90 s.
#
# GV_MIGRATE_CHECK_SIM=1 runs it on a simulated node (two H100s), which is
# how it is checked without a GPU. GV_MIGRATE_CHECK_MIB: weights (default
# 1024 on a GPU, 128 on the simulator).
set -u
build=$(cd "${1:-build}" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/daemon-lib.sh"
for f in bin/gpuvisord bin/gpuvisor bin/gv-infer lib/shim/libcuda.so.1; do
	[ -e "$build/$f" ] || fail "missing $build/$f (build the tree first)"
done
command -v jq >/dev/null || fail "needs jq"

if [ "${GV_MIGRATE_CHECK_SIM:-0}" = 1 ]; then
	backend=(--sim h100-80gb:2)
	export GPUVISOR_SIM_SHM_DIR=$T/shm
	mkdir -p "$GPUVISOR_SIM_SHM_DIR"
	direct="$build/lib/sim"
	mib=${GV_MIGRATE_CHECK_MIB:-128}
else
	backend=(--backend nvml)
	real=$(ldconfig -p | awk '/libcuda\.so\.1 .*x86-64/ { print $NF; exit }')
	[ -n "$real" ] || fail "no libcuda.so.1"
	direct=$(dirname "$real")
	mib=${GV_MIGRATE_CHECK_MIB:-1024}
fi
gv_daemon "${backend[@]}"
gv gpus || fail "no daemon"
gv mode 0 timeslice >/dev/null || fail "cannot set GPU 0 to timeslice"
need=$((mib + 2048))
prof=$(gv profiles --gpu 0 --json | jq -r --argjson n "$need" \
	'[.profiles[] | select(.kind == "timeslice" and .fb_mib >= $n and .free >= 2)] | sort_by(.fb_mib) | .[0].name // empty')
[ -n "$prof" ] || fail "no timeslice profile of $need MiB with two free on GPU 0: $(gv profiles --gpu 0)"
a=$(gv create --profile "$prof" --gpu 0 --json | jq -r .id) || fail "create"
b=$(gv create --profile "$prof" --gpu 0 --json | jq -r .id) || fail "create"
echo "instances $a and $b ($prof) on GPU 0; gv-infer with $mib MiB of weights"

args=(--weights-mib "$mib" --kv-mib-per-step 8 --act-kib 1024 --reads 4 --steps 40)
gv run --instance "$a" --migratable -- timeout 85 "$build/bin/gv-infer" "${args[@]}" --step-ms 100 \
	>"$T/wl.out" 2>"$T/wl.err" &
wl=$!
for _ in $(seq 300); do [ -S "$T/run/ctl/$a/shim.sock" ] && break; sleep 0.1; done
[ -S "$T/run/ctl/$a/shim.sock" ] || fail "the workload never listened: $(cat "$T/wl.err")"
sleep 1
rc=0
gv migrate "$a" --to "$b" || { echo "FAIL: pre-copy migration"; rc=1; }
gv migrate "$b" --to 0 --mode stopcopy || { echo "FAIL: stop-and-copy migration"; rc=1; }
gv migrations
wait "$wl" || fail "the workload failed: $(tail -5 "$T/wl.err")"
wl=
got=$(grep '^checksum:' "$T/wl.out")
want=$(LD_LIBRARY_PATH="$direct" "$build/bin/gv-infer" "${args[@]}" | grep '^checksum:')
echo "migrated twice: $got"
echo "never migrated: $want"
[ -n "$want" ] && [ "$got" = "$want" ] || fail "checksums differ"
[ $rc = 0 ] && echo ok
exit $rc
