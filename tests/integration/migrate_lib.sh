# Helpers of the test_migrate_*.sh tests (sourced after lib.sh): real
# workloads (gv-infer, gv-train) under the shim in migration mode, started
# with `gpuvisor run --migratable` on a simulated node, migrated by
# `gpuvisor migrate` through gpuvisord.
#
#   mig_setup SIM                 daemon on --sim SIM with a private shm dir
#   wl_start INST OUT WL ARGS...  the workload on INST (pid in WL_PID)
#   wl_finish OUT WL ARGS...      waits for it; its checksum must equal a run
#                                 never migrated (same ARGS without --step-ms)
#   on_device UUID                its shim says it runs on UUID
#   devmem UUID                   bytes WL_PID holds on a simulated device
#   no_leaks                      after it exited: no simulated device holds
#                                 memory of it, every accounting file is empty

[ -x "$GV_BIN_DIR/gv-infer" ] && [ -x "$GV_BIN_DIR/gv-train" ] || skip "workloads not built"
MIG_CTL=$GV_BUILD_DIR/tests/migrate/gv-mig-ctl
[ -x "$MIG_CTL" ] || skip "gv-mig-ctl not built (tests/migrate)"
[ -e "$GV_BUILD_DIR/lib/shim/libcuda.so.1" ] || skip "the shim is not built"
command -v jq >/dev/null || skip "jq not installed"

# Device memory accounting of the simulated devices, private to this test
# (the daemon and every workload inherit it).
export GPUVISOR_SIM_SHM_DIR=$T/shm
export GPUVISOR_TEST_FAULTS=1
mkdir -p "$GPUVISOR_SIM_SHM_DIR"
WL_PID=
WL_INST=

mig_setup() {
	gv_start_daemon --sim "$1"
}

gpu_uuid() { gv_gpu_field "$1" .uuid; }

# Two simulated H100s in timeslice mode and an instance of PROFILE on gpu
# 0: sets A and B (the GPUs' uuids) and GV_ID (the instance).
mig_two_timeslice() {
	mig_setup h100-80gb:2
	expect_ok gv mode 0 timeslice
	expect_ok gv mode 1 timeslice
	A=$(gpu_uuid 0)
	B=$(gpu_uuid 1)
	gv_create --profile "$1" --gpu 0
}

# ctl socket of the workload: the one of the instance it was started on
wl_start() {
	local inst=$1 out=$2
	shift 2
	gv_bg "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" run --instance "$inst" --migratable -- \
		"$@" >"$out" 2>"$out.err"
	WL_RUN=$!
	WL_CTL=$GV_RUN/ctl/$inst/shim.sock
	wait_until 30 test -S "$WL_CTL" || fail "the workload never listened on $WL_CTL: $(cat "$out.err")"
	WL_PID=$(api GET "/v1/instances/$inst" | jq -r .workload.pid)
	[ "$WL_PID" != null ] || fail "workload not registered on $inst"
}

wl_hello() { "$MIG_CTL" hello "$WL_CTL"; }

on_device() {
	local h
	h=$(wl_hello) || fail "hello failed"
	expect_contains "$h" "\"device\":\"$1\"" "the workload's device"
}

devmem() { "$MIG_CTL" devmem "$GV_STATE/sim-node.json" "$1" "$WL_PID"; }

holds_none() {
	local m
	m=$(devmem "$1")
	[ "$m" = 0 ] || fail "$1 still holds $m bytes of workload $WL_PID"
}

holds_some() {
	local m
	m=$(devmem "$1")
	[ "$m" != 0 ] || fail "$1 holds nothing of workload $WL_PID"
}

# the instance the workload is registered on now
wl_instance() {
	gv list --json | jq -r --argjson p "$WL_PID" '.instances[] | select(.workload.pid == $p) | .id'
}

reference() {
	local args=() skip=0 a
	for a in "$@"; do
		if [ $skip = 1 ]; then skip=0; continue; fi
		[ "$a" = --step-ms ] && { skip=1; continue; }
		args+=("$a")
	done
	mkdir -p "$T/shm-ref"
	GPUVISOR_SIM_SHM_DIR=$T/shm-ref LD_LIBRARY_PATH=$GV_BUILD_DIR/lib/sim \
		"${args[@]}" | grep '^checksum:'
}

wl_finish() {
	local out=$1 got want
	shift
	wait "$WL_RUN" || fail "the workload failed ($?): $(tail -5 "$out.err")"
	got=$(grep '^checksum:' "$out")
	want=$(reference "$@")
	echo "migrated: $got"
	echo "never:    $want"
	[ -n "$want" ] && [ "$got" = "$want" ] || fail "checksums differ"
}

# Nothing of any workload left anywhere: simulated devices (every pid's
# slot is gone once it exited), instance accounting files.
no_leaks() {
	local f u used
	for f in "$GPUVISOR_SIM_SHM_DIR"/*.acct; do
		[ -e "$f" ] || continue
		used=$("$MIG_CTL" acct "$f" "$WL_PID")
		[ "$used" = 0 ] || fail "$f still charges $used bytes to $WL_PID"
	done
	for f in "$GV_RUN"/acct/*.acct; do
		[ -e "$f" ] || continue
		used=$("$MIG_CTL" acct "$f" "$WL_PID")
		[ "$used" = 0 ] || fail "$f still charges $used bytes to $WL_PID"
	done
	u=$(gv list --json | jq '[.instances[] | select(.workload == null) | .mem_used_bytes // 0] | add // 0')
	expect_eq "$u" 0 "memory charged to instances without a workload"
}

# migrate_ok INST ARGS...: gv migrate must succeed; the report is printed
migrate_ok() {
	expect_ok gv migrate "$@"
	printf '%s\n' "$GV_OUT" | sed -n '/^migration .* completed/,$p'
}
