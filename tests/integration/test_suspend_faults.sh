#!/usr/bin/env bash
# Faults on the driver-checkpoint path (docs/migration.md, "Suspend and
# resume"), on the simulator:
#   prepare: a timeslice H100 instance running gv-infer (plain gpuvisor run);
#            a run never suspended gives the reference checksum;
#   check:   the checkpoint helper killed after it locked the workload: the
#            suspend fails with the reason, the daemon asks the driver and
#            unlocks it, and it goes on; killed after the checkpoint: the
#            workload is found suspended and resumes; gpuvisord killed -9
#            while a workload is suspended: after the restart it is still
#            suspended and resumes; the checksum is the reference's; a
#            workload killed while suspended leaves the instance free and
#            its partition and the GPU's memory given back.
. "$(dirname "$0")/lib.sh"
GV_SIM=h100-80gb:1
export GPUVISOR_TEST_FAULTS=1
gv_start_daemon
expect_ok gv mode 0 timeslice
gv_create --profile h100-20c --gpu 0
id=$GV_ID
WL=("$GV_BIN_DIR/gv-infer" --weights-mib 256 --kv-mib-per-step 1 --act-kib 64 --reads 1 --steps 600
	--step-ms 50 --verbose)

. "$(dirname "$0")/suspend_lib.sh"
charged() { [ "$(gv_instance_field "$id" '.mem_used_bytes // 0')" -ge $((256 * 1024 * 1024)) ]; }
# advances FILE: the workload makes steps (within 20 s)
ADV_FILE= ADV_FROM=
_past() { [ "$(step_of "$ADV_FILE")" -gt "$ADV_FROM" ]; }
advances() {
	ADV_FILE=$1
	ADV_FROM=$(step_of "$1")
	ADV_FROM=${ADV_FROM:-0}
	wait_until 20 _past
}
restart_with_fault() { # FAULT ("" for none)
	export GPUVISOR_CKPT_FAULT=$1
	gv_restart_daemon --kill9
}

step "prepare: the reference run"
# (the checksum does not depend on the pause between steps)
expect_ok gv run --instance "$id" -- "${WL[@]}" --step-ms 0
want=$(printf '%s\n' "$GV_OUT" | grep -o 'checksum: 0x[0-9a-f]*')
[ -n "$want" ] || fail "no checksum from gv-infer: $GV_OUT"

held "$id" "$T/wl.out"
wait_until 20 has_workload || fail "gv-infer never registered"
wait_until 30 charged || fail "gv-infer never charged its weights"

step "the helper dies after the lock: the suspend fails, the workload is unlocked and goes on"
restart_with_fault after-lock
expect_rc 1 "asked again, the driver has the workload running" gv suspend "$id"
expect_eq "$(wl_state)" running "running after the failed suspend"
advances "$T/wl.out" || fail "the workload does not advance after the helper died: $(tail -3 "$T/wl.out")"
expect_ok gv events --json
expect_contains "$GV_OUT" "workload.suspend_failed"

step "the helper dies after the checkpoint: the workload is found suspended"
restart_with_fault after-checkpoint
expect_rc 1 "asked again, the driver has the workload suspended" gv suspend "$id"
expect_eq "$(wl_state)" suspended "suspended: the checkpoint was done"

step "gpuvisord killed -9 while the workload is suspended"
restart_with_fault ""
expect_eq "$(wl_state)" suspended "still suspended after the restart"
expect_ok gv resume "$id"
expect_eq "$(wl_state)" running "running after the resume"
release
wait "$runner" || fail "gv-infer failed: $(tail -5 "$T/wl.out")"
expect_eq "$(grep -o 'checksum: 0x[0-9a-f]*' "$T/wl.out")" "$want" "checksum after the faults"

step "a workload killed while suspended gives everything back"
held "$id" "$T/wl2.out"
wait_until 20 has_workload || fail "gv-infer never registered"
wait_until 30 charged || fail "gv-infer never charged its weights"
expect_ok gv suspend "$id"
pgid=$(gv_instance_field "$id" '.workload.pgid')
kill -9 -- "-$pgid"
no_workload() { ! has_workload; }
wait_until 20 no_workload || fail "the killed workload is still registered"
freed() { [ "$(gv_instance_field "$id" '.mem_used_bytes')" = 0 ]; }
wait_until 20 freed || fail "the partition still shows $(gv_instance_field "$id" '.mem_used_bytes') bytes"
expect_ok gv run --instance "$id" -- "$GV_BIN_DIR/gv-infer" --weights-mib 64 --steps 2
expect_contains "$GV_OUT" "checksum: 0x"

gv_done
