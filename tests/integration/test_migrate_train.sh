#!/usr/bin/env bash
# gv-train on a timeslice instance moved 20 times between two H100s by
# gpuvisord while it trains: the checksum of a run never migrated, and
# after every move the GPU it left holds none of its memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate_lib.sh"

mig_two_timeslice h100-10c
U=("$A" "$B")
inst=$GV_ID
WL=("$GV_BIN_DIR/gv-train" --params-mib 6 --steps 800 --step-ms 20)
wl_start "$inst" "$T/wl.out" "${WL[@]}"

step "20 migrations, alternating"
for ((i = 0; i < 20; i++)); do
	to=$(((i + 1) % 2))
	from=$((i % 2))
	kill -0 "$WL_PID" 2>/dev/null || fail "the workload ended after $i migrations: make it longer"
	expect_ok gv migrate "$inst" --to "$to" --max-rounds 3
	on_device "${U[$to]}"
	holds_none "${U[$from]}"
	inst=$(wl_instance)
	expect_eq "$(gv_instance_field "$inst" .gpu)" "$to" "instance of the workload after move $((i + 1))"
done
expect_eq "$(gv migrations --json | jq '[.migrations[] | select(.state == "completed")] | length')" 20 "completed migrations"
expect_eq "$(gv list --json | jq '.instances | length')" 1 "instances"

wl_finish "$T/wl.out" "${WL[@]}"
no_leaks
gv_done
