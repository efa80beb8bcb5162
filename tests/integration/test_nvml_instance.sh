#!/usr/bin/env bash
# NVML inside an instance (docs/shim.md, "NVML inside an instance"): on a
# simulated node of two H100s, two h100-4c instances on GPU 0 each run
# gv-infer (64 and 128 MiB of weights). nvml-query (an nvidia-smi-like
# NVML caller) started with `gpuvisor run` in an instance goes through the
# NVML interposer to the simulator's NVML (GPUVISOR_REAL_LIBNVML) and sees
# one GPU, its own, with total = the partition, used = the instance's use
# (the other instance's workload not in it) and only its own process; the
# other GPU is not found. Outside any instance the simulator's NVML shows
# both GPUs and both workloads.
. "$(dirname "$0")/lib.sh"

[ -x "$GV_BIN_DIR/gv-infer" ] || skip "gv-infer workload not built"
[ -x "$GV_BIN_DIR/nvml-query" ] || skip "nvml-query not built"

gv_start_daemon --sim h100-80gb:2
expect_api 200 GET "/v1/instances" # the daemon answers
expect_ok gv mode 0 timeslice
gv_create --profile h100-4c --gpu 0
a=$GV_ID
gv_create --profile h100-4c --gpu 0
b=$GV_ID
gpu0=$(api GET /v1/gpus/0 | jq -r .uuid)
gpu1=$(api GET /v1/gpus/1 | jq -r .uuid)
mib=$((1024 * 1024))

step "the instances' env names the simulator's NVML behind the interposer"
expect_api 200 GET "/v1/instances/$a/env"
expect_contains "$(jout .env.GPUVISOR_REAL_LIBNVML)" "/libnvmlsim.so" "GPUVISOR_REAL_LIBNVML"
[ -f "$(jout .env.LD_LIBRARY_PATH_PREPEND)/libnvidia-ml.so.1" ] ||
	fail "no libnvidia-ml.so.1 in the shim directory $(jout .env.LD_LIBRARY_PATH_PREPEND)"

step "gv-infer in both instances, nvml-query beside it"
# Each workload (one per instance) is a shell that runs gv-infer and, once
# told to (the file go), nvml-query in the same instance, writing $T/ID.out.
work='"$1" --weights-mib "$2" --kv-mib-per-step 0 --steps 1200 --step-ms 50 >/dev/null &
while [ ! -e "$3.go" ]; do sleep 0.1; done
"$4" --lookup "$5" --lookup "$6" >"$3.tmp" 2>&1; echo "rc=$?" >>"$3.tmp"; mv "$3.tmp" "$3.out"
wait'
gv_bg gv run --instance "$a" -- bash -c "$work" wl "$GV_BIN_DIR/gv-infer" 64 "$T/$a" \
	"$GV_BIN_DIR/nvml-query" "$gpu0" "$gpu1"
gv_bg gv run --instance "$b" -- bash -c "$work" wl "$GV_BIN_DIR/gv-infer" 128 "$T/$b" \
	"$GV_BIN_DIR/nvml-query" "$gpu0" "$gpu1"
used() { api GET "/v1/instances/$1" | jq -r '.workload.mem_used_bytes // 0'; }
holds() { [ "$(used "$1")" -ge $(($2 * mib)) ]; }
wait_until 30 holds "$a" 64 || fail "$a never held 64 MiB: $(api GET "/v1/instances/$a")"
wait_until 30 holds "$b" 128 || fail "$b never held 128 MiB: $(api GET "/v1/instances/$b")"
sleep 0.5 # past the first steps: with no KV growth the use is steady
touch "$T/$a.go" "$T/$b.go"
wait_until 30 test -e "$T/$a.out" || fail "nvml-query never ran in $a"
wait_until 30 test -e "$T/$b.out" || fail "nvml-query never ran in $b"

field() { printf '%s\n' "$GV_OUT" | sed -n "s/^gpu 0: memory .*\\<$1=\\([0-9]*\\).*/\\1/p" | head -1; }

for id in "$a" "$b"; do
	step "nvml-query in $id"
	GV_OUT=$(cat "$T/$id.out")
	printf '%s\n' "$GV_OUT"
	expect_contains "$GV_OUT" "rc=0" "nvml-query's own checks"
	expect_contains "$GV_OUT" "count: 1" "count"
	expect_contains "$GV_OUT" "gpu 0: uuid=$gpu0 name=NVIDIA H100 80GB HBM3" "its GPU"
	expect_contains "$GV_OUT" "lookup $gpu0: found" "its GPU by UUID"
	expect_contains "$GV_OUT" "lookup $gpu1: Not Found" "the other GPU by UUID"
	expect_eq "$(field total)" $((4096 * mib)) "total (the h100-4c partition)"
	expect_eq "$(field used)" "$(used "$id")" "used (the instance's own, as gpuvisor list shows)"
	expect_eq "$(field free)" $((4096 * mib - $(used "$id"))) "free"
	expect_contains "$GV_OUT" "gpu 0: processes=1" "one process"
	pid=$(printf '%s\n' "$GV_OUT" | sed -n 's/^gpu 0: process pid=\([0-9]*\) .*/\1/p')
	held=$(printf '%s\n' "$GV_OUT" | sed -n 's/^gpu 0: process pid=[0-9]* used=\([0-9]*\)$/\1/p')
	expect_eq "$held" "$(field used)" "the process's memory"
	tr '\0' '\n' <"/proc/$pid/cmdline" | head -1 | grep -q gv-infer ||
		fail "process $pid is not gv-infer: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "GPUVISOR_INSTANCE=$id" ||
		fail "process $pid is not $id's workload"
done
ua=$(used "$a")
ub=$(used "$b")
[ "$ua" -lt "$ub" ] || fail "$a ($ua bytes) should hold less than $b ($ub bytes)"

step "outside any instance: the simulator's NVML shows the node"
GV_OUT=$(env -u GPUVISOR_INSTANCE -u CUDA_VISIBLE_DEVICES LD_LIBRARY_PATH="$GV_BUILD_DIR/lib/sim" \
	GPUVISOR_SIM_NODE="$GV_STATE/sim-node.json" "$GV_BIN_DIR/nvml-query") ||
	fail "nvml-query on the simulator's NVML: $GV_OUT"
printf '%s\n' "$GV_OUT"
expect_contains "$GV_OUT" "count: 2" "count"
expect_contains "$GV_OUT" "gpu 0: processes=2" "both workloads on GPU 0"
whole=$(field used)
[ "$whole" -ge $((ua + ub)) ] || fail "GPU 0 shows $whole bytes used, the instances hold $ua + $ub"

# the workloads end with their instances (they hold the test's output open)
expect_ok gv destroy --force "$a"
expect_ok gv destroy --force "$b"
gv_done
