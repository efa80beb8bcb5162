#!/usr/bin/env bash
# A container that gets an instance through its CDI device alone
# (podman + runc + cgroupfs, a minimal root file system and the host's /usr
# read-only, as shared/reference/containers.md; nothing of the build is
# bound by hand: the workload's image is its own copy of gv-infer and its
# kernels under /opt):
#   - gv-infer runs on the instance (simulated node) with the checksum of a
#     run outside any container;
#   - cuMemGetInfo and NVML (nvml-query) inside report the instance's
#     partition, and NVML shows one GPU;
#   - the workload is registered (tenant endpoint) and shown by list, and
#     leaves when the container ends;
#   - it moves to another instance while it runs (migrate --mode checkpoint,
#     then --mode precopy: gpuvisord binds its bulk socket and gives it
#     through the tenant endpoint) and ends with the checksum of a run
#     outside;
#   - from inside, the admin socket is not there (no socket at all but the
#     instance's tenant endpoint), and the tenant endpoint refuses every
#     admin request (list, create, destroy, migrate, mode, sched, a pid) and
#     a bulk socket for a process that is not the registered workload's:
#     nothing changes on the node;
#   - a container started after its instance was destroyed fails clearly;
#     after a daemon restart the same container mount reaches the new
#     endpoint.
# Skipped (77) when podman cannot run a container here (not root, no
# podman or runc, no cgroup support).
. "$(dirname "$0")/lib.sh"
GV_SIM=l40s:1,h100-80gb:1
[ "$(id -u)" = 0 ] || skip "needs root (rootful podman)"
command -v podman >/dev/null 2>&1 || skip "podman is not installed (scripts/install-deps.sh)"
command -v runc >/dev/null 2>&1 || skip "runc is not installed (scripts/install-deps.sh)"
[ -x "$GV_BIN_DIR/gv-infer" ] || skip "gv-infer is not built"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3 for the probes inside the container"

root=$T/root
mkdir -p "$root"/{usr,proc,dev,sys,tmp,run,etc} "$root/opt/gv/bin" "$root/opt/gv/lib"
for l in lib lib64 bin sbin; do ln -s usr/$l "$root/$l"; done
# the workload's image: its program and kernels (wl_common finds
# <exe>/../lib/gv_kernels.so), nothing of gpuvisor
cp "$GV_BIN_DIR/gv-infer" "$root/opt/gv/bin/"
cp "$GV_BUILD_DIR/lib/gv_kernels.so" "$root/opt/gv/lib/"
# an NVML caller shaped like nvidia-smi's query (tests/nvml/nvml_query.c)
cp "$GV_BIN_DIR/nvml-query" "$root/opt/gv/bin/"
pod() {
	timeout 120 podman --runtime runc --cgroup-manager=cgroupfs run --rm --net=none \
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v /usr:/usr:ro "$@"
}
# podman itself must work here, before any gpuvisor device is involved
if ! out=$(pod --rootfs "$root" /usr/bin/true 2>&1); then
	skip "podman cannot run a container here: $out"
fi

gv_start_daemon
expect_ok gv mode 0 timeslice
gv_create --profile l40s-12c --gpu 0
id=$GV_ID
gv_create --profile l40s-12c --gpu 0
other=$GV_ID
fb=$(gv_instance_field "$id" .fb_mib)
[ -n "$fb" ] && [ "$fb" != null ] || fb=12288

# podman reads /etc/cdi and /var/run/cdi: two specs naming the same device
# make it unresolvable, so this spec is the only gpuvisor one (RESOURCE_LOCK
# cdi keeps the tests that write one apart)
ls /etc/cdi/*.json /var/run/cdi/*.json 2>/dev/null | xargs -r grep -l '"gpuvisor.io/vgpu"' |
	grep -q . && skip "another gpuvisor CDI spec is installed in /etc/cdi or /var/run/cdi"
spec=/var/run/cdi/gpuvisor-test-$$.json
GV_CLEANUP_FILES+=("$spec")
expect_ok gv cdi --output "$spec"
expect_not_contains "$(cat "$spec")" "$GV_SOCK" "the spec names the admin socket"
dev=(--device "gpuvisor.io/vgpu=$id")

step "gv-infer in the container: the checksum of a run outside"
expect_ok env LD_LIBRARY_PATH="$GV_BUILD_DIR/lib/sim" GPUVISOR_CATALOG="$GPUVISOR_CATALOG" \
	"$GV_BIN_DIR/gv-infer" --steps 6
want=$(printf '%s\n' "$GV_OUT" | grep -o 'checksum: 0x[0-9a-f]*')
[ -n "$want" ] || fail "no checksum outside: $GV_OUT"
expect_ok pod "${dev[@]}" --rootfs "$root" /opt/gv/bin/gv-infer --steps 6
expect_contains "$GV_OUT" "$want" "checksum in the container"
expect_not_contains "$GV_OUT$GV_ERR" "gpuvisor-cuda:" "shim complaints"

step "cuMemGetInfo inside reports the partition"
cat >"$root/opt/gv/meminfo.py" <<'EOF'
import ctypes
cu = ctypes.CDLL("libcuda.so.1")
assert cu.cuInit(0) == 0
dev = ctypes.c_int()
assert cu.cuDeviceGet(ctypes.byref(dev), 0) == 0
ctx = ctypes.c_void_p()
assert cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
assert cu.cuCtxSetCurrent(ctx) == 0
free, total = ctypes.c_size_t(), ctypes.c_size_t()
assert cu.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)) == 0
print(total.value, free.value)
EOF
# an ASan build's shim needs its runtime first in python too (it is under
# the host's /usr, which the container has)
asan=$(ldd "$GV_BUILD_DIR/lib/shim/libcuda.so.1" | awk '/libasan/ { print $3 }')
pyenv=(--env "LD_PRELOAD=$asan" --env ASAN_OPTIONS=detect_leaks=0)
expect_ok pod "${dev[@]}" "${pyenv[@]}" --rootfs "$root" $PY /opt/gv/meminfo.py
read -r total free <<<"$GV_OUT"
expect_eq "$total" "$((fb * 1024 * 1024))" "cuMemGetInfo total in the container"

step "NVML inside shows the instance: its GPU only, the partition as the total"
expect_ok pod "${dev[@]}" --env ASAN_OPTIONS=detect_leaks=0 --rootfs "$root" \
	/opt/gv/bin/nvml-query
expect_contains "$GV_OUT" "count: 1" "NVML's GPU count in the container"
expect_contains "$GV_OUT" "gpu 0: memory total=$((fb * 1024 * 1024)) " "NVML's total in the container"
expect_not_contains "$GV_OUT" "nvml-query: FAIL" "NVML's promises in the container"

step "writing the files the container was given raises nothing"
cat >"$root/opt/gv/raise.py" <<'PYEOF'
import ctypes, os, struct, sys
acct, limit = os.environ["GPUVISOR_ACCT"], os.environ["GPUVISOR_LIMIT"]
big = 64 << 30
# the accounting file's own limit field (header: magic, version, limit)
with open(acct, "r+b") as f:
    f.seek(8)
    f.write(struct.pack("<Q", big))
# the limit file is read-only to the container
try:
    with open(limit, "r+b") as f:
        f.seek(8)
        f.write(struct.pack("<Q", big))
    print("limit file WRITTEN")
except OSError as e:
    print("limit file refused:", e.strerror)
cu = ctypes.CDLL("libcuda.so.1")
assert cu.cuInit(0) == 0
dev = ctypes.c_int()
assert cu.cuDeviceGet(ctypes.byref(dev), 0) == 0
ctx = ctypes.c_void_p()
assert cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
assert cu.cuCtxSetCurrent(ctx) == 0
free, total = ctypes.c_size_t(), ctypes.c_size_t()
assert cu.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)) == 0
p = ctypes.c_uint64()
r = cu.cuMemAlloc_v2(ctypes.byref(p), ctypes.c_size_t(int(sys.argv[1]) + (1 << 20)))
print("total", total.value, "alloc over the partition:", r)
PYEOF
expect_ok pod "${dev[@]}" "${pyenv[@]}" --rootfs "$root" $PY /opt/gv/raise.py "$((fb * 1024 * 1024))"
expect_contains "$GV_OUT" "limit file refused" "the limit file in the container"
expect_contains "$GV_OUT" "total $((fb * 1024 * 1024)) " "cuMemGetInfo after the write"
expect_contains "$GV_OUT" "alloc over the partition: 2" "an allocation over the partition (CUDA_ERROR_OUT_OF_MEMORY)"
# the instance still works, within its partition
expect_ok pod "${dev[@]}" --rootfs "$root" /opt/gv/bin/gv-infer --steps 6
expect_contains "$GV_OUT" "$want" "checksum after the write"

step "the daemon notices an instance over its partition"
acct=$GV_RUN/acct/$id.acct
# what a tenant that edits the file (or bypasses the shim) leaves: use over
# the partition (the header's total, at offset 24); the daemon's
# once-a-second check reports it
setu64() {
	$PY -c 'import struct,sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("<Q",int(sys.argv[3])))' "$@"
}
setu64 "$acct" 24 "$((fb * 1024 * 1024 + 4096))"
over() { gv events --json | grep -q instance.over_partition; }
wait_until 10 over || fail "no instance.over_partition event: $(gv events)"
expect_contains "$(curl -s --unix-socket "$GV_SOCK" http://localhost/metrics)" \
	"gpuvisor_instance_over_partition{instance=\"$id\",gpu=\"0\"} 1" "metric"
setu64 "$acct" 24 0
back() { gv events --json | grep -q instance.within_partition; }
wait_until 10 back || fail "no instance.within_partition event: $(gv events)"

step "the container's workload is registered and listed, and leaves with it"
gv_bg pod --name "gv-test-$$" "${dev[@]}" --rootfs "$root" /opt/gv/bin/gv-infer --steps 400 --step-ms 50
has_workload() { [ "$(gv_instance_field "$id" '.workload.pid // "null"')" != null ]; }
wait_until 60 has_workload || fail "the container's workload never registered: $(gv list)"
expect_ok gv list
expect_contains "$GV_OUT" "$id" "list"
pid=$(gv_instance_field "$id" .workload.pid)
# the registered group is the container's process, in the node's pid namespace
expect_contains "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "gv-infer" "registered process"
expect_ok gv events --json
expect_contains "$GV_OUT" "tenant endpoint" "attach event"
podman kill "gv-test-$$" >/dev/null 2>&1
no_workload() { ! has_workload; }
wait_until 30 no_workload || fail "the workload stayed after its container ended"

step "from inside: no admin socket, and the tenant endpoint serves nothing but its own workload"
before=$(gv list --json | jq -S '[.instances[] | {id, profile, gpu_uuid}]')
cat >"$root/opt/gv/probe.py" <<'EOF'
import os, socket, sys
admin, tenant = sys.argv[1], os.environ["GPUVISOR_TENANT"]
assert not os.path.exists(admin), "the admin socket is visible"
# every socket the container can reach on its file systems
socks = []
for top, dirs, files in os.walk("/"):
    if top in ("/proc", "/sys", "/dev"):
        dirs[:] = []
        continue
    for f in files:
        p = os.path.join(top, f)
        try:
            import stat
            if stat.S_ISSOCK(os.lstat(p).st_mode):
                socks.append(p)
        except OSError:
            pass
print("sockets:", " ".join(sorted(socks)))
def ask(data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(tenant)
    s.sendall(data)
    out = b""
    while True:
        try:
            b = s.recv(4096)
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    return out.decode()
reqs = [b"GET /v1/instances HTTP/1.0\r\n\r\n",
        b"POST /v1/instances HTTP/1.0\r\nContent-Length: 23\r\n\r\n{\"profile\":\"l40s-12c\"}",
        ("DELETE /v1/instances/%s?force=1 HTTP/1.0\r\n\r\n" % sys.argv[2]).encode(),
        ("POST /v1/migrations HTTP/1.0\r\n\r\n{\"instance\":\"%s\",\"to\":\"1\"}" % sys.argv[2]).encode(),
        b"PUT /v1/gpus/0/mode HTTP/1.0\r\n\r\n{\"mode\":\"passthrough\"}",
        b"PUT /v1/gpus/0/sched HTTP/1.0\r\n\r\n{\"policy\":\"fixed-share\"}",
        b"register 1\n", b"register\nregister\n", b"list\n",
        # its bulk socket: only for a process of the registered workload
        b"bulk\n"]
for r in reqs:
    a = ask(r)
    print("refused:" if a.startswith("error ") else "ANSWERED:", a.strip())
print("own:", ask(b"register\n").strip())
EOF
expect_ok pod "${dev[@]}" "${pyenv[@]}" --rootfs "$root" $PY /opt/gv/probe.py "$GV_SOCK" "$other"
probe=$GV_OUT
printf '%s\n' "$probe"
expect_eq "$(printf '%s\n' "$probe" | sed -n 's/^sockets: //p')" "$GV_RUN/tenant/$id/tenant.sock" \
	"sockets reachable in the container"
expect_eq "$(printf '%s\n' "$probe" | grep -c '^refused:')" 10 "admin requests refused"
expect_not_contains "$probe" "ANSWERED:" "tenant endpoint"
expect_contains "$probe" "own: ok $id " "its own registration"
expect_eq "$(gv list --json | jq -S '[.instances[] | {id, profile, gpu_uuid}]')" "$before" \
	"instances after the probe"
expect_eq "$(gv_instance_field "$other" '.workload.pid // "none"')" none "the other instance"
expect_ok gv sched 0 --json
expect_not_contains "$GV_OUT" "fixed-share" "scheduler policy after the probe"

step "the tenant endpoint of one instance registers nothing on another"
# a process already registered on $id (the container above has ended, so
# nothing is): a host process connecting to $other's endpoint gets $other only
expect_ok $PY - "$GV_RUN/tenant/$other/tenant.sock" <<'EOF'
import os, socket, sys
os.setpgid(0, 0)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"register\n")
print(s.recv(4096).decode().strip())
EOF
expect_contains "$GV_OUT" "ok $other " "registered on its own instance"
expect_eq "$(gv_instance_field "$id" '.workload.pid // "none"')" none "the first instance"

step "after a daemon restart, the same mount reaches the new endpoint"
gv_restart_daemon
expect_ok pod "${dev[@]}" "${pyenv[@]}" --rootfs "$root" $PY /opt/gv/probe.py "$GV_SOCK" "$other"
expect_contains "$GV_OUT" "own: ok $id " "registration after a restart"

step "a container of a destroyed instance fails with a clear error"
expect_ok gv destroy --force "$id"
if pod "${dev[@]}" --rootfs "$root" /opt/gv/bin/gv-infer --steps 2 >"$T/gone.out" 2>&1; then
	fail "a container of destroyed instance $id ran: $(cat "$T/gone.out")"
fi
printf '%s\n' "$(cat "$T/gone.out")"
expect_ok gv cdi --output "$spec"
expect_not_contains "$(jq -r '.devices[].name' "$spec")" "$id" "the rewritten spec"
rm -f "$spec"

# A running container's workload moved to another instance, through the
# driver's checkpoint, then with its bulk pre-copied: its shim cannot bind
# its bulk socket (the run directory is not mounted), so the tenant
# endpoint gives it one that gpuvisord bound. gv-infer --hold stops before
# its last step until its input ends, so the move happens mid-run however
# slow the checks are, and the last step and the checksum read the memory
# that moved. A completed migration destroys its source: instances of
# their own each time.
expect_ok env LD_LIBRARY_PATH="$GV_BUILD_DIR/lib/sim" GPUVISOR_CATALOG="$GPUVISOR_CATALOG" \
	"$GV_BIN_DIR/gv-infer" --steps 8
want8=$(printf '%s\n' "$GV_OUT" | grep -o 'checksum: 0x[0-9a-f]*')
[ -n "$want8" ] || fail "no checksum outside: $GV_OUT"
for mode in checkpoint precopy; do
	step "a container's workload moves to another instance while it runs (--mode $mode)"
	gv_create --profile l40s-12c --gpu 0
	src=$GV_ID
	gv_create --profile l40s-12c --gpu 0
	third=$GV_ID
	expect_ok gv cdi --output "$spec"
	out=$T/mig-$mode.out
	gv_hold_bg "$out" pod -i --name "gv-mig-$mode-$$" --device "gpuvisor.io/vgpu=$src" \
		--rootfs "$root" /opt/gv/bin/gv-infer --steps 8 --hold --verbose
	holding() { grep -q "holding before the last step" "$out"; }
	wait_until 120 holding || fail "the container's workload never held: $(cat "$out")"
	src_busy() { [ "$(gv_instance_field "$src" '.workload.pid // "null"')" != null ]; }
	wait_until 30 src_busy || fail "the container's workload never registered: $(gv list)"
	pid=$(gv_instance_field "$src" .workload.pid)
	if [ "$mode" = precopy ]; then
		[ -S "$GV_RUN/ctl/$src/bulk.sock" ] || fail "no bulk socket for the container's workload"
		expect_eq "$(stat -c %U:%a "$GV_RUN/ctl/$src/bulk.sock")" \
			"$(stat -c %U "/proc/$pid"):600" "the bulk socket's owner and mode"
	fi
	expect_ok gv migrate "$src" --to "$third" --mode "$mode" --json
	expect_eq "$(jout .state)" completed "the move completed"
	if [ "$mode" = precopy ]; then
		expect_eq "$(jout .report.path)" driver "the report's path"
		expect_eq "$(jout '.report.bytes_precopy > 0')" true "bytes copied before the stun: $GV_OUT"
	fi
	expect_eq "$(gv_instance_field "$third" '.workload.pid // "none"')" "$pid" "workload on $third"
	expect_eq "$(gv_instance_field "$third" '.workload.state')" running "its state"
	expect_not_contains "$(gv list --json | jq -r '.instances[].id')" "$src" "the source after the move"
	release
	wait "$runner" || fail "the container failed after the move: $(cat "$out")"
	expect_contains "$(cat "$out")" "$want8" "checksum after the move"
	expect_not_contains "$(cat "$out")" "gpuvisor-cuda:" "shim complaints"
	third_empty() { [ "$(gv_instance_field "$third" '.workload.pid // "null"')" = null ]; }
	wait_until 30 third_empty || fail "the workload stayed on $third after its container ended"
	expect_ok gv destroy "$third"
	rm -f "$spec"
done
gv_done
