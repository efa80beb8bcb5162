#!/usr/bin/env bash
# Memory a timeslice workload allocates through the shim shows up in the
# instance's mem_used_bytes and in /metrics, read from its accounting file.
. "$(dirname "$0")/lib.sh"

[ -x "$GV_BIN_DIR/gpuvisor" ] || skip "gpuvisor CLI not built"
[ -x "$GV_BIN_DIR/gv-infer" ] || skip "gv-infer workload not built"

gv_start_daemon --sim h100-80gb:1
expect_api 200 PUT /v1/gpus/0/mode '{"mode":"timeslice"}'
expect_api 201 POST /v1/instances '{"profile":"h100-4c"}'
id=$(jout .id)
expect_eq "$(jout .mem_used_bytes)" 0 "mem_used_bytes of a new instance"

used() { api GET "/v1/instances/$id" | jq -r '.workload.mem_used_bytes // 0'; }
busy() { [ "$(used)" -ge $((64 * 1024 * 1024)) ]; }

gv_bg "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" run --instance "$id" -- \
	"$GV_BIN_DIR/gv-infer" --weights-mib 64 --steps 400 --step-ms 50
wait_until 20 busy || fail "mem_used_bytes never reached the 64 MiB of weights: $(api GET "/v1/instances/$id")"
m=$(api GET /metrics)
v=$(printf '%s\n' "$m" | awk -v id="$id" 'index($1, "gpuvisor_instance_memory_used_bytes{instance=\"" id "\"") == 1 {print $2}')
[ -n "$v" ] && [ "$v" -ge $((64 * 1024 * 1024)) ] || fail "metrics lack the instance's memory: $m"
expect_contains "$m" "gpuvisor_gpu_memory_allocated_bytes{gpu=\"0\"} $((4096 * 1024 * 1024))"

step "force destroy kills the workload and its memory is gone with the file"
expect_api 409 DELETE "/v1/instances/$id"
expect_api 200 DELETE "/v1/instances/$id?force=1"
[ -e "$GV_RUN/acct/$id.acct" ] && fail "accounting file left behind"
gv_done
