#!/usr/bin/env bash
# Daemon lifecycle and workloads: one daemon per state dir and socket, clean
# SIGTERM, the TCP listener's bearer token, workload liveness and force kill.
. "$(dirname "$0")/lib.sh"

gv_start_daemon --sim h100-80gb:1 --listen 127.0.0.1:0
expect_api 200 GET /v1/node
expect_eq "$(jout .backend)" sim "backend"
expect_contains "$(cat "$T/daemon.log")" "using a simulated node: 1 GPU (h100-80gb)"

step "a second daemon on the same state dir or socket refuses to start"
"$GV_BIN_DIR/gpuvisord" --socket "$T/other.sock" --state-dir "$GV_STATE" --sim h100-80gb:1 \
	>"$T/second.log" 2>&1 && fail "second daemon on the same state dir started"
expect_contains "$(cat "$T/second.log")" "another gpuvisord uses the state directory"
"$GV_BIN_DIR/gpuvisord" --socket "$GV_SOCK" --state-dir "$T/state2" --sim h100-80gb:1 \
	>"$T/second.log" 2>&1 && fail "second daemon on the same socket started"
expect_contains "$(cat "$T/second.log")" "another gpuvisord is listening on"
expect_api 200 GET /v1/node

step "socket permissions and token file"
expect_eq "$(stat -c %a "$GV_SOCK")" 660 "socket mode"
expect_eq "$(stat -c %a "$GV_STATE/token")" 600 "token mode"

step "TCP listener needs the bearer token"
gv_stop_daemon || fail "clean shutdown failed"
gv_start_daemon --sim h100-80gb:1 --listen 127.0.0.1:0
port=$(sed -n 's/.* and tcp 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/daemon.log" | tail -n 1)
[ -n "$port" ] && [ "$port" != 0 ] || fail "no bound TCP port in the log: $(cat "$T/daemon.log")"
tok=$(cat "$GV_STATE/token")
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/node")
expect_eq "$code" 401 "TCP without token"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${tok}x" "http://127.0.0.1:$port/v1/node")
expect_eq "$code" 401 "TCP with a wrong token"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${tok:0:10}" "http://127.0.0.1:$port/v1/node")
expect_eq "$code" 401 "TCP with a token prefix"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/node")
expect_eq "$code" 200 "TCP with the token"

step "workloads: liveness clears a dead one"
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"timeslice"}'
expect_api 201 POST /v1/instances '{"profile":"h100-20c"}'
id=$(jout .id)
setsid sleep 600 &
w1=$!
GV_BG_PIDS+=("$w1")
expect_api 200 POST "/v1/instances/$id/workload" "{\"pid\":$w1}"
expect_api 409 POST "/v1/instances/$id/workload" "{\"pid\":$w1}"
expect_api 409 DELETE "/v1/instances/$id"
expect_contains "$GV_OUT" "running workload"
kill -9 "$w1"
wait "$w1" 2>/dev/null
# the liveness thread runs every second; no request in between
sleep 2.5
ev=$(api GET '/v1/events' | jq -r '.events[] | select(.kind == "workload.exited") | .instance')
expect_eq "$ev" "$id" "workload.exited event"
expect_api 200 GET "/v1/instances/$id"
expect_eq "$(jout .workload)" null "workload after its process died"

step "workloads: detach, and force destroy kills the process group"
setsid sleep 600 &
w2=$!
GV_BG_PIDS+=("$w2")
expect_api 200 POST "/v1/instances/$id/workload" "{\"pid\":$w2}"
expect_api 200 DELETE "/v1/instances/$id/workload"
expect_eq "$(jout .workload)" null "workload after detach"
kill -0 "$w2" || fail "detach killed the workload"
expect_api 200 POST "/v1/instances/$id/workload" "{\"pid\":$w2}"
expect_api 200 DELETE "/v1/instances/$id?force=1"
expect_eq "$(jout .deleted)" "$id" "deleted id"
wait_until 5 bash -c "! kill -0 $w2" || fail "force destroy left workload $w2 running"
expect_api 404 GET "/v1/instances/$id"
expect_eq "$(ls "$GV_RUN/acct" | wc -l)" 0 "accounting files left"

step "env of each kind"
expect_api 201 POST /v1/instances '{"profile":"h100-20c"}'
id=$(jout .id)
expect_api 200 GET "/v1/instances/$id/env"
expect_eq "$(jout .env.GPUVISOR_ACCT)" "$GV_RUN/acct/$id.acct" "GPUVISOR_ACCT"
[ -f "$GV_RUN/acct/$id.acct" ] || fail "no accounting file"
expect_contains "$(jout .env.LD_LIBRARY_PATH_PREPEND)" "/shim" "shim dir"
expect_contains "$(jout .env.GPUVISOR_REAL_LIBCUDA)" "/libcudasim.so" "real libcuda"
expect_contains "$(jout .env.GPUVISOR_REAL_LIBNVML)" "/libnvmlsim.so" "real NVML: the simulator's"
expect_eq "$(jout .env.GPUVISOR_SIM_NODE)" "$GV_STATE/sim-node.json" "sim node"
expect_eq "$(jout .env.CUDA_VISIBLE_DEVICES)" "$(api GET /v1/gpus/0 | jq -r .uuid)" "CUDA_VISIBLE_DEVICES"
expect_api 200 DELETE "/v1/instances/$id"
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"mig"}'
expect_api 201 POST /v1/instances '{"profile":"1g.10gb"}'
id=$(jout .id)
uuid=$(jout .device_uuid)
expect_api 200 GET "/v1/instances/$id/env"
expect_eq "$(jout .env.CUDA_VISIBLE_DEVICES)" "$uuid" "MIG CUDA_VISIBLE_DEVICES"
expect_contains "$(jout .env.LD_LIBRARY_PATH_PREPEND)" "/shim" "shim dir (it migrates MIG workloads too)"
expect_contains "$(jout .env.GPUVISOR_REAL_LIBCUDA)" "/libcudasim.so" "real libcuda behind the shim"
expect_eq "$(jout '.env.GPUVISOR_ACCT // "none"')" none "no accounting for MIG"

step "SIGTERM shuts down cleanly and removes the socket"
gv_stop_daemon || fail "gpuvisord exited with $? on SIGTERM"
[ -e "$GV_SOCK" ] && fail "socket left behind"
gv_done
