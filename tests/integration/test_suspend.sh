#!/usr/bin/env bash
# gpuvisor suspend / resume through the driver's checkpoint API (libcudasim's,
# driven from gpuvisor-ckpt as the real driver's is), for a program started
# with plain `gpuvisor run` (no --migratable):
#   prepare: five simulated H100s: two timeslice instances on gpu 0, MIG on
#            gpu 1, passthrough on gpus 2 and 3, a timeslice one on gpu 4;
#            gv-infer (1 GiB of weights, bulk memory: exportable VMM) runs on
#            one (timeslice, then passthrough), a run never suspended
#            gives the reference checksum;
#   check:   suspended, it makes no progress, `list` says suspended, the
#            simulated GPU's memory is free for other processes (cuMemGetInfo
#            of another process), events say so; a daemon restart keeps it
#            suspended; resumed, it finishes with the reference checksum;
#            two CUDA processes of one workload move together; refusals
#            (twice, not suspended, no workload, MIG, migrate while
#            suspended) change nothing; the GPU's other tenant runs meanwhile;
#            resumed onto the other instance of its GPU it moves there
#            (partition included); a passthrough workload resumed onto another
#            GPU moves its memory there (the driver's gpuPairs); --to refusals
#            (other profile, other GPU for timeslice, busy, unknown);
#            migrate --mode checkpoint does the same in one request (refused to
#            another GPU for timeslice, the destination it made removed);
#            destroy --force ends a suspended one.
. "$(dirname "$0")/lib.sh"
GV_SIM=h100-80gb:5
gv_start_daemon
expect_ok gv mode 0 timeslice
gv_create --profile h100-20c --gpu 0
id=$GV_ID
gv_create --profile h100-20c --gpu 0
other=$GV_ID
gv_create --profile passthrough --gpu 2
pt1=$GV_ID
gv_create --profile passthrough --gpu 3
pt2=$GV_ID
expect_ok gv mode 4 timeslice
gv_create --profile h100-20c --gpu 4
far=$GV_ID
# light steps (one weight read, small activations): the driver's lock waits
# for the step in flight, which is slow under ASan
WL=("$GV_BIN_DIR/gv-infer" --weights-mib 1024 --kv-mib-per-step 1 --act-kib 64 --reads 1 --steps 100 --step-ms 100 --verbose)
GIB=$((1024 * 1024 * 1024))

. "$(dirname "$0")/suspend_lib.sh"
mem_used() { gv_instance_field "$id" '.mem_used_bytes // 0'; }

step "prepare: the reference run, never suspended"
# (the checksum does not depend on the pause between steps)
expect_ok gv run --instance "$id" -- "${WL[@]}" --step-ms 0
want=$(printf '%s\n' "$GV_OUT" | grep -o 'checksum: 0x[0-9a-f]*')
[ -n "$want" ] || fail "no checksum from gv-infer: $GV_OUT"

step "refusals before anything runs"
expect_rc 1 "has no workload to suspend" gv suspend "$id"
expect_rc 1 "has no workload to resume" gv resume "$id"

step "suspend a running workload"
held "$id" "$T/wl.out"
wait_until 20 has_workload || fail "gv-infer never registered"
big_enough() { [ "$(mem_used)" -ge "$GIB" ]; }
wait_until 30 big_enough || fail "gv-infer never charged its weights: $(mem_used)"
# its weights are bulk (docs/shim.md "Bulk memory"): exportable VMM memory,
# which the simulator keeps in a memfd named gpuvisor-sim-vmm
wl_bulk() { grep -q gpuvisor-sim-vmm "/proc/$1/maps"; }
wl_bulk "$(gv_instance_field "$id" '.workload.pid')" ||
	fail "gv-infer's weights are not bulk memory on a timeslice instance"
free_before=$(sim_free)
expect_ok gv suspend "$id"
expect_contains "$GV_OUT" "workload suspended"
expect_eq "$(wl_state)" suspended "list shows the workload suspended"
free_during=$(sim_free)
[ $((free_during - free_before)) -ge "$GIB" ] ||
	fail "the GPU's memory was not freed: free $free_before -> $free_during"
expect_ok gv events --json
expect_contains "$GV_OUT" "workload.suspended"

step "while suspended it makes no progress and refusals change nothing"
s1=$(step_of "$T/wl.out")
sleep 2 # 20 steps' worth
expect_eq "$(step_of "$T/wl.out")" "$s1" "no step while suspended"
kill -0 "$runner" 2>/dev/null || fail "the workload finished while suspended: $(cat "$T/wl.out")"
expect_rc 1 "is not running (it is suspended)" gv suspend "$id"
expect_rc 1 "resume it first" gv migrate "$id" --to "$other"
expect_eq "$(wl_state)" suspended "still suspended after the refusals"
# the GPU's other tenant is not held up by a tenant locked in the driver
# (the scheduler revokes the slice of a tenant that stopped: docs/scheduler.md)
expect_ok timeout 120 "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" run --instance "$other" -- \
	"${WL[0]}" --weights-mib 64 --steps 20 --step-ms 10
expect_contains "$GV_OUT" "checksum: 0x"

step "a daemon restart keeps it suspended"
gv_restart_daemon
expect_eq "$(wl_state)" suspended "suspended after the restart"

step "resume --to: refusals change nothing"
expect_rc 1 "no instance i-999" gv resume "$id" --to i-999
expect_rc 1 "resumes on an instance of its own profile" gv resume "$id" --to "$pt1"
expect_rc 1 "is on another GPU" gv resume "$id" --to "$far"
expect_rc 2 "--to is an option of resume" gv suspend "$id" --to "$other"
expect_eq "$(wl_state)" suspended "still suspended after the refusals"

step "resume onto the other instance of its GPU: it finishes with the reference checksum"
expect_ok gv resume "$id" --to "$other" --json
expect_eq "$(jout .workload)" running "the answer says running"
expect_eq "$(jout .instance)" "$other" "the answer names the new instance"
wpid=$(gv_instance_field "$other" '.workload.pid')
[ "$wpid" != null ] || fail "the workload is not on $other"
expect_eq "$(gv_instance_field "$id" '.workload // "none"')" none "$id is empty now"
expect_eq "$(gv_instance_field "$id" '.mem_used_bytes')" 0 "$id's partition is empty"
[ "$(gv_instance_field "$other" '.mem_used_bytes')" -ge "$GIB" ] ||
	fail "the partition did not move to $other: $(gv list --json)"
release
wait "$runner" || fail "gv-infer failed after the resume: $(cat "$T/wl.out")"
got=$(grep -o 'checksum: 0x[0-9a-f]*' "$T/wl.out")
expect_eq "$got" "$want" "checksum after suspend and resume on another instance"
expect_ok gv events --json
expect_contains "$GV_OUT" "resumed from $id"
expect_rc 1 "has no workload" gv resume "$other"

step "a passthrough workload resumed onto another GPU of the same model"
held "$pt1" "$T/pt.out"
pt_has() { [ "$(gv_instance_field "$pt1" '.workload.pid // "null"')" != null ]; }
wait_until 20 pt_has || fail "gv-infer never registered on $pt1"
# gpu 2 holds the weights: at least 1 GiB less free than gpu 3
pt_charged() { [ "$(sim_free 2)" -le $(($(sim_free 3) - GIB)) ]; }
wait_until 30 pt_charged || fail "gv-infer never used gpu 2: $(sim_free 2) / $(sim_free 3)"
wl_bulk "$(gv_instance_field "$pt1" '.workload.pid')" ||
	fail "gv-infer's weights are not bulk memory on a passthrough instance"
expect_ok gv suspend "$pt1"
expect_ok gv resume "$pt1" --to "$pt2"
expect_eq "$(gv_instance_field "$pt2" '.workload.state')" running "running on $pt2"
[ "$(sim_free 3)" -le $(($(sim_free 2) - GIB)) ] ||
	fail "the memory did not move to gpu 3: gpu 2 free $(sim_free 2), gpu 3 free $(sim_free 3)"

step "migrate --mode checkpoint: the passthrough workload back to gpu 2, its source destroyed"
expect_ok gv migrate "$pt2" --to "$pt1" --mode checkpoint
expect_contains "$GV_OUT" "completed"
expect_eq "$(gv_instance_field "$pt1" '.workload.state')" running "running on $pt1"
gone_pt2() { ! gv list --json | jq -e --arg id "$pt2" '.instances[] | select(.id == $id)' >/dev/null; }
wait_until 10 gone_pt2 || fail "the source $pt2 was not destroyed"
[ "$(sim_free 2)" -le $(($(sim_free 3) - GIB)) ] ||
	fail "the memory did not move back to gpu 2: gpu 2 free $(sim_free 2), gpu 3 free $(sim_free 3)"
expect_ok gv migrations --json
expect_contains "$GV_OUT" '"checkpoint"'
release
wait "$runner" || fail "gv-infer failed after moving: $(cat "$T/pt.out")"
got=$(grep -o 'checksum: 0x[0-9a-f]*' "$T/pt.out")
expect_eq "$got" "$want" "checksum after moving to another GPU"
id=$other

step "migrate --mode checkpoint of a time-sliced workload: refused to another GPU, done on its own"
home=$(gv list --json | jq -r --arg o "$other" '[.instances[] | select(.gpu == 0 and .id != $o)][0].id')
held "$other" "$T/ts.out"
on_other() { [ "$(gv_instance_field "$other" '.mem_used_bytes')" -ge "$GIB" ]; }
wait_until 30 on_other || fail "gv-infer never charged $other"
n4=$(gv list --json | jq '[.instances[] | select(.gpu == 4)] | length')
expect_rc 1 "is on another GPU" gv migrate "$other" --to 4 --mode checkpoint
expect_eq "$(gv list --json | jq '[.instances[] | select(.gpu == 4)] | length')" "$n4" \
	"the destination made on gpu 4 was removed"
expect_eq "$(gv_instance_field "$other" '.workload.state')" running "still running on $other"
expect_ok gv migrate "$other" --to "$home" --mode checkpoint --json
expect_eq "$(jout .state)" completed "the migration completed"
[ "$(jout .report.downtime_ms)" != null ] || fail "no stun in the report: $GV_OUT"
release
wait "$runner" || fail "gv-infer failed after the migration: $(cat "$T/ts.out")"
expect_eq "$(grep -o 'checksum: 0x[0-9a-f]*' "$T/ts.out")" "$want" "checksum after migrate --mode checkpoint"
id=$home

step "two CUDA processes of one workload are suspended together"
gv_bg_cli run --instance "$id" -- sh -c "'${WL[0]}' --weights-mib 64 --steps 60 --step-ms 100 & '${WL[0]}' --weights-mib 64 --steps 60 --step-ms 100; wait"
wait_until 20 has_workload || fail "the pair never registered"
two_charged() { [ "$(mem_used)" -ge $((128 * 1024 * 1024)) ]; }
wait_until 30 two_charged || fail "the pair never charged: $(mem_used)"
expect_ok gv suspend "$id" --json
expect_eq "$(jout '.report.pids | length')" 2 "both processes were checkpointed"
expect_eq "$(jout '.report.states | join(",")')" "checkpointed,checkpointed" "their states"

step "destroy --force ends a suspended workload"
expect_ok gv destroy "$id" --force
gone() { ! gv list --json | jq -e --arg id "$id" '.instances[] | select(.id == $id)' >/dev/null; }
wait_until 10 gone || fail "the instance is still listed"

step "MIG instances are refused with the reason"
expect_ok gv mode 1 mig
gv_create --profile 1g.10gb --gpu 1
mig=$GV_ID
gv_bg_cli run --instance "$mig" -- sleep 30
mig_has() { [ "$(gv_instance_field "$mig" '.workload.pid // "null"')" != null ]; }
wait_until 10 mig_has || fail "sleep never registered on the MIG instance"
expect_rc 1 "MIG instance, which the CUDA driver's checkpoint does not support" gv suspend "$mig"

gv_done
