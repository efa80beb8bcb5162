#!/usr/bin/env bash
# gpuvisor cdi: a CDI spec (kind gpuvisor.io/vgpu) with one device per
# instance, whose env is what `gpuvisor run` gives and whose mounts bind the
# host paths that env names at the same paths (ro, the accounting file and
# the scheduler segment rw). The daemon's admin socket is never in it.
. "$(dirname "$0")/lib.sh"
gv_start_daemon
expect_ok gv mode 1 mig
expect_ok gv mode 2 timeslice
gv_create --profile 3g.40gb --gpu 1 --placement 4
mig=$GV_ID
gv_create --profile l40s-12c --gpu 2
ts=$GV_ID
gv_create --profile passthrough --gpu 0
pt=$GV_ID

step "spec on stdout: version, kind, one device per instance"
expect_ok gv cdi --output -
spec=$GV_OUT
jvalid "$spec"
expect_eq "$(jfield "$spec" .cdiVersion)" 0.5.0 "default cdiVersion"
expect_eq "$(jfield "$spec" .kind)" gpuvisor.io/vgpu
expect_eq "$(jfield "$spec" '[.devices[].name] | sort | join(",")')" \
	"$(printf '%s\n' "$mig" "$ts" "$pt" | sort | paste -sd, -)" "device names"
# CDI device names: [A-Za-z0-9][A-Za-z0-9_.:-]*
expect_eq "$(jfield "$spec" '[.devices[].name | test("^[A-Za-z0-9][A-Za-z0-9_.:-]*$")] | all')" true

step "each device's env and mounts"
for id in "$mig" "$ts" "$pt"; do
	expect_api 200 GET "/v1/instances/$id/env"
	envjson=$GV_OUT
	dev=$(jfield "$spec" ".devices[] | select(.name == \"$id\")")
	envlist=$(jfield "$dev" '.containerEdits.env | join("\n")')
	expect_contains "$envlist" "CUDA_VISIBLE_DEVICES=$(gv_instance_field "$id" .device_uuid)" "$id env"
	expect_contains "$envlist" "GPUVISOR_INSTANCE=$id" "$id env"
	expect_not_contains "$envlist" "LD_LIBRARY_PATH_PREPEND" "$id env"
	prepend=$(jfield "$envjson" '.env.LD_LIBRARY_PATH_PREPEND // empty')
	if [ -n "$prepend" ]; then
		expect_contains "$envlist" "LD_LIBRARY_PATH=$prepend" "$id env"
	fi
	# every variable the daemon gives (but the prepend) is there verbatim
	for kv in $(jfield "$envjson" '.env | to_entries[] | select(.key != "LD_LIBRARY_PATH_PREPEND") | "\(.key)=\(.value)"'); do
		expect_contains "$envlist" "$kv" "$id env"
	done
	# a simulated node: libcudasim gets the daemon's catalog, mounted
	if [ "$(jfield "$envjson" '.env | has("GPUVISOR_SIM_NODE")')" = true ]; then
		expect_api 200 GET /v1/node
		cat=$(jout .catalog)
		expect_contains "$envlist" "GPUVISOR_CATALOG=$cat" "$id env"
		expect_contains "$(jfield "$dev" '.containerEdits.mounts[].hostPath')" "$cat" "$id catalog mount"
	fi
	# mounts: same path inside, bind, ro except the accounting file (rw)
	expect_eq "$(jfield "$dev" '[.containerEdits.mounts[] | .hostPath == .containerPath] | all')" true "$id same paths"
	expect_eq "$(jfield "$dev" '[.containerEdits.mounts[] | .options | index("bind") != null] | all')" true "$id bind"
	acct=$(jfield "$envjson" '.env.GPUVISOR_ACCT // empty')
	sched=$(jfield "$envjson" '.env.GPUVISOR_SCHED // empty')
	for p in $(jfield "$dev" '.containerEdits.mounts[].hostPath'); do
		opt=$(jfield "$dev" ".containerEdits.mounts[] | select(.hostPath == \"$p\") | .options[0]")
		if [ "$p" = "$acct" ]; then
			expect_eq "$opt" rw "$id accounting file mount"
		elif [ "$p" = "$sched" ]; then
			expect_eq "$opt" rw "$id scheduler segment mount"
		else
			expect_eq "$opt" ro "$id mount of $p"
		fi
	done
	for p in $(jfield "$envjson" '.mounts[]?.host') $prepend $acct $sched \
		$(jfield "$envjson" '.env.GPUVISOR_SIM_NODE // empty'); do
		expect_contains "$(jfield "$dev" '.containerEdits.mounts[].hostPath')" "$p" "$id mounts"
	done
	# the admin socket is the admin's: not in the workload's environment
	# (migration part included), not mounted into its container
	expect_eq "$(jfield "$envjson" '[.env, .migration.env] | map(has("GPUVISOR_SOCKET")) | any')" false "$id GPUVISOR_SOCKET in env"
	expect_not_contains "$envjson" "$GV_SOCK" "$id env answer"
	expect_not_contains "$dev" "$GV_SOCK" "$id CDI device"
	expect_not_contains "$envlist" "GPUVISOR_SOCKET" "$id CDI env"
done
expect_not_contains "$spec" "$GV_SOCK" "CDI spec"
expect_not_contains "$spec" "api.sock" "CDI spec"

step "--cdi-version 0.8.0"
expect_ok gv cdi --output - --cdi-version 0.8.0
expect_eq "$(jout .cdiVersion)" 0.8.0
expect_eq "$(jout .devices)" "$(jfield "$spec" .devices)" "same devices in 0.8.0"

step "--output FILE: written atomically, same content, nothing else left"
mkdir -p "$T/cdi"
expect_ok gv cdi --output "$T/cdi/gpuvisor.json"
expect_contains "$GV_OUT" "wrote $T/cdi/gpuvisor.json"
expect_contains "$GV_OUT" "3 devices"
expect_eq "$(jq -S . "$T/cdi/gpuvisor.json")" "$(printf '%s' "$spec" | jq -S .)" "file == stdout"
expect_eq "$(ls -A "$T/cdi")" gpuvisor.json "only the spec in the directory"
expect_eq "$(stat -c %a "$T/cdi/gpuvisor.json")" 644 "spec file mode"
# the directory is created when missing (as /var/run/cdi often is)
expect_ok gv cdi --output "$T/newdir/gpuvisor.json"
jvalid "$(cat "$T/newdir/gpuvisor.json")"
# a destroyed instance leaves the spec on the next write
expect_ok gv destroy "$pt"
expect_ok gv cdi --output "$T/cdi/gpuvisor.json"
expect_eq "$(jq -r '[.devices[].name] | sort | join(",")' "$T/cdi/gpuvisor.json")" \
	"$(printf '%s\n' "$mig" "$ts" | sort | paste -sd, -)" "devices after destroy"
# an unwritable place fails with 1 and leaves nothing behind
expect_rc 1 "gpuvisor: " gv cdi --output /proc/gpuvisor-cdi-test/x.json

step "no instances: an empty device list"
expect_ok gv destroy "$mig" "$ts"
expect_ok gv cdi --output -
expect_eq "$(jout '.devices | length')" 0

if command -v podman >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ -n "${GV_TEST_PODMAN:-}" ]; then
	# podman reads /etc/cdi and /var/run/cdi: two specs naming the same
	# device make it unresolvable, so this spec is the only gpuvisor one
	step "podman resolves the device and a workload runs in the container (GV_TEST_PODMAN=1)"
	ls /etc/cdi/*.json /var/run/cdi/*.json 2>/dev/null | xargs -r grep -l '"gpuvisor.io/vgpu"' |
		grep -q . && skip "another gpuvisor CDI spec is installed"
	expect_ok gv mode 2 timeslice
	gv_create --profile l40s-12c --gpu 2
	spec_file=/var/run/cdi/gpuvisor-test-$$.json
	GV_CLEANUP_FILES+=("$spec_file")
	expect_ok gv cdi --output "$spec_file"
	root=$T/root
	mkdir -p "$root"/{usr,proc,dev,sys,tmp,run,etc}
	for l in lib lib64 bin sbin; do ln -s usr/$l "$root/$l"; done
	pod=(podman --runtime runc --cgroup-manager=cgroupfs run --rm --net=none
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v /usr:/usr:ro
		--device "gpuvisor.io/vgpu=$GV_ID")
	# --rootfs takes the root and then the command: it comes last
	expect_ok "${pod[@]}" --rootfs "$root" /usr/bin/env
	expect_contains "$GV_OUT" "GPUVISOR_INSTANCE=$GV_ID"
	expect_contains "$GV_OUT" "CUDA_VISIBLE_DEVICES=$(jfield "$(gv list --json)" ".instances[] | select(.id == \"$GV_ID\") | .device_uuid")"
	# a workload in the container with the device alone: the full check
	# (checksum, partition, registration, no admin path) is
	# integration.container, which runs whenever podman can
	rm -f "$spec_file"
fi
gv_done
