#!/usr/bin/env bash
# bench/migrate.sh BUILD_DIR [--weights-mib N] [--kv-mib N] [--step-ms N]
#                            [--warm-steps N] [--downtime-limit MS]
#
# Live migration on the simulator, end to end through gpuvisord and the CLI:
# one gv-infer (N MiB of weights written once, a KV cache growing by
# --kv-mib every step, activations rewritten every step) started with
# `gpuvisor run --migratable` on a timeslice H100 instance is
#   1. moved to the other H100 with stop-and-copy,
#   2. moved back with pre-copy,
#   3. suspended and resumed on another instance of its GPU through the
#      driver's checkpoint API (gpuvisor suspend / resume --to: the path of
#      any CUDA program, everything copied while it is stopped),
#   4. killed and started fresh: time until it is back at the step it had
#      reached (loading its weights again and redoing its steps: what a
#      restart without migration costs).
# Prints stun times and their ratio, total times and bytes per phase. It
# measures; it never fails on a number (exit 1 only when it cannot run).
# Default size (2 GiB of weights) runs in about two minutes on two cores;
# pass --weights-mib 8192 for a larger state (needs RAM for ~3 copies).
set -u
bench=migrate.sh
. "$(dirname "$0")/lib.sh"
start_daemon h100-80gb:2
gv mode 0 timeslice >/dev/null && gv mode 1 timeslice >/dev/null || die "cannot set timeslice mode"
inst=$(gv create --profile h100-20c --gpu 0 --json | jq -r .id) || die "cannot create an instance"

args=(--weights-mib "$weights" --kv-mib-per-step "$kv" --act-kib 1024 --steps 1000000
	--step-ms "$step_ms" --verbose)

echo "gv-infer: ${weights} MiB of weights, KV cache +${kv} MiB per step, ${step_ms} ms per step"
t0=$(now_ms)
"$build/bin/gpuvisor" --socket "$T/api.sock" run --instance "$inst" --migratable -- \
	"$build/bin/gv-infer" "${args[@]}" 2>"$T/wl.err" >/dev/null &
wl=$!
wait_step "$T/wl.err" 1
t_load=$(($(now_ms) - t0))
wait_step "$T/wl.err" "$warm"

migrate() { # INST TO MODE -> report JSON in $T/mig.json
	gv migrate "$1" --to "$2" --mode "$3" --downtime-limit "$limit" --json >"$T/mig.json" ||
		die "migration failed: $(cat "$T/mig.json")"
}
r() { jq -r ".report.$1" "$T/mig.json"; }
show() { # LABEL
	printf '%-13s stun %8.1f ms  total %8.1f ms  state %s  before stun %s  during stun %s  rounds %s (%s)\n' \
		"$1" "$(r downtime_ms)" "$(r total_ms)" "$(mib "$(r bytes_total)")" \
		"$(mib "$(r bytes_precopy)")" "$(mib "$(r bytes_stun)")" "$(r rounds)" "$(r stop)"
}

s_before=$(step_of "$T/wl.err")
migrate "$inst" 1 stopcopy
show "stop-and-copy"
sc_stun=$(r downtime_ms) sc_total=$(r total_ms)
inst=$(jq -r .destination "$T/mig.json")
wait_step "$T/wl.err" $((s_before + 20))
migrate "$inst" 0 precopy
show "pre-copy"
pc_stun=$(r downtime_ms) pc_total=$(r total_ms)
printf '              pre-copy rounds: %s\n' \
	"$(jq -r '[.report.round_stats[] | "\(.round): dirty \(.bytes_dirty / 1048576 | floor) MiB, copied \(.bytes_copied / 1048576 | floor) MiB"] | join("; ")' "$T/mig.json")"
inst=$(jq -r .destination "$T/mig.json")

# the driver's checkpoint path: suspend, then resume on another instance of
# the same GPU; the workload is stopped from the lock to the unlock
wait_step "$T/wl.err" $(($(step_of "$T/wl.err") + 20))
gpu=$(gv list --json | jq -r --arg i "$inst" '.instances[] | select(.id == $i) | .gpu')
inst2=$(gv create --profile h100-20c --gpu "$gpu" --json | jq -r .id) || die "cannot create a second instance"
t0=$(now_ms)
gv suspend "$inst" --json >"$T/sus.json" || die "suspend failed: $(cat "$T/sus.json")"
gv resume "$inst" --to "$inst2" --json >"$T/res.json" || die "resume failed: $(cat "$T/res.json")"
ck_wall=$(($(now_ms) - t0))
ck_stun=$(jq -n --slurpfile s "$T/sus.json" --slurpfile r "$T/res.json" \
	'$s[0].report.lock_ms + $s[0].report.checkpoint_ms + $r[0].report.restore_ms + $r[0].report.unlock_ms')
printf '%-13s stopped %8.1f ms (lock %.1f, checkpoint %.1f, restore %.1f, unlock %.1f; %s ms through the API)\n' \
	"checkpoint" "$ck_stun" "$(jq -r .report.lock_ms "$T/sus.json")" "$(jq -r .report.checkpoint_ms "$T/sus.json")" \
	"$(jq -r .report.restore_ms "$T/res.json")" "$(jq -r .report.unlock_ms "$T/res.json")" "$ck_wall"
inst=$inst2

# restart instead: kill at step N, start fresh, time until step N again
s_kill=$(step_of "$T/wl.err")
pgid=$(gv list --json | jq -r --arg i "$inst" '.instances[] | select(.id == $i) | .workload.pgid')
[ "$pgid" -gt 1 ] 2>/dev/null && kill -9 -- "-$pgid" 2>/dev/null
wait "$wl" 2>/dev/null
wl=
for _ in $(seq 100); do
	[ "$(gv list --json | jq -r --arg i "$inst" '.instances[] | select(.id == $i) | .workload')" = null ] && break
	sleep 0.1
done
t0=$(now_ms)
"$build/bin/gpuvisor" --socket "$T/api.sock" run --instance "$inst" -- \
	"$build/bin/gv-infer" "${args[@]}" 2>"$T/wl2.err" >/dev/null &
wl=$!
wait_step "$T/wl2.err" "$s_kill"
rs_total=$(($(now_ms) - t0))
printf '%-13s back at step %s after %s ms (weights loaded after %s ms at first start)\n' \
	"restart" "$s_kill" "$rs_total" "$t_load"
echo
awk -v sc="$sc_stun" -v pc="$pc_stun" -v rs="$rs_total" -v sct="$sc_total" -v pct="$pc_total" 'BEGIN {
	printf "stun pre-copy / stop-and-copy: %.3f (%.1f ms vs %.1f ms)\n", pc / sc, pc, sc
	printf "downtime of a restart / pre-copy stun: %.0fx (%d ms vs %.1f ms)\n", rs / pc, rs, pc
	printf "total: stop-and-copy %.1f ms, pre-copy %.1f ms, restart %d ms\n", sct, pct, rs
}'
awk -v ck="$ck_stun" -v pc="$pc_stun" -v rs="$rs_total" 'BEGIN {
	printf "stopped by the driver checkpoint / pre-copy stun: %.2f (%.1f ms vs %.1f ms)\n", ck / pc, ck, pc
	printf "downtime of a restart / driver checkpoint: %.1fx\n", rs / ck
}'
