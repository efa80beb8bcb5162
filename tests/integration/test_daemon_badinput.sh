#!/usr/bin/env bash
# Every refused request gets the right 4xx with a JSON error, and changes
# nothing: instances, GPUs and events are identical before and after.
. "$(dirname "$0")/lib.sh"

gv_start_daemon --sim a100-40gb:1,h100-80gb:1
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"mig"}'
expect_api 200 PUT /v1/gpus/1/mode '{"mode":"timeslice"}'
expect_api 201 POST /v1/instances '{"profile":"3g.20gb","gpu":0}'
mig_id=$(jout .id)
expect_api 201 POST /v1/instances '{"profile":"h100-8c"}'

snapshot() {
	local s
	s=$(api GET /v1/instances)
	s+=$(api GET /v1/gpus)
	s+=$(api GET /v1/events)
	s+=$(cat "$GV_STATE/sim-node.json")
	s+=$(ls "$GV_RUN/acct")
	printf '%s' "$s"
}
before=$(snapshot)

# check STATUS CODE_WORD METHOD PATH [BODY]
n_checks=0
check() {
	local want=$1 word=$2
	n_checks=$((n_checks + 1))
	shift 2
	expect_api "$want" "$@"
	local got
	got=$(jfield "$GV_OUT" .error.code)
	expect_eq "$got" "$word" "error code of $*"
	jfield "$GV_OUT" .error.message >/dev/null
}

step "malformed and mistyped bodies"
check 400 bad_request POST /v1/instances '{"profile":'
check 400 bad_request POST /v1/instances 'not json'
check 400 bad_request POST /v1/instances ''
check 400 bad_request POST /v1/instances '[]'
check 400 bad_request POST /v1/instances '"h100-8c"'
check 400 bad_request POST /v1/instances '{}'
check 400 bad_request POST /v1/instances '{"profile":8}'
check 400 bad_request POST /v1/instances '{"profile":""}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","gpu":true}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","gpu":-1}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","gpu":"01"}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","gpu":1.0}'
check 400 bad_request POST /v1/instances '{"profile":"3g.20gb","placement":"4"}'
check 400 bad_request POST /v1/instances '{"profile":"3g.20gb","placement":8}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","framebuffer_mib":0}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","policy":"random"}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","extra":1}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","profile":"h100-8c"}'
check 400 bad_request POST /v1/instances "$(printf '{"profile":"h100\\u0000-8c"}')"

step "unknown profile, GPU, invalid placement"
check 400 bad_request POST /v1/instances '{"profile":"h100-9000c"}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","gpu":7}'
check 400 bad_request POST /v1/instances '{"profile":"h100-8c","gpu":"GPU-00000000-0000-0000-0000-000000000000"}'
check 400 bad_request POST /v1/instances '{"profile":"3g.20gb","gpu":0,"placement":1}'

step "no room / state conflicts"
check 409 conflict POST /v1/instances '{"profile":"3g.20gb","gpu":0,"placement":4}'
check 409 conflict POST /v1/instances '{"profile":"7g.40gb","gpu":0}'
check 409 conflict PUT /v1/gpus/0/mode '{"mode":"passthrough"}'
check 409 conflict PUT /v1/gpus/1/mode '{"mode":"mig"}'

step "too large"
big=$(head -c 70000 /dev/zero | tr '\0' ' ')
check 413 too_large POST /v1/instances "{\"profile\":\"h100-8c\"$big}"
check 413 too_large PUT /v1/gpus/1/mode "{\"mode\":\"mig\"$big}"

step "modes, workloads, queries"
check 400 bad_request PUT /v1/gpus/1/mode '{"mode":"MIG"}'
check 400 bad_request PUT /v1/gpus/1/mode '{"mode":1}'
check 400 bad_request PUT /v1/gpus/1/mode '{}'
check 404 not_found PUT /v1/gpus/5/mode '{"mode":"mig"}'
check 400 bad_request POST "/v1/instances/$mig_id/workload" '{"pid":"1"}'
check 400 bad_request POST "/v1/instances/$mig_id/workload" '{"pid":0}'
check 400 bad_request POST "/v1/instances/$mig_id/workload" '{"pid":1}'
check 400 bad_request POST "/v1/instances/$mig_id/workload" '{"pid":4194304999}'
check 400 bad_request POST "/v1/instances/$mig_id/workload" "{\"pid\":$$}"
check 404 not_found POST /v1/instances/i-999/workload '{"pid":2}'
check 400 bad_request GET '/v1/events?since=-1'
check 400 bad_request GET '/v1/events?since=x'
check 400 bad_request GET '/v1/events?since=1&since=2'
check 400 bad_request GET '/v1/instances?x=1'
check 400 bad_request GET '/v1/profiles?gpu=abc'
check 404 not_found GET '/v1/profiles?gpu=9'
check 400 bad_request DELETE "/v1/instances/$mig_id?force=maybe"
check 400 bad_request GET /v1/instances '{"a":1}'

step "unknown resources and methods"
check 404 not_found GET /v1/instances/i-999
check 404 not_found DELETE /v1/instances/i-999
check 404 not_found GET /v1/gpus/3
check 404 not_found GET /v1/nothing
check 404 not_found GET /v2/gpus
check 404 not_found GET /v1//gpus
check 405 method_not_allowed PATCH /v1/instances
check 405 method_not_allowed DELETE /v1/gpus
check 405 method_not_allowed POST /metrics

after=$(snapshot)
expect_eq "$after" "$before" "state after the refused requests"

step "errors are counted in /metrics"
m=$(api GET /metrics)
expect_contains "$m" 'gpuvisor_api_requests_total{method="POST",code="400"}'
expect_contains "$m" 'gpuvisor_api_requests_total{method="other",code="405"}'
errs=$(printf '%s\n' "$m" | awk '$1 == "gpuvisor_api_errors_total" {print $2}')
[ "${errs:-0}" -ge "$n_checks" ] || fail "gpuvisor_api_errors_total is '$errs', expected $n_checks or more"
gv_done
