# tests/gpu/daemon-lib.sh, sourced by the device checks that drive a
# gpuvisord (migrate-daemon-check.sh, suspend-check.sh) after they set
# `build` (a gpuvisor build) and `here` (tests/gpu): a temp dir $T, the
# daemon's and a workload's pid ($daemon, $wl) ended by the EXIT trap,
# fail MSG (prints the daemon log's end, exits 1), gv ARGS (the CLI on $T's
# socket), gv_daemon ARGS (starts gpuvisord with ARGS and waits for it).
T=$(mktemp -d "${TMPDIR:-/tmp}/gv-gpu-check.XXXXXX") || exit 1
daemon= wl=
cleanup() {
	[ -n "$wl" ] && kill "$wl" 2>/dev/null
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; tail -5 "$T/daemon.log"; exit 1; }
gv() { "$build/bin/gpuvisor" --socket "$T/api.sock" "$@"; }
export GPUVISOR_CATALOG=${GPUVISOR_CATALOG:-$here/../../data/catalog.json}
# a build made on Debian brings its libraries (tests/gpu/stage-libs.sh)
[ -d "$build/gpu-libs" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$build/gpu-libs"
gv_daemon() {
	"$build/bin/gpuvisord" --socket "$T/api.sock" --state-dir "$T/state" --run-dir "$T/run" \
		--lib-dir "$build/lib" "$@" >"$T/daemon.log" 2>&1 &
	daemon=$!
	for _ in $(seq 100); do gv version >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "gpuvisord did not answer"
}
