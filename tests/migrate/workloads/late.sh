# shellcheck shell=sh disable=SC2034,SC2154 # sourced by run-migrate.sh (reads wl_*, sets dir, wl)
# late: gv-infer on a MIG instance (M1) of a simulated A100; a second
# instance (M2) is added to the node file while it runs, and becomes its
# destination (libcudasim opens a device by UUID after cuInit). Its
# checksum must be that of a run that was never migrated.
wl_prog=bin/gv-infer
wl_args="--weights-mib 16 --kv-mib-per-step 1 --act-kib 256"
wl_kind=steps
# Left out: every other cell (what this workload adds is a destination
# that appears after the start; the modes, faults and refusals take the
# same path as infer's, the same program).
wl_scenarios="precopy"

M1=MIG-11111111-0000-4000-8000-000000000001
M2=MIG-22222222-0000-4000-8000-000000000002
late_gpu='{ "model": "a100-40gb", "uuid": "GPU-99999999-0000-4000-8000-000000000009", "mig_mode": true, "mig_instances": ['
late_one="{ \"profile\": \"1g.5gb\", \"start\": 0, \"uuid\": \"$M1\" }"
late_two="{ \"profile\": \"1g.5gb\", \"start\": 1, \"uuid\": \"$M2\" }"

# a node with M1 only; the workload runs there and may move to M2
wl_prepare() {
	node="$dir/node.json"
	echo "{ \"version\": 1, \"gpus\": [ $late_gpu $late_one ] } ] }" >"$node"
	export GPUVISOR_SIM_NODE="$node"
	A=$M1 B=$M2
}

# M2 does not exist yet: refused; then it is created (the node file
# replaced whole, in one rename)
wl_started() {
	refused "not yet created" "$M2"
	echo "{ \"version\": 1, \"gpus\": [ $late_gpu $late_one, $late_two ] } ] }" >"$node.new"
	mv "$node.new" "$node"
}

wl_check() { same_checksum; }
