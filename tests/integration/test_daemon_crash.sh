#!/usr/bin/env bash
# Crash consistency: a gpuvisord killed with SIGKILL at any moment restarts
# with the store and the (simulated) hardware agreeing, and no instance left
# half-created or half-destroyed.
. "$(dirname "$0")/lib.sh"

# consistent: every instance ready; the MIG instances of the hardware are
# exactly the store's MIG instances; one accounting file per timeslice one.
consistent() {
	local inst hw store acct ts
	inst=$(api GET /v1/instances)
	[ "$(api_status)" = 200 ] || fail "GET /v1/instances: $(api_status) $inst"
	bad=$(printf '%s' "$inst" | jq -r '.instances[] | select(.state != "ready") | .id')
	expect_eq "$bad" "" "instances not ready after restart"
	hw=$(jq -r '.gpus[].mig_instances[].uuid' "$GV_STATE/sim-node.json" | sort)
	store=$(printf '%s' "$inst" | jq -r '.instances[] | select(.kind == "mig") | .device_uuid' | sort)
	expect_eq "$store" "$hw" "MIG instances: store vs hardware"
	ts=$(printf '%s' "$inst" | jq -r '.instances[] | select(.kind == "timeslice") | .id + ".acct"' | sort)
	acct=$(ls "$GV_RUN/acct" | sort)
	expect_eq "$acct" "$ts" "accounting files vs timeslice instances"
}

gv_start_daemon --sim a100-40gb:1,h100-80gb:1
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"mig"}'
expect_api 200 PUT /v1/gpus/1/mode '{"mode":"timeslice"}'
expect_api 201 POST /v1/instances '{"profile":"3g.20gb","gpu":0,"placement":0}'
keep=$(jout .id)

step "crash injected right after the MIG instance exists, before the store says ready"
gv_stop_daemon || fail "clean shutdown failed"
GPUVISOR_SIM_CRASH=mig_create_after gv_start_daemon
out=$(api POST /v1/instances '{"profile":"2g.10gb","gpu":0}')
expect_eq "$(api_status)" 000 "status of a create that crashed the daemon"
wait "$GV_DAEMON_PID" 2>/dev/null
GV_DAEMON_PID=
n=$(jq '.gpus[0].mig_instances | length' "$GV_STATE/sim-node.json")
expect_eq "$n" 2 "MIG instances in the hardware right after the crash"
gv_start_daemon
consistent
expect_api 200 GET /v1/instances
expect_eq "$(jout '.instances | length')" 1 "instances after rollback"
expect_eq "$(jout '.instances[0].id')" "$keep" "surviving instance"
expect_api 200 GET /v1/events
expect_contains "$GV_OUT" '"instance.rolled_back"'
expect_contains "$(cat "$T/daemon.log")" "rolled back"

step "the slot is usable again"
expect_api 201 POST /v1/instances '{"profile":"2g.10gb","gpu":0}'
consistent

step "backend failures (injected) are 500s that change nothing"
gv_stop_daemon || fail "clean shutdown failed"
GPUVISOR_SIM_FAIL=mig_create:1,mig_destroy:1 gv_start_daemon
before=$(api GET /v1/instances)
expect_api 500 POST /v1/instances '{"profile":"1g.5gb","gpu":0}'
expect_eq "$(jout .error.code)" internal "error code"
expect_eq "$(api GET /v1/instances)" "$before" "instances after a failed MIG create"
consistent
victim=$(printf '%s' "$before" | jq -r '.instances[-1].id')
expect_api 500 DELETE "/v1/instances/$victim"
expect_eq "$(api GET /v1/instances)" "$before" "instances after a failed MIG destroy"
consistent
expect_api 200 DELETE "/v1/instances/$victim"
consistent
gv_stop_daemon || fail "clean shutdown failed"
gv_start_daemon

step "kill -9 at random moments during a loop of creates and destroys"
loop() {
	local i code body id
	for ((i = 0; ; i++)); do
		case $((i % 4)) in
		0) body='{"profile":"1g.5gb","gpu":0}' ;;
		1) body='{"profile":"h100-10c","gpu":1}' ;;
		2) body='{"profile":"2g.10gb","gpu":0}' ;;
		3) body='' ;;
		esac
		if [ -n "$body" ]; then
			curl -s --max-time 5 --unix-socket "$GV_SOCK" -o /dev/null \
				--data-binary "$body" http://localhost/v1/instances || return 0
		else
			id=$(curl -s --max-time 5 --unix-socket "$GV_SOCK" \
				http://localhost/v1/instances | jq -r '.instances[-1].id // empty') || return 0
			[ -n "$id" ] && { curl -s --max-time 5 -X DELETE --unix-socket "$GV_SOCK" \
				-o /dev/null "http://localhost/v1/instances/$id" || return 0; }
		fi
	done
}
for round in $(seq 1 12); do
	loop &
	lp=$!
	sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
	gv_kill9_daemon
	wait "$lp" 2>/dev/null
	gv_start_daemon
	consistent
done
n=$(api GET /v1/events | jq '[.events[] | select(.kind == "instance.created")] | length')
[ "$n" -gt 3 ] || fail "the loop created only $n instances: the test did not exercise much"
gv_stop_daemon || fail "clean shutdown after the crash rounds failed"
gv_done
