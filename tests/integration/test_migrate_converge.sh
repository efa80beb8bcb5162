#!/usr/bin/env bash
# Auto-converge end to end: gv-train rewrites all of its memory every step,
# and a 1 ms downtime limit cannot be met (hashing the state alone takes
# longer), so pre-copy never converges. Migrated with --auto-converge, the
# engine throttles it (20%, then +10% per round that finds more than half
# of what the last one sent dirty again): the report says so, per round and
# at most, and so do `gpuvisor migrate` and `gpuvisor migrations`. Moved
# back without it: no throttle at all. The checksum is a never-migrated
# run's. No assertion on time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate_lib.sh"

mig_two_timeslice h100-10c
U=("$A" "$B")
inst=$GV_ID
WL=("$GV_BIN_DIR/gv-train" --params-mib 8 --steps 400 --step-ms 5)
wl_start "$inst" "$T/wl.out" "${WL[@]}"

# the stored migration object of the last migration, in GV_OUT
last_mig() {
	local id
	expect_ok gv migrations --json
	id=$(jout '.migrations[-1].id')
	expect_api 200 GET "/v1/migrations/$id"
}

step "pre-copy to gpu 1 with --auto-converge and a 1 ms limit"
kill -0 "$WL_PID" 2>/dev/null || fail "the workload ended before the migration: make it longer"
migrate_ok "$inst" --to 1 --downtime-limit 1 --max-rounds 8 --auto-converge
expect_contains "$GV_OUT" "(auto-converge)" "the report's throttle line"
expect_contains "$GV_OUT" ", throttle 20%" "a progress line with the first throttle"
on_device "${U[1]}"
holds_none "${U[0]}"
last_mig
expect_eq "$(jout .report.result)" ok "result"
expect_eq "$(jout .report.auto_converge)" true "report.auto_converge"
expect_eq "$(jout .summary.auto_converge)" true "summary.auto_converge"
max=$(jout .report.throttle_max_pct)
[ "$max" -gt 0 ] || fail "throttle_max_pct is $max with auto-converge: $GV_OUT"
expect_eq "$(jout .summary.throttle_max_pct)" "$max" "summary.throttle_max_pct"
[ "$(jout .report.rounds)" -gt 1 ] || fail "a single pre-copy round: $GV_OUT"
# per pass: never lowered while pre-copy runs, starts at 20, rises by 10
thr=$(jout '[.report.round_stats[].throttle_pct] | map(tostring) | join(" ")')
echo "throttle per pass: $thr (max $max)"
expect_eq "$(jout '[.report.round_stats[].throttle_pct] | . == sort')" true "throttle never lowered ($thr)"
expect_eq "$(jout '[.report.round_stats[].throttle_pct | select(. > 0)] | first')" 20 "first throttle ($thr)"
expect_eq "$(jout '[.report.round_stats[].throttle_pct] | max')" "$max" "highest per-pass throttle ($thr)"
[ "$max" -ge 30 ] || fail "the throttle never rose past its first step: $thr"
expect_eq "$(jout '.report.throttle_max_pct == ([.report.round_stats[].throttle_pct | select(. > 0)] | unique | last)')" true "rising in steps of 10 up to the max ($thr)"
expect_eq "$(jout '[.report.round_stats[].throttle_pct | select(. > 0)] | unique | [range(1; length) as $i | .[$i] - .[$i - 1]] | all(. == 10)')" true "steps of 10 ($thr)"
expect_ok gv migrations
printf '%s\n' "$GV_OUT"
expect_contains "$GV_OUT" "THROTTLE" "the migrations table's header"
expect_contains "$GV_OUT" " $max% " "the migrations table's throttle"

step "back to gpu 0 without --auto-converge: no throttle"
inst=$(wl_instance)
kill -0 "$WL_PID" 2>/dev/null || fail "the workload ended before the second migration: make it longer"
migrate_ok "$inst" --to 0 --downtime-limit 1 --max-rounds 8
expect_not_contains "$GV_OUT" "throttle" "the report without auto-converge"
on_device "${U[0]}"
holds_none "${U[1]}"
last_mig
expect_eq "$(jout .report.result)" ok "result"
expect_eq "$(jout .report.auto_converge)" false "report.auto_converge"
expect_eq "$(jout .report.throttle_max_pct)" 0 "throttle_max_pct without auto-converge"
expect_eq "$(jout '[.report.round_stats[].throttle_pct] | max')" 0 "per-pass throttle without auto-converge"
[ "$(jout .report.rounds)" -gt 1 ] || fail "a single pre-copy round: pre-copy converged after all: $GV_OUT"

step "refused up front: auto_converge must be a boolean"
expect_api 400 POST /v1/migrations '{"instance":"'"$inst"'","to":"1","auto_converge":1}'
expect_contains "$GV_OUT" "'auto_converge' must be true or false"

wl_finish "$T/wl.out" "${WL[@]}"
no_leaks
gv_done
