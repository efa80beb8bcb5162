#!/usr/bin/env bash
# A workload on several GPUs suspends, resumes and moves as one (issue 15),
# through the driver's checkpoint API (libcudasim's, driven by
# gpuvisor-ckpt):
#   prepare: four simulated H100s and an A100 of the same memory, a
#            passthrough instance on each; gv-multi (a context and memory on
#            each of its two devices, every step reading the other's) never
#            moved gives the reference checksum;
#   check:   run --instance i-1,i-2: both instances hold it (list's SPAN,
#            workload.span in list --json), destroy of either refused while
#            it runs; suspend frees both GPUs; resume --to i-3,i-4 puts each
#            GPU's memory on its destination (the span's order) and the
#            checksum equals the reference; refusals change nothing (one
#            destination for two, a destination of another model, a busy
#            one, a timeslice/MIG span, migrate of a span); no room on a
#            destination: the resume fails with the reason and the workload
#            resumes where it was; the helper killed after the restore onto
#            the destinations: it runs there; migrate --to i-3,i-4 --mode
#            checkpoint moves all members in one request (its refusals
#            first); migrate --mode precopy of the span to two GPUs and back
#            (the driver path: each GPU's bulk pre-copied to its own
#            destination; the suspend after it makes the bulk the
#            workload's own first), gpuvisord killed -9 during the move
#            back: its restart records every member on its destination;
#            gpuvisord killed -9 while it suspends the span: every
#            member is found suspended after the restart; the workload
#            killed while suspended clears every member; nothing stays held.
. "$(dirname "$0")/lib.sh"
GV_SIM=h100-80gb:4,a100-80gb:1
export GPUVISOR_TEST_FAULTS=1
gv_start_daemon
for g in 0 1 2 3 4; do
	gv_create --profile passthrough --gpu "$g"
	eval "p$g=\$GV_ID"
done
WL=("$GV_BIN_DIR/gv-multi" --devices 2 --weights-mib 512 --act-kib 64 --steps 60 --step-ms 50 --verbose)
GIB=$((1024 * 1024 * 1024))
HALF=$((GIB / 2))

# the suspend helpers, for the span's first instance
id=$p0
. "$(dirname "$0")/suspend_lib.sh"
span_of() { gv_instance_field "$1" '(.workload.span // []) | join(",")'; }
pid_of() { gv_instance_field "$1" '.workload.pid // "none"'; }
state_of() { gv_instance_field "$1" '.workload.state // "none"'; }

# used GPU: bytes in use on a simulated GPU (what the weights take shows)
TOTAL=$((81920 * 1024 * 1024))
used() { echo $((TOTAL - $(sim_free "$1"))); }
holds() { [ "$(used "$1")" -ge "$HALF" ]; }
empty() { [ "$(used "$1")" -lt "$HALF" ]; }
no_claims() { # nothing stays held: every instance can be destroyed/used
	local i
	for i in "$@"; do
		[ "$(pid_of "$i")" = none ] || fail "$i still has a workload: $(gv list)"
	done
}

step "prepare: the reference run, on two GPUs, never moved"
expect_ok gv run --instance "$p0,$p1" -- "${WL[@]}" --step-ms 0
want=$(printf '%s\n' "$GV_OUT" | grep -o 'checksum: 0x[0-9a-f]*')
[ -n "$want" ] || fail "no checksum from gv-multi: $GV_OUT"
expect_contains "$GV_OUT" "on 2 devices"
no_claims "$p0" "$p1"
# (a run on one device differs: the checksum covers both devices)
expect_ok gv run --instance "$p0" -- "${WL[@]}" --devices 1 --step-ms 0
expect_not_contains "$GV_OUT" "$want"

step "run on two instances: both hold the one workload"
held "$p0,$p1" "$T/wl.out"
wait_until 20 has_workload || fail "gv-multi never registered: $(cat "$T/wl.out")"
expect_eq "$(span_of "$p0")" "$p0,$p1" "workload.span of $p0"
expect_eq "$(span_of "$p1")" "$p0,$p1" "workload.span of $p1"
expect_eq "$(pid_of "$p1")" "$(pid_of "$p0")" "one workload on both"
expect_ok gv list
expect_contains "$GV_OUT" "SPAN"
expect_contains "$GV_OUT" "$p0,$p1"
wait_until 30 holds 0 || fail "gv-multi never used gpu 0"
wait_until 30 holds 1 || fail "gv-multi never used gpu 1"
expect_rc 1 "has a running workload" gv destroy "$p1"
expect_rc 1 "has a running workload" gv destroy "$p0"
expect_rc 1 "already has a workload" gv run --instance "$p1" -- true
expect_rc 1 "which has no auto-converge" gv migrate "$p0" --to "$p2,$p3" --auto-converge
expect_rc 1 "give one destination instance for each" gv migrate "$p0" --to "$p2" --mode checkpoint
expect_rc 1 "is not an instance" gv migrate "$p0" --to 2,3 --mode checkpoint
expect_rc 1 "is not the model of gpu" gv migrate "$p0" --to "$p2,$p4" --mode checkpoint
expect_eq "$(state_of "$p0"),$(state_of "$p1")" "running,running" \
	"still running after the refused migrations"
expect_eq "$(pid_of "$p2"),$(pid_of "$p4")" "none,none" "no destination got the workload"
expect_ok gv migrations --json
expect_eq "$(jout '[.migrations[] | select(.state == "running")] | length')" 0 \
	"no migration left running"

step "refusals: spans of other kinds, a registration naming a busy or unknown member"
expect_rc 1 "no instance i-999" gv run --instance "$p2,i-999" -- true
expect_rc 1 "already has a workload" gv run --instance "$p2,$p1" -- true
expect_rc 2 "an empty id" gv run --instance "$p2,,$p3" -- true
expect_rc 2 "--migratable takes one instance" gv run --migratable --instance "$p2,$p3" -- true
no_claims "$p2" "$p3"

step "suspend: both GPUs' memory goes to host memory"
expect_ok gv suspend "$p1" --json
expect_eq "$(jout '.span | join(",")')" "$p0,$p1" "the answer names the span"
expect_eq "$(state_of "$p0")" suspended "$p0 suspended"
expect_eq "$(state_of "$p1")" suspended "$p1 suspended"
empty 0 || fail "gpu 0 still holds $(used 0) bytes"
empty 1 || fail "gpu 1 still holds $(used 1) bytes"
s1=$(step_of "$T/wl.out")
sleep 1
expect_eq "$(step_of "$T/wl.out")" "$s1" "no step while suspended"

step "resume --to: refusals change nothing"
expect_rc 1 "name one destination for each" gv resume "$p0" --to "$p2"
expect_rc 1 "is one of the workload's own instances" gv resume "$p0" --to "$p1,$p2"
expect_rc 1 "is not the model of gpu" gv resume "$p0" --to "$p2,$p4"
expect_rc 1 "no instance i-999" gv resume "$p0" --to "$p2,i-999"
expect_eq "$(state_of "$p0"),$(state_of "$p1")" "suspended,suspended" "still suspended"
expect_eq "$(pid_of "$p2"),$(pid_of "$p3"),$(pid_of "$p4")" "none,none,none" \
	"no destination got the workload"

step "no room on a destination: the resume fails, the workload resumes where it was"
# a CUDA process outside gpuvisor fills gpu 3 until its standard input ends
# (the script is an argument: standard input is the FIFO)
fill3() {
	local lib=$GV_BUILD_DIR/lib/libcudasim.so asan script
	asan=$(ldd "$lib" | awk '/libasan/ { print $3 }')
	script=$(cat <<'EOF'
import ctypes, sys
cu = ctypes.CDLL(sys.argv[1])
assert cu.cuInit(0) == 0
dev = ctypes.c_int()
assert cu.cuDeviceGet(ctypes.byref(dev), 3) == 0
ctx = ctypes.c_void_p()
assert cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
assert cu.cuCtxSetCurrent(ctx) == 0
free, total = ctypes.c_size_t(), ctypes.c_size_t()
assert cu.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)) == 0
p = ctypes.c_uint64()
assert cu.cuMemAlloc_v2(ctypes.byref(p), ctypes.c_size_t(free.value - (64 << 20))) == 0
print("filled", flush=True)
sys.stdin.read()
EOF
)
	LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0 GPUVISOR_SIM_NODE=$GV_STATE/sim-node.json \
		python3 -c "$script" "$lib"
}
mkfifo "$T/fill"
fill3 <"$T/fill" >"$T/fill.out" 2>&1 &
filler=$!
GV_BG_PIDS+=("$filler")
sleep 100000 >"$T/fill" &
fill_hold=$!
GV_BG_PIDS+=("$fill_hold")
filled() { grep -q filled "$T/fill.out"; }
wait_until 20 filled || fail "gpu 3 was not filled: $(cat "$T/fill.out")"
kill -0 "$filler" || fail "the process filling gpu 3 is gone: $(cat "$T/fill.out")"
expect_rc 1 "no room on the GPU" gv resume "$p0" --to "$p2,$p3"
expect_eq "$(state_of "$p0"),$(state_of "$p1")" "suspended,suspended" \
	"suspended where it was after the failed resume"
expect_eq "$(pid_of "$p2"),$(pid_of "$p3")" "none,none" "no destination kept the workload"
kill "$fill_hold"
wait "$filler" 2>/dev/null
empty 3 || fail "gpu 3 was not given back: $(used 3)"
expect_ok gv resume "$p0"
expect_eq "$(state_of "$p0"),$(state_of "$p1")" "running,running" "running where it was"
holds 0 || fail "gpu 0 does not hold the workload again"
holds 1 || fail "gpu 1 does not hold the workload again"
expect_ok gv events --json
expect_contains "$GV_OUT" "workload.resume_failed"

step "suspend, then resume --to the two other H100s: each GPU's memory goes to its destination"
expect_ok gv suspend "$p0"
expect_ok gv resume "$p0" --to "$p2,$p3" --json
expect_eq "$(jout .instance)" "$p2" "the answer names the new owner"
expect_eq "$(jout '.span | join(",")')" "$p2,$p3" "the answer names the new span"
expect_eq "$(jout '[.report.pairs[] | .from + ">" + .to] | join(",")')" "$p0>$p2,$p1>$p3" \
	"the report lists every pair"
expect_eq "$(span_of "$p2")" "$p2,$p3" "the span is on $p2,$p3"
expect_eq "$(state_of "$p3")" running "running on $p3"
expect_eq "$(pid_of "$p0"),$(pid_of "$p1")" "none,none" "the sources are free"
holds 2 || fail "gpu 2 does not hold the workload: $(used 2)"
holds 3 || fail "gpu 3 does not hold the workload: $(used 3)"
empty 0 || fail "gpu 0 still holds $(used 0) bytes"
empty 1 || fail "gpu 1 still holds $(used 1) bytes"
expect_ok gv events --json
expect_contains "$GV_OUT" "resumed from $p0, $p1 on $p2, $p3"

step "the helper dies after restoring onto the destinations: the workload runs there"
expect_ok gv suspend "$p2"
export GPUVISOR_CKPT_FAULT=after-restore
gv_restart_daemon --kill9
expect_ok gv resume "$p2" --to "$p0,$p1" --json
expect_contains "$(jout .report.note)" "failed"
export GPUVISOR_CKPT_FAULT=
gv_restart_daemon --kill9
expect_eq "$(span_of "$p0")" "$p0,$p1" "the span is back on $p0,$p1"
expect_eq "$(state_of "$p0"),$(state_of "$p1")" "running,running" "running there"
expect_eq "$(pid_of "$p2"),$(pid_of "$p3")" "none,none" "the former members are free"
holds 0 || fail "gpu 0 does not hold the workload: $(used 0)"
holds 1 || fail "gpu 1 does not hold the workload: $(used 1)"

step "migrate --mode checkpoint to two other instances: all members move together"
expect_ok gv migrate "$p1" --to "$p2,$p3" --mode checkpoint --json
expect_eq "$(jout .state)" completed "the migration completed"
expect_eq "$(jout '[.report.pairs[] | .from + ">" + .to] | join(",")')" "$p0>$p2,$p1>$p3" \
	"the report lists every pair"
expect_eq "$(jout '[.more[] | .instance + ">" + .destination] | join(",")')" "$p1>$p3" \
	"the row records the other member"
expect_ok gv migrations --json
expect_eq "$(jout '.migrations[-1].more | length')" 1 "the listing shows the other member"
expect_eq "$(span_of "$p2")" "$p2,$p3" "the span is on $p2,$p3"
expect_eq "$(state_of "$p2"),$(state_of "$p3")" "running,running" "running there"
gone_src() { ! gv list --json | jq -e --arg a "$p0" --arg b "$p1" \
	'.instances[] | select(.id == $a or .id == $b)' >/dev/null; }
wait_until 10 gone_src || fail "the sources were not destroyed: $(gv list)"
holds 2 || fail "gpu 2 does not hold the workload: $(used 2)"
holds 3 || fail "gpu 3 does not hold the workload: $(used 3)"
empty 0 || fail "gpu 0 still holds $(used 0) bytes"
empty 1 || fail "gpu 1 still holds $(used 1) bytes"
p0=$p2 p1=$p3

step "migrate --mode precopy (the bulk pre-copied, the rest by the driver): the span moves to GPUs 0 and 1 and back to 2 and 3"
gv_create --profile passthrough --gpu 0
q0=$GV_ID
gv_create --profile passthrough --gpu 1
q1=$GV_ID
expect_ok gv migrate "$p0" --to "$q0,$q1" --mode precopy --json
expect_eq "$(jout .state)" completed "the pre-copy completed"
expect_eq "$(jout .report.path)" driver "through the driver"
expect_eq "$(jout '[.report.pairs[] | .from + ">" + .to] | join(",")')" "$p0>$q0,$p1>$q1" \
	"the report lists every pair"
[ "$(jout '.report.bytes_precopy')" -ge "$GIB" ] ||
	fail "the two GPUs' weights were not pre-copied: $(jout .report)"
expect_eq "$(span_of "$q1")" "$q0,$q1" "the span is on $q0,$q1"
expect_eq "$(state_of "$q0"),$(state_of "$q1")" "running,running" "running there"
gone_pc() { ! gv list --json | jq -e --arg a "$p0" --arg b "$p1" \
	'.instances[] | select(.id == $a or .id == $b)' >/dev/null; }
wait_until 10 gone_pc || fail "the sources were not destroyed: $(gv list)"
# (the source bulk lingered while the helper and gpuvisord held it; the
# simulator gives its charge back within 100 ms of the last close)
wait_until 5 empty 2 || fail "gpu 2 still holds $(used 2) bytes"
wait_until 5 empty 3 || fail "gpu 3 still holds $(used 3) bytes"
gv_create --profile passthrough --gpu 2
p2=$GV_ID
gv_create --profile passthrough --gpu 3
p3=$GV_ID
# back with gpuvisord killed -9 while the helper pre-copies: its restart
# waits for the helper and records every member on its destination
gv_bg_cli migrate "$q1" --to "$p2,$p3" --mode precopy
helper_runs() { pgrep -f "gpuvisor-ckpt precopy" >/dev/null; }
wait_until 30 helper_runs || fail "the pre-copy helper never started"
gv_restart_daemon --kill9
expect_ok gv migrations --json
expect_eq "$(jout '.migrations[-1].state')" completed "the pre-copy back, after the restart: $GV_OUT"
expect_contains "$(jout '.migrations[-1].error')" "found on the destination" "the row's note"
expect_eq "$(span_of "$p2")" "$p2,$p3" "the span is back on $p2,$p3"
expect_eq "$(state_of "$p2"),$(state_of "$p3")" "running,running" "running there"
gone_q() { ! gv list --json | jq -e --arg a "$q0" --arg b "$q1" \
	'.instances[] | select(.id == $a or .id == $b)' >/dev/null; }
wait_until 10 gone_q || fail "the sources were not destroyed: $(gv list)"
p0=$p2 p1=$p3

step "gpuvisord killed -9 while it suspends the span: after the restart every member is suspended"
gv suspend "$p0" >"$T/sus.out" 2>&1 &
sus=$!
suspending() { [ "$(state_of "$p1")" = suspending ]; }
wait_until 20 suspending || fail "the span was never seen suspending: $(gv list)"
pgid=$(gv_instance_field "$p0" '.workload.pgid')
gv_kill9_daemon
wait "$sus"
# the helper outlives the daemon and finishes the checkpoint
helper_gone() { ! pgrep -f "gpuvisor-ckpt suspend $pgid" >/dev/null; }
wait_until 120 helper_gone || fail "the checkpoint helper never ended"
gv_start_daemon
expect_eq "$(state_of "$p0"),$(state_of "$p1")" "suspended,suspended" \
	"every member suspended after the restart"
expect_eq "$(span_of "$p1")" "$p0,$p1" "the span is intact"
# (unless the suspend had finished when the daemon died, the restart
# settled it: asked the driver once, for the whole span)
if ! grep -q "workload suspended" "$T/sus.out"; then
	expect_ok gv events --json
	expect_eq "$(jout '[.events[] | select(.kind == "workload.reconciled")] | length')" 1 \
		"one reconcile for the span"
	echo "reconciled after the restart"
fi
expect_ok gv resume "$p1"
expect_eq "$(state_of "$p0"),$(state_of "$p1")" "running,running" "running again"
holds 2 || fail "gpu 2 does not hold the workload: $(used 2)"
holds 3 || fail "gpu 3 does not hold the workload: $(used 3)"

step "the last step after all the moves: the checksum of the run never moved"
release
wait "$runner" || fail "gv-multi failed after the moves: $(tail -5 "$T/wl.out")"
expect_eq "$(grep -o 'checksum: 0x[0-9a-f]*' "$T/wl.out")" "$want" "checksum after the moves"
gone_wl() { [ "$(pid_of "$p0"),$(pid_of "$p1")" = none,none ]; }
wait_until 10 gone_wl || fail "the span was not cleared when the workload ended"

step "a span killed while suspended clears every member"
held "$p2,$p3" "$T/wl2.out"
has2() { [ "$(pid_of "$p3")" != none ]; }
wait_until 20 has2 || fail "gv-multi never registered on $p2,$p3"
wait_until 30 holds 3 || fail "gv-multi never used gpu 3"
expect_ok gv suspend "$p3"
pgid=$(gv_instance_field "$p2" '.workload.pgid')
kill -9 -- "-$pgid"
cleared() { [ "$(pid_of "$p2"),$(pid_of "$p3")" = none,none ]; }
wait_until 20 cleared || fail "the killed span is still registered: $(gv list)"
expect_ok gv destroy "$p3"
expect_ok gv run --instance "$p2" -- "$GV_BIN_DIR/gv-multi" --devices 1 --weights-mib 64 --steps 2
expect_contains "$GV_OUT" "checksum: 0x"

gv_done
