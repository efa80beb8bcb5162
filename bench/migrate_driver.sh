#!/usr/bin/env bash
# bench/migrate_driver.sh BUILD_DIR [--weights-mib N] [--kv-mib N] [--step-ms N]
#                                   [--warm-steps N] [--downtime-limit MS]
#
# Live migration of any CUDA program on the simulator (the driver path: no
# --migratable), end to end through gpuvisord and the CLI. One gv-infer
# (N MiB of weights written once: its bulk; a KV cache growing every step;
# activations rewritten every step) run with plain `gpuvisor run` on a
# timeslice H100 instance is moved to another instance of its GPU three times:
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
bench=migrate_driver.sh
warm=30 kv=1
. "$(dirname "$0")/lib.sh"
start_daemon h100-80gb:1
gv mode 0 timeslice >/dev/null || die "cannot set timeslice mode"
a=$(gv create --profile h100-40c --gpu 0 --json | jq -r .id) || die "cannot create an instance"

args=(--weights-mib "$weights" --kv-mib-per-step "$kv" --act-kib 1024 --steps 1000000
	--step-ms "$step_ms" --verbose)

echo "gv-infer: ${weights} MiB of weights, KV cache +${kv} MiB per step, ${step_ms} ms per step (plain gpuvisor run)"
gv run --instance "$a" -- "$build/bin/gv-infer" "${args[@]}" 2>"$T/wl.err" >/dev/null &
wl=$!
wait_step "$T/wl.err" "$warm"

from=$a
migrate() { # MODE -> report in $T/MODE.json; the workload moves to a new
	# instance of its GPU (the source is destroyed after a move)
	local to
	wait_step "$T/wl.err" $(($(step_of "$T/wl.err") + 20))
	to=$(gv create --profile h100-40c --gpu 0 --json | jq -r .id) || die "cannot create an instance"
	gv migrate "$from" --to "$to" --mode "$1" --downtime-limit "$limit" --json >"$T/$1.json" ||
		die "--mode $1 failed: $(cat "$T/$1.json")"
	from=$to
}
r() { jq -r ".report.$2 // 0" "$T/$1.json"; }

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
