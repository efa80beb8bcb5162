#!/bin/sh
# run-migrate.sh --list
# run-migrate.sh BUILD_DIR CASE CTL_TOOL ACCT_TOOL
# Live migration through the shim, in the shape of CRIU's zdtm: each
# workload (workloads/NAME.sh) declares its program, how it prepares and
# how it checks; this runner applies the matrix of scenarios (the modes,
# the faults, the refusals) to it. A case is WORKLOAD.SCENARIO; --list
# prints every case the workload files allow (tests/migrate/CMakeLists.txt
# makes one CTest test, migrate.CASE, of each).
#
# The workload runs under the shim in migration mode on a simulated node
# (node2.json: two H100s, A and B, unless its preparation says otherwise)
# and gv-mig-ctl, playing the daemon, migrates it over the control socket
# while it runs. After every migration the device the workload left holds
# none of its memory (the simulator's device accounting per process), and
# after every refused or aborted one the other device holds none; at the
# end the workload's own check runs (a checksum against a run that was
# never migrated, or the probe's answers).
#
# Scenarios (each that moves the workload leaves it on B, so that its
# check runs on a device it was moved to):
#   precopy         A -> B in pre-copy mode with instance accounting files
#                   (the destination charged, the source uncharged), then
#                   B -> A held 2 s (the "delay" test fault) while a second
#                   connection sees it migrating and cannot start another,
#                   then A -> B
#   stopcopy        A -> B -> A -> B in stop-and-copy mode
#   back_and_forth  21 migrations alternating A and B
#   faults          an injected fault in each phase aborts, the workload
#                   stays on A; then A -> B succeeds
#   drop            the daemon's connection drops mid-migration: aborted,
#                   the workload stays on A; then A -> B
#   refuse          destination partition too small, unknown device:
#                   refused, nothing changed
#   same            A -> A (two instances of one GPU), then A -> B
#
# A workload file is sourced by this script and sets:
#   wl_prog           the program, relative to BUILD_DIR
#   wl_args           its arguments
#   wl_kind           steps: a sample workload run for a bounded number of
#                     steps (the scenario's count, --steps N --step-ms 20),
#                     ready at its first step; probe: gv-mig-probe, ready
#                     once it prints "ready", its standard input a fifo
#                     that the runner holds open on descriptor 3
#   wl_scenarios      the scenarios that apply to it (the cells left out are
#                     named in the file with the reason)
#   wl_not_migratable (optional) the reason hello and every request give:
#                     the workload must not be migratable
#   wl_steps_SCENARIO (optional, steps kind) the number of steps in that
#                     scenario, in place of the scenario's own count
# and defines:
#   wl_prepare        before the start (default: nothing)
#   wl_started        once it runs, before the first request (default:
#                     nothing)
#   wl_check          at the end: waits for the workload and checks its
#                     outcome (same_checksum for the steps kind)
# SC2317: the scenarios are called by name ("sc_$scenario"); SC2154: wl_*
# are set by the workload file
# shellcheck disable=SC2317,SC2154
set -eu
# one compound command: parsed whole before it runs (safe to edit meanwhile)
{
here=$(cd "$(dirname "$0")" && pwd)
all_scenarios="precopy stopcopy back_and_forth faults drop refuse same"

if [ "${1-}" = --list ]; then
	for f in "$here"/workloads/*.sh; do
		name=$(basename "$f" .sh)
		# in a subshell: each file's declarations stay its own
		# shellcheck source=/dev/null
		cells=$(. "$f" && echo "$wl_scenarios")
		[ -n "$cells" ] || {
			echo "run-migrate.sh: $f declares no scenario" >&2
			exit 1
		}
		for s in $cells; do
			case " $all_scenarios " in
			*" $s "*) echo "$name.$s" ;;
			*)
				echo "run-migrate.sh: $f: unknown scenario $s" >&2
				exit 1
				;;
			esac
		done
	done
	exit 0
fi

[ $# = 4 ] || {
	echo "usage: run-migrate.sh --list | BUILD_DIR WORKLOAD.SCENARIO CTL_TOOL ACCT_TOOL" >&2
	exit 2
}
build=$1 case=$2 ctl=$3 acct_tool=$4
workload=${case%%.*} scenario=${case#*.}
[ -f "$here/workloads/$workload.sh" ] || {
	echo "unknown workload $workload"
	exit 2
}
dir=$(mktemp -d "${TMPDIR:-/tmp}/gv-migrate-test.XXXXXX")
wl_pid=
cleanup() {
	if [ -n "$wl_pid" ]; then kill "$wl_pid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
node="$here/node2.json"
A=GPU-aaaaaaaa-0000-4000-8000-000000000001
B=GPU-bbbbbbbb-0000-4000-8000-000000000002
export GPUVISOR_SIM_SHM_DIR="$dir" GPUVISOR_SIM_NODE="$node"
export GV_KERNEL_MODULE="$build/lib/gv_kernels.so"
unset GPUVISOR_ACCT GPUVISOR_REAL_LIBCUDA GPUVISOR_CTL CUDA_VISIBLE_DEVICES GPUVISOR_DEVICE
sock="$dir/ctl.sock"

fail() {
	echo "FAIL: $*"
	echo "--- workload stderr"
	cat "$dir/wl.err" 2>/dev/null || true
	exit 1
}

# --- the workload: its declarations, then its start and checks

wl_not_migratable=
wl_prepare() { :; }
wl_started() { :; }
# shellcheck source=/dev/null
. "$here/workloads/$workload.sh"
case " $wl_scenarios " in
*" $scenario "*) ;;
*)
	echo "$case: $scenario does not apply to $workload (see workloads/$workload.sh)"
	exit 2
	;;
esac
wl="$build/$wl_prog"

# shim_env CMD...: execs CMD under the shim in migration mode on A, with
# the candidate devices A and B and the test faults allowed; in the
# background (its pid is $!) or in a subshell: (shim_env CMD...)
shim_env() {
	exec env LD_LIBRARY_PATH="$build/lib/shim" GPUVISOR_REAL_LIBCUDA="$build/lib/libcudasim.so" \
		CUDA_VISIBLE_DEVICES="$A,$B" GPUVISOR_DEVICE="$A" GPUVISOR_CTL="$sock" \
		GPUVISOR_TEST_FAULTS=1 "$@"
}

# wait_for WHAT FILE PATTERN: waits (60 s at most) until the workload
# ($wl_pid) wrote a line matching PATTERN to FILE
wait_for() {
	i=0
	until grep -q "$3" "$2"; do
		i=$((i + 1))
		[ "$i" -lt 3000 ] || fail "$1 in 60 s"
		kill -0 "$wl_pid" 2>/dev/null || fail "the workload exited: $(cat "$dir/wl.out")"
		sleep 0.02
	done
}

start_wl() { # STEPS [extra env...]: starts the workload, waits until it is ready
	# (STEPS, the scenario's count, unless the workload sets its own)
	eval "steps=\${wl_steps_$scenario:-$1}"
	shift
	case $wl_kind in
	steps)
		# shellcheck disable=SC2086 # wl_args: words
		shim_env "$@" "$wl" $wl_args --steps "$steps" --step-ms 20 --verbose \
			>"$dir/wl.out" 2>"$dir/wl.err" &
		wl_pid=$!
		# the socket exists from cuInit on: wait for the first step, so
		# that the device memory the scenarios migrate is allocated
		wait_for "the workload made no step" "$dir/wl.err" 'step 1\b'
		;;
	probe)
		mkfifo "$dir/in"
		# shellcheck disable=SC2086 # wl_args: words
		shim_env "$@" "$wl" $wl_args <"$dir/in" >"$dir/wl.out" 2>"$dir/wl.err" &
		wl_pid=$!
		exec 3>"$dir/in"
		wait_for "the probe was not ready" "$dir/wl.out" '^ready'
		;;
	*) fail "unknown workload kind $wl_kind" ;;
	esac
	"$ctl" hello "$sock" >"$dir/hello" || fail "no control socket"
	if [ -z "$wl_not_migratable" ]; then
		grep -q '"migratable":true' "$dir/hello" || fail "not migratable: $(cat "$dir/hello")"
	else
		echo "hello: $(cat "$dir/hello")"
		grep -q '"migratable":false' "$dir/hello" || fail "migratable: $(cat "$dir/hello")"
		grep -qF "$wl_not_migratable" "$dir/hello" || fail "hello gives no reason"
	fi
	wl_started
}

wait_wl() { # waits for the workload to exit; it must succeed
	wait "$wl_pid" || fail "the workload failed: $(cat "$dir/wl.out")"
	wl_pid=
}

reference() { # STEPS: the checksum of a run that was never migrated
	# shellcheck disable=SC2086 # wl_args: words
	LD_LIBRARY_PATH="$build/lib/sim" "$wl" $wl_args --steps "$1" | grep '^checksum:'
}

same_checksum() { # the steps kind's check: the checksum of a never-migrated run
	wait_wl
	got=$(grep '^checksum:' "$dir/wl.out")
	want=$(reference "$steps")
	echo "migrated: $got"
	echo "never:    $want"
	if [ -z "$want" ] || [ "$got" != "$want" ]; then fail "checksums differ"; fi
}

# --- requests and what the simulator says

on() { # DEVICE: the workload says it runs there
	"$ctl" hello "$sock" >"$dir/hello" || fail "hello failed"
	grep -q "\"device\":\"$1\"" "$dir/hello" || fail "expected on $1: $(cat "$dir/hello")"
}

devmem() { # UUID
	"$ctl" devmem "$GPUVISOR_SIM_NODE" "$1" "$wl_pid"
}

holds_none() { # UUID
	m=$(devmem "$1")
	[ "$m" = 0 ] || fail "$1 still holds $m bytes of the workload"
}

holds_some() { # UUID
	m=$(devmem "$1")
	[ "$m" != 0 ] || fail "$1 holds nothing of the workload"
}

migrate() { # TO [MODE [INJECT [ACCT]]]
	"$ctl" migrate "$sock" "$@" >"$dir/mig.out" || fail "migration to $1 failed: $(cat "$dir/mig.out")"
	grep -q '"result":"ok"' "$dir/mig.out" || fail "no ok report: $(cat "$dir/mig.out")"
}

moved() { # FROM TO: the workload runs on TO, FROM holds none of it
	on "$2"
	holds_none "$1"
	holds_some "$2"
}

refused() { # WHAT TO [MODE [INJECT [ACCT]]]
	what=$1
	shift
	if "$ctl" migrate "$sock" "$@" >"$dir/mig.out"; then
		fail "$what: the migration succeeded: $(cat "$dir/mig.out")"
	fi
	grep -q '"ok":false' "$dir/mig.out" || fail "$what: no error line: $(cat "$dir/mig.out")"
	echo "$what: $(cut -c1-200 "$dir/mig.out")"
}

because() { # REASON: the last refusal gave REASON (or the workload's own)
	if [ -n "$wl_not_migratable" ]; then
		grep -qF "not migratable: $wl_not_migratable" "$dir/mig.out" ||
			fail "not refused as not migratable: $(cat "$dir/mig.out")"
	else
		grep -qF "$1" "$dir/mig.out" || fail "wrong reason: $(cat "$dir/mig.out")"
	fi
}

acct() { # FILE: bytes the workload holds in FILE (an instance accounting
	# file made by ACCT_TOOL, gv-shim-acct; "none" when it was not built)
	"$ctl" acct "$1" "$wl_pid"
}

# --- the scenarios

# The step counts leave the workload running through every request with
# room to spare, also under ASan (where gv-infer ends infer.faults' moves
# near step 260 of 400); a workload whose steps are slow next to its moves
# may ask for fewer (wl_steps_SCENARIO): they are run twice, migrated and
# for the reference.
sc_precopy() {
	if [ "$acct_tool" != none ]; then
		"$acct_tool" "$dir/a.acct" $((1024 * 1024 * 1024))
		"$acct_tool" "$dir/b.acct" $((1024 * 1024 * 1024))
		start_wl 250 GPUVISOR_ACCT="$dir/a.acct"
	else
		echo "(no gv-shim-acct: the accounting files are not checked)"
		start_wl 250
	fi
	on "$A"
	holds_some "$A"
	if [ -f "$dir/b.acct" ]; then
		[ "$(acct "$dir/a.acct")" != 0 ] || fail "source partition not charged"
		migrate "$B" precopy - "$dir/b.acct"
	else
		migrate "$B" precopy
	fi
	moved "$A" "$B"
	if [ -f "$dir/b.acct" ]; then
		[ "$(acct "$dir/a.acct")" = 0 ] || fail "source partition still charged"
		[ "$(acct "$dir/b.acct")" != 0 ] || fail "destination partition not charged"
	fi
	grep -o '"stop":"[a-z-]*"\|"rounds":[0-9]*\|"downtime_ms":[0-9.]*' "$dir/mig.out" | tr '\n' ' '
	echo
	# while a migration runs (held 2 s by the "delay" test fault), another
	# connection gets hello (migrating) and a refused second migration
	"$ctl" migrate "$sock" "$A" precopy delay >"$dir/mig1.out" &
	mig=$!
	i=0
	until "$ctl" hello "$sock" | grep -q '"migrating":true'; do
		i=$((i + 1))
		[ "$i" -lt 500 ] || fail "hello never said migrating"
		sleep 0.01
	done
	"$ctl" migrate "$sock" "$A" >"$dir/mig.out" && fail "a second migration ran at once"
	grep -q 'a migration is already running' "$dir/mig.out" || fail "wrong refusal: $(cat "$dir/mig.out")"
	wait "$mig" || fail "the delayed migration failed: $(cat "$dir/mig1.out")"
	moved "$B" "$A"
	migrate "$B" precopy
	moved "$A" "$B"
}

sc_stopcopy() {
	start_wl 150
	for to in "$B" "$A" "$B"; do
		if [ "$to" = "$B" ]; then from=$A; else from=$B; fi
		migrate "$to" stopcopy
		grep -q '"stop":"stopcopy"' "$dir/mig.out" || fail "not stop-and-copy: $(cat "$dir/mig.out")"
		moved "$from" "$to"
	done
}

sc_back_and_forth() {
	start_wl 600
	n=0
	while [ "$n" -lt 21 ]; do
		if [ $((n % 2)) = 0 ]; then to=$B from=$A; else to=$A from=$B; fi
		migrate "$to"
		on "$to"
		holds_none "$from"
		n=$((n + 1))
	done
	echo "21 migrations done"
}

sc_faults() {
	start_wl 400
	export GV_MIG_DOWNTIME_MS=1 GV_MIG_MAX_ROUNDS=4
	# (copy:stun in pre-copy mode fires only when the stun finds a dirty chunk:
	# not deterministic; stop-and-copy below always copies in the stun)
	for f in create copy:round1 hash:round2 copy:round2 list:stun hash:stun stun switch; do
		refused "fault $f" "$B" precopy "$f"
		grep -q "injected fault $f" "$dir/mig.out" || fail "fault $f not injected"
		on "$A"
		holds_none "$B"
	done
	refused "fault copy:stun (stopcopy)" "$B" stopcopy copy:stun
	grep -q "injected fault copy:stun" "$dir/mig.out" || fail "fault copy:stun not injected"
	on "$A"
	holds_none "$B"
	unset GV_MIG_DOWNTIME_MS GV_MIG_MAX_ROUNDS
	migrate "$B"
	moved "$A" "$B"
}

sc_drop() {
	start_wl 400
	GV_MIG_DOWNTIME_MS=1 GV_MIG_MAX_ROUNDS=30 "$ctl" drop "$sock" "$B" 1
	# the migration ends (aborted) once the shim notices
	i=0
	while :; do
		"$ctl" hello "$sock" >"$dir/hello"
		grep -q '"migrating":false' "$dir/hello" && break
		i=$((i + 1))
		[ "$i" -lt 3000 ] || fail "the migration did not end after the drop"
		sleep 0.02
	done
	on "$A"
	holds_none "$B"
	migrate "$B"
	moved "$A" "$B"
}

sc_refuse() {
	start_wl 150
	if [ "$acct_tool" != none ]; then
		"$acct_tool" "$dir/tiny.acct" $((1024 * 1024))
		refused "destination too small" "$B" precopy - "$dir/tiny.acct"
		because 'destination partition too small'
		[ "$(acct "$dir/tiny.acct")" = 0 ] || fail "tiny partition charged"
	else
		echo "(no gv-shim-acct: no request with a small partition)"
	fi
	refused "unknown device" GPU-cccccccc-0000-4000-8000-000000000003
	because 'GPU-cccccccc-0000-4000-8000-000000000003'
	if [ -n "$wl_not_migratable" ]; then
		refused "not migratable" "$B"
		because 'not migratable'
	fi
	on "$A"
	holds_none "$B"
}

sc_same() {
	start_wl 150
	migrate "$A"
	on "$A"
	holds_some "$A"
	holds_none "$B"
	migrate "$B"
	moved "$A" "$B"
}

wl_prepare
"sc_$scenario"
wl_check
echo ok
exit 0
}
