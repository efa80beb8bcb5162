#!/usr/bin/env bash
# Reconciliation at start: MIG instances created behind the daemon's back are
# adopted, instances whose MIG instance vanished are removed, dead workloads
# are cleared; each with an event. An accounting file this version cannot
# read is replaced.
. "$(dirname "$0")/lib.sh"

gv_start_daemon --sim a100-40gb:1,h100-80gb:1
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"mig"}'
expect_api 201 POST /v1/instances '{"profile":"3g.20gb","gpu":0,"placement":0}'
gone=$(jout .id)
gone_uuid=$(jout .device_uuid)
expect_api 201 POST /v1/instances '{"profile":"1g.5gb","gpu":0,"placement":4}'
kept=$(jout .id)
expect_api 200 PUT /v1/gpus/1/mode '{"mode":"timeslice"}'
expect_api 201 POST /v1/instances '{"profile":"h100-20c","gpu":1}'
ts=$(jout .id)
setsid sleep 600 &
wl=$!
GV_BG_PIDS+=("$wl")
expect_api 200 POST "/v1/instances/$ts/workload" "{\"pid\":$wl}"
expect_eq "$(jout .workload.pid)" "$wl" "registered workload"
gv_stop_daemon || fail "clean shutdown failed"

step "behind the daemon's back: a MIG instance appears, another vanishes, the workload dies"
jq --arg gone "$gone_uuid" '
  .gpus[0].mig_instances |= map(select(.uuid != $gone))
  | .gpus[0].mig_instances += [{"profile":"1g.10gb","start":6,"uuid":"MIG-11111111-2222-4333-8444-555555555555"}]' \
	"$GV_STATE/sim-node.json" >"$T/node.json" || fail "jq edit"
mv "$T/node.json" "$GV_STATE/sim-node.json"
kill -9 "$wl"
wait "$wl" 2>/dev/null

gv_start_daemon
expect_api 200 GET /v1/instances
expect_eq "$(jout '[.instances[].id] | index("'"$gone"'") == null')" true "vanished instance removed"
expect_eq "$(jout '.instances[] | select(.id == "'"$kept"'") | .state')" ready "kept instance"
adopted=$(jout '.instances[] | select(.profile == "1g.10gb") | .id')
expect_eq "$(jout '.instances[] | select(.id == "'"$adopted"'") | .start')" 6 "adopted instance's slot"
hw_uuid=MIG-11111111-2222-4333-8444-555555555555
expect_eq "$(jout '.instances[] | select(.id == "'"$adopted"'") | .device_uuid')" "$hw_uuid" "adopted device uuid"
expect_eq "$(jout '.instances[] | select(.id == "'"$ts"'") | .workload')" null "dead workload cleared"
expect_api 200 GET /v1/events
expect_contains "$GV_OUT" '"instance.adopted"'
expect_contains "$GV_OUT" '"instance.vanished"'
expect_contains "$GV_OUT" '"workload.exited"'
expect_contains "$(cat "$T/daemon.log")" "adopted MIG instance $hw_uuid"

step "the adopted instance is a first-class instance: it blocks its slots and can be destroyed"
expect_api 409 POST /v1/instances '{"profile":"1g.5gb","gpu":0,"placement":6}'
expect_api 200 DELETE "/v1/instances/$adopted"
n=$(jq '.gpus[0].mig_instances | length' "$GV_STATE/sim-node.json")
expect_eq "$n" 1 "MIG instances left in the hardware"

step "an accounting file in another format (an older gpuvisord's) is replaced while unused"
acct=$(find "$GV_RUN" -name "$ts.acct" | head -1)
[ -n "$acct" ] || fail "no accounting file for $ts under $GV_RUN"
gv_stop_daemon || fail "clean shutdown failed"
printf 'not an accounting file of this version' >"$acct"
gv_start_daemon
expect_contains "$(cat "$T/daemon.log")" "$ts: replaced its accounting file"
expect_eq "$(head -c 4 "$acct")" ACCT "a fresh accounting file"
expect_api 200 GET "/v1/instances/$ts"

step "a restart without changes changes nothing"
before=$(api GET /v1/instances)
ev_before=$(api GET /v1/events | jq '.events | length')
gv_restart_daemon
expect_eq "$(api GET /v1/instances)" "$before" "instances across a clean restart"
expect_eq "$(api GET /v1/events | jq '.events | length')" "$ev_before" "events across a clean restart"
gv_done
