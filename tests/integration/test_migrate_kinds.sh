#!/usr/bin/env bash
# Migration between MIG instances and between passthrough GPUs of the same
# model (H100), with real workloads: same checksums as runs never migrated;
# the instance left behind is destroyed and holds nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate_lib.sh"

mig_setup h100-80gb:2

step "MIG -> MIG"
expect_ok gv mode 0 mig
expect_ok gv mode 1 mig
gv_create --profile 1g.10gb --gpu 0
src=$GV_ID
gv_create --profile 1g.10gb --gpu 1
dst=$GV_ID
sdev=$(gv_instance_field "$src" .device_uuid)
ddev=$(gv_instance_field "$dst" .device_uuid)
WL=("$GV_BIN_DIR/gv-infer" --weights-mib 16 --kv-mib-per-step 1 --steps 150 --step-ms 20)
wl_start "$src" "$T/mig.out" "${WL[@]}"
on_device "$sdev"
# a MIG device created after the workload started is not visible to it
expect_fail "existed when it started" gv migrate "$src" --to 1
expect_eq "$(gv list --json | jq '.instances | length')" 2 "instances after the refusal"
migrate_ok "$src" --to "$dst"
on_device "$ddev"
holds_none "$sdev"
holds_some "$ddev"
expect_eq "$(wl_instance)" "$dst" "the workload's instance"
expect_api 404 GET "/v1/instances/$src"
wl_finish "$T/mig.out" "${WL[@]}"
no_leaks
expect_ok gv destroy "$dst"

step "passthrough -> passthrough"
expect_ok gv mode 0 passthrough
expect_ok gv mode 1 passthrough
gv_create --profile passthrough --gpu 0
src=$GV_ID
WL=("$GV_BIN_DIR/gv-train" --params-mib 6 --steps 150 --step-ms 20)
wl_start "$src" "$T/pt.out" "${WL[@]}"
on_device "$(gpu_uuid 0)"
migrate_ok "$src" --to 1
on_device "$(gpu_uuid 1)"
holds_none "$(gpu_uuid 0)"
dst=$(wl_instance)
expect_eq "$(gv_instance_field "$dst" .kind)" passthrough "kind"
expect_eq "$(gv_instance_field "$dst" .gpu)" 1 "gpu"
migrate_ok "$dst" --to 0 --mode stopcopy
on_device "$(gpu_uuid 0)"
holds_none "$(gpu_uuid 1)"
wl_finish "$T/pt.out" "${WL[@]}"
no_leaks
gv_done
