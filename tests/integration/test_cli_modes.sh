#!/usr/bin/env bash
# GPU modes through the CLI: passthrough / timeslice / mig, mode changes and
# their refusal (with the reason) while instances exist, passthrough
# exclusivity, and modes and instances surviving a daemon restart.
. "$(dirname "$0")/lib.sh"
gv_start_daemon

step "gpus: three simulated GPUs, matched to their models"
expect_ok gv gpus
header=$(printf '%s\n' "$GV_OUT" | head -n 1)
for col in GPU NAME MODEL MODE MEMORY UUID; do
	expect_contains "$header" "$col" "gpus header"
done
expect_contains "$GV_OUT" "a100-40gb"
expect_contains "$GV_OUT" "h100-80gb"
expect_contains "$GV_OUT" "l40s"
expect_contains "$GV_OUT" "40.0 GiB" "A100 memory in GiB"
expect_eq "$(printf '%s\n' "$GV_OUT" | wc -l)" 4 "gpus table lines"
expect_not_contains "$GV_OUT" "unknown model"

step "mode changes on an empty GPU"
for m in timeslice mig passthrough mig timeslice passthrough; do
	expect_ok gv mode 0 "$m"
	expect_eq "$GV_OUT" "gpu 0: mode $m"
	expect_eq "$(gv_gpu_field 0 .mode)" "$m" "gpu 0 mode"
	if [ "$m" = mig ]; then
		expect_eq "$(gv_gpu_field 0 .mig_mode)" true "mig_mode in mig"
	else
		expect_eq "$(gv_gpu_field 0 .mig_mode)" false "mig_mode in $m"
	fi
done
# the L40S has no MIG
expect_eq "$(gv_gpu_field 2 .mig_capable)" false
expect_rc 1 "gpuvisor: " gv mode 2 mig
expect_eq "$(gv_gpu_field 2 .mode)" passthrough "l40s mode after refusal"
# by UUID
uuid2=$(gv_gpu_field 2 .uuid)
expect_ok gv mode "$uuid2" timeslice
expect_eq "$(gv_gpu_field 2 .mode)" timeslice "mode set by UUID"
expect_rc 1 "gpuvisor: " gv mode 7 timeslice
expect_rc 1 "gpuvisor: " gv mode GPU-00000000-0000-0000-0000-000000000000 timeslice

step "mode change refused while instances exist, with the reason"
gv_create --profile l40s-12c --gpu 2
t1=$GV_ID
gv_create --profile l40s-12c --gpu 2
t2=$GV_ID
for m in passthrough mig; do
	expect_rc 1 "gpuvisor: " gv mode 2 "$m"
	expect_contains "$GV_ERR" "$t1"
	expect_contains "$GV_ERR" "$t2"
	expect_contains "$GV_ERR" "destroy"
done
expect_eq "$(gv_gpu_field 2 .mode)" timeslice "mode kept"
expect_eq "$(gv_gpu_field 2 .instances)" 2 "instances kept"
# the same mode again changes nothing and is not refused
expect_ok gv mode 2 timeslice

step "passthrough: one instance owns the whole GPU"
expect_ok gv mode 1 passthrough
gv_create --profile passthrough --gpu 1
p1=$GV_ID
expect_eq "$(jout .kind)" passthrough
expect_eq "$(jout .fb_mib)" "$(gv_gpu_field 1 .mem_mib)" "passthrough framebuffer"
expect_eq "$(jout .device_uuid)" "$(gv_gpu_field 1 .uuid)" "passthrough device"
expect_rc 1 "passthrough" gv create --profile passthrough --gpu 1
expect_rc 1 "gpuvisor: " gv create --profile h100-8c --gpu 1
expect_rc 1 "gpuvisor: " gv create --profile 3g.40gb --gpu 1
expect_eq "$(gv_gpu_field 1 .instances)" 1 "only the passthrough instance"
expect_eq "$(gv_profile_free 1 passthrough)" 0 "passthrough free when taken"
# a passthrough request without a GPU lands on the free passthrough GPU (0)
gv_create --profile passthrough
expect_eq "$(jout .gpu)" 0 "passthrough placed on the free GPU"
p0=$GV_ID
# nothing left: both passthrough GPUs are taken, the L40S is timeslice
expect_rc 1 "passthrough" gv create --profile passthrough
expect_rc 1 "$p1" gv mode 1 mig
# timeslice on a passthrough GPU is refused
expect_ok gv destroy "$p0"
expect_rc 1 "gpuvisor: " gv create --profile a100-10c --gpu 0

step "all three modes at once, then a restart keeps them"
expect_ok gv mode 0 mig
gv_create --profile 3g.20gb --gpu 0 --placement 4
m1=$GV_ID
expect_ok gv list
for id in "$t1" "$t2" "$p1" "$m1"; do
	expect_contains "$GV_OUT" "$id " "list"
done
expect_contains "$GV_OUT" "mig"
expect_contains "$GV_OUT" "timeslice"
expect_contains "$GV_OUT" "passthrough"
before=$(gv list --json | jq -c '[.instances[] | {id, gpu, profile, start, device_uuid}] | sort_by(.id)')
gv_restart_daemon
after=$(gv list --json | jq -c '[.instances[] | {id, gpu, profile, start, device_uuid}] | sort_by(.id)')
expect_eq "$after" "$before" "instances after a restart"
expect_eq "$(gv_gpu_field 0 .mode)" mig "gpu 0 mode after restart"
expect_eq "$(gv_gpu_field 1 .mode)" passthrough "gpu 1 mode after restart"
expect_eq "$(gv_gpu_field 2 .mode)" timeslice "gpu 2 mode after restart"
gv_restart_daemon --kill9
after=$(gv list --json | jq -c '[.instances[] | {id, gpu, profile, start, device_uuid}] | sort_by(.id)')
expect_eq "$after" "$before" "instances after kill -9 and restart"

step "events record the mode changes and refusals change nothing"
expect_ok gv events --json
expect_contains "$(jout '[.events[].kind] | join(" ")')" "gpu.mode"
expect_ok gv destroy "$t1" "$t2" "$p1" "$m1"
expect_ok gv list
expect_eq "$GV_OUT" "no instances"
for g in 0 1 2; do
	expect_ok gv mode "$g" passthrough
done
gv_done
