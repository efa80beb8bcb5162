#!/bin/sh
# migrate-check.sh BUILD_DIR
# Live migration through the shim on a real GPU (not part of CTest; the
# lead runs it with the GPU tests): gv-infer runs under the shim in
# migration mode in one timeslice instance of GPU 0 and is moved to a
# second instance of the same GPU (pre-copy), then back (stop-and-copy).
# Source and destination are the same device: the shim's destination
# memory, modules and streams are made anew in the same primary context.
# Chunks are hashed by the hash kernel on the device and copied device to
# device (docs/migration.md, "Hashing on the GPU"); on the simulator they go
# through the host. Prints, from the reports, the hash throughput next to
# the copy throughput, the stun times, and the checksum against a run
# without the shim. Takes about 40 s (the workload runs 25 s; a 85 s timeout guards it).
#
# GV_MIGRATE_CHECK_SIM=1 runs the same script against libcudasim (a
# simulated node of two H100s), which is how it is checked without a GPU.
# GV_MIGRATE_CHECK_MIB sets the weights (default 2048 on a GPU, 256 on the
# simulator); two instances of twice that must fit on the GPU.
set -eu
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/gv-migrate-check.XXXXXX")
wl_pid=
cleanup() {
	[ -n "$wl_pid" ] && kill "$wl_pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
ctl="$build/tests/migrate/gv-mig-ctl"
acct_tool="$build/tests/shim/gv-shim-acct"
wl="$build/bin/gv-infer"
for f in "$ctl" "$acct_tool" "$wl" "$build/lib/shim/libcuda.so.1"; do
	[ -x "$f" ] || [ -e "$f" ] || { echo "missing $f (build the tree first)"; exit 1; }
done

if [ "${GV_MIGRATE_CHECK_SIM:-0}" = 1 ]; then
	real="$build/lib/libcudasim.so"
	direct_path="$build/lib/sim"
	export GPUVISOR_SIM_SHM_DIR="$dir" GPUVISOR_SIM_NODE="$here/../migrate/node2.json"
	export GV_KERNEL_MODULE="$build/lib/gv_kernels.so"
	uuid=GPU-aaaaaaaa-0000-4000-8000-000000000001
	mib=${GV_MIGRATE_CHECK_MIB:-256}
	steps=60
	echo "device: simulator (libcudasim)"
else
	real=${GPUVISOR_REAL_LIBCUDA:-}
	if [ -z "$real" ]; then
		for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64; do
			[ -e "$d/libcuda.so.1" ] && real="$d/libcuda.so.1" && break
		done
	fi
	[ -n "$real" ] || { echo "no NVIDIA libcuda.so.1 found (set GPUVISOR_REAL_LIBCUDA)"; exit 1; }
	direct_path=$(dirname "$real")
	uuid=$(nvidia-smi --query-gpu=uuid --format=csv,noheader -i 0 | tr -d ' ')
	mib=${GV_MIGRATE_CHECK_MIB:-2048}
	steps=250
	echo "device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader -i 0)"
fi
# the workload runs steps x 100 ms (25 s on a GPU): long enough for both
# migrations; its KV cache grows 2 MiB per step. A partition holds the
# weights, the KV cache and the context's own memory (about 0.5 GiB on an
# H100/H200) with room to spare.
args="--weights-mib $mib --kv-mib-per-step 2 --act-kib 1024 --reads 4"
limit=$(((mib + 2048) * 1024 * 1024))
"$acct_tool" "$dir/a.acct" "$limit"
"$acct_tool" "$dir/b.acct" "$limit"
sock="$dir/ctl.sock"

env LD_LIBRARY_PATH="$build/lib/shim" GPUVISOR_REAL_LIBCUDA="$real" \
	CUDA_VISIBLE_DEVICES="$uuid" GPUVISOR_DEVICE="$uuid" GPUVISOR_CTL="$sock" \
	GPUVISOR_SHIM_DEBUG=1 \
	GPUVISOR_ACCT="$dir/a.acct" timeout 85 "$wl" $args --steps $steps --step-ms 100 \
	>"$dir/wl.out" 2>"$dir/wl.err" &
wl_pid=$!
"$ctl" hello "$sock" >"$dir/hello" || { cat "$dir/wl.err"; exit 1; }
echo "hello: $(cat "$dir/hello")"
grep -q '"migratable":true' "$dir/hello" || { echo "FAIL: not migratable"; exit 1; }
sleep 1 # let the KV cache grow and the steps run

report() { # NAME
	out=$(cat "$dir/mig.out")
	f() { "$ctl" field "$("$ctl" field "$out" report)" "$1"; }
	gbps() { awk -v b="$1" 'BEGIN { printf "%.2f GB/s", b / 1e9 }'; }
	echo "$1: $(f result), stop $(f stop), $(f regions) regions, $(f bytes_total) bytes," \
		"rounds $(f rounds), total $(f total_ms) ms, stun $(f downtime_ms) ms" \
		"(expected $(f expected_downtime_ms) ms)"
	echo "  bytes before / during the stun: $(f bytes_precopy) / $(f bytes_stun)"
	echo "  hash throughput: $(gbps "$(f hash_rate_bps)")  copy throughput: $(gbps "$(f bandwidth_bps)")"
	stun=$(f downtime_ms)
}

rc=0
stun_pre=
if "$ctl" migrate "$sock" "$uuid" precopy - "$dir/b.acct" >"$dir/mig.out"; then
	report "pre-copy to the second instance"
	stun_pre=$stun
else
	echo "FAIL: pre-copy migration: $(cat "$dir/mig.out")"
	rc=1
fi
if "$ctl" migrate "$sock" "$uuid" stopcopy - "$dir/a.acct" >"$dir/mig.out"; then
	report "stop-and-copy back"
	awk -v a="$stun_pre" -v b="$stun" 'BEGIN { if (a != "" && b > 0)
		printf "stun pre-copy / stop-and-copy: %.3f (%.1f ms vs %.1f ms)\n", a / b, a, b }'
else
	echo "FAIL: stop-and-copy migration: $(cat "$dir/mig.out")"
	rc=1
fi
wait "$wl_pid" || { echo "FAIL: the workload failed"; cat "$dir/wl.err"; exit 1; }
wl_pid=
# which hash path the shim took (its debug log line), for each migration
grep 'chunk hashes on the' "$dir/wl.err" | sed 's/^/shim: /'
if [ "${GV_MIGRATE_CHECK_SIM:-0}" != 1 ] && ! grep -q 'chunk hashes on the GPU' "$dir/wl.err"; then
	echo "FAIL: the shim did not hash on the GPU"
	rc=1
fi
got=$(grep '^checksum:' "$dir/wl.out" || true)
want=$(LD_LIBRARY_PATH="$direct_path" "$wl" $args --steps $steps | grep '^checksum:')
echo "migrated twice: $got"
echo "never migrated: $want"
[ -n "$want" ] && [ "$got" = "$want" ] || { echo "FAIL: checksums differ"; exit 1; }
[ $rc = 0 ] && echo "ok"
exit $rc
