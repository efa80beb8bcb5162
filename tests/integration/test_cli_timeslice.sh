#!/usr/bin/env bash
# Timeslice vGPUs through the CLI: equal-size mode (all vGPUs on a GPU the
# same size), the per-profile maximum, the sum of framebuffers, --framebuffer
# sizes, and what profiles' FREE column says along the way.
. "$(dirname "$0")/lib.sh"
gv_start_daemon
expect_ok gv mode 2 timeslice
expect_ok gv mode 0 timeslice

step "L40S (48 GiB): l40s-8c up to its max of 6, the 7th refused"
expect_eq "$(gv_profile_free 2 l40s-8c)" 6 "free l40s-8c on an empty GPU"
ids=()
for i in 1 2 3 4 5 6; do
	gv_create --profile l40s-8c --gpu 2
	expect_eq "$(jout .kind)" timeslice
	expect_eq "$(jout .fb_mib)" 8192
	expect_eq "$(jout .start)" null "timeslice start"
	ids+=("$GV_ID")
	expect_eq "$(gv_profile_free 2 l40s-8c)" $((6 - i)) "free l40s-8c after $i"
done
expect_rc 1 "l40s-8c" gv create --profile l40s-8c --gpu 2
expect_contains "$GV_ERR" "6"
expect_eq "$(gv_gpu_field 2 .allocated_mib)" $((6 * 8192)) "allocated after 6"
expect_ok gv gpus
expect_contains "$GV_OUT" "48.0 GiB"

step "equal-size mode: another size is refused while l40s-8c instances exist"
expect_ok gv destroy "${ids[@]:1}"
expect_rc 1 "l40s-16c" gv create --profile l40s-16c --gpu 2
expect_contains "$GV_ERR" "equal-size"
expect_eq "$(gv_profile_free 2 l40s-16c)" 0 "free l40s-16c next to an l40s-8c"
expect_eq "$(gv_profile_free 2 l40s-8c)" 5 "free l40s-8c next to one"
# --framebuffer with the same size is the same shape; another size is not
gv_create --framebuffer 8g --gpu 2
expect_eq "$(jout .fb_mib)" 8192 "--framebuffer 8g"
f8=$GV_ID
expect_rc 1 "equal-size" gv create --framebuffer 12g --gpu 2
expect_ok gv destroy "${ids[0]}" "$f8"

step "--framebuffer sizes on an empty GPU"
gv_create --framebuffer 12g --gpu 2
expect_eq "$(jout .fb_mib)" 12288
expect_eq "$(jout .kind)" timeslice
a=$GV_ID
expect_ok gv list
expect_contains "$GV_OUT" "12.0 GiB"
gv_create --framebuffer 12288m --gpu 2
b=$GV_ID
gv_create --framebuffer 12GiB --gpu 2
c=$GV_ID
expect_rc 1 "gpuvisor: " gv create --framebuffer 0.75t --gpu 0
gv_create --framebuffer 12g --gpu 2
d=$GV_ID
# 4 x 12 GiB = 48 GiB: the GPU is full (the reserve, if any, refuses earlier)
expect_rc 1 "gpuvisor: " gv create --framebuffer 12g --gpu 2
expect_ok gv destroy "$a" "$b" "$c" "$d"

step "A100-40GB: a100-4c up to 10, a100-8c up to 5"
ids=()
for i in $(seq 1 10); do
	gv_create --profile a100-4c --gpu 0
	ids+=("$GV_ID")
done
expect_rc 1 "a100-4c" gv create --profile a100-4c --gpu 0
expect_rc 1 "a100-4c" gv create --profile a100-4c
expect_ok gv destroy "${ids[@]}"
ids=()
for i in 1 2 3 4 5; do
	gv_create --profile a100-8c
	expect_eq "$(jout .gpu)" 0 "a100-8c lands on the A100"
	ids+=("$GV_ID")
done
expect_rc 1 "a100-8c" gv create --profile a100-8c
expect_ok gv destroy "${ids[@]}"

step "placement policy: pack and spread between two timeslice GPUs of a kind"
# there is one A100 and one L40S: an l40s profile has one GPU either way;
# --spread must still be accepted and place it
gv_create --profile l40s-4c --spread
expect_eq "$(jout .gpu)" 2
expect_ok gv destroy "$GV_ID"

step "kind mismatches"
expect_rc 1 "gpuvisor: " gv create --profile 1g.5gb --gpu 0
expect_rc 1 "gpuvisor: " gv create --profile l40s-8c --gpu 0
expect_rc 1 "gpuvisor: " gv create --profile a100-8c --gpu 2
expect_rc 1 "gpuvisor: " gv create --profile a100-8c --gpu 0 --placement 0
expect_eq "$(gv list --json | jq '.instances | length')" 0 "nothing left behind"
gv_done
