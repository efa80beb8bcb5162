#!/usr/bin/env bash
# gv-infer started with `gpuvisor run --migratable` on a timeslice instance
# and migrated while it runs, by gpuvisord, to another H100 (pre-copy) and
# back (stop-and-copy), then with --mode checkpoint to another instance of
# gpu 0 (its control socket follows it) and through its shim to gpu 1
# again: the same checksum as a run never migrated; after
# each move the GPU it left holds none of its memory, the destination's
# accounting file is charged, the source instance and its file are gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate_lib.sh"

mig_two_timeslice h100-20c
src=$GV_ID
WL=("$GV_BIN_DIR/gv-infer" --weights-mib 32 --kv-mib-per-step 1 --act-kib 256 --steps 200 --step-ms 20)
wl_start "$src" "$T/wl.out" "${WL[@]}"
on_device "$A"
holds_some "$A"

step "pre-copy to gpu 1"
migrate_ok "$src" --to 1
expect_contains "$GV_OUT" "round 1 (precopy)"
expect_contains "$GV_OUT" "stun time"
on_device "$B"
holds_none "$A"
holds_some "$B"
dst=$(wl_instance)
expect_eq "$(gv_instance_field "$dst" .gpu)" 1 "the workload's instance"
expect_api 404 GET "/v1/instances/$src"
[ -e "$GV_RUN/acct/$src.acct" ] && fail "source accounting file left"
used=$("$MIG_CTL" acct "$GV_RUN/acct/$dst.acct" "$WL_PID")
[ "$used" -gt 0 ] || fail "destination partition not charged"

step "stop-and-copy back to gpu 0"
migrate_ok "$dst" --to 0 --mode stopcopy
expect_contains "$GV_OUT" "stop: stopcopy"
on_device "$A"
holds_none "$B"
back=$(wl_instance)
expect_eq "$(gv_instance_field "$back" .gpu)" 0 "the workload's instance"

step "through the driver and back through the shim: its control socket follows it"
# a move through the driver renames the workload's ctl directory (with its
# bound socket) to the destination's; the shim's own migration finds it there
gv_create --profile h100-20c --gpu 0
near=$GV_ID
migrate_ok "$back" --to "$near" --mode checkpoint
expect_eq "$(wl_instance)" "$near" "the workload's instance after --mode checkpoint"
WL_CTL=$GV_RUN/ctl/$near/shim.sock
[ -S "$WL_CTL" ] || fail "the control socket did not follow the workload to $near: $(ls -R "$GV_RUN/ctl")"
on_device "$A"
migrate_ok "$near" --to 1
on_device "$B"
expect_eq "$(gv_instance_field "$(wl_instance)" .gpu)" 1 "the workload's instance"

step "the report is stored"
expect_ok gv migrations --json
expect_eq "$(jout '[.migrations[].state] | join(",")')" "completed,completed,completed,completed" "states"
m2=$(jout '.migrations[1].id')
expect_api 200 GET "/v1/migrations/$m2"
expect_eq "$(jout .report.result)" ok "report"
expect_eq "$(jout .report.mode)" stopcopy "report mode"
[ "$(jout .report.bytes_stun)" -gt 0 ] || fail "stop-and-copy copied nothing in the stun: $GV_OUT"

wl_finish "$T/wl.out" "${WL[@]}"
no_leaks
gv_done
