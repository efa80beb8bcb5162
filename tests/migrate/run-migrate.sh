#!/bin/sh
# run-migrate.sh BUILD_DIR CASE CTL_TOOL ACCT_TOOL
# Runs a sample workload under the shim in migration mode on a simulated
# node of two H100s (node2.json: A and B) and migrates it with gv-mig-ctl
# while it runs. Every case ends by comparing the workload's checksum with
# a run that was never migrated; after every migration, the device the
# workload left holds none of its memory (the simulator's device accounting
# per process), and after every refused or aborted one the other device
# holds none.
#   infer           gv-infer A -> B with instance accounting files (the
#                   destination charged, the source uncharged), then B -> A
#                   while a second connection sees it migrating and cannot
#                   start another migration
#   train           gv-train A -> B -> A
#   back_and_forth  gv-train, 20 migrations alternating A and B
#   stopcopy        gv-infer A -> B -> A in stop-and-copy mode
#   faults          gv-infer: an injected fault in each phase aborts, the
#                   workload stays on A; then A -> B succeeds
#   drop            gv-infer: the daemon's connection drops mid-migration:
#                   aborted, the workload stays on A; then A -> B
#   refuse          gv-infer: destination partition too small, unknown
#                   device: refused, nothing changed
#   same            gv-infer A -> A (two instances of one GPU) -> B
#   probe           gv-mig-probe: a workload with managed memory is not
#                   migratable (hello says why, migrate refuses); an entry
#                   point the migration layer does not handle is refused;
#                   the sub-allocator packs small allocations in 2 MiB regions
#   ptsz            gv-mig-probe ptsz: a workload using the per-thread-stream
#                   entry points, 2-D/3-D copies and sets and
#                   cuLaunchKernelEx is migratable, moves A -> B, and finds
#                   its data, stream answers and objects intact there
#   late            gv-infer on a MIG instance of a simulated A100; a second
#                   instance is added to the node file while it runs, and
#                   the workload moves there (libcudasim opens a device by
#                   UUID after cuInit)
# Each case runs a workload with a bounded number of steps (--step-ms 20),
# long enough for its migrations; the test then waits for it to finish.
set -eu
# one compound command: parsed whole before it runs (safe to edit meanwhile)
{
build=$1 case=$2 ctl=$3 acct_tool=$4
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/gv-migrate-test.XXXXXX")
wl_pid=
cleanup() {
	[ -n "$wl_pid" ] && kill "$wl_pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
node="$here/node2.json"
A=GPU-aaaaaaaa-0000-4000-8000-000000000001
B=GPU-bbbbbbbb-0000-4000-8000-000000000002
export GPUVISOR_SIM_SHM_DIR="$dir" GPUVISOR_SIM_NODE="$node"
export GV_KERNEL_MODULE="$build/lib/gv_kernels.so"
unset GPUVISOR_ACCT GPUVISOR_REAL_LIBCUDA GPUVISOR_CTL CUDA_VISIBLE_DEVICES GPUVISOR_DEVICE
sock="$dir/ctl.sock"

fail() {
	echo "FAIL: $*"
	echo "--- workload stderr"
	cat "$dir/wl.err" 2>/dev/null || true
	exit 1
}

case $case in
train | back_and_forth)
	wl="$build/bin/gv-train"
	args="--params-mib 6 --steps 100000 --step-ms 20"
	;;
*)
	wl="$build/bin/gv-infer"
	args="--weights-mib 16 --kv-mib-per-step 1 --act-kib 256 --steps 100000 --step-ms 20"
	;;
esac

# probe_ready: waits (60 s at most) until gv-mig-probe ($wl_pid) printed
# "ready" to $dir/probe.out
probe_ready() {
	local i=0
	until grep -q '^ready' "$dir/probe.out"; do
		i=$((i + 1))
		[ $i -lt 3000 ] || fail "the probe was not ready in 60 s"
		kill -0 "$wl_pid" 2>/dev/null || fail "the probe exited: $(cat "$dir/probe.out")"
		sleep 0.02
	done
}

start_wl() { # STEPS [extra env...]
	n=$1
	shift
	a=$(echo "$args" | sed "s/--steps 100000/--steps $n/")
	env LD_LIBRARY_PATH="$build/lib/shim" GPUVISOR_REAL_LIBCUDA="$build/lib/libcudasim.so" \
		CUDA_VISIBLE_DEVICES="$A,$B" GPUVISOR_DEVICE="$A" GPUVISOR_CTL="$sock" \
		GPUVISOR_TEST_FAULTS=1 "$@" "$wl" $a --verbose >"$dir/wl.out" 2>"$dir/wl.err" &
	wl_pid=$!
	"$ctl" hello "$sock" >"$dir/hello" || fail "no control socket"
	grep -q '"migratable":true' "$dir/hello" || fail "not migratable: $(cat "$dir/hello")"
	# the socket exists from cuInit on: wait for the first step, so that
	# the device memory the cases migrate is allocated
	i=0
	until grep -q 'step 1\b' "$dir/wl.err"; do
		i=$((i + 1))
		[ $i -lt 3000 ] || fail "the workload made no step in 60 s"
		kill -0 "$wl_pid" 2>/dev/null || fail "the workload exited"
		sleep 0.02
	done
}

reference() { # STEPS
	a=$(echo "$args" | sed "s/--steps 100000/--steps $1/; s/--step-ms 20//")
	LD_LIBRARY_PATH="$build/lib/sim" "$wl" $a | grep '^checksum:'
}

on() { # DEVICE: the workload says it runs there
	"$ctl" hello "$sock" >"$dir/hello" || fail "hello failed"
	grep -q "\"device\":\"$1\"" "$dir/hello" || fail "expected on $1: $(cat "$dir/hello")"
}

devmem() { # UUID
	"$ctl" devmem "$node" "$1" "$wl_pid"
}

holds_none() { # UUID
	m=$(devmem "$1")
	[ "$m" = 0 ] || fail "$1 still holds $m bytes of the workload"
}

holds_some() { # UUID
	m=$(devmem "$1")
	[ "$m" != 0 ] || fail "$1 holds nothing of the workload"
}

migrate() { # TO [MODE [INJECT [ACCT]]]
	"$ctl" migrate "$sock" "$@" >"$dir/mig.out" || fail "migration to $1 failed: $(cat "$dir/mig.out")"
	grep -q '"result":"ok"' "$dir/mig.out" || fail "no ok report: $(cat "$dir/mig.out")"
}

refused() { # WHAT TO [MODE [INJECT [ACCT]]]
	what=$1
	shift
	if "$ctl" migrate "$sock" "$@" >"$dir/mig.out"; then
		fail "$what: the migration succeeded: $(cat "$dir/mig.out")"
	fi
	grep -q '"ok":false' "$dir/mig.out" || fail "$what: no error line: $(cat "$dir/mig.out")"
	echo "$what: $(cut -c1-200 "$dir/mig.out")"
}

finish() { # STEPS
	wait "$wl_pid" || fail "the workload failed"
	wl_pid=
	got=$(grep '^checksum:' "$dir/wl.out")
	want=$(reference "$1")
	echo "migrated: $got"
	echo "never:    $want"
	[ -n "$want" ] && [ "$got" = "$want" ] || fail "checksums differ"
}

case $case in
infer)
	"$acct_tool" "$dir/a.acct" $((1024 * 1024 * 1024))
	"$acct_tool" "$dir/b.acct" $((1024 * 1024 * 1024))
	start_wl 150 GPUVISOR_ACCT="$dir/a.acct"
	on "$A"
	migrate "$B" precopy - "$dir/b.acct"
	on "$B"
	holds_none "$A"
	holds_some "$B"
	[ "$("$ctl" acct "$dir/a.acct" "$wl_pid")" = 0 ] || fail "source partition still charged"
	[ "$("$ctl" acct "$dir/b.acct" "$wl_pid")" != 0 ] || fail "destination partition not charged"
	grep -o '"stop":"[a-z-]*"\|"rounds":[0-9]*\|"downtime_ms":[0-9.]*' "$dir/mig.out" | tr '\n' ' '
	echo
	# while a migration runs (held 2 s by the "delay" test fault), another
	# connection gets hello (migrating) and a refused second migration
	"$ctl" migrate "$sock" "$A" precopy delay >"$dir/mig1.out" &
	mig=$!
	i=0
	until "$ctl" hello "$sock" | grep -q '"migrating":true'; do
		i=$((i + 1))
		[ $i -lt 500 ] || fail "hello never said migrating"
		sleep 0.01
	done
	"$ctl" migrate "$sock" "$A" >"$dir/mig.out" && fail "a second migration ran at once"
	grep -q 'a migration is already running' "$dir/mig.out" || fail "wrong refusal: $(cat "$dir/mig.out")"
	wait "$mig" || fail "the delayed migration failed: $(cat "$dir/mig1.out")"
	on "$A"
	holds_none "$B"
	finish 150
	;;
train)
	start_wl 150
	migrate "$B"
	on "$B"
	holds_none "$A"
	migrate "$A"
	on "$A"
	holds_none "$B"
	finish 150
	;;
back_and_forth)
	start_wl 600
	i=0
	while [ $i -lt 20 ]; do
		if [ $((i % 2)) = 0 ]; then to=$B from=$A; else to=$A from=$B; fi
		migrate "$to"
		on "$to"
		holds_none "$from"
		i=$((i + 1))
	done
	echo "20 migrations done"
	finish 600
	;;
stopcopy)
	start_wl 150
	migrate "$B" stopcopy
	grep -q '"stop":"stopcopy"' "$dir/mig.out" || fail "not stop-and-copy: $(cat "$dir/mig.out")"
	on "$B"
	holds_none "$A"
	migrate "$A" stopcopy
	on "$A"
	finish 150
	;;
faults)
	start_wl 400
	export GV_MIG_DOWNTIME_MS=1 GV_MIG_MAX_ROUNDS=4
	# (copy:stun in pre-copy mode fires only when the stun finds a dirty chunk:
	# not deterministic; stop-and-copy below always copies in the stun)
	for f in create copy:round1 hash:round2 copy:round2 list:stun hash:stun stun switch; do
		refused "fault $f" "$B" precopy "$f"
		grep -q "injected fault $f" "$dir/mig.out" || fail "fault $f not injected"
		on "$A"
		holds_none "$B"
	done
	refused "fault copy:stun (stopcopy)" "$B" stopcopy copy:stun
	on "$A"
	holds_none "$B"
	unset GV_MIG_DOWNTIME_MS GV_MIG_MAX_ROUNDS
	migrate "$B"
	on "$B"
	holds_none "$A"
	finish 400
	;;
drop)
	start_wl 400
	GV_MIG_DOWNTIME_MS=1 GV_MIG_MAX_ROUNDS=30 "$ctl" drop "$sock" "$B" 1
	# the migration ends (aborted) once the shim notices
	i=0
	while :; do
		"$ctl" hello "$sock" >"$dir/hello"
		grep -q '"migrating":false' "$dir/hello" && break
		i=$((i + 1))
		[ $i -lt 3000 ] || fail "the migration did not end after the drop"
		sleep 0.02
	done
	on "$A"
	holds_none "$B"
	migrate "$B"
	on "$B"
	holds_none "$A"
	finish 400
	;;
same)
	start_wl 150
	migrate "$A"
	on "$A"
	holds_some "$A"
	holds_none "$B"
	migrate "$B"
	on "$B"
	holds_none "$A"
	finish 150
	;;
probe)
	probe="$build/tests/migrate/gv-mig-probe"
	run_probe() {
		env LD_LIBRARY_PATH="$build/lib/shim" GPUVISOR_REAL_LIBCUDA="$build/lib/libcudasim.so" \
			CUDA_VISIBLE_DEVICES="$A,$B" GPUVISOR_DEVICE="$A" GPUVISOR_CTL="$sock" "$probe" "$@"
	}
	run_probe refuse >"$dir/probe.out" 2>"$dir/wl.err" || fail "probe refuse: $(cat "$dir/probe.out")"
	grep -q 'cuStreamAddCallback is not supported in migration mode' "$dir/wl.err" ||
		fail "the refusal was not logged"
	run_probe suballoc >"$dir/probe.out" 2>"$dir/wl.err" || fail "probe suballoc: $(cat "$dir/probe.out")"
	mkfifo "$dir/in"
	run_probe taint <"$dir/in" >"$dir/probe.out" 2>"$dir/wl.err" &
	wl_pid=$!
	exec 3>"$dir/in"
	probe_ready # its managed allocation is made: hello must see it
	"$ctl" hello "$sock" >"$dir/hello" || fail "no control socket"
	echo "hello: $(cat "$dir/hello")"
	grep -q '"migratable":false' "$dir/hello" || fail "managed memory left it migratable"
	grep -q 'managed memory' "$dir/hello" || fail "no reason"
	refused "not migratable" "$B"
	grep -q 'not migratable: the workload allocated managed memory' "$dir/mig.out" || fail "wrong reason"
	exec 3>&-
	wait "$wl_pid" || fail "the probe failed"
	wl_pid=
	;;
ptsz)
	mkfifo "$dir/in"
	env LD_LIBRARY_PATH="$build/lib/shim" GPUVISOR_REAL_LIBCUDA="$build/lib/libcudasim.so" \
		CUDA_VISIBLE_DEVICES="$A,$B" GPUVISOR_DEVICE="$A" GPUVISOR_CTL="$sock" \
		"$build/tests/migrate/gv-mig-probe" ptsz <"$dir/in" >"$dir/probe.out" 2>"$dir/wl.err" &
	wl_pid=$!
	exec 3>"$dir/in"
	probe_ready
	"$ctl" hello "$sock" >"$dir/hello" || fail "no control socket"
	grep -q '"migratable":true' "$dir/hello" || fail "not migratable: $(cat "$dir/hello")"
	on "$A"
	holds_some "$A"
	migrate "$B"
	on "$B"
	holds_none "$A"
	holds_some "$B"
	echo go >&3
	exec 3>&-
	wait "$wl_pid" || fail "the probe failed after the migration: $(cat "$dir/probe.out")"
	wl_pid=
	grep -q '^ok' "$dir/probe.out" || fail "no ok from the probe"
	! grep -q 'not supported in migration mode' "$dir/wl.err" || fail "an entry point was refused"
	;;
late)
	node="$dir/node.json"
	M1=MIG-11111111-0000-4000-8000-000000000001
	M2=MIG-22222222-0000-4000-8000-000000000002
	gpu='{ "model": "a100-40gb", "uuid": "GPU-99999999-0000-4000-8000-000000000009", "mig_mode": true, "mig_instances": ['
	one="{ \"profile\": \"1g.5gb\", \"start\": 0, \"uuid\": \"$M1\" }"
	two="{ \"profile\": \"1g.5gb\", \"start\": 1, \"uuid\": \"$M2\" }"
	echo "{ \"version\": 1, \"gpus\": [ $gpu $one ] } ] }" >"$node"
	export GPUVISOR_SIM_NODE="$node"
	A=$M1 B=$M2
	start_wl 150
	refused "not yet created" "$M2"
	echo "{ \"version\": 1, \"gpus\": [ $gpu $one, $two ] } ] }" >"$node.new"
	mv "$node.new" "$node"
	migrate "$M2"
	on "$M2"
	holds_none "$M1"
	holds_some "$M2"
	finish 150
	;;
refuse)
	"$acct_tool" "$dir/tiny.acct" $((1024 * 1024))
	start_wl 150
	refused "destination too small" "$B" precopy - "$dir/tiny.acct"
	grep -q 'destination partition too small' "$dir/mig.out" || fail "wrong reason"
	[ "$("$ctl" acct "$dir/tiny.acct" "$wl_pid")" = 0 ] || fail "tiny partition charged"
	refused "unknown device" GPU-cccccccc-0000-4000-8000-000000000003
	on "$A"
	holds_none "$B"
	finish 150
	;;
*)
	echo "unknown case $case"
	exit 2
	;;
esac
echo ok
exit 0
}
