#!/usr/bin/env bash
# End to end: two timeslice instances on one simulated GPU, each running
# gv-spin (1 ms kernels, back to back) under `gpuvisor run`, so the shim
# gates every launch through the GPU's scheduler segment. Under equal share
# `gpuvisor sched GPU --json` must show both tenants holding the GPU within
# 5 % of half of the last second; the daemon killed with SIGKILL and
# restarted must not stall them (slices keep growing, shares stay equal);
# a forced destroy kills a workload and removes its tenant.
#
# Shares are read from the scheduler's own figures (time each tenant held
# the GPU), not from speed. On a loaded host a process can be starved of
# CPU for a moment, so the figures are sampled every 0.5 s, for at most
# 15 s, until one sample is within bounds.
. "$(dirname "$0")/lib.sh"
spin=$GV_BIN_DIR/gv-spin
[ -x "$spin" ] || skip "gv-spin not built: $spin"
gv_start_daemon

expect_ok gv mode 1 timeslice
gv_create --profile h100-20c --gpu 1
a=$GV_ID
gv_create --profile h100-20c --gpu 1
b=$GV_ID
expect_ok gv sched 1 --policy equal-share

tenant() { # FIELD INSTANCE: from the last `gv sched 1 --json`
	jout ".tenants[] | select(.instance == \"$2\") | .$1"
}

both_attached() {
	_gv_capture gv sched 1 --json
	[ "$GV_RC" -eq 0 ] && [ "$(tenant processes "$a")" = 1 ] && [ "$(tenant processes "$b")" = 1 ]
}

last=""
shares_equal() {
	_gv_capture gv sched 1 --json
	[ "$GV_RC" -eq 0 ] || return 1
	local sa sb
	sa=$(tenant share_last_s "$a")
	sb=$(tenant share_last_s "$b")
	last="$a $sa, $b $sb (policy in force $(jout .policy_in_force))"
	[ "$(jout .policy_in_force)" = equal-share ] &&
		jq -en --argjson a "$sa" --argjson b "$sb" \
			'$a >= 0.475 and $a <= 0.525 and $b >= 0.475 and $b <= 0.525' >/dev/null
}

expect_equal_shares() {
	local i
	for ((i = 0; i < 30; i++)); do
		shares_equal && {
			gv_log "shares over the last second ($1): $last"
			return 0
		}
		sleep 0.5
	done
	fail "shares not within 5% of 0.5 ($1): last sample $last"
}

step "two workloads under gpuvisor run, equal share"
# gpuvisor run forwards SIGTERM to its workload's group: on any exit, stop
# the workloads that way before the harness cleans up (it uses SIGKILL,
# which a workload would survive)
pa= pb=
trap 'rc=$?; for p in $pa $pb; do kill -TERM "$p" 2>/dev/null; done; (exit $rc); _gv_cleanup' EXIT
gv_bg_cli run --instance "$a" -- "$spin" --seconds 60 --kernel-us 1000 >"$T/a.out" 2>"$T/a.err"
pa=$!
gv_bg_cli run --instance "$b" -- "$spin" --seconds 60 --kernel-us 1000 >"$T/b.out" 2>"$T/b.err"
pb=$!
wait_until 20 both_attached ||
	fail "both workloads did not attach to the scheduler: $GV_OUT
$(cat "$T/a.err" "$T/b.err")"
expect_equal_shares "equal-share"
expect_ok gv top --once --gpu 1 --json
expect_eq "$(jout ".instances[] | select(.id == \"$a\") | .processes")" 1 "top: processes of $a"
[ "$(jout ".instances[] | select(.id == \"$a\") | .pid")" != null ] || fail "top: no pid for $a"
expect_api 200 GET /metrics
expect_contains "$GV_OUT" "gpuvisor_sched_slices_total{instance=\"$a\",gpu=\"1\"}"
expect_not_contains "$GV_OUT" "gpuvisor_sched_slices_total{instance=\"$a\",gpu=\"1\"} 0
" "metrics: slices of $a"

step "the daemon killed with SIGKILL and restarted does not stall them"
gv_kill9_daemon
gv_start_daemon
expect_ok gv sched 1 --json
sa0=$(tenant slices "$a")
sb0=$(tenant slices "$b")
sleep 1
expect_ok gv sched 1 --json
[ "$(tenant slices "$a")" -gt "$sa0" ] || fail "$a took no slice in 1 s after the restart: $GV_OUT"
[ "$(tenant slices "$b")" -gt "$sb0" ] || fail "$b took no slice in 1 s after the restart: $GV_OUT"
expect_equal_shares "after kill -9 of gpuvisord"

step "a forced destroy kills the workload and removes its tenant"
expect_ok gv destroy "$b" --force
expect_ok gv sched 1 --json
expect_eq "$(jout '[.tenants[].instance] | join(",")')" "$a" "tenants after destroying $b"
wait "$pb" 2>/dev/null
# the survivor keeps the GPU to itself (equal share among the busy ones)
lone() {
	_gv_capture gv sched 1 --json
	jq -en --argjson s "$(tenant share_last_s "$a")" '$s >= 0.9' >/dev/null
}
wait_until 15 lone || fail "$a alone does not get the GPU: $GV_OUT"
expect_ok gv destroy "$a" --force
wait "$pa" 2>/dev/null
expect_ok gv sched 1 --json
expect_eq "$(jout '.tenants | length')" 0
gv_done
