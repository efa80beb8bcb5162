#!/usr/bin/env bash
# gpuvisord's side of live migration, against a stand-in for the shim's
# control socket (fake_shim.py speaks the contract of docs/migration.md):
# refusals before anything changes, the registration moving with the
# workload, the source destroyed only on success, the destination only on
# failure, and a daemon killed -9 mid-migration resolving the row at start.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 not installed"
command -v jq >/dev/null || skip "jq not installed"
FAKE=$(dirname "$0")/fake_shim.py

gv_start_daemon --sim h100-80gb:2,a100-40gb:1
for g in 0 1 2; do expect_ok gv mode $g timeslice; done
gv_create --profile h100-20c --gpu 0
src=$GV_ID

n_inst() { gv list --json | jq '.instances | length'; }
mig_state() { api GET "/v1/migrations/$1" | jq -r .state; }

step "refused up front: no workload"
expect_fail "has no workload to migrate" gv migrate "$src" --to 1
expect_eq "$(n_inst)" 1 "instances after a refusal"
expect_eq "$(gv migrations --json | jq '.migrations | length')" 0 "migrations after a refusal"

# fake_shim <instance> <stop-file> [env...]: a stand-in workload on instance
start_fake() {
	local inst=$1 stopf=$2
	shift 2
	gv_bg env FAKE_SHIM_STOP="$stopf" "$@" "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" \
		run --instance "$inst" --migratable -- python3 "$FAKE"
	FAKE_PID=$!
	wait_until 20 test -S "$GV_RUN/ctl/$inst/shim.sock" || fail "fake shim of $inst never listened"
}
start_fake "$src" "$T/stop1"
w1=$FAKE_PID

step "refused up front: request, model, source, room"
expect_api 400 POST /v1/migrations '{"instance":"'"$src"'","to":"1","mode":"live"}'
expect_api 400 POST /v1/migrations '{"instance":"'"$src"'","to":"1","bogus":1}'
expect_api 404 POST /v1/migrations '{"instance":"i-99","to":"1"}'
expect_fail "different GPU model" gv migrate "$src" --to 2
expect_fail "the destination is the source" gv migrate "$src" --to "$src"
gv_create --profile h100-80c --gpu 1
full=$GV_ID
expect_fail "no room" gv migrate "$src" --to 1
expect_eq "$(n_inst)" 2 "instances after refusals"
expect_ok gv destroy "$full"
gv_create --profile h100-10c --gpu 1
other=$GV_ID
expect_fail "same profile" gv migrate "$src" --to "$other"
expect_ok gv destroy "$other"
expect_eq "$(gv migrations --json | jq '.migrations | length')" 0 "migrations after refusals"

step "a migration: progress, report, registration moved, source destroyed"
expect_ok gv migrate "$src" --to 1
expect_contains "$GV_OUT" "round 2 (precopy)"
expect_contains "$GV_OUT" "stun time"
expect_contains "$GV_OUT" "completed"
dst=$(gv list --json | jq -r '.instances[] | select(.gpu == 1) | .id')
[ -n "$dst" ] || fail "no destination instance on gpu 1: $(gv list --json)"
expect_eq "$(gv_instance_field "$dst" .workload.pid)" "$(gv_instance_field "$dst" .workload.pid)"
[ "$(gv_instance_field "$dst" .workload.pid)" != null ] || fail "workload not registered on $dst"
expect_api 404 GET "/v1/instances/$src"
[ -e "$GV_RUN/acct/$src.acct" ] && fail "source accounting file left behind"
expect_eq "$(n_inst)" 1 "instances after a migration"
expect_ok gv migrations --json
expect_eq "$(jout '.migrations[0].state')" completed "state"
expect_eq "$(jout '.migrations[0].summary.downtime_ms')" 1.5 "summary stun"
expect_ok gv events --json
expect_eq "$(jout '[.events[] | select(.kind == "migration.progress")] | length')" 2 "progress events"
expect_contains "$(jout '.events[] | select(.kind == "migration.progress") | .message')" "round 2 (precopy): 4.0 of 4.0 MiB copied, 1.0 MiB dirty"

step "and back again (the socket is still the one it was started with)"
expect_ok gv migrate "$dst" --to 0 --mode stopcopy --json
expect_eq "$(jout .state)" completed "back"
expect_eq "$(jout .mode)" stopcopy "mode"
back=$(jout .destination)
expect_eq "$(gv_instance_field "$back" .gpu)" 0 "back on gpu 0"

step "a failing copy: the destination is destroyed, the workload stays"
before=$(gv list --json | jq -c '[.instances[] | {id, gpu, pid: .workload.pid}]')
expect_rc 1 "injected copy error" gv migrate "$back" --to 1 --inject fail
expect_eq "$(gv list --json | jq -c '[.instances[] | {id, gpu, pid: .workload.pid}]')" "$before" "instances after a failed migration"
expect_eq "$(gv migrations --json | jq -r '.migrations[-1].state')" failed "state"
ls "$GV_RUN/acct" | grep -qv "^$back.acct$" && fail "accounting files left: $(ls "$GV_RUN/acct")"

step "a workload that cannot be migrated is refused with the shim's reason"
gv_create --profile h100-20c --gpu 1
nm=$GV_ID
start_fake "$nm" "$T/stop2" FAKE_SHIM_UNMIGRATABLE="the workload called cuIpcGetMemHandle"
w2=$FAKE_PID
expect_fail "cuIpcGetMemHandle" gv migrate "$nm" --to 0
touch "$T/stop2"
wait "$w2"
expect_ok gv destroy "$nm"

step "the daemon killed -9 before the switch: the workload stays, the destination goes"
expect_api 202 POST /v1/migrations '{"instance":"'"$back"'","to":"1","inject":"hang-abort"}'
mid=$(jout .id)
wait_until 20 bash -c "[ \"\$(curl -s --unix-socket $GV_SOCK http://x/v1/migrations/$mid | jq .progress_count)\" = 2 ]" ||
	fail "no progress: $(api GET "/v1/migrations/$mid")"
gv_restart_daemon --kill9
expect_eq "$(mig_state "$mid")" aborted "state after restart"
expect_contains "$(api GET "/v1/migrations/$mid" | jq -r .error)" "restarted"
expect_eq "$(gv list --json | jq -c '[.instances[] | {id, gpu, pid: .workload.pid}]')" "$before" "instances after the restart"

step "cancelled before the switch: aborted, the workload stays"
expect_api 202 POST /v1/migrations '{"instance":"'"$back"'","to":"1","inject":"hang-abort"}'
mid=$(jout .id)
wait_until 20 bash -c "[ \"\$(curl -s --unix-socket $GV_SOCK http://x/v1/migrations/$mid | jq .progress_count)\" = 2 ]" ||
	fail "no progress: $(api GET "/v1/migrations/$mid")"
cdst=$(api GET "/v1/migrations/$mid" | jq -r .destination)
expect_fail "part of running migration $mid" gv destroy "$cdst" --force
expect_fail "part of running migration $mid" gv destroy "$back" --force
expect_api 202 DELETE "/v1/migrations/$mid"
wait_until 20 bash -c "[ \"\$(curl -s --unix-socket $GV_SOCK http://x/v1/migrations/$mid | jq -r .state)\" = aborted ]" ||
	fail "not aborted: $(api GET "/v1/migrations/$mid")"
expect_api 409 DELETE "/v1/migrations/$mid"
expect_eq "$(gv list --json | jq -c '[.instances[] | {id, gpu, pid: .workload.pid}]')" "$before" "instances after the cancel"

step "the daemon killed -9 after the switch: the workload is found on the destination"
expect_api 202 POST /v1/migrations '{"instance":"'"$back"'","to":"1","inject":"hang-switch"}'
mid=$(jout .id)
mdst=$(jout .destination)
wait_until 20 bash -c "[ \"\$(curl -s --unix-socket $GV_SOCK http://x/v1/migrations/$mid | jq .progress_count)\" = 2 ]" ||
	fail "no progress: $(api GET "/v1/migrations/$mid")"
gv_restart_daemon --kill9
expect_eq "$(mig_state "$mid")" completed "state after restart"
expect_api 404 GET "/v1/instances/$back"
[ "$(gv_instance_field "$mdst" .workload.pid)" = "$w1" ] || [ "$(gv_instance_field "$mdst" .workload.pid)" != null ] ||
	fail "workload not on $mdst: $(gv list --json)"

step "the workload exiting mid-migration: failed, destination destroyed"
expect_rc 1 "" gv migrate "$mdst" --to 0 --inject exit
expect_eq "$(gv migrations --json | jq -r '.migrations[-1].state')" failed "state"
wait_until 10 bash -c "[ \"\$(curl -s --unix-socket $GV_SOCK http://x/v1/instances | jq '[.instances[] | select(.gpu == 0)] | length')\" = 0 ]" ||
	fail "destination on gpu 0 left: $(gv list --json)"
touch "$T/stop1"
wait "$w1" 2>/dev/null
expect_eq "$(ls "$GV_RUN/acct")" "$mdst.acct" "accounting files left (the source stays)"
gv_done
