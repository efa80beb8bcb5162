#!/usr/bin/env bash
# The time-slice gate moves with a migrated workload: gv-infer under
# `gpuvisor run --migratable` on a timeslice instance of gpu 0 gates on
# that instance's tenant of gpu 0's scheduler segment; migrated to gpu 1
# (and then to another instance of gpu 1, same segment), it gates on the
# destination's tenant: that tenant has the process attached and accrues
# GPU time, the tenant it left is gone (the daemon removes it, which it can
# only once nothing is attached) and accrues nothing. A migration that
# fails changes nothing. The checksum equals a run never migrated.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate_lib.sh"

mig_two_timeslice h100-20c
src=$GV_ID
# long enough for three migrations on a loaded machine
WL=("$GV_BIN_DIR/gv-infer" --weights-mib 16 --kv-mib-per-step 1 --act-kib 256 --steps 1500 --step-ms 20)
wl_start "$src" "$T/wl.out" "${WL[@]}"

tenant() { # GPU INSTANCE FIELD: from `gv sched GPU --json`, "" when no such tenant
	gv sched "$1" --json | jq -r --arg i "$2" ".tenants[] | select(.instance == \$i) | .$3"
}

# the tenant has the workload attached and its GPU time grows
accrues() {
	local gpu=$1 inst=$2 t0 t1
	wait_until 30 bash -c "[ \"\$(\"$GV_BIN_DIR/gpuvisor\" --socket $GV_SOCK sched $gpu --json |
		jq -r '.tenants[] | select(.instance == \"$inst\") | .processes')\" = 1 ]" ||
		fail "no process attached to tenant $inst of gpu $gpu: $(gv sched "$gpu" --json)"
	t0=$(tenant "$gpu" "$inst" gpu_time_ns)
	wait_until 30 bash -c "[ \"\$(\"$GV_BIN_DIR/gpuvisor\" --socket $GV_SOCK sched $gpu --json |
		jq -r '.tenants[] | select(.instance == \"$inst\") | .gpu_time_ns')\" -gt $t0 ]" ||
		fail "tenant $inst of gpu $gpu accrues no GPU time: $(gv sched "$gpu" --json)"
	t1=$(tenant "$gpu" "$inst" gpu_time_ns)
	gv_log "tenant $inst of gpu $gpu: GPU time $t0 -> $t1 ns"
}

step "before: the workload gates on its instance of gpu 0"
accrues 0 "$src"
expect_eq "$(gv sched 1 --json | jq '.tenants | length')" 0 "tenants of gpu 1"

step "migrated to gpu 1: it gates on the destination's tenant"
migrate_ok "$src" --to 1
on_device "$B"
dst=$(wl_instance)
expect_eq "$(gv_instance_field "$dst" .gpu)" 1 "the workload's instance"
accrues 1 "$dst"
expect_eq "$(gv sched 0 --json | jq '.tenants | length')" 0 "tenants of gpu 0 (the source's is gone)"
expect_not_contains "$(cat "$T/daemon.log")" "dropped once it detaches" "daemon log"

step "a failed migration changes nothing"
gv_create --profile h100-20c --gpu 1
other=$GV_ID
expect_rc 1 "injected" gv migrate "$dst" --to "$other" --inject switch
expect_eq "$(wl_instance)" "$dst" "the workload's instance after the failure"
expect_eq "$(tenant 1 "$other" processes)" 0 "processes on $other after the failure"
accrues 1 "$dst"
t_other=$(tenant 1 "$other" gpu_time_ns)

step "to another instance of the same GPU: the same segment, the other tenant"
migrate_ok "$dst" --to "$other"
expect_eq "$(wl_instance)" "$other" "the workload's instance"
accrues 1 "$other"
expect_eq "$(tenant 1 "$dst" instance)" "" "tenant $dst after it was left"
[ "$(tenant 1 "$other" gpu_time_ns)" -gt "$t_other" ] || fail "no GPU time on $other"
expect_ok gv top --once --gpu 1 --json
expect_eq "$(jout ".instances[] | select(.id == \"$other\") | .processes")" 1 "top: processes of $other"

wl_finish "$T/wl.out" "${WL[@]}"
no_leaks
gv_done
