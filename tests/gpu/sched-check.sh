#!/bin/bash
# tests/gpu/sched-check.sh BUILD_DIR: the time-slice scheduler on a real GPU.
#
# Two bin/gv-spin tenants (1 ms kernels, 2 queued) under the shim on GPU 0,
# attached to one scheduler segment (equal share, 5 ms slices), each
# recording the start and end of every kernel on the GPU's own clock
# (%globaltimer, one clock for all contexts). Prints each tenant's share of
# the device time in the window where both ran (less a tenth at each end)
# and the scheduler's figures; fails when a share is off equal by more than
# 5 %. Then, for comparison only, the same two tenants without the
# scheduler: the GPU time-slices their contexts itself, so each kernel's
# wall time on the device includes the other's turns ("busy" above 1).
# Takes about 25 s.
#
# GV_SCHED_CHECK_SIM=1 runs it on the simulator instead (lib/libcudasim.so
# as the real driver, a private simulated device), to check the script.
set -u
b=$(cd "${1:?usage: tests/gpu/sched-check.sh BUILD_DIR}" && pwd) || exit 2
ts="$b/tests/timeslice/ts_tool"
for f in "$ts" "$b/bin/gv-spin" "$b/lib/shim/libcuda.so.1"; do
	[ -e "$f" ] || { echo "sched-check: $f is missing"; exit 2; }
done
d=$(mktemp -d "${TMPDIR:-/tmp}/gv-schedchk-XXXXXX") || exit 2
trap 'rm -rf "$d"' EXIT
if [ "${GV_SCHED_CHECK_SIM:-0}" = 1 ]; then
	export GPUVISOR_REAL_LIBCUDA="$b/lib/libcudasim.so" GPUVISOR_SIM_SHM_DIR="$d"
	echo "sched-check: on the simulator"
else
	real=$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 .*x86-64/ { print $NF; exit }')
	[ -n "$real" ] && export GPUVISOR_REAL_LIBCUDA="$real"
	echo "sched-check: on the real driver ${real:-found by the shim}"
fi
secs=8
fail=0

# run_pair NAME [SEGMENT]: two tenants a and b at once; traces in $d/NAME.*
run_pair() {
	local name=$1 seg=${2:-} pids="" t rc=0
	for t in a b; do
		if [ -n "$seg" ]; then
			env GPUVISOR_SCHED="$seg" GPUVISOR_INSTANCE="$t" \
				LD_LIBRARY_PATH="$b/lib/shim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
				timeout 40 "$b/bin/gv-spin" --kernel-us 1000 --depth 2 --seconds $secs \
				--trace "$d/$name.$t" >"$d/$name.$t.json" 2>"$d/$name.$t.err" &
		else
			env LD_LIBRARY_PATH="$b/lib/shim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
				timeout 40 "$b/bin/gv-spin" --kernel-us 1000 --depth 2 --seconds $secs \
				--trace "$d/$name.$t" >"$d/$name.$t.json" 2>"$d/$name.$t.err" &
		fi
		pids="$pids $!"
	done
	for t in $pids; do wait "$t" || rc=1; done
	for t in a b; do
		echo "  tenant $t: $(cat "$d/$name.$t.json")"
		[ -s "$d/$name.$t.err" ] && sed 's/^/    /' "$d/$name.$t.err"
	done
	return $rc
}

echo "== equal share, 5 ms slices, ${secs} s"
"$ts" create "$d/gpu.sched" equal-share 5000 a b || exit 1
if ! run_pair sched "$d/gpu.sched"; then
	echo "FAIL: a tenant failed"
	fail=1
fi
shares=$("$ts" shares auto auto "$d/sched.a" "$d/sched.b") || fail=1
echo "  shares of device time: $shares"
echo "  scheduler: $("$ts" stats "$d/gpu.sched")"
if [ -n "$shares" ]; then
	# "shares":[x,y]: each within 5 % of 0.5
	ok=$(echo "$shares" | sed 's/.*"shares":\[\([^]]*\)\].*/\1/' |
		awk -F, '{ ok = 1; for (i = 1; i <= NF; i++) if ($i < 0.475 || $i > 0.525) ok = 0; print ok }')
	if [ "$ok" = 1 ]; then
		echo "PASS equal share within 5 %"
	else
		echo "FAIL equal share off by more than 5 %"
		fail=1
	fi
fi

echo "== for comparison: the same tenants without the scheduler"
if run_pair nosched; then
	echo "  shares of device time: $("$ts" shares auto auto "$d/nosched.a" "$d/nosched.b")"
else
	echo "  (a tenant failed; not part of the check)"
fi
exit $fail
