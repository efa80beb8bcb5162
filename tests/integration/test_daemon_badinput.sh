#!/usr/bin/env bash
# Every refused request gets the right 4xx with a JSON error, and changes
# nothing: instances, GPUs and events are identical before and after.
. "$(dirname "$0")/lib.sh"

gv_start_daemon --sim a100-40gb:1,h100-80gb:1 --listen 127.0.0.1:0
port=$(sed -n 's/.* and tcp 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/daemon.log" | tail -n 1)
[ -n "$port" ] || fail "no TCP port in the log"
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

step "ids, query keys and values are checked as bytes (NUL, UTF-8, length, count)"
check 400 bad_request DELETE "/v1/instances/$mig_id%00junk"
check 400 bad_request DELETE "/v1/instances/$mig_id%00"
check 400 bad_request GET "/v1/instances/i-%C3%28"
check 400 bad_request GET "/v1/instances/i-%C3"
check 400 bad_request GET "/v1/gpus/%FF%FE"
check 400 bad_request PUT "/v1/gpus/GPU-%ED%A0%80/mode" '{"mode":"mig"}'
check 400 bad_request GET "/v1/instances/i-1%2Fenv"
check 400 bad_request GET "/v1/instances/$(head -c 65 /dev/zero | tr '\0' a)"
check 400 bad_request GET "/v1/events?%C3%28=1"
check 400 bad_request GET "/v1/events?since=%00"
check 400 bad_request GET "/v1/events?Since=1"
check 400 bad_request GET "/v1/profiles?gpu=GPU-%C3%A9%C3%A9"
check 400 bad_request GET "/v1/profiles?gpu=GPU-$(printf '%%C3%%A9%.0s' {1..40})"
check 400 bad_request GET "/v1/events?$(printf 'since=1&%.0s' {1..17})"
check 414 uri_too_long GET "/v1/events?$(printf 'a=1&%.0s' {1..2000})"
check 400 bad_request GET "/v1/events?$(printf 'a&%.0s' {1..2000})"
check 414 uri_too_long GET "/v1/events?since=$(head -c 5000 /dev/zero | tr '\0' 1)"

step "raw bytes libmicrohttpd would hide: a NUL in the request line or a header"
# raw REQUEST: sends the bytes (Python escapes) on the Unix socket or, with
# --tcp, on TCP; prints "STATUS BODY"
raw() {
	python3 - "$GV_SOCK" "$port" "$@" <<'PY'
import socket, sys
path, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
tcp = args[0] == "--tcp"
data = args[-1].encode().decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port)) if tcp else socket.socket(socket.AF_UNIX)
if not tcp:
    s.connect(path)
s.settimeout(10)
try:
    s.sendall(data)
except OSError:
    pass
out = b""
while True:
    try:
        b = s.recv(65536)
    except OSError:
        break
    if not b:
        break
    out += b
head, _, body = out.partition(b"\r\n\r\n")
status = head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "000"
print(status, body.decode("utf-8", "replace").strip())
PY
}
# rawcheck STATUS CODE_WORD [--tcp] REQUEST
rawcheck() {
	local want=$1 word=$2 out
	shift 2
	n_checks=$((n_checks + 1))
	out=$(raw "$@")
	expect_eq "${out%% *}" "$want" "status of raw $*"
	expect_eq "$(jfield "${out#* }" .error.code)" "$word" "error code of raw $*"
}
tok=$(cat "$GV_STATE/token")
rawcheck 400 bad_request "DELETE /v1/instances/$mig_id\\x00junk HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
rawcheck 400 bad_request "GET /v1/node HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\x00b\\r\\n\\r\\n"
rawcheck 400 bad_request --tcp "GET /v1/node HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $tok\\x00junk\\r\\n\\r\\n"
rawcheck 401 unauthorized --tcp "GET /v1/node HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer ${tok}junk\\r\\n\\r\\n"
rawcheck 401 unauthorized --tcp "GET /v1/node HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $tok \\xc3\\xa9\\r\\n\\r\\n"
out=$(raw --tcp "GET /v1/node HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $tok\\r\\n\\r\\n")
expect_eq "${out%% *}" 200 "the token itself over TCP"
rawcheck 431 headers_too_large "GET /v1/node HTTP/1.1\\r\\nHost: x\\r\\nX-A: $(head -c 10000 /dev/zero | tr '\0' a)\\r\\n\\r\\n"
# an unauthenticated body is refused by its length before it is read: no
# body is sent at all, the 401 comes at once
t0=$(date +%s%3N)
rawcheck 401 unauthorized --tcp "POST /v1/instances HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 33554432\\r\\n\\r\\n"
[ $(($(date +%s%3N) - t0)) -lt 5000 ] || fail "the 401 for an unauthenticated body was not immediate"
# what libmicrohttpd answers itself (a head over its 32 KiB pool, an HTTP
# version it refuses) is not JSON (docs/api.md, "Limits") but is counted
big=$(raw "GET /v1/node HTTP/1.1\\r\\nHost: x\\r\\nX-A: $(head -c 40000 /dev/zero | tr '\0' a)\\r\\n\\r\\n")
expect_eq "${big%% *}" 431 "a head over the connection's memory"
ver=$(raw "GET /v1/node HTTP/0.9\\r\\nHost: x\\r\\n\\r\\n")
expect_eq "${ver%% *}" 505 "HTTP/0.9"
n_checks=$((n_checks + 2))

after=$(snapshot)
expect_eq "$after" "$before" "state after the refused requests"

step "errors are counted in /metrics"
m=$(api GET /metrics)
expect_contains "$m" 'gpuvisor_api_requests_total{method="POST",code="400"}'
expect_contains "$m" 'gpuvisor_api_requests_total{method="other",code="405"}'
expect_contains "$m" 'gpuvisor_api_requests_total{method="GET",code="414"}'
expect_contains "$m" 'gpuvisor_api_requests_total{method="other",code="431"}'
expect_contains "$m" 'gpuvisor_api_requests_total{method="other",code="505"}'
errs=$(printf '%s\n' "$m" | awk '$1 == "gpuvisor_api_errors_total" {print $2}')
[ "${errs:-0}" -ge "$n_checks" ] || fail "gpuvisor_api_errors_total is '$errs', expected $n_checks or more"
gv_done
