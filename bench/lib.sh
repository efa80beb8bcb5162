# bench/lib.sh: what the migration benchmarks share. Source it with $bench
# set to the script's name; it parses BUILD_DIR and the workload options,
# checks the build, and gives a private directory $T, gv, die, step_of,
# wait_step and start_daemon.
build=${1:?usage: bench/$bench BUILD_DIR [--weights-mib N] [--kv-mib N] [--step-ms N] [--warm-steps N] [--downtime-limit MS]}
shift
weights=${weights:-2048} kv=${kv:-8} step_ms=${step_ms:-20} warm=${warm:-50} limit=${limit:-300}
while [ $# -gt 0 ]; do
	case $1 in
	--weights-mib) weights=$2; shift 2 ;;
	--kv-mib) kv=$2; shift 2 ;;
	--step-ms) step_ms=$2; shift 2 ;;
	--warm-steps) warm=$2; shift 2 ;;
	--downtime-limit) limit=$2; shift 2 ;;
	*) echo "bench/$bench: unknown option $1" >&2; exit 2 ;;
	esac
done
build=$(cd "$build" && pwd) || exit 1
for f in bin/gpuvisord bin/gpuvisor bin/gpuvisor-ckpt bin/gv-infer lib/shim/libcuda.so.1 lib/libcudasim.so; do
	[ -e "$build/$f" ] || { echo "bench/$bench: $build/$f is not built" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench/$bench: needs jq" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/gv-bench.XXXXXX") || exit 1
daemon= wl=
cleanup() {
	[ -n "$wl" ] && kill -TERM "$wl" 2>/dev/null && wait "$wl" 2>/dev/null
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export GPUVISOR_SIM_SHM_DIR=$T/shm GPUVISOR_CATALOG=${GPUVISOR_CATALOG:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/data/catalog.json}
mkdir -p "$GPUVISOR_SIM_SHM_DIR"
gv() { "$build/bin/gpuvisor" --socket "$T/api.sock" "$@"; }
die() { echo "bench/$bench: $*" >&2; tail -5 "$T/daemon.log" >&2; exit 1; }
now_ms() { date +%s%3N; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# start_daemon SIM_SPEC (h100-80gb:2): gpuvisord on a simulated node
start_daemon() {
	"$build/bin/gpuvisord" --socket "$T/api.sock" --state-dir "$T/state" --run-dir "$T/run" \
		--sim "$1" >"$T/daemon.log" 2>&1 &
	daemon=$!
	for _ in $(seq 100); do gv version >/dev/null 2>&1 && return 0; sleep 0.1; done
	die "gpuvisord did not start"
}

step_of() { grep -o 'step [0-9]*:' "$1" 2>/dev/null | tail -1 | tr -dc 0-9; }
wait_step() { # FILE STEP: until the workload ($wl) logged STEP
	while :; do
		s=$(step_of "$1")
		[ -n "$s" ] && [ "$s" -ge "$2" ] && return 0
		kill -0 "$wl" 2>/dev/null || die "the workload died: $(tail -3 "$1")"
		sleep 0.05
	done
}
