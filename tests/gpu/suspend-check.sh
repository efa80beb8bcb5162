#!/bin/bash
# suspend-check.sh BUILD_DIR: the driver-checkpoint path driven by gpuvisord
# on a real GPU (not part of CTest): a daemon on the node's GPUs (NVML), GPU
# 0 in gpuvisor's timeslice mode (no GPU setting changes) with two instances
# of one profile; a PyTorch inference loop (ckpt_torch_loop.py) started with
# plain `gpuvisor run` on the first is suspended (nvidia-smi's memory.used
# is read meanwhile), resumed, and moved to the second instance with
# `gpuvisor migrate --mode checkpoint`; every answer it gives must equal its
# first; then back with `--mode precopy` (its bulk pre-copied by
# gpuvisor-ckpt while it runs: docs/migration.md "Pre-copy on the driver
# path") and suspended and resumed once more (its bulk, imported after the
# pre-copy, made its own again first). Then gv-infer (driver API) moved with
# --mode checkpoint and --mode precopy, its checksum against a run without
# gpuvisor. Prints the CLI's output and the reports; under 3 minutes.
set -u
build=$(cd "${1:-build}" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/daemon-lib.sh"
used() { nvidia-smi --query-gpu=memory.used --format=csv,noheader | head -1; }
gv_daemon --backend nvml
gv mode 0 timeslice >/dev/null || fail "cannot set GPU 0 to gpuvisor's timeslice mode"
idof() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
dest() { python3 -c 'import json, sys; print(json.load(sys.stdin)["destination"])'; }
a=$(gv create --profile h200-35c --gpu 0 --json | idof) || fail "create"
b=$(gv create --profile h200-35c --gpu 0 --json | idof) || fail "create"
rc=0

echo "== PyTorch on $a: suspend, resume, migrate --mode checkpoint to $b"
gv run --instance "$a" -- python3 "$here/ckpt_torch_loop.py" 60 >"$T/torch.out" 2>&1 &
wl=$!
for _ in $(seq 600); do grep -q '^ready' "$T/torch.out" && break; sleep 0.1; done
grep -q '^ready' "$T/torch.out" || fail "the PyTorch loop never started: $(tail -5 "$T/torch.out")"
sleep 2
echo "memory.used running: $(used)"
gv suspend "$a" || rc=1
echo "memory.used suspended: $(used)"
gv list
sleep 2
gv resume "$a" || rc=1
echo "memory.used resumed: $(used)"
sleep 2
gv migrate "$a" --to "$b" --mode checkpoint || rc=1
gv list
sleep 2
echo "-- migrate --mode precopy to a new instance on GPU 0"
gv migrate "$b" --to 0 --mode precopy --json >"$T/pc.json" || rc=1
cat "$T/pc.json"; echo
p=$(dest <"$T/pc.json")
sleep 2
echo "-- suspend and resume $p after the pre-copy (imported bulk made its own first)"
gv suspend "$p" || rc=1
echo "memory.used suspended: $(used)"
gv resume "$p" || rc=1
gv list
wait "$wl" || rc=1
wl=
cat "$T/torch.out"

echo "== gv-infer (driver API) on $p: migrate --mode checkpoint, then --mode precopy, each to a new instance on GPU 0"
args=(--weights-mib 2048 --kv-mib-per-step 8 --steps 100 --step-ms 100)
gv run --instance "$p" -- "$build/bin/gv-infer" "${args[@]}" >"$T/wl.out" 2>"$T/wl.err" &
wl=$!
sleep 3
gv migrate "$p" --to 0 --mode checkpoint --json >"$T/ck2.json" || rc=1
sleep 1
gv migrate "$(dest <"$T/ck2.json")" --to 0 --mode precopy --json >"$T/pc2.json" || rc=1
cat "$T/pc2.json"; echo
gv migrations
wait "$wl" || rc=1
wl=
real=$(ldconfig -p | awk '/libcuda\.so\.1 .*x86-64/ { print $NF; exit }')
got=$(grep '^checksum:' "$T/wl.out")
want=$(LD_LIBRARY_PATH="$(dirname "$real")" "$build/bin/gv-infer" "${args[@]}" | grep '^checksum:')
echo "moved: $got"
echo "never: $want"
[ -n "$want" ] && [ "$got" = "$want" ] || { echo "FAIL: checksums differ"; rc=1; }
gv events | tail -8
[ $rc = 0 ] || { echo "--- daemon log"; tail -20 "$T/daemon.log"; }
[ $rc = 0 ] && echo "suspend-check: PASS" || echo "suspend-check: FAIL"
exit $rc
