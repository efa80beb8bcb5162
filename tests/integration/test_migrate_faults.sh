#!/usr/bin/env bash
# Migration faults with a real workload (gv-infer under the shim): refusals
# before anything changes (no workload, different model, destination
# without room), an injected error in each phase, the workload exiting
# mid-migration, gpuvisord killed -9 mid-migration and restarted. Every
# time the workload ends with the checksum of a run never migrated, on
# exactly one GPU, and no memory is left on the other.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate_lib.sh"

mig_setup h100-80gb:2,a100-40gb:1
for g in 0 1 2; do expect_ok gv mode $g timeslice; done
A=$(gpu_uuid 0)
B=$(gpu_uuid 1)
gv_create --profile h100-20c --gpu 0
src=$GV_ID

snapshot() { gv list --json | jq -c '[.instances[] | {id, gpu, pid: .workload.pid}]'; }
n_mig() { gv migrations --json | jq '.migrations | length'; }

step "refused before anything changes"
expect_fail "has no workload to migrate" gv migrate "$src" --to 1
WL=("$GV_BIN_DIR/gv-infer" --weights-mib 16 --kv-mib-per-step 1 --steps 1500 --step-ms 40)
wl_start "$src" "$T/wl.out" "${WL[@]}"
expect_fail "different GPU model" gv migrate "$src" --to 2
gv_create --profile h100-80c --gpu 1
full=$GV_ID
before=$(snapshot)
expect_fail "no room" gv migrate "$src" --to 1
expect_eq "$(snapshot)" "$before" "instances after the refusals"
expect_eq "$(n_mig)" 0 "migrations after the refusals"
expect_ok gv destroy "$full"
before=$(snapshot)

step "an injected error in each phase: failed, the workload stays on gpu 0"
for f in create copy:round1 hash:round2 copy:round2 list:stun hash:stun stun switch; do
	expect_rc 1 "injected fault $f" gv migrate "$src" --to 1 --inject "$f" --downtime-limit 1 --max-rounds 4
	on_device "$A"
	holds_none "$B"
	expect_eq "$(snapshot)" "$before" "instances after fault $f"
	expect_eq "$(ls "$GV_RUN/acct")" "$src.acct" "accounting files after fault $f"
done
expect_rc 1 "injected fault copy:stun" gv migrate "$src" --to 1 --mode stopcopy --inject copy:stun
on_device "$A"
holds_none "$B"
expect_eq "$(snapshot)" "$before" "instances after the stop-and-copy fault"
expect_eq "$(gv migrations --json | jq -r '[.migrations[].state] | unique | join(",")')" failed "states"

step "gpuvisord killed -9 mid-migration, then restarted"
# a large state and an unreachable downtime limit: rounds go on for a while
gv_create --profile h100-20c --gpu 0
big=$GV_ID
BIG=("$GV_BIN_DIR/gv-infer" --weights-mib 384 --kv-mib-per-step 2 --steps 400 --step-ms 20)
SAVE_PID=$WL_PID SAVE_RUN=$WL_RUN SAVE_CTL=$WL_CTL
wl_start "$big" "$T/big.out" "${BIG[@]}"
expect_api 202 POST /v1/migrations '{"instance":"'"$big"'","to":"1","downtime_limit_ms":1,"max_rounds":30}'
mid=$(jout .id)
wait_until 60 bash -c "[ \"\$(curl -s --unix-socket $GV_SOCK http://x/v1/migrations/$mid | jq .progress_count)\" -ge 1 ]" ||
	fail "no progress: $(api GET "/v1/migrations/$mid")"
gv_restart_daemon --kill9
state=$(api GET "/v1/migrations/$mid" | jq -r .state)
echo "after the restart: $state ($(api GET "/v1/migrations/$mid" | jq -r .error))"
case $state in
aborted)
	on_device "$A"
	holds_none "$B"
	expect_eq "$(wl_instance)" "$big" "the workload's instance"
	;;
completed)
	on_device "$B"
	holds_none "$A"
	;;
*) fail "migration $mid is $state after the restart" ;;
esac
expect_eq "$(gv list --json | jq '[.instances[] | select(.workload != null)] | length')" 2 "instances with a workload"
wl_finish "$T/big.out" "${BIG[@]}"
no_leaks

step "the workload exiting mid-migration"
gv_create --profile h100-20c --gpu 0
ex=$GV_ID
EX=("$GV_BIN_DIR/gv-infer" --weights-mib 384 --kv-mib-per-step 2 --steps 100000 --step-ms 20)
wl_start "$ex" "$T/ex.out" "${EX[@]}"
expect_api 202 POST /v1/migrations '{"instance":"'"$ex"'","to":"1","downtime_limit_ms":1,"max_rounds":30}'
mid=$(jout .id)
wait_until 60 bash -c "[ \"\$(curl -s --unix-socket $GV_SOCK http://x/v1/migrations/$mid | jq .progress_count)\" -ge 1 ]" ||
	fail "no progress: $(api GET "/v1/migrations/$mid")"
kill -9 "$WL_PID"
wait_until 60 bash -c "[ \"\$(curl -s --unix-socket $GV_SOCK http://x/v1/migrations/$mid | jq -r .state)\" != running ]" ||
	fail "the migration did not end: $(api GET "/v1/migrations/$mid")"
expect_api 200 GET "/v1/migrations/$mid"
expect_eq "$(jout .state)" failed "state"
echo "reason: $(jout .error)"
# A process killed with SIGKILL frees nothing itself: gpuvisord gives back
# its charges once the kernel has finished it. The migration's end may come
# first (the workload's sockets close before it is a zombie, so the
# failure path's reclaim can still see it alive); the daemon's liveness
# sweep then reclaims within a second. So the checks wait, with a generous
# bound, for the state that must come; a charge that never goes back fails.
charges() { "$MIG_CTL" acct "$1" "$WL_PID"; }
released() { [ "$(devmem "$A")" = 0 ] && [ "$(devmem "$B")" = 0 ] && [ "$(charges "$GV_RUN/acct/$1.acct")" = 0 ]; }
wait_until 30 released "$ex" || echo "not released after 30 s"
holds_none "$A"
holds_none "$B"
expect_eq "$(charges "$GV_RUN/acct/$ex.acct")" 0 "bytes $ex's accounting file charges to the killed workload"
expect_api 200 GET "/v1/instances/$ex"
expect_eq "$(gv list --json | jq '[.instances[] | select(.gpu == 1)] | length')" "$([ "$state" = completed ] && echo 1 || echo 0)" "instances on gpu 1"
wait "$WL_RUN" 2>/dev/null

step "a workload killed outside any migration: its device memory goes back"
# Nothing but gpuvisord's liveness sweep touches the device here: without
# it the killed process's charge would stay on gpu 0 for good.
gv_create --profile h100-20c --gpu 0
k=$GV_ID
wl_start "$k" "$T/k.out" "$GV_BIN_DIR/gv-infer" --weights-mib 16 --kv-mib-per-step 1 --steps 100000 --step-ms 20
has_some() { [ "$(devmem "$1")" != 0 ]; }
wait_until 30 has_some "$A" || fail "the workload never allocated on gpu 0: $(cat "$T/k.out.err")"
kill -9 "$WL_PID"
wait "$WL_RUN" 2>/dev/null
wait_until 30 released "$k" || echo "not released after 30 s"
holds_none "$A"
expect_eq "$(charges "$GV_RUN/acct/$k.acct")" 0 "bytes $k's accounting file charges to the killed workload"
expect_ok gv destroy "$k"

step "the first workload, which saw every fault, finishes right"
WL_PID=$SAVE_PID WL_RUN=$SAVE_RUN WL_CTL=$SAVE_CTL
migrate_ok "$src" --to 1 --max-rounds 3
on_device "$B"
holds_none "$A"
wl_finish "$T/wl.out" "${WL[@]}"
no_leaks
gv_done
