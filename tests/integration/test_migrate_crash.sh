#!/usr/bin/env bash
# gpuvisord killed -9 in the middle of POST /v1/migrations, right after it
# created the destination instance and before it recorded the instance's
# device (test crash point GPUVISORD_CRASH=mig_dst_created): the restarted
# daemon fails the migration with a reason and destroys the destination it
# had made (no instance nobody owns, no accounting file, no scheduler
# tenant), and the workload runs on the source to the end with the same
# checksum as a run never migrated. Then a migration to the same GPU works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate_lib.sh"

mig_two_timeslice h100-20c
src=$GV_ID
WL=("$GV_BIN_DIR/gv-infer" --weights-mib 16 --kv-mib-per-step 1 --act-kib 256 --steps 150 --step-ms 20)
wl_start "$src" "$T/wl.out" "${WL[@]}"
on_device "$A"

step "a crash point that names nothing refuses the start"
gv_stop_daemon || fail "clean shutdown failed"
GPUVISORD_CRASH=bogus "$GV_BIN_DIR/gpuvisord" --socket "$GV_SOCK" --state-dir "$GV_STATE" \
	--run-dir "$GV_RUN" --sim h100-80gb:2 >"$T/bogus.log" 2>&1 &&
	fail "gpuvisord started with GPUVISORD_CRASH=bogus"
expect_contains "$(cat "$T/bogus.log")" "mig_dst_created"

step "killed right after the destination instance was created"
GPUVISORD_CRASH=mig_dst_created gv_start_daemon
api POST /v1/migrations '{"instance":"'"$src"'","to":"1"}' >/dev/null
expect_eq "$(api_status)" 000 "status of a migration that crashed the daemon"
wait "$GV_DAEMON_PID" 2>/dev/null
GV_DAEMON_PID=
# the crash came after the destination existed: its accounting file is there
n=$(ls "$GV_RUN/acct" | wc -l)
expect_eq "$n" 2 "accounting files right after the crash (source + destination)"
kill -0 "$WL_PID" || fail "the workload died with the daemon"

step "restarted: the migration failed with a reason, the destination is gone"
gv_start_daemon
expect_ok gv migrations --json
expect_eq "$(jout '.migrations | length')" 1 "migrations"
mid=$(jout '.migrations[0].id')
dst=$(jout '.migrations[0].destination')
[ "$dst" != null ] && [ "$dst" != "$src" ] || fail "the row does not name the destination: $GV_OUT"
expect_eq "$(jout '.migrations[0].state')" aborted "state after restart"
expect_contains "$(jout '.migrations[0].error')" "restarted"
expect_contains "$(jout '.migrations[0].error')" "stayed on $src"
expect_api 404 GET "/v1/instances/$dst"
expect_eq "$(gv list --json | jq -r '[.instances[].id] | join(",")')" "$src" "instances after the restart"
expect_eq "$(ls "$GV_RUN/acct")" "$src.acct" "accounting files after the restart"
expect_ok gv sched 1 --json
expect_eq "$(jout '.tenants | length')" 0 "scheduler tenants of gpu 1"
expect_ok gv events --json
expect_contains "$(jout '.events[] | select(.kind == "instance.destroyed") | .instance')" "$dst"
expect_contains "$(jout '.events[] | select(.kind == "migration.aborted") | .message')" "$mid"
on_device "$A"
expect_eq "$(wl_instance)" "$src" "the workload's instance"

step "the room on gpu 1 is free again: the same migration completes"
migrate_ok "$src" --to 1
on_device "$B"
holds_none "$A"
new=$(wl_instance)
expect_eq "$(gv_instance_field "$new" .gpu)" 1 "the workload's instance"
[ "$new" != "$dst" ] || fail "instance id $dst handed out twice"

wl_finish "$T/wl.out" "${WL[@]}"
no_leaks
gv_done
