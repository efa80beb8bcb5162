#!/usr/bin/env bash
# N clients racing for the last slot of a GPU: exactly one 201, the others
# 409, and the store holds exactly what fits.
. "$(dirname "$0")/lib.sh"

N=16
gv_start_daemon --sim a100-40gb:1,h100-80gb:1
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"mig"}'
expect_api 200 PUT /v1/gpus/1/mode '{"mode":"timeslice"}'

# race BODY: N parallel POSTs; prints the sorted status codes
race() {
	local i
	local pids=()
	for ((i = 0; i < N; i++)); do
		curl -s --max-time 30 --unix-socket "$GV_SOCK" -o "$T/race.$i.body" \
			-w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary "$1" http://localhost/v1/instances >"$T/race.$i.code" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	for ((i = 0; i < N; i++)); do
		cat "$T/race.$i.code"
		echo
	done | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'
}

step "MIG: one 7g.40gb fits an A100-40GB"
got=$(race '{"profile":"7g.40gb","gpu":0}')
expect_eq "$got" "201:1 409:$((N - 1)) " "status codes of $N racing MIG creates"
n=$(api GET /v1/instances | jq '[.instances[] | select(.gpu == 0)] | length')
expect_eq "$n" 1 "instances on gpu 0"
hw=$(jq '.gpus[0].mig_instances | length' "$GV_STATE/sim-node.json")
expect_eq "$hw" 1 "MIG instances in the simulated hardware"

step "timeslice: the last of the h100-40c slots"
expect_api 201 POST /v1/instances '{"profile":"h100-40c","gpu":1}'
got=$(race '{"profile":"h100-40c","gpu":1}')
expect_eq "$got" "201:1 409:$((N - 1)) " "status codes of $N racing timeslice creates"
n=$(api GET /v1/instances | jq '[.instances[] | select(.gpu == 1)] | length')
expect_eq "$n" 2 "instances on gpu 1"
expect_eq "$(ls "$GV_RUN/acct" | wc -l)" 2 "accounting files"

step "ids are unique and never reused"
ids=$(api GET /v1/instances | jq -r '.instances[].id' | sort | uniq -d)
expect_eq "$ids" "" "duplicate ids"
first=$(api GET /v1/instances | jq -r '.instances[0].id')
expect_api 200 DELETE "/v1/instances/$first"
expect_api 201 POST /v1/instances '{"profile":"7g.40gb","gpu":0}'
new=$(jout .id)
[ "$new" != "$first" ] || fail "id $first was reused"

step "concurrent destroys of one instance: one 200, the rest 404"
codes=$(for ((i = 0; i < 8; i++)); do
	curl -s -o /dev/null -w '%{http_code}\n' -X DELETE --unix-socket "$GV_SOCK" \
		"http://localhost/v1/instances/$new" &
done | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'; wait)
expect_eq "$codes" "200:1 404:7 " "racing destroys"
gv_done
