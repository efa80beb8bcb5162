#!/bin/bash
# nvml-instance-check.sh BUILD_DIR: NVML inside a timeslice instance on a real GPU
# (not part of CTest; docs/shim.md "NVML inside an instance"). A daemon on
# the node's GPUs (NVML), GPU 0 in gpuvisor's timeslice mode (no GPU
# setting changes) with one instance of its smallest timeslice profile of
# at least 4 GiB; in it, gv-infer holds 1 GiB while nvml-query (through the
# NVML interposer in the shim's directory) and nvidia-smi look. nvml-query
# must see one GPU, total = the partition, used >= 1 GiB and only the
# instance's process; what nvidia-smi shows is printed (it may read the
# driver by other ways than NVML's exported entry points). nvml-query
# outside gpuvisor is printed first, for comparison. Under a minute.
set -u
build=$(cd "${1:-build}" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/daemon-lib.sh"
gv_daemon --backend nvml
echo "== nvml-query outside gpuvisor (the driver's NVML)"
"$build/bin/nvml-query" || fail "nvml-query on the driver's NVML"
gv mode 0 timeslice >/dev/null || fail "cannot set GPU 0 to gpuvisor's timeslice mode"
read -r profile fb < <(gv profiles --gpu 0 --json | python3 -c '
import json, sys
ps = [p for p in json.load(sys.stdin)["profiles"]
      if p["kind"] == "timeslice" and p["free"] > 0 and p["fb_mib"] >= 4096]
p = min(ps, key=lambda p: p["fb_mib"])
print(p["name"], p["fb_mib"])') || fail "no timeslice profile of 4 GiB or more on GPU 0"
a=$(gv create --profile "$profile" --gpu 0 --json |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') || fail "create $profile"
echo "== $a ($profile, $fb MiB): gv-infer holding 1 GiB, nvml-query and nvidia-smi beside it"
gv run --instance "$a" -- bash -c '
"$1" --weights-mib 1024 --kv-mib-per-step 0 --steps 400 --step-ms 50 >/dev/null &
w=$!
sleep 6
"$2" >"$3/q.out" 2>&1; echo "rc=$?" >>"$3/q.out"
{ nvidia-smi; nvidia-smi --query-gpu=index,uuid,memory.total,memory.used,memory.free --format=csv
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv; } >"$3/smi.out" 2>&1
kill $w; wait' wl "$build/bin/gv-infer" "$build/bin/nvml-query" "$T" >"$T/wl.out" 2>&1 ||
	echo "(workload exit status $?)"
cat "$T/q.out" 2>/dev/null || fail "nvml-query did not run: $(cat "$T/wl.out")"
echo "-- nvidia-smi in $a"
cat "$T/smi.out"
rc=0
check() { grep -q "$1" "$T/q.out" || { echo "FAIL: nvml-query in $a: $2"; rc=1; }; }
check '^rc=0$' "its own checks"
check '^count: 1$' "count is not 1"
check "^gpu 0: memory total=$((fb * 1024 * 1024)) " "total is not the partition ($fb MiB)"
check '^gpu 0: processes=1$' "not exactly the instance's one process"
used=$(sed -n 's/^gpu 0: memory total=[0-9]* used=\([0-9]*\) .*/\1/p' "$T/q.out")
[ -n "$used" ] && [ "$used" -ge $((1024 * 1024 * 1024)) ] ||
	{ echo "FAIL: used ${used:-?} is less than gv-infer's 1 GiB"; rc=1; }
gv list
gv destroy --force "$a" >/dev/null
[ $rc = 0 ] && echo "nvml-instance-check: PASS" || echo "nvml-instance-check: FAIL"
exit $rc
