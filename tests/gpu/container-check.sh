#!/bin/bash
# container-check.sh BUILD_DIR: a container that gets an instance through its
# CDI device alone, on a real GPU (issue 9; not part of CTest). The
# container is tests/gpu/cdi_run.py (what runc makes of the spec: the
# spec's mounts, device nodes and environment, the host's /usr read-only,
# nothing else; podman is not needed on the device machine). The workload's
# image is gv-infer and the kernels nvcc built, under /opt/gv.
#   passthrough: /dev inside holds exactly one /dev/nvidiaN (the instance's
#     GPU), NVML inside counts one GPU, and gv-infer runs a kernel with the
#     checksum of a run outside any container;
#   timeslice: nvml-query inside shows the partition as the total, and
#     nvidia-smi inside is printed (it may read the driver other ways).
# No GPU setting changes: gpuvisor's modes are its own bookkeeping (MIG mode
# is never touched; a GPU in MIG mode is reported and skipped). Under a minute.
set -u
build=$(cd "${1:-build}" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/daemon-lib.sh"
[ "$(nvidia-smi -i 0 --query-gpu=mig.mode.current --format=csv,noheader)" = Enabled ] &&
	{ echo "GPU 0 is in MIG mode: the passthrough and timeslice cases need it off (not changed here)"; exit 0; }
[ -f "$build/lib/gv_kernels.fatbin" ] || fail "no $build/lib/gv_kernels.fatbin (tests/gpu/run's nvcc step)"
img=$T/img
mkdir -p "$img/bin" "$img/lib"
cp "$build/bin/gv-infer" "$build/bin/nvml-query" "$img/bin/"
cp "$build/lib/gv_kernels.fatbin" "$img/lib/"
ctr() { python3 "$here/cdi_run.py" --image "$img" "$T/spec.json" "gpuvisor.io/vgpu=$1" -- "${@:2}"; }
id_of() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
profile_of() { # KIND: the smallest profile of that kind free on GPU 0, with its fb
	gv profiles --gpu 0 --json | python3 -c '
import json, sys
ps = [p for p in json.load(sys.stdin)["profiles"]
      if p["kind"] == sys.argv[1] and p["free"] > 0 and p["fb_mib"] >= 4096]
p = min(ps, key=lambda p: p["fb_mib"])
print(p["name"], p["fb_mib"])' "$1"
}
rc=0
bad() { echo "FAIL: $*"; rc=1; }
gv_daemon --backend nvml
want=$("$build/bin/gv-infer" --steps 4 | grep -o 'checksum: 0x[0-9a-f]*') || fail "gv-infer outside"
echo "== outside any container: $want; /dev/nvidia[0-9]*: $(ls /dev/nvidia[0-9]* | tr '\n' ' ')"

echo "== passthrough instance in a container"
gv mode 0 passthrough >/dev/null || fail "gpuvisor mode passthrough on GPU 0"
read -r prof fb < <(profile_of passthrough) || fail "no passthrough profile on GPU 0"
a=$(gv create --profile "$prof" --gpu 0 --json | id_of) || fail "create $prof"
gv cdi --output "$T/spec.json" >/dev/null || fail "gpuvisor cdi"
python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))
for d in s["devices"]: print(d["name"], [n["path"] for n in d["containerEdits"].get("deviceNodes", [])])' "$T/spec.json"
nodes=$(ctr "$a" /usr/bin/sh -c 'ls /dev/nvidia[0-9]* 2>/dev/null | wc -l')
echo "GPU device nodes inside: $nodes"
[ "$nodes" = 1 ] || bad "the passthrough container sees $nodes GPU nodes, not 1"
ctr "$a" /opt/gv/bin/nvml-query >"$T/q.out" 2>&1
cat "$T/q.out"
grep -qx 'count: 1' "$T/q.out" || bad "NVML inside the passthrough container does not count 1 GPU"
got=$(ctr "$a" /opt/gv/bin/gv-infer --steps 4 2>&1 | tee "$T/infer.out" | grep -o 'checksum: 0x[0-9a-f]*')
cat "$T/infer.out"
[ "$got" = "$want" ] || bad "gv-infer inside: '$got', outside '$want'"
gv destroy --force "$a" >/dev/null

echo "== timeslice instance in a container"
gv mode 0 timeslice >/dev/null || fail "gpuvisor mode timeslice on GPU 0"
read -r prof fb < <(profile_of timeslice) || fail "no timeslice profile of 4 GiB or more on GPU 0"
a=$(gv create --profile "$prof" --gpu 0 --json | id_of) || fail "create $prof"
gv cdi --output "$T/spec.json" >/dev/null || fail "gpuvisor cdi"
ctr "$a" /opt/gv/bin/nvml-query >"$T/q.out" 2>&1
cat "$T/q.out"
grep -q "^gpu 0: memory total=$((fb * 1024 * 1024)) " "$T/q.out" ||
	bad "NVML inside the timeslice container: total is not the partition ($fb MiB)"
echo "-- nvidia-smi inside $a ($prof, $fb MiB)"
ctr "$a" /usr/bin/nvidia-smi --query-gpu=index,uuid,memory.total,memory.used --format=csv 2>&1
gv destroy --force "$a" >/dev/null
gv mode 0 passthrough >/dev/null
[ $rc = 0 ] && echo "container-check: PASS" || echo "container-check: FAIL"
exit $rc
