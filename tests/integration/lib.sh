# Integration test harness, sourced by tests/integration/test_*.sh (bash).
#
# Each test gets its own temp dir $T with a daemon on a simulated node:
#   $GV_SOCK   $T/api.sock      $GV_STATE  $T/state     $GV_RUN  $T/run
#   $T/daemon.log               daemon stdout+stderr (printed on failure)
#
# Environment (set by CTest, see CMakeLists.txt beside this file):
#   GV_BIN_DIR        where gpuvisord, gpuvisor (and gv-* workloads) are
#   GV_BUILD_DIR, GV_SOURCE_DIR, GPUVISOR_CATALOG
#   GV_SIM            simulated node for gv_start_daemon (default below)
#   GV_KEEP_TMP=1     keep $T after the test (for debugging)
#
# Typical test:
#   . "$(dirname "$0")/lib.sh"
#   gv_start_daemon                      # --sim "$GV_SIM"
#   expect_ok gv create --profile 3g.40gb --gpu 1 --json
#   id=$(jout .id)
#   expect_fail "destroy them first" gv mode 1 timeslice
#   gv_done
#
# Contract: a failed expectation prints "FAIL: ..." with the command, its exit
# code and output, then exits 1; the EXIT trap stops the daemon and every
# process started with gv_bg, and removes $T. Exit 77 means skipped.

set -u
set -o pipefail

: "${GV_BIN_DIR:?GV_BIN_DIR must name the directory holding gpuvisord and gpuvisor}"
: "${GV_SIM:=a100-40gb:1,h100-80gb:1,l40s:1}"
export GV_BIN_DIR GV_SIM

# A short base path: a Unix socket path must fit in 108 bytes.
T=$(mktemp -d /tmp/gv-it.XXXXXX) || { echo "FAIL: mktemp" >&2; exit 1; }
GV_SOCK=$T/api.sock
GV_STATE=$T/state
GV_RUN=$T/run
GV_DAEMON_PID=
GV_DAEMON_ARGS=()
GV_BG_PIDS=()
GV_CLEANUP_FILES=() # removed by the EXIT trap (files a test puts outside $T)
GV_OUT=
GV_ERR=
GV_RC=0
GV_TEST_NAME=$(basename "$0" .sh)
GV_DONE=0
# The CLI must find its daemon only through --socket.
unset GPUVISOR_SOCKET

gv_log() { printf '== %s\n' "$*"; }

# Prints a heading for a group of checks (shows up in ctest --output-on-failure).
step() { printf '\n-- %s\n' "$*"; }

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

skip() {
	printf 'SKIP: %s\n' "$*"
	GV_DONE=1
	exit 77
}

gv_done() {
	GV_DONE=1
	printf '\nPASS: %s\n' "$GV_TEST_NAME"
	exit 0
}

_gv_cleanup() {
	local rc=$?
	local p
	# the workloads the daemon knows first: killing `gpuvisor run` does not
	# end its workload, and a suspended one would wait for ever
	if [ -n "$GV_DAEMON_PID" ] && [ -S "$GV_SOCK" ]; then
		for p in $(curl -s --max-time 5 --unix-socket "$GV_SOCK" http://localhost/v1/instances 2>/dev/null |
			jq -r '.instances[]?.workload.pgid // empty' 2>/dev/null); do
			[ "$p" -gt 1 ] 2>/dev/null && kill -9 -- "-$p" 2>/dev/null
		done
	fi
	for p in "${GV_BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	gv_stop_daemon >/dev/null 2>&1
	for p in "${GV_CLEANUP_FILES[@]}"; do
		rm -f -- "$p"
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		if [ -s "$T/daemon.log" ]; then
			echo "---- daemon log (last 40 lines) ----" >&2
			tail -n 40 "$T/daemon.log" >&2
		fi
	fi
	if [ "${GV_KEEP_TMP:-0}" = 1 ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _gv_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds; returns 1
# after SECONDS.
wait_until() {
	local limit=$1
	shift
	local i n=$((limit * 10))
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

_gv_daemon_answers() {
	[ -S "$GV_SOCK" ] &&
		curl -s -f --max-time 2 --unix-socket "$GV_SOCK" http://localhost/v1/node >/dev/null
}

# gv_start_daemon [ARGS...]: starts gpuvisord on $T with ARGS (default
# --sim "$GV_SIM") and waits (at most 20 s) until it answers GET /v1/node.
# The args are remembered for gv_restart_daemon.
gv_start_daemon() {
	local bin=$GV_BIN_DIR/gpuvisord
	[ -x "$bin" ] || fail "gpuvisord not built: $bin"
	if [ $# -gt 0 ]; then
		GV_DAEMON_ARGS=("$@")
	elif [ ${#GV_DAEMON_ARGS[@]} -eq 0 ]; then
		GV_DAEMON_ARGS=(--sim "$GV_SIM")
	fi
	mkdir -p "$GV_STATE" "$GV_RUN"
	"$bin" --socket "$GV_SOCK" --state-dir "$GV_STATE" --run-dir "$GV_RUN" \
		"${GV_DAEMON_ARGS[@]}" >>"$T/daemon.log" 2>&1 &
	GV_DAEMON_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		_gv_daemon_answers && return 0
		kill -0 "$GV_DAEMON_PID" 2>/dev/null || {
			wait "$GV_DAEMON_PID"
			local rc=$?
			GV_DAEMON_PID=
			fail "gpuvisord exited with $rc during start: $(tail -n 20 "$T/daemon.log")"
		}
		sleep 0.1
	done
	fail "gpuvisord did not answer on $GV_SOCK within 20 s"
}

# gv_stop_daemon: SIGTERM, then SIGKILL after 10 s. Returns the daemon's
# exit status (0 when it shut down cleanly).
gv_stop_daemon() {
	[ -n "$GV_DAEMON_PID" ] || return 0
	local pid=$GV_DAEMON_PID i rc
	GV_DAEMON_PID=
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	return "$rc"
}

# gv_kill9_daemon: kills the daemon with SIGKILL (a crash) and reaps it.
gv_kill9_daemon() {
	[ -n "$GV_DAEMON_PID" ] || fail "gv_kill9_daemon: no daemon running"
	kill -9 "$GV_DAEMON_PID" 2>/dev/null
	wait "$GV_DAEMON_PID" 2>/dev/null
	GV_DAEMON_PID=
}

# gv_restart_daemon [--kill9]: stops (or kills) and starts it again on the
# same state dir, with the same args.
gv_restart_daemon() {
	if [ "${1:-}" = --kill9 ]; then
		gv_kill9_daemon
	else
		gv_stop_daemon || fail "gpuvisord exited with $? on SIGTERM"
	fi
	gv_start_daemon
}

# gv ARGS...: the CLI against this test's daemon.
gv() {
	"$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" "$@"
}

# gv_bg CMD...: runs CMD in the background (its pid is in $!, and it is killed
# by the cleanup trap if still running).
# sim_free [GPU [NODE_JSON]]: free bytes of a simulated GPU (default 0) as
# another CUDA process sees them, on the node NODE_JSON (default the
# daemon's, $GV_STATE/sim-node.json)
sim_free() {
	local lib=$GV_BUILD_DIR/lib/libcudasim.so asan
	# an ASan build's library needs its runtime first in python too
	asan=$(ldd "$lib" | awk '/libasan/ { print $3 }')
	LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0 GPUVISOR_SIM_NODE=${2:-$GV_STATE/sim-node.json} \
		python3 - "$lib" "${1:-0}" <<'EOF'
import ctypes, sys
cu = ctypes.CDLL(sys.argv[1])
assert cu.cuInit(0) == 0
dev = ctypes.c_int()
assert cu.cuDeviceGet(ctypes.byref(dev), int(sys.argv[2])) == 0
ctx = ctypes.c_void_p()
assert cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
assert cu.cuCtxSetCurrent(ctx) == 0
free, total = ctypes.c_size_t(), ctypes.c_size_t()
assert cu.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)) == 0
print(free.value)
EOF
}

# gv_hold_bg OUTFILE CMD...: CMD in the background ($runner), its output in
# OUTFILE, its stdin a FIFO whose end comes only at `release` (what
# gv-infer --hold waits for). The FIFO's writer is a process of its own: a
# descriptor of this shell would be inherited by every process started
# meanwhile (a restarted daemon) and the end of input would never come. The
# redirection is on a background command, as opening a FIFO blocks until
# the other side opens it.
gv_hold_bg() {
	local out=$1
	shift
	rm -f "$T/hold"
	mkfifo "$T/hold"
	"$@" <"$T/hold" >"$out" 2>&1 &
	runner=$!
	GV_BG_PIDS+=("$runner")
	sleep 100000 >"$T/hold" &
	holder=$!
	GV_BG_PIDS+=("$holder")
}
release() { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }

gv_bg() {
	"$@" &
	GV_BG_PIDS+=("$!")
}

# gv_bg_cli ARGS...: the CLI in the background, as its own process (so $! is
# gpuvisor's pid and signals sent to it reach gpuvisor itself). SIGINT and
# SIGQUIT get their default action back: bash ignores them in background
# jobs of scripts, and gpuvisor keeps signals ignored on entry ignored.
gv_bg_cli() {
	env --default-signal=INT,QUIT "$GV_BIN_DIR/gpuvisor" --socket "$GV_SOCK" "$@" &
	GV_BG_PIDS+=("$!")
}

# api METHOD PATH [BODY]: raw HTTP on the socket; prints the response body and
# records the HTTP status (read it with api_status). Never fails by itself.
api() {
	local method=$1 path=$2 body=${3-}
	local args=(-s --max-time 30 --unix-socket "$GV_SOCK" -X "$method"
		-o "$T/api.body" -w '%{http_code}')
	if [ $# -ge 3 ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	curl "${args[@]}" "http://localhost$path" >"$T/api.status" 2>/dev/null ||
		echo 000 >"$T/api.status"
	cat "$T/api.body" 2>/dev/null
	return 0
}
api_status() { cat "$T/api.status"; }

# expect_api STATUS METHOD PATH [BODY]: api + status check; the body is in
# $GV_OUT (read fields with jout).
expect_api() {
	local want=$1
	shift
	GV_OUT=$(api "$@")
	local got
	got=$(api_status)
	[ "$got" = "$want" ] || fail "api $* -> HTTP $got, expected $want: $GV_OUT"
}

# _gv_capture CMD...: runs CMD with stdout/stderr captured into GV_OUT/GV_ERR
# and its exit code in GV_RC.
_gv_capture() {
	"$@" >"$T/cmd.out" 2>"$T/cmd.err"
	GV_RC=$?
	GV_OUT=$(cat "$T/cmd.out")
	GV_ERR=$(cat "$T/cmd.err")
}

_gv_show() {
	printf 'command: %s\nexit: %s\nstdout:\n%s\nstderr:\n%s\n' "$*" "$GV_RC" "$GV_OUT" "$GV_ERR"
}

# expect_ok CMD...: CMD must exit 0. Output stays in GV_OUT / GV_ERR.
expect_ok() {
	_gv_capture "$@"
	[ "$GV_RC" -eq 0 ] || fail "expected success
$(_gv_show "$@")"
}

# expect_fail SUBSTRING CMD...: CMD must exit non-zero and print SUBSTRING
# (on stdout or stderr).
expect_fail() {
	local want=$1
	shift
	_gv_capture "$@"
	[ "$GV_RC" -ne 0 ] || fail "expected failure ($want)
$(_gv_show "$@")"
	case "$GV_OUT$GV_ERR" in
	*"$want"*) ;;
	*) fail "expected output containing '$want'
$(_gv_show "$@")" ;;
	esac
}

# expect_rc CODE SUBSTRING CMD...: exact exit code and SUBSTRING in its output
# (SUBSTRING may be empty).
expect_rc() {
	local code=$1 want=$2
	shift 2
	_gv_capture "$@"
	[ "$GV_RC" -eq "$code" ] || fail "expected exit $code
$(_gv_show "$@")"
	case "$GV_OUT$GV_ERR" in
	*"$want"*) ;;
	*) fail "expected output containing '$want'
$(_gv_show "$@")" ;;
	esac
}

# expect_eq ACTUAL EXPECTED [WHAT]
expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

# expect_contains HAYSTACK NEEDLE [WHAT]
expect_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "${3:-output} does not contain '$2':
$1" ;;
	esac
}

# expect_not_contains HAYSTACK NEEDLE [WHAT]
expect_not_contains() {
	case "$1" in
	*"$2"*) fail "${3:-output} contains '$2':
$1" ;;
	esac
}

# jfield JSON FILTER: prints jq -r FILTER of JSON (null prints "null", false
# "false"); fails the test when JSON does not parse or the filter errors.
jfield() {
	local v
	v=$(printf '%s' "$1" | jq -r "$2" 2>&1) || fail "jq '$2' failed on: $1 ($v)"
	printf '%s\n' "$v"
}

# jout FILTER: jfield on $GV_OUT (the last command's stdout).
jout() { jfield "$GV_OUT" "$1"; }

# jvalid JSON: fails unless JSON parses.
jvalid() {
	printf '%s' "$1" | jq -e . >/dev/null 2>&1 || fail "not valid JSON: $1"
}

# gv_create ARGS...: `gv create ARGS --json` must succeed; the new instance's
# id is left in GV_ID and its JSON in GV_OUT.
gv_create() {
	expect_ok gv create "$@" --json
	GV_ID=$(jout .id)
}

# gv_gpu_field GPU FILTER: a field of one GPU from `gv gpus --json`
# (e.g. gv_gpu_field 1 .mode).
gv_gpu_field() {
	local json
	json=$(gv gpus --json) || fail "gv gpus --json failed"
	jfield "$json" ".gpus[] | select(.index == $1) | $2"
}

# gv_profile_free GPU PROFILE: the "free" count of one profile on one GPU.
gv_profile_free() {
	local json
	json=$(gv profiles --gpu "$1" --json) || fail "gv profiles --gpu $1 --json failed"
	printf '%s' "$json" | jq -er --arg p "$2" \
		'[.profiles[] | select(.name == $p) | .free] | if length == 1 then .[0] else error("profile not listed once") end' ||
		fail "profile $2 not listed once for gpu $1: $json"
}

# gv_instance_field ID FILTER: a field of one instance from `gv list --json`.
gv_instance_field() {
	local json
	json=$(gv list --json) || fail "gv list --json failed"
	printf '%s' "$json" | jq -r --arg id "$1" ".instances[] | select(.id == \$id) | $2"
}
