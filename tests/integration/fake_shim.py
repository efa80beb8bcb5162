#!/usr/bin/env python3
"""A stand-in for the shim's control socket (docs/migration.md, "Control
channel"), for tests of gpuvisord's side of a migration without CUDA.

Run as a workload (gpuvisor run --instance ID -- python3 fake_shim.py): it
listens on $GPUVISOR_CTL and answers hello with the device it "runs on"
($GPUVISOR_DEVICE at start). migrate sends two progress lines and then
switches to "to" and answers ok, unless "inject" says otherwise:
  fail          answer ok:false (stays)
  hang-abort    wait until the daemon hangs up, then stay (abort)
  hang-switch   wait until the daemon hangs up, then switch anyway
  exit          exit the process in the middle
$FAKE_SHIM_UNMIGRATABLE=reason makes hello say migratable:false. The
process ends when $FAKE_SHIM_STOP (a path) exists or its parent dies; it prints "device: X".
"""
import json, os, socket, sys, threading, time

path = os.environ["GPUVISOR_CTL"]
state = {"device": os.environ.get("GPUVISOR_DEVICE", ""), "migrating": False,
         "acct": os.environ.get("GPUVISOR_ACCT")}
stop = os.environ.get("FAKE_SHIM_STOP", "")
why = os.environ.get("FAKE_SHIM_UNMIGRATABLE")

def report(ok, mode):
    return {"mode": mode, "result": "ok" if ok else "aborted", "stop": "converged",
            "total_ms": 12.5, "downtime_ms": 1.5, "expected_downtime_ms": 1.0,
            "setup_ms": 0.5, "precopy_ms": 10.0, "downtime_limit_ms": 300,
            "bytes_total": 4 << 20, "bytes_precopy": 4 << 20, "bytes_stun": 2 << 20,
            "regions": 2, "rounds": 2, "dirty_rate_bps": 1000, "bandwidth_bps": 1 << 30}

def send(c, o):
    c.sendall((json.dumps(o) + "\n").encode())

def wait_hangup(c):
    c.settimeout(None)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass

def serve(c):
    f = c.makefile("rb")
    for line in f:
        req = json.loads(line)
        if req.get("op") == "hello":
            send(c, {"ok": True, "pid": os.getpid(), "device": state["device"],
                     "migratable": why is None, "reason": why, "regions": 2,
                     "bytes": 4 << 20, "migrating": state["migrating"], "acct": state["acct"]})
        elif req.get("op") == "migrate":
            inj = req.get("inject")
            state["migrating"] = True
            for r in (1, 2):
                send(c, {"progress": {"phase": "precopy", "round": r, "bytes_total": 4 << 20,
                                      "bytes_copied": r << 21, "bytes_dirty": 1 << 20,
                                      "dirty_rate_bps": 1000, "bandwidth_bps": 1 << 30,
                                      "expected_downtime_ms": 1.0, "throttle_pct": 0}})
                time.sleep(0.05)
            if inj == "exit":
                os._exit(3)
            if inj in ("hang-abort", "hang-switch"):
                wait_hangup(c)
                if inj == "hang-switch":
                    state["device"], state["acct"] = req["to"], req.get("acct")
                time.sleep(0.5)
                state["migrating"] = False
                c.close()
                return
            state["migrating"] = False
            if inj == "fail":
                send(c, {"ok": False, "error": "injected copy error in round 2",
                         "report": report(False, req["mode"])})
            else:
                state["device"], state["acct"] = req["to"], req.get("acct")
                send(c, {"ok": True, "report": report(True, req["mode"])})
        else:
            send(c, {"ok": False, "error": "unknown op"})

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s.bind(path)
os.chmod(path, 0o600)
s.listen(8)
s.settimeout(0.1)
parent = os.getppid()
# ends with its `gpuvisor run` too, so that a failed test leaves nothing
while not (stop and os.path.exists(stop)) and os.getppid() == parent:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
os.unlink(path)
print("device: " + state["device"])
