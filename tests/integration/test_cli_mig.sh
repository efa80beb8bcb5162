#!/usr/bin/env bash
# MIG through the CLI: every documented layout of A100-40GB (gpu 0) and
# H100-80GB (gpu 1) with explicit placements (shared/reference/mig.md), one
# more instance refused each time with the reason, and the refusals for
# placements that are never valid, overlaps and unknown names.
. "$(dirname "$0")/lib.sh"
gv_start_daemon

expect_ok gv mode 0 mig
expect_ok gv mode 1 mig
expect_eq "$(gv_gpu_field 0 .mig_mode)" true "gpu 0 mig_mode"
expect_eq "$(gv_gpu_field 1 .mode)" mig "gpu 1 mode"

# layout GPU "LABEL" EXTRA PROFILE@START...: creates the instances at their
# starts, checks what list/gpus/profiles say, then one more EXTRA must be
# refused (exit 1, reason on stderr) and the layout is torn down.
layout() {
	local gpu=$1 label=$2 extra=$3 spec ids=() n=0
	shift 3
	step "gpu $gpu: $label"
	for spec in "$@"; do
		local prof=${spec%@*} start=${spec#*@}
		gv_create --profile "$prof" --gpu "$gpu" --placement "$start"
		expect_eq "$(jout .start)" "$start" "start of $spec"
		expect_eq "$(jout .gpu)" "$gpu" "gpu of $spec"
		expect_eq "$(jout .profile)" "$prof" "profile of $spec"
		expect_eq "$(jout .kind)" mig "kind of $spec"
		expect_contains "$(jout .device_uuid)" "MIG-" "device of $spec"
		ids+=("$GV_ID")
		n=$((n + 1))
	done
	expect_eq "$(gv_gpu_field "$gpu" .instances)" "$n" "instances on gpu $gpu"
	expect_eq "$(gv_profile_free "$gpu" "$extra")" 0 "free $extra after $label"
	expect_rc 1 "gpuvisor: " gv create --profile "$extra" --gpu "$gpu"
	expect_contains "$GV_ERR" "$extra" "refusal of one more $extra"
	expect_eq "$(gv_gpu_field "$gpu" .instances)" "$n" "instances after the refusal"
	# the human table lists each instance with its start
	expect_ok gv list
	for spec in "${ids[@]}"; do
		expect_contains "$GV_OUT" "$spec " "gv list"
	done
	expect_ok gv destroy "${ids[@]}"
	expect_eq "$(gv_gpu_field "$gpu" .instances)" 0 "instances after destroy"
}

# A100-40GB: 1g.5gb(1 slice, starts 0-6, max 7) 1g.10gb(2; 0,2,4,6; 4)
# 2g.10gb(2; 0,2,4; 3) 3g.20gb(4; 0,4; 2) 4g.20gb(4; 0; 1) 7g.40gb(8; 0; 1)
layout 0 "7x 1g.5gb" 1g.5gb 1g.5gb@0 1g.5gb@1 1g.5gb@2 1g.5gb@3 1g.5gb@4 1g.5gb@5 1g.5gb@6
layout 0 "4g@0 + 3g@4" 3g.20gb 4g.20gb@0 3g.20gb@4
layout 0 "3g@0 + 3g@4" 3g.20gb 3g.20gb@0 3g.20gb@4
layout 0 "2g@0 + 2g@2 + 2g@4 + 1g@6" 1g.5gb 2g.10gb@0 2g.10gb@2 2g.10gb@4 1g.5gb@6
layout 0 "1g.10gb x4 at 0,2,4,6" 1g.10gb 1g.10gb@0 1g.10gb@2 1g.10gb@4 1g.10gb@6
layout 0 "3g@4 + 2g@0 + 1g@2 + 1g@3" 1g.5gb 3g.20gb@4 2g.10gb@0 1g.5gb@2 1g.5gb@3
layout 0 "7g" 1g.5gb 7g.40gb@0
layout 0 "3g@0 + 1g.10gb@4 + 1g.10gb@6" 2g.10gb 3g.20gb@0 1g.10gb@4 1g.10gb@6

# H100-80GB: 1g.10gb(1; 0-6; 7) 1g.20gb(2; 0,2,4,6; 4) 2g.20gb(2; 0,2,4; 3)
# 3g.40gb(4; 0,4; 2) 4g.40gb(4; 0; 1) 7g.80gb(8; 0; 1)
layout 1 "3g.40gb@0 + 3g.40gb@4" 3g.40gb 3g.40gb@0 3g.40gb@4
layout 1 "7x 1g.10gb" 1g.10gb 1g.10gb@6 1g.10gb@5 1g.10gb@4 1g.10gb@3 1g.10gb@2 1g.10gb@1 1g.10gb@0
layout 1 "4g.40gb@0 + 3g.40gb@4" 1g.10gb 4g.40gb@0 3g.40gb@4
layout 1 "2g.20gb x3 + 1g.10gb@6" 1g.10gb 2g.20gb@0 2g.20gb@2 2g.20gb@4 1g.10gb@6
layout 1 "1g.20gb x4" 1g.20gb 1g.20gb@0 1g.20gb@2 1g.20gb@4 1g.20gb@6
layout 1 "7g.80gb" 1g.10gb 7g.80gb@0
layout 1 "3g.40gb@4 + 2g.20gb@0 + 1g.10gb@2 + 1g.10gb@3" 1g.10gb 3g.40gb@4 2g.20gb@0 1g.10gb@2 1g.10gb@3

step "placements that are never valid"
expect_rc 1 "valid starts" gv create --profile 3g.20gb --gpu 0 --placement 2
expect_contains "$GV_ERR" "3g.20gb"
expect_rc 1 "valid starts" gv create --profile 2g.10gb --gpu 0 --placement 6
expect_rc 1 "slot 7" gv create --profile 1g.5gb --gpu 0 --placement 7
expect_rc 1 "gpuvisor: " gv create --profile 1g.5gb --gpu 0 --placement 8
expect_rc 1 "valid starts" gv create --profile 4g.40gb --gpu 1 --placement 4
expect_eq "$(gv_gpu_field 0 .instances)" 0 "nothing created by refusals"

step "overlap, count limits, +me"
gv_create --profile 3g.20gb --gpu 0 --placement 0
a=$GV_ID
expect_rc 1 "overlaps" gv create --profile 2g.10gb --gpu 0 --placement 2
expect_contains "$GV_ERR" "$(printf '3g.20gb')"
gv_create --profile 1g.5gb+me --gpu 0 --placement 4
b=$GV_ID
expect_rc 1 "1g.5gb+me" gv create --profile 1g.5gb+me --gpu 0 --placement 5
# the daemon chooses a free valid start when none is given
gv_create --profile 1g.5gb --gpu 0
expect_contains " 5 6 " " $(jout .start) " "automatic start"
c=$GV_ID
expect_ok gv destroy "$a" "$b" "$c"

step "MIG-backed vGPU (h100-3-40c lives in a 3g.40gb)"
gv_create --profile h100-3-40c --gpu 1 --placement 4
expect_eq "$(jout .kind)" mig-vgpu
expect_eq "$(jout .start)" 4
v=$GV_ID
gv_create --profile 3g.40gb --gpu 1 --placement 0
w=$GV_ID
expect_rc 1 "gpuvisor: " gv create --profile h100-3-40c --gpu 1
expect_ok gv destroy "$v" "$w"

step "by UUID, unknown names"
uuid=$(gv_gpu_field 1 .uuid)
gv_create --profile 7g.80gb --gpu "$uuid"
expect_eq "$(jout .gpu)" 1 "gpu chosen by UUID"
expect_eq "$(jout .gpu_uuid)" "$uuid"
expect_ok gv destroy "$GV_ID"
expect_rc 1 "9g.99gb" gv create --profile 9g.99gb --gpu 0
expect_rc 1 "9g.99gb" gv create --profile 9g.99gb
expect_rc 1 "gpuvisor: " gv create --profile 1g.5gb --gpu 9
expect_rc 1 "GPU-00000000-0000-0000-0000-000000000000" \
	gv create --profile 1g.5gb --gpu GPU-00000000-0000-0000-0000-000000000000
# an A100 profile on the H100 is unknown there
expect_rc 1 "1g.5gb" gv create --profile 1g.5gb --gpu 1
# a MIG profile on a GPU that is not in MIG mode
expect_rc 1 "gpuvisor: " gv create --profile 3g.40gb --gpu 2

step "mode changes refused while MIG instances exist"
gv_create --profile 3g.40gb --gpu 1 --placement 4
expect_rc 1 "$GV_ID" gv mode 1 timeslice
expect_eq "$(gv_gpu_field 1 .mode)" mig "mode after the refusal"
expect_ok gv destroy "$GV_ID"
expect_ok gv mode 1 passthrough
expect_eq "$(gv_gpu_field 1 .mig_mode)" false "mig_mode after leaving mig"
gv_done
