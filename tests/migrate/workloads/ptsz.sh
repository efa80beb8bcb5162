# shellcheck shell=sh disable=SC2034,SC2154 # sourced by run-migrate.sh (reads wl_*, sets dir, wl)
# ptsz: gv-mig-probe ptsz, a workload using the per-thread-stream entry
# points (launches, copies, sets and events), 2-D/3-D copies and 2-D sets
# and cuLaunchKernelEx with a completion event. It is migratable, sets its
# data up, says "ready" and waits on its standard input; after the moves
# it finds its data, stream answers, stream ids and pointer device
# ordinals unchanged and its streams, events and functions working, and
# prints "ok".
wl_prog=tests/migrate/gv-mig-probe
wl_args=ptsz
wl_kind=probe
# Left out: back_and_forth (the probe is idle while it waits: twenty moves
# of unchanged memory check nothing two do not); faults (idle, it dirties
# no chunk, so pre-copy ends after one round and the faults of the later
# rounds and of the stun never fire); drop, refuse and same (no path of
# the shim that depends on the workload: infer's cells cover them).
wl_scenarios="precopy stopcopy"

wl_check() {
	echo go >&3
	exec 3>&-
	wait_wl
	grep -q '^ok' "$dir/wl.out" || fail "no ok from the probe: $(cat "$dir/wl.out")"
	! grep -q 'not supported in migration mode' "$dir/wl.err" || fail "an entry point was refused"
}
