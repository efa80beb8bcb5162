#!/usr/bin/env bash
# gpuvisor migrate --mode precopy of a workload started with plain
# `gpuvisor run` (no --migratable): its bulk memory is pre-copied by
# gpuvisor-ckpt precopy while it runs, the driver's checkpoint carries the
# rest at the stun (docs/migration.md "The daemon's side"), on libcudasim:
#   prepare: four simulated H100s: gpu 0 time-sliced (two instances), a
#            passthrough instance on gpus 1 and 3, gpu 2 free; gv-infer
#            (1 GiB of weights, bulk under plain gpuvisor run); a run never
#            moved gives the reference checksum;
#   check:   the workload's env names its bulk socket and the shim serves it;
#            pre-copied to the other instance of its GPU: completed, the
#            report's fields (path driver, bytes_precopy > 0, floor_ms > 0,
#            the driver's phases), the source destroyed, the partition and
#            the ctl directory on the destination; suspended and resumed
#            there (its bulk is the helper's memory now: `own` first); moved
#            once more, its estimate counts the first move's driver phases
#            (stun_fixed_ms, stun_fixed_from); the checksum is the
#            reference's; a passthrough workload moved to
#            another GPU (--to GPU, the memory follows), its first move's
#            estimate the least of the earlier moves' driver phases
#            (stun_fixed_other); faults: no room on
#            the destination GPU (another process holds its memory) and the
#            helper killed before its pre-copy (GPUVISOR_CKPT_FAULT=
#            precopy-start): the migration fails, the workload stays on the
#            source, the destination it made is removed, and its checksum
#            is still the reference's; the workload killed -9 during its
#            pre-copy: the migration fails, the destination it made is
#            removed, no GPU holds its memory or the helper's copies; the
#            helper killed after the shim released the bulk (after-release)
#            or after the driver restored it on the destination's GPU
#            (after-restore-precopy): gpuvisord maps its copy of the source
#            bulk back, the workload runs on the source with its data
#            (checksum); killed when the restore may have begun
#            (before-restore): the migration fails with the reason that the
#            workload's GPU memory is lost; gpuvisord
#            killed -9 during a pre-copy to another GPU: its restart waits
#            for the helper and finds the workload moved (completed).
. "$(dirname "$0")/lib.sh"
GV_SIM=h100-80gb:4
export GPUVISOR_TEST_FAULTS=1
gv_start_daemon
expect_ok gv mode 0 timeslice
gv_create --profile h100-20c --gpu 0
id=$GV_ID
gv_create --profile h100-20c --gpu 0
other=$GV_ID
gv_create --profile passthrough --gpu 1
pt=$GV_ID
gv_create --profile passthrough --gpu 3
full=$GV_ID
# light steps, as in test_suspend.sh (the stun waits for the step in flight)
WL=("$GV_BIN_DIR/gv-infer" --weights-mib 1024 --kv-mib-per-step 1 --act-kib 64 --reads 1 --steps 100 --step-ms 100 --verbose)
GIB=$((1024 * 1024 * 1024))

. "$(dirname "$0")/suspend_lib.sh"
mem_of() { gv_instance_field "$1" '.mem_used_bytes // 0'; }
wl_bulk() { grep -q gpuvisor-sim-vmm "/proc/$1/maps"; }
checksum_of() { grep -o 'checksum: 0x[0-9a-f]*' "$1"; }
# registered INSTANCE: a workload is registered there
registered() { [ "$(gv_instance_field "$1" '.workload.pid // "null"')" != null ]; }
last_mig() { gv migrations --json | jq -r ".migrations[-1].$1"; }
listed() { gv list --json | jq -e --arg id "$1" '.instances[] | select(.id == $id)' >/dev/null; }
# bulk_list SOCK: the shim's answer to {"op":"list"} on its bulk socket
bulk_list() {
	python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b'{"op":"list"}\n')
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
sys.stdout.write(buf.decode())
EOF
}

step "prepare: the reference run, never moved"
# (the checksum does not depend on the pause between steps)
expect_ok gv run --instance "$id" -- "${WL[@]}" --step-ms 0
want=$(printf '%s\n' "$GV_OUT" | grep -o 'checksum: 0x[0-9a-f]*')
[ -n "$want" ] || fail "no checksum from gv-infer: $GV_OUT"

step "the workload's env names its bulk socket, and its shim serves it"
expect_api 200 GET "/v1/instances/$id/env"
expect_eq "$(jout .env.GPUVISOR_BULK_CTL)" "$GV_RUN/ctl/$id/bulk.sock" "GPUVISOR_BULK_CTL"
held "$id" "$T/ts.out"
wait_until 20 registered "$id" || fail "gv-infer never registered on $id"
big() { [ "$(mem_of "$1")" -ge "$GIB" ]; }
wait_until 30 big "$id" || fail "gv-infer never charged its weights: $(mem_of "$id")"
wl_bulk "$(gv_instance_field "$id" '.workload.pid')" || fail "gv-infer's weights are not bulk memory"
[ -S "$GV_RUN/ctl/$id/bulk.sock" ] ||
	fail "the shim serves no bulk socket at $GV_RUN/ctl/$id/bulk.sock (docs/migration.md, the shim's part)"

step "pre-copy to the other instance of its GPU"
expect_ok gv migrate "$id" --to "$other" --mode precopy --json
first_out=$GV_OUT
expect_eq "$(jout .state)" completed "the migration completed"
expect_eq "$(jout .report.path)" driver "the report's path"
expect_eq "$(jout .report.mode)" precopy "the report's mode"
expect_eq "$(jout .summary.path)" driver "the summary's path"
expect_eq "$(jout '.report.bytes_precopy > 0')" true "bytes copied before the stun: $GV_OUT"
expect_eq "$(jout '.report.bulk_bytes >= '"$GIB")" true "the bulk counted: $GV_OUT"
expect_eq "$(jout '.report.floor_ms > 0')" true "the stun's floor: $GV_OUT"
expect_eq "$(jout '.report.downtime_ms > 0')" true "the stun: $GV_OUT"
expect_eq "$(jout '.report.rounds >= 1')" true "pre-copy rounds: $GV_OUT"
for k in lock_ms checkpoint_ms restore_ms unlock_ms release_ms map_ms hash_gbps copy_gbps; do
	expect_eq "$(jout ".report.$k | type")" number "report.$k"
done
expect_eq "$(jout '.report.pairs[0].to')" "$other" "the report's pair"
wait_until 10 registered "$other" || fail "the workload is not on $other"
expect_eq "$(gv_instance_field "$other" '.workload.state')" running "running on $other"
gone() { ! listed "$1"; }
wait_until 10 gone "$id" || fail "the source $id was not destroyed"
big "$other" || fail "the partition did not move to $other: $(gv list --json)"
[ -S "$GV_RUN/ctl/$other/bulk.sock" ] || fail "the ctl directory did not follow the workload to $other"
[ ! -e "$GV_RUN/ctl/$id" ] || fail "ctl/$id is still there"
# its bulk is the helper's memory now, imported at the old addresses
bl=$(bulk_list "$GV_RUN/ctl/$other/bulk.sock") || fail "no answer on the bulk socket"
expect_eq "$(jfield "$bl" '[.bulk[].foreign] | all')" true "the moved bulk is foreign: $bl"
expect_ok gv events --json
expect_contains "$GV_OUT" "migration.completed"
# its first move had no measured driver phases to count
expect_eq "$(jfield "$first_out" .report.stun_fixed_ms)" 0 "the first move's driver estimate"
expect_eq "$(jfield "$first_out" .report.stun_fixed_from)" null "the first move's estimate source"
first=$(jfield "$first_out" .id)
phases=$(jfield "$first_out" '.report | [.lock_ms, .checkpoint_ms, .restore_ms, .unlock_ms,
	.stop_ms, .release_ms, .map_ms] | add | round')

step "suspend and resume the moved workload: its bulk becomes its own first"
id=$other
# (the moved bulk is the helper's memory, which the simulator counts for
# nobody once the helper has exited (docs/simulator.md): made the
# workload's own at the suspend, it is charged to the workload when it
# comes back)
free_before=$(sim_free)
expect_ok gv suspend "$id"
expect_eq "$(wl_state)" suspended "suspended after the move"
free_susp=$(sim_free)
[ "$free_susp" -ge "$free_before" ] || fail "the suspend took memory: free $free_before -> $free_susp"
expect_ok gv resume "$id"
expect_eq "$(wl_state)" running "running again"
[ $((free_susp - $(sim_free))) -ge "$GIB" ] ||
	fail "the resumed workload's bulk is not its own memory: free $free_susp -> $(sim_free)"

step "a second pre-copy counts the first's driver phases in its estimate"
expect_ok gv migrate "$id" --to 0 --mode precopy --json
expect_eq "$(jout .state)" completed "the second migration completed"
second_out=$GV_OUT
expect_eq "$(jout .report.stun_fixed_from)" "$first" "the estimate's source"
expect_eq "$(jout .report.stun_fixed_ms)" "$phases" "the estimate: the first move's phases"
# (round 1 copies everything without a hash pass, so without an estimate)
expect_eq "$(jout '.report as $r | [$r.round_stats[] | select(.round > 1) |
	.expected_downtime_ms >= $r.stun_fixed_ms] | length > 0 and all')" \
	true "every estimate counts the driver's phases: $GV_OUT"
expect_eq "$(jout '.report.expected_downtime_ms >= .report.stun_fixed_ms')" true \
	"the deciding estimate counts them: $GV_OUT"
back=$(last_mig destination)
wait_until 10 registered "$back" || fail "the workload is not on $back"
wait_until 10 gone "$id" || fail "the source $id was not destroyed"

release
wait "$runner" || fail "gv-infer failed after the moves: $(cat "$T/ts.out")"
expect_eq "$(checksum_of "$T/ts.out")" "$want" "checksum after pre-copy, suspend and resume"

step "a passthrough workload moved to another GPU of the same model"
idle1=$(sim_free 1)
held "$pt" "$T/pt.out"
wait_until 20 registered "$pt" || fail "gv-infer never registered on $pt"
# gpu 1 holds the weights: at least 1 GiB less free than gpu 2
on_gpu() { [ "$(sim_free "$1")" -le $(($(sim_free "$2") - GIB)) ]; }
wait_until 30 on_gpu 1 2 || fail "gv-infer never used gpu 1: $(sim_free 1) / $(sim_free 2)"
expect_ok gv migrate "$pt" --to 2 --mode precopy
expect_contains "$GV_OUT" "completed"
expect_contains "$GV_OUT" "floor"
expect_contains "$GV_OUT" "driver           lock"
# its first move: the least driver phases of the node's earlier moves
expect_contains "$GV_OUT" "(another process's move: this one's first)"
expect_api 200 GET "/v1/migrations/$(last_mig id)"
expect_eq "$(jout .report.stun_fixed_other)" true "the estimate is another process's"
least=$(printf '%s\n' "$first_out" "$second_out" | jq -s '[.[] | {id, ms: (.report |
	[.lock_ms, .checkpoint_ms, .restore_ms, .unlock_ms, .stop_ms, .release_ms,
	.map_ms] | add | round)}] | min_by(.ms)')
expect_eq "$(jout .report.stun_fixed_from)" "$(jfield "$least" .id)" "the estimate's source"
expect_eq "$(jout .report.stun_fixed_ms)" "$(jfield "$least" .ms)" "the estimate: the least of them"
pt2=$(last_mig destination)
expect_eq "$(gv_instance_field "$pt2" '.workload.state')" running "running on $pt2"
expect_eq "$(gv_instance_field "$pt2" '.gpu')" 2 "$pt2 is on gpu 2"
wait_until 10 gone "$pt" || fail "the source $pt was not destroyed"
# gpu 1 holds nothing of it any more; its bulk is on gpu 2 (the simulator
# charges exportable memory to its creator, the helper, which has exited:
# the shim's list says where it is, not gpu 2's free memory)
freed1() { [ "$(sim_free 1)" -ge $((idle1 - 64 * 1024 * 1024)) ]; }
wait_until 5 freed1 ||
	fail "gpu 1 still holds the workload's memory: free $(sim_free 1), $idle1 before it started"
bl=$(bulk_list "$GV_RUN/ctl/$pt2/bulk.sock") || fail "no answer on the bulk socket"
expect_eq "$(jfield "$bl" '[.bulk[].device] | unique | join(",")')" "$(gv_gpu_field 2 .uuid)" "the bulk's GPU: $bl"
[ -S "$GV_RUN/ctl/$pt2/bulk.sock" ] || fail "the ctl directory did not follow the workload to $pt2"
release
wait "$runner" || fail "gv-infer failed after moving to gpu 2: $(cat "$T/pt.out")"
expect_eq "$(checksum_of "$T/pt.out")" "$want" "checksum after moving to another GPU"
# the daemon clears a moved workload's registration once it is gone
unregistered() { ! registered "$1"; }
wait_until 10 unregistered "$pt2" || fail "the finished workload is still registered on $pt2"
expect_ok gv destroy "$pt2"

helper_runs() { pgrep -f "gpuvisor-ckpt precopy" >/dev/null; }

step "faults: no room on the destination GPU"
gv_create --profile passthrough --gpu 1
pt=$GV_ID
held "$pt" "$T/f.out"
wait_until 20 registered "$pt" || fail "gv-infer never registered on $pt"
wait_until 30 on_gpu 1 2 || fail "gv-infer never used gpu 1"
# another process (not gpuvisor's) takes all but 256 MiB of gpu 3
lib=$GV_BUILD_DIR/lib/libcudasim.so
asan=$(ldd "$lib" | awk '/libasan/ { print $3 }')
gv_bg env LD_PRELOAD="$asan" ASAN_OPTIONS=detect_leaks=0 GPUVISOR_SIM_NODE="$GV_STATE/sim-node.json" \
	python3 -c '
import ctypes, sys, time
cu = ctypes.CDLL(sys.argv[1])
assert cu.cuInit(0) == 0
dev, ctx = ctypes.c_int(), ctypes.c_void_p()
assert cu.cuDeviceGet(ctypes.byref(dev), 3) == 0
assert cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
assert cu.cuCtxSetCurrent(ctx) == 0
free, total = ctypes.c_size_t(), ctypes.c_size_t()
assert cu.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)) == 0
p = ctypes.c_uint64()
assert cu.cuMemAlloc_v2(ctypes.byref(p), ctypes.c_size_t(free.value - (256 << 20))) == 0
print("held", flush=True)
time.sleep(100000)
' "$lib" >"$T/hog.out" 2>&1
hog=$!
wait_until 30 grep -q held "$T/hog.out" || fail "the memory hog did not start: $(cat "$T/hog.out")"
expect_rc 1 "" gv migrate "$pt" --to "$full" --mode precopy
state=$(last_mig state)
case "$state" in failed | aborted) ;; *) fail "the row is $state with no room on the destination" ;; esac
expect_eq "$(gv_instance_field "$pt" '.workload.state')" running "still running on $pt"
listed "$full" || fail "the destination instance $full, made beforehand, was removed"
expect_eq "$(gv_instance_field "$full" '.workload // "none"')" none "$full has no workload"
on_gpu 1 2 || fail "the workload's memory left gpu 1: $(sim_free 1) / $(sim_free 2)"
kill "$hog" 2>/dev/null
wait "$hog" 2>/dev/null

step "faults: the helper is killed before its pre-copy: the workload stays on the source"
export GPUVISOR_CKPT_FAULT=precopy-start
gv_restart_daemon
n=$(gv list --json | jq '.instances | length')
expect_rc 1 "" gv migrate "$pt" --to 2 --mode precopy
state=$(last_mig state)
case "$state" in failed | aborted) ;; *) fail "the row is $state after the helper died" ;; esac
expect_eq "$(gv list --json | jq '.instances | length')" "$n" "the destination made on gpu 2 was removed"
expect_eq "$(gv_instance_field "$pt" '.workload.state')" running "still running on $pt after the helper died"
on_gpu 1 2 || fail "the workload's memory left gpu 1: $(sim_free 1) / $(sim_free 2)"
unset GPUVISOR_CKPT_FAULT
gv_restart_daemon
release
wait "$runner" || fail "gv-infer failed after the failed migrations: $(cat "$T/f.out")"
expect_eq "$(checksum_of "$T/f.out")" "$want" "checksum after the failed migrations"

step "faults: the workload killed -9 during its pre-copy: failed, nothing left held"
wait_until 10 unregistered "$pt" || fail "the finished workload is still registered on $pt"
n=$(gv list --json | jq '.instances | length')
held "$pt" "$T/w.out"
wait_until 20 registered "$pt" || fail "gv-infer never registered on $pt"
wait_until 30 on_gpu 1 2 || fail "gv-infer never used gpu 1"
wpid=$(gv_instance_field "$pt" '.workload.pid')
free2=$(sim_free 2)
gv_bg_cli migrate "$pt" --to 2 --mode precopy
cli=$!
wait_until 30 helper_runs || fail "the pre-copy helper never started"
kill -9 "$wpid"
wait "$cli" && fail "the migration of a killed workload succeeded"
state=$(last_mig state)
case "$state" in failed | aborted) ;; *) fail "the row is $state after the workload died: $(gv migrations --json)" ;; esac
expect_eq "$(gv list --json | jq '.instances | length')" "$n" "the destination made on gpu 2 was removed"
wait_until 10 unregistered "$pt" || fail "the killed workload is still registered on $pt"
helper_gone() { ! helper_runs; }
wait_until 10 helper_gone || fail "the pre-copy helper outlived the migration"
# neither GPU holds anything of it: not the workload's memory, not the
# helper's destination copies
back_to() { [ "$(sim_free "$1")" -ge $(($2 - 64 * 1024 * 1024)) ]; }
wait_until 10 back_to 1 "$idle1" || fail "gpu 1 still holds memory: $(sim_free 1), $idle1 idle"
wait_until 10 back_to 2 "$free2" || fail "gpu 2 still holds memory: $(sim_free 2), $free2 before"
expect_eq "$(gv_instance_field "$pt" '.mem_used_bytes // 0')" 0 "nothing charged on $pt"
release
wait "$runner" 2>/dev/null
expect_ok gv destroy "$pt"

# The helper killed -9 while it holds the released bulk, across GPUs:
# after-release (before the driver's lock) and after-restore-precopy (the
# processes restored on gpu 3, their bulk not mapped there yet): gpuvisord
# maps its own copy of the source bulk back (--keep-fd), after bringing the
# processes back to gpu 1 in the second case; the workload runs on and its
# checksum is the reference's. before-restore: killed once the driver's
# restore may have begun, where the processes are is not known: the memory
# is lost, and said so.
for fault in after-release after-restore-precopy before-restore; do
	step "faults: the helper killed while it holds the released bulk ($fault)"
	gv_create --profile passthrough --gpu 1
	pt=$GV_ID
	held "$pt" "$T/l.out"
	wait_until 20 registered "$pt" || fail "gv-infer never registered on $pt"
	wait_until 30 on_gpu 1 2 || fail "gv-infer never used gpu 1"
	export GPUVISOR_CKPT_FAULT=$fault
	gv_restart_daemon
	if [ "$fault" = before-restore ]; then
		expect_rc 1 "GPU memory is lost" gv migrate "$pt" --to "$full" --mode precopy
		expect_eq "$(last_mig state)" failed "the row's state"
		expect_contains "$(last_mig error)" "lost" "the row's error"
	else
		expect_rc 1 "mapped its copy" gv migrate "$pt" --to "$full" --mode precopy
		expect_eq "$(last_mig state)" failed "the row's state"
		expect_contains "$(last_mig error)" "runs on $pt" "the row's error"
		expect_eq "$(gv_instance_field "$pt" '.workload.state')" running "running on $pt"
		on_gpu 1 2 || fail "the workload's memory is not on gpu 1: $(sim_free 1) / $(sim_free 2)"
	fi
	expect_eq "$(gv_instance_field "$full" '.workload // "none"')" none "$full has no workload"
	unset GPUVISOR_CKPT_FAULT
	gv_restart_daemon
	if [ "$fault" = before-restore ]; then
		# the shim keeps it stopped (no submission runs on unmapped memory)
		expect_ok gv destroy "$pt" --force
		release
		wait "$runner" 2>/dev/null
	else
		release
		wait "$runner" || fail "gv-infer failed after the recovered move: $(cat "$T/l.out")"
		expect_eq "$(checksum_of "$T/l.out")" "$want" "checksum after the recovered move ($fault)"
		wait_until 10 unregistered "$pt" || fail "the finished workload is still registered on $pt"
		expect_ok gv destroy "$pt"
	fi
done

step "gpuvisord killed -9 during a pre-copy across GPUs: its restart finds the workload moved"
gv_create --profile passthrough --gpu 1
pt=$GV_ID
held "$pt" "$T/k.out"
wait_until 20 registered "$pt" || fail "gv-infer never registered on $pt"
wait_until 30 on_gpu 1 2 || fail "gv-infer never used gpu 1"
gv_bg_cli migrate "$pt" --to 2 --mode precopy
wait_until 30 helper_runs || fail "the pre-copy helper never started"
gv_restart_daemon --kill9
# the restart waited for the helper its previous run left, then asked
expect_eq "$(last_mig state)" completed "the row after the restart: $(gv migrations --json)"
expect_contains "$(last_mig error)" "found on the destination" "the row's note"
moved=$(last_mig destination)
expect_eq "$(gv_instance_field "$moved" '.gpu')" 2 "$moved is on gpu 2"
expect_eq "$(gv_instance_field "$moved" '.workload.state')" running "running on $moved"
listed "$pt" && fail "the source $pt was not destroyed"
bl=$(bulk_list "$GV_RUN/ctl/$moved/bulk.sock") || fail "no answer on the bulk socket of $moved"
expect_eq "$(jfield "$bl" '[.bulk[].device] | unique | join(",")')" "$(gv_gpu_field 2 .uuid)" "the bulk's GPU: $bl"
release
wait "$runner" || fail "gv-infer failed after the restart: $(cat "$T/k.out")"
expect_eq "$(checksum_of "$T/k.out")" "$want" "checksum after a restart during the pre-copy"

gv_done
