#!/usr/bin/env bash
# gpuvisor demo: scripts/demo.sh [BUILD_DIR]   (make demo)
#
# Starts gpuvisord on a temporary state dir and socket and walks through what
# it does: GPUs, profiles, modes, instances in all three modes, a workload
# under `gpuvisor run`, refusals with their reasons, CDI, a live migration
# of a running workload between two vGPUs, events. Stops the daemon and
# removes the temporary dir at the end.
#
# Without an NVIDIA GPU it uses a simulated node (A100-40GB, H100-80GB, L40S).
# With one it uses the real GPU 0 as found and never changes its MIG mode:
# MIG instances are shown only when the GPU is already in MIG mode.
set -euo pipefail

BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$BUILD" 2>/dev/null && pwd)/bin || true
GVD=$BIN/gpuvisord
GVC=$BIN/gpuvisor
for b in "$GVD" "$GVC"; do
	[ -x "$b" ] || { echo "demo: $b is not built (make build)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "demo: needs jq (make deps)" >&2; exit 1; }

T=$(mktemp -d /tmp/gpuvisor-demo.XXXXXX)
SOCK=$T/api.sock
DPID=
cleanup() {
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

B=
N=
if [ -t 1 ]; then
	B=$(tput bold 2>/dev/null || true)
	N=$(tput sgr0 2>/dev/null || true)
fi
heading() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
note() { printf '   (%s)\n' "$*"; }
# gv ARGS: shows the command, runs it, shows a non-zero exit status
gv() {
	printf '%s$ gpuvisor %s%s\n' "$B" "$*" "$N"
	local rc=0
	"$GVC" --socket "$SOCK" "$@" || rc=$?
	[ "$rc" -eq 0 ] || printf '   -> exit status %d\n' "$rc"
	return 0
}
# q ARGS: the CLI quietly, for values the demo needs
q() { "$GVC" --socket "$SOCK" "$@"; }
# mk ARGS: creates an instance, shows the line, prints nothing else; the id
# is left in $ID
mk() {
	local out
	printf '%s$ gpuvisor create %s%s\n' "$B" "$*" "$N"
	if out=$(q create "$@" --json); then
		ID=$(jq -r .id <<<"$out")
		printf 'created %s: %s (%s) on gpu %s%s, device %s\n' "$ID" \
			"$(jq -r .profile <<<"$out")" "$(jq -r .kind <<<"$out")" \
			"$(jq -r .gpu <<<"$out")" \
			"$(jq -r 'if .start == null then "" else " at slot \(.start)" end' <<<"$out")" \
			"$(jq -r .device_uuid <<<"$out")"
		return 0
	fi
	ID=
	return 1
}

# --- start the daemon -------------------------------------------------------
REAL=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
	REAL=1
	DARGS=(--backend nvml)
else
	DARGS=(--backend sim --sim a100-40gb:1,h100-80gb:1,l40s:1)
fi
heading "gpuvisord"

# this build's shim and simulator, whatever the daemon was compiled to expect
[ -d "$BIN/../lib" ] && DARGS+=(--lib-dir "$(cd "$BIN/../lib" && pwd)")
echo "gpuvisord --socket $SOCK --state-dir $T/state --run-dir $T/run ${DARGS[*]}"
"$GVD" --socket "$SOCK" --state-dir "$T/state" --run-dir "$T/run" \
	--catalog "$SRC/data/catalog.json" "${DARGS[@]}" >"$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do
	q version >/dev/null 2>&1 && break
	kill -0 "$DPID" 2>/dev/null || { cat "$T/daemon.log" >&2; exit 1; }
	sleep 0.1
done
q version >/dev/null || { echo "demo: gpuvisord did not start" >&2; cat "$T/daemon.log" >&2; exit 1; }
head -n 3 "$T/daemon.log"
gv version

heading "GPUs (model matched from the catalog by PCI id, name or memory)"
gv gpus

run_workload() {
	# run_workload ID: a sample inference workload on instance ID
	local id=$1
	if [ ! -x "$BIN/gv-infer" ]; then
		note "no $BIN/gv-infer: workloads not built, skipping the sample workload"
		return 0
	fi
	heading "a workload under gpuvisor run (registered while it runs)"
	printf '%s$ gpuvisor run --instance %s -- gv-infer --steps 20 --step-ms 100%s &\n' "$B" "$id" "$N"
	"$GVC" --socket "$SOCK" run --instance "$id" -- "$BIN/gv-infer" --steps 20 --step-ms 100 \
		>"$T/infer.out" 2>&1 &
	local runner=$! i
	for i in $(seq 50); do
		[ "$(q list --json | jq -r --arg id "$id" '.instances[] | select(.id == $id) | .workload != null')" = true ] && break
		sleep 0.1
	done
	# until the shim has charged something (timeslice), at most 3 s
	for i in $(seq 30); do
		[ "$(q list --json | jq -r --arg id "$id" '.instances[] | select(.id == $id) | (.mem_used_bytes // 1) > 0')" = true ] && break
		sleep 0.1
	done
	gv list
	heading "suspend and resume it (the driver's checkpoint API: any CUDA program)"
	gv suspend "$id"
	gv list
	sleep 1
	gv resume "$id"
	local rc=0
	wait "$runner" || rc=$?
	echo "gv-infer exited with status $rc; its output:"
	sed 's/^/   | /' "$T/infer.out"
	gv list
}

migrate_workload() {
	# migrate_workload SRC DST: gv-infer started migratable on instance SRC
	# and moved, while it runs, to the empty instance DST (same profile)
	local src=$1 dst=$2 i
	[ -x "$BIN/gv-infer" ] || return 0
	local args=(--weights-mib 256 --kv-mib-per-step 2 --steps 60 --step-ms 50)
	heading "live migration: a running workload moved from $src to $dst"
	printf '%s$ gpuvisor run --migratable --instance %s -- gv-infer %s%s &\n' "$B" "$src" \
		"${args[*]}" "$N"
	"$GVC" --socket "$SOCK" run --migratable --instance "$src" -- "$BIN/gv-infer" "${args[@]}" \
		>"$T/mig.out" 2>&1 &
	local runner=$!
	for i in $(seq 50); do
		[ "$(q list --json | jq -r --arg id "$src" '.instances[] | select(.id == $id) | (.mem_used_bytes // 0) > 0')" = true ] && break
		sleep 0.1
	done
	sleep 0.5 # a few steps: the KV cache grows while it is copied
	gv migrate "$src" --to "$dst" --downtime-limit 50
	gv list
	local rc=0
	wait "$runner" || rc=$?
	echo "gv-infer exited with status $rc; its checksum, and that of a run never migrated:"
	grep '^checksum' "$T/mig.out" | sed 's/^/   | migrated:       /'
	mkdir -p "$T/shm-ref"
	{ LD_LIBRARY_PATH="$BIN/../lib/sim" GPUVISOR_SIM_SHM_DIR="$T/shm-ref" \
		"$BIN/gv-infer" "${args[@]}" 2>&1 || true; } | grep '^checksum' |
		sed 's/^/   | never migrated: /' || true
	gv migrations
}

if [ "$REAL" = 0 ]; then
	# --- simulated node: all three modes ----------------------------------
	heading "profiles of the H100 (FREE: how many more fit now)"
	gv profiles --gpu 1
	note "the GPU is in passthrough mode: only whole-GPU profiles are free"

	heading "modes: gpu 0 passthrough, gpu 1 MIG, gpu 2 (L40S) timeslice"
	gv mode 0 passthrough
	gv mode 1 mig
	gv mode 2 timeslice
	gv mode 2 mig
	note "the L40S has no MIG"
	gv gpus

	heading "MIG: two 3g.40gb on the H100 (start slots 0 and 4)"
	mk --profile 3g.40gb --gpu 1 --placement 0 && MIG1=$ID
	mk --profile 3g.40gb --gpu 1 --placement 4 && MIG2=$ID
	heading "refused, with the reason: a third 3g.40gb, a placement that is never valid"
	gv create --profile 3g.40gb --gpu 1
	gv create --profile 2g.20gb --gpu 1 --placement 6

	heading "timeslice: two l40s-12c vGPUs on the L40S (12 GiB each, equal size)"
	mk --profile l40s-12c --gpu 2 && TS1=$ID
	mk --profile l40s-12c --gpu 2 && TS2=$ID
	heading "refused: another size on the same GPU (equal-size mode)"
	gv create --profile l40s-24c --gpu 2

	heading "passthrough: the whole A100"
	mk --profile passthrough --gpu 0 && PT=$ID
	gv create --profile passthrough
	gv profiles --gpu 2

	heading "instances"
	gv list
	gv gpus

	heading "refused: a mode change while a GPU has instances"
	gv mode 1 timeslice

	run_workload "$TS1"

	heading "CDI: one device per instance for podman/containerd"
	printf '%s$ gpuvisor cdi --output %s%s\n' "$B" "$T/cdi/gpuvisor.json" "$N"
	q cdi --output "$T/cdi/gpuvisor.json" 2>/dev/null
	jq -c --arg id "$TS1" '.devices[] | select(.name == $id) | .containerEdits.env' \
		"$T/cdi/gpuvisor.json"
	note "podman run --device gpuvisor.io/vgpu=$TS1 ... gets this environment and the mounts"

	migrate_workload "$TS2" "$TS1"

	heading "events"
	gv events

	heading "clean up"
	gv destroy "$MIG1" "$MIG2" "$TS1" "$PT"
	gv list
else
	# --- a real GPU: as found ---------------------------------------------
	mig_mode=$(q gpus --json | jq -r '.gpus[0].mig_mode')
	mode=$(q gpus --json | jq -r '.gpus[0].mode')
	model=$(q gpus --json | jq -r '.gpus[0].model // "unknown"')
	heading "profiles of gpu 0 ($model)"
	gv profiles --gpu 0
	if [ "$mig_mode" = true ]; then
		heading "MIG (gpu 0 is in MIG mode)"
		[ "$mode" = mig ] || gv mode 0 mig
		prof=$(q profiles --gpu 0 --json |
			jq -r '[.profiles[] | select(.kind == "mig" and .free > 0)] | sort_by(.fb_mib) | .[0].name // empty')
		if [ -n "$prof" ] && mk --profile "$prof" --gpu 0; then
			M=$ID
			gv list
			run_workload "$M"
			gv destroy "$M"
		else
			note "no MIG profile fits now on gpu 0"
		fi
	else
		note "gpu 0 is not in MIG mode: skipping MIG instances (the demo never changes MIG mode)"
		heading "timeslice: two vGPUs on gpu 0"
		gv mode 0 timeslice
		prof=$(q profiles --gpu 0 --json |
			jq -r '[.profiles[] | select(.kind == "timeslice" and .max >= 2)] | sort_by(-.fb_mib) | .[0].name // empty')
		if [ -n "$prof" ]; then
			mk --profile "$prof" --gpu 0 && A=$ID
			mk --profile "$prof" --gpu 0 && Bi=$ID
		else
			# a model the catalog does not know: a size instead of a profile
			half=$(q gpus --json | jq -r '.gpus[0].mem_mib / 2 | floor')
			mk --framebuffer "$((half / 2))m" --gpu 0 && A=$ID
			mk --framebuffer "$((half / 2))m" --gpu 0 && Bi=$ID
		fi
		gv list
		heading "refused: a mode change while gpu 0 has instances"
		gv mode 0 passthrough
		[ -n "${A:-}" ] && run_workload "$A"
		gv destroy ${A:+"$A"} ${Bi:+"$Bi"}
		heading "passthrough: the whole GPU"
		gv mode 0 passthrough
		mk --profile passthrough --gpu 0 && P=$ID
		gv create --profile passthrough --gpu 0
		gv list
		[ -n "${P:-}" ] && gv destroy "$P"
		[ "$mode" = passthrough ] || gv mode 0 "$mode"
	fi
	heading "events"
	gv events
fi

heading "stopping gpuvisord"
kill -TERM "$DPID"
wait "$DPID" && echo "gpuvisord stopped" || echo "gpuvisord exited with status $?"
DPID=
