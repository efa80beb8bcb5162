#!/usr/bin/env bash
# bench/migrate_driver.sh BUILD_DIR [--weights-mib N] [--kv-mib N] [--step-ms N]
#                                   [--warm-steps N] [--downtime-limit MS]
#
# Live migration of any CUDA program on the simulator (the driver path: no
# --migratable), end to end through gpuvisord and the CLI. One gv-infer
# (N MiB of weights written once: its bulk; a KV cache growing every step;
# activations rewritten every step) run with plain `gpuvisor run` on a
# timeslice H100 instance is moved between two instances of its GPU:
#   1. --mode checkpoint: the driver's checkpoint carries everything while
#      the workload is stopped (the baseline),
#   2. --mode precopy: gpuvisor-ckpt pre-copies the bulk while it runs, the
#      driver carries the rest in the stun,
#   3. --mode stopcopy: the bulk copied by gpuvisor-ckpt, all in the stun.
# Prints each stun, the floor the pre-copy report computes from the rates
# it measured (the bulk hashed once, the dirty part copied, the driver's
# phases), and the ratios stun / floor and checkpoint / pre-copy. It
# measures; it never fails on a number (exit 1 only when it cannot run).
set -u
build=${1:?usage: bench/migrate_driver.sh BUILD_DIR [--weights-mib N] ...}
shift
weights=2048 kv=8 step_ms=20 warm=30 limit=300
while [ $# -gt 0 ]; do
	case $1 in
	--weights-mib) weights=$2; shift 2 ;;
	--kv-mib) kv=$2; shift 2 ;;
	--step-ms) step_ms=$2; shift 2 ;;
	--warm-steps) warm=$2; shift 2 ;;
	--downtime-limit) limit=$2; shift 2 ;;
	*) echo "bench/migrate_driver.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
build=$(cd "$build" && pwd) || exit 1
for f in bin/gpuvisord bin/gpuvisor bin/gpuvisor-ckpt bin/gv-infer lib/shim/libcuda.so.1 lib/libcudasim.so; do
	[ -e "$build/$f" ] || { echo "bench/migrate_driver.sh: $build/$f is not built" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench/migrate_driver.sh: needs jq" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/gv-bench-mdrv.XXXXXX") || exit 1
daemon= wl=
cleanup() {
	[ -n "$wl" ] && kill -TERM "$wl" 2>/dev/null && wait "$wl" 2>/dev/null
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export GPUVISOR_SIM_SHM_DIR=$T/shm GPUVISOR_CATALOG=${GPUVISOR_CATALOG:-$(cd "$(dirname "$0")/.." && pwd)/data/catalog.json}
mkdir -p "$GPUVISOR_SIM_SHM_DIR"
gv() { "$build/bin/gpuvisor" --socket "$T/api.sock" "$@"; }
die() { echo "bench/migrate_driver.sh: $*" >&2; tail -5 "$T/daemon.log" >&2; exit 1; }

"$build/bin/gpuvisord" --socket "$T/api.sock" --state-dir "$T/state" --run-dir "$T/run" \
	--sim h100-80gb:1 >"$T/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do gv version >/dev/null 2>&1 && break; sleep 0.1; done
gv mode 0 timeslice >/dev/null || die "cannot set timeslice mode"
a=$(gv create --profile h100-40c --gpu 0 --json | jq -r .id) || die "cannot create an instance"
b=$(gv create --profile h100-40c --gpu 0 --json | jq -r .id) || die "cannot create an instance"

args=(--weights-mib "$weights" --kv-mib-per-step "$kv" --act-kib 1024 --steps 1000000
	--step-ms "$step_ms" --verbose)
step_of() { grep -o 'step [0-9]*:' "$1" 2>/dev/null | tail -1 | tr -dc 0-9; }
wait_step() { # FILE STEP
	while :; do
		s=$(step_of "$1")
		[ -n "$s" ] && [ "$s" -ge "$2" ] && return 0
		kill -0 "$wl" 2>/dev/null || die "the workload died: $(tail -3 "$1")"
		sleep 0.05
	done
}

echo "gv-infer: ${weights} MiB of weights, KV cache +${kv} MiB per step, ${step_ms} ms per step (plain gpuvisor run)"
gv run --instance "$a" -- "$build/bin/gv-infer" "${args[@]}" 2>"$T/wl.err" >/dev/null &
wl=$!
wait_step "$T/wl.err" "$warm"

from=$a to=$b
migrate() { # MODE -> report in $T/MODE.json; the workload changes instance
	wait_step "$T/wl.err" $(($(step_of "$T/wl.err") + 20))
	gv migrate "$from" --to "$to" --mode "$1" --downtime-limit "$limit" --json >"$T/$1.json" ||
		die "--mode $1 failed: $(cat "$T/$1.json")"
	local t=$from; from=$to; to=$t
}
r() { jq -r ".report.$2 // 0" "$T/$1.json"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

migrate checkpoint
printf '%-11s stun %8.1f ms  (lock %.1f, checkpoint %.1f, restore %.1f, unlock %.1f)\n' checkpoint \
	"$(r checkpoint downtime_ms)" "$(r checkpoint lock_ms)" "$(r checkpoint checkpoint_ms)" \
	"$(r checkpoint restore_ms)" "$(r checkpoint unlock_ms)"
for m in precopy stopcopy; do
	migrate $m
	printf '%-11s stun %8.1f ms  floor %8.1f ms  total %8.1f ms  bulk %s: before stun %s, in stun %s; rounds %s (%s)\n' \
		$m "$(r $m downtime_ms)" "$(r $m floor_ms)" "$(r $m total_ms)" "$(mib "$(r $m bulk_bytes)")" \
		"$(mib "$(r $m bytes_precopy)")" "$(mib "$(r $m bytes_stun)")" "$(r $m rounds)" "$(r $m stop)"
	printf '%-11s driver: lock %.1f, checkpoint %.1f, restore %.1f, unlock %.1f; shim: stop %.1f, release %.1f, map %.1f ms; hash %.2f GB/s, copy %.2f GB/s (%s)\n' \
		"" "$(r $m lock_ms)" "$(r $m checkpoint_ms)" "$(r $m restore_ms)" "$(r $m unlock_ms)" \
		"$(r $m stop_ms)" "$(r $m release_ms)" "$(r $m map_ms)" "$(r $m hash_gbps)" "$(r $m copy_gbps)" \
		"$(jq -r '.report.hash // "?"' "$T/$m.json")"
done
echo
awk -v ck="$(r checkpoint downtime_ms)" -v pc="$(r precopy downtime_ms)" -v fl="$(r precopy floor_ms)" \
	-v sc="$(r stopcopy downtime_ms)" 'BEGIN {
	printf "pre-copy stun / its floor: %.2f (%.1f ms vs %.1f ms)\n", pc / fl, pc, fl
	printf "checkpoint stun / pre-copy stun: %.2f (%.1f ms vs %.1f ms)\n", ck / pc, ck, pc
	printf "stop-and-copy stun / pre-copy stun: %.2f (%.1f ms vs %.1f ms)\n", sc / pc, sc, pc
	print "(on the simulator the ratio is bounded by the CPU hash rate over its copy rate)"
}'
