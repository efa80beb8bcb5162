#!/usr/bin/env bash
# The time-slice scheduler through the daemon and the CLI: the segment of a
# timeslice GPU (file, mode, removal), tenants following instance create and
# destroy, policy/slice/weight changes through `gpuvisor sched` and the API
# with their refusals, events, the instance env and CDI mount, /metrics and
# `gpuvisor top`. (Shares under load: test_sched_share.sh.)
. "$(dirname "$0")/lib.sh"
gv_start_daemon # a100-40gb (0), h100-80gb (1), l40s (2)

uuid1=$(gv_gpu_field 1 .uuid)
seg=$GV_RUN/sched/$uuid1.sched

sched_json() {
	expect_ok gv sched "$1" --json
	jvalid "$GV_OUT"
}

step "a GPU that is not in timeslice mode has no scheduler"
expect_rc 1 "passthrough mode" gv sched 1
expect_contains "$GV_ERR" "gpuvisor mode 1 timeslice"
expect_api 409 GET /v1/gpus/1/sched
expect_api 409 PUT /v1/gpus/1/sched '{"policy":"equal-share"}'
expect_api 404 GET /v1/gpus/7/sched
[ -e "$seg" ] && fail "segment $seg exists before timeslice mode"

step "timeslice mode creates the segment (0660) with the default policy"
expect_ok gv mode 1 timeslice
[ -f "$seg" ] || fail "no segment at $seg"
expect_eq "$(stat -c %a "$seg")" 660 "segment mode"
sched_json 1
expect_eq "$(jout .policy)" best-effort
expect_eq "$(jout .slice_ms)" 2
expect_eq "$(jout .segment)" "$seg"
expect_eq "$(jout '.tenants | length')" 0
expect_ok gv sched 1
expect_contains "$GV_OUT" "best-effort, slice 2 ms"
expect_contains "$GV_OUT" "no tenants"

step "tenants appear on instance create, with 1/max count of their profile"
gv_create --profile h100-20c --gpu 1
a=$GV_ID
gv_create --profile h100-20c --gpu 1
b=$GV_ID
sched_json 1
expect_eq "$(jout '[.tenants[].instance] | sort | join(",")')" "$(printf '%s\n' "$a" "$b" | sort | paste -sd,)"
expect_eq "$(jout ".tenants[] | select(.instance == \"$a\") | .share_ppm")" 250000
expect_eq "$(jout ".tenants[] | select(.instance == \"$a\") | .weight")" 1
for k in gpu_time_ns share_last_s wait_ns slices overruns revocations processes; do
	expect_eq "$(jout ".tenants[0].$k | type")" number "tenant field $k"
done
# a MIG or passthrough instance is no tenant
gv_create --profile passthrough --gpu 0
pt=$GV_ID
sched_json 1
expect_eq "$(jout '.tenants | length')" 2

step "the instance env names the segment; cdi mounts it read-write"
expect_api 200 GET "/v1/instances/$a/env"
expect_eq "$(jout .env.GPUVISOR_SCHED)" "$seg"
expect_eq "$(jout .env.GPUVISOR_INSTANCE)" "$a"
expect_eq "$(jout "[.mounts[] | select(.host == \"$seg\")] | length")" 1
expect_api 200 GET "/v1/instances/$pt/env"
expect_eq "$(jout .env.GPUVISOR_SCHED)" null "GPUVISOR_SCHED of a passthrough instance"
expect_ok gv cdi --output -
expect_eq "$(jout ".devices[] | select(.name == \"$a\") | .containerEdits.mounts[] | select(.hostPath == \"$seg\") | .options[0]")" rw "segment mount option"
expect_eq "$(jout ".devices[] | select(.name == \"$a\") | .containerEdits.env[] | select(startswith(\"GPUVISOR_SCHED=\"))")" "GPUVISOR_SCHED=$seg"

step "policy and slice through the CLI"
expect_ok gv sched 1 --policy equal-share --slice-ms 5
expect_contains "$GV_OUT" "equal-share, slice 5 ms"
expect_contains "$GV_OUT" "$a"
sched_json 1
expect_eq "$(jout .policy)" equal-share
expect_eq "$(jout .slice_ms)" 5
expect_ok gv sched --slice-ms 3 1
sched_json 1
expect_eq "$(jout .policy)" equal-share "policy after a slice-only change"
expect_eq "$(jout .slice_ms)" 3
expect_ok gv events --json
expect_contains "$GV_OUT" "sched.policy"
expect_contains "$GV_OUT" "equal-share, 5 ms -> equal-share, 3 ms"

step "policy and slice through the API"
expect_api 200 PUT /v1/gpus/1/sched '{"policy":"fixed-share","slice_ms":10}'
expect_eq "$(jout .policy)" fixed-share
expect_eq "$(jout .slice_ms)" 10
expect_api 200 PUT "/v1/gpus/$uuid1/sched" '{"policy":"best-effort"}'
expect_eq "$(jout .slice_ms)" 10
expect_api 200 PUT /v1/gpus/1/sched '{"policy":"fixed-share"}'

step "refusals change nothing"
expect_rc 2 "--slice-ms is 1 to 30" gv sched 1 --slice-ms 31
expect_rc 2 "--slice-ms is 1 to 30" gv sched 1 --slice-ms 0
expect_rc 2 "--slice-ms is 1 to 30" gv sched 1 --slice-ms 2.5
expect_rc 2 "unknown policy 'round-robin'" gv sched 1 --policy round-robin
expect_rc 2 "the weight is 1 to 100" gv sched 1 --weight "$a=0"
expect_rc 2 "INSTANCE=W" gv sched 1 --weight "$a"
expect_rc 2 "one GPU" gv sched
expect_rc 1 "passthrough mode" gv sched 0 --policy equal-share
expect_rc 1 "no GPU" gv sched 9
for body in '{"slice_ms":0}' '{"slice_ms":31}' '{"slice_ms":"5"}' '{"policy":"rr"}' '{}' \
	'{"policy":"equal-share","x":1}' '{"policy":"equal-share"' '[]'; do
	expect_api 400 PUT /v1/gpus/1/sched "$body"
	jvalid "$GV_OUT"
	expect_eq "$(jout .error.code)" bad_request "code for $body"
done
expect_api 400 PUT /v1/gpus/1/sched '{"slice_ms":31}'
expect_contains "$GV_OUT" "between 1 and 30"
expect_api 409 PUT /v1/gpus/0/sched '{"slice_ms":5}'
expect_api 404 PUT /v1/gpus/9/sched '{"slice_ms":5}'
expect_api 405 POST /v1/gpus/1/sched '{"slice_ms":5}'
sched_json 1
expect_eq "$(jout .policy)" fixed-share "policy after refusals"
expect_eq "$(jout .slice_ms)" 10 "slice after refusals"

step "weights"
expect_ok gv sched 1 --weight "$a=3" --json
expect_eq "$(jout ".tenants[] | select(.instance == \"$a\") | .weight")" 3
expect_eq "$(jout ".tenants[] | select(.instance == \"$b\") | .weight")" 1
expect_api 200 PUT "/v1/instances/$b/weight" '{"weight":2}'
expect_eq "$(jout .weight)" 2
for body in '{"weight":0}' '{"weight":101}' '{"weight":"2"}' '{}' '{"weight":2,"x":1}'; do
	expect_api 400 PUT "/v1/instances/$b/weight" "$body"
done
expect_api 404 PUT /v1/instances/i-999/weight '{"weight":2}'
expect_api 409 PUT "/v1/instances/$pt/weight" '{"weight":2}'
expect_contains "$GV_OUT" "timeslice"
expect_rc 1 "no instance i-999" gv sched 1 --weight i-999=2
sched_json 1
expect_eq "$(jout ".tenants[] | select(.instance == \"$b\") | .weight")" 2
expect_ok gv events --json
expect_contains "$GV_OUT" "sched.weight"

step "/metrics has the scheduler figures"
expect_api 200 GET /metrics
for m in gpuvisor_sched_gpu_time_seconds_total gpuvisor_sched_share_last_second \
	gpuvisor_sched_wait_seconds_total gpuvisor_sched_slices_total gpuvisor_sched_overruns_total; do
	expect_contains "$GV_OUT" "# TYPE $m "
	expect_contains "$GV_OUT" "$m{instance=\"$a\",gpu=\"1\"} 0"
	expect_contains "$GV_OUT" "$m{instance=\"$b\",gpu=\"1\"} "
	expect_not_contains "$GV_OUT" "$m{instance=\"$pt\""
done
expect_contains "$GV_OUT" "gpuvisor_sched_info{gpu=\"1\",uuid=\"$uuid1\",policy=\"fixed-share\"} 1"
expect_contains "$GV_OUT" "gpuvisor_sched_slice_seconds{gpu=\"1\"} 0.010"
expect_not_contains "$GV_OUT" "gpuvisor_sched_info{gpu=\"0\""

step "gpuvisor top --once"
expect_ok gv top --once --json
jvalid "$GV_OUT"
expect_eq "$(jout '.instances | length')" 3
expect_eq "$(jout ".instances[] | select(.id == \"$a\") | .policy")" fixed-share
expect_eq "$(jout ".instances[] | select(.id == \"$a\") | .share_last_s")" 0
expect_eq "$(jout ".instances[] | select(.id == \"$a\") | .fb_mib")" 20480
expect_eq "$(jout ".instances[] | select(.id == \"$pt\") | .policy")" null
expect_eq "$(jout '.gpus[] | select(.gpu == 1) | .policy')" fixed-share
expect_ok gv top --once --gpu 1 --json
expect_eq "$(jout '[.instances[].id] | sort | join(",")')" "$(printf '%s\n' "$a" "$b" | sort | paste -sd,)"
expect_eq "$(jout '.gpus | length')" 1
expect_ok gv top --once
expect_contains "$GV_OUT" "fixed-share"
expect_contains "$GV_OUT" "h100-20c"
expect_contains "$GV_OUT" "20.0 GiB"
expect_not_contains "$GV_OUT" $'\033[2J' "top --once output"
expect_rc 2 "--interval" gv top --interval 5
expect_rc 1 "no GPU" gv top --once --gpu 9
# without --once it keeps drawing: two frames within a few seconds
_gv_capture timeout 5 "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" top --json --interval 200
[ "$(printf '%s\n' "$GV_OUT" | grep -c '"instances"')" -ge 2 ] ||
	fail "top --interval 200 drew under 2 frames in 5 s: $GV_OUT"

step "tenants disappear on destroy; the segment goes with timeslice mode"
expect_ok gv destroy "$b"
sched_json 1
expect_eq "$(jout '[.tenants[].instance] | join(",")')" "$a"
expect_ok gv destroy "$a" "$pt"
sched_json 1
expect_eq "$(jout '.tenants | length')" 0
[ -f "$seg" ] || fail "segment removed while the GPU is still in timeslice mode"
expect_ok gv mode 1 passthrough
[ -e "$seg" ] && fail "segment $seg still there after leaving timeslice mode"
expect_ok gv mode 1 timeslice
[ -f "$seg" ] || fail "no segment after timeslice mode again"
sched_json 1
expect_eq "$(jout .policy)" fixed-share "policy kept in the store across modes"

step "mixed-size mode: best-effort and equal-share only"
gv_stop_daemon || fail "gpuvisord exited with $? on SIGTERM"
gv_start_daemon --sim "$GV_SIM" --mixed-size
sched_json 1
expect_eq "$(jout .policy)" equal-share "stored fixed-share on a mixed-size node"
expect_eq "$(jout .mixed_size)" true
expect_rc 1 "mixed-size" gv sched 1 --policy fixed-share
expect_api 409 PUT /v1/gpus/1/sched '{"policy":"fixed-share","slice_ms":4}'
expect_contains "$GV_OUT" "mixed-size"
expect_ok gv sched 1 --policy best-effort --slice-ms 4
sched_json 1
expect_eq "$(jout .policy)" best-effort
expect_eq "$(jout .slice_ms)" 4
gv_done
