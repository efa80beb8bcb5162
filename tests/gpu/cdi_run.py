#!/usr/bin/env python3
"""cdi_run.py [--image DIR] SPEC DEVICE -- CMD...: run CMD as a container that gets only
what CDI device DEVICE ("gpuvisor.io/vgpu=i-1") of SPEC gives, for the device
checks, where podman may not be installed (tests/gpu/container-check.sh).

The container: new mount and pid namespaces, a fresh root (tmpfs) holding
the host's /usr read-only (the image's user space, as in
tests/integration/test_container.sh) and nothing else of the host but the
spec's mounts and device nodes (and /dev/null, zero, urandom); the spec's
environment replaces the caller's. That is what runc does with an OCI spec
edited by CDI: no hook, no other device node, no other file; a /dev/shm of
its own and a session of its own. --image DIR
is the workload's own files (its program), read-only at /opt/gv.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile


def edits(spec, name):
    kind, _, dev = name.partition("=")
    if kind != spec.get("kind"):
        sys.exit(f"cdi_run: {name}: the spec's kind is {spec.get('kind')}")
    found = [d for d in spec.get("devices", []) if d.get("name") == dev]
    if not found:
        sys.exit(f"cdi_run: {name}: no such device in the spec")
    out = {"env": [], "deviceNodes": [], "mounts": []}
    for e in (spec.get("containerEdits", {}), found[0].get("containerEdits", {})):
        for k in out:
            out[k] += e.get(k, []) or []
    return out


def main():
    args, image = sys.argv[1:], None
    if args[:1] == ["--image"] and len(args) > 1:
        image, args = args[1], args[2:]
    if len(args) < 4 or args[2] != "--":
        sys.exit("usage: cdi_run.py [--image DIR] SPEC DEVICE -- CMD...")
    with open(args[0]) as f:
        e = edits(json.load(f), args[1])
    cmd = args[3:]
    if image:
        e["mounts"].append({"hostPath": os.path.abspath(image), "containerPath": "/opt/gv",
                            "options": ["ro"]})
    root = tempfile.mkdtemp(prefix="gv-cdi-root.")
    q = shlex.quote
    sh = ["set -e", "mount --make-rprivate /", f"mount -t tmpfs gvroot {q(root)}",
          f"cd {q(root)}", "mkdir -p usr proc dev tmp etc run",
          "for l in lib lib64 bin sbin; do ln -s usr/$l $l; done",
          "mount --rbind /usr usr", "mount -o remount,bind,ro usr",
          "mount -t tmpfs gvdev dev", "mkdir dev/shm", "mount -t tmpfs shm dev/shm"]
    nodes = ["/dev/null", "/dev/zero", "/dev/urandom"] + [d["path"] for d in e["deviceNodes"]]
    for p in nodes:
        t = root + p
        sh += [f"mkdir -p {q(os.path.dirname(t))}", f"touch {q(t)}", f"mount --bind {q(p)} {q(t)}"]
    for m in e["mounts"]:
        host, t = m["hostPath"], root + m["containerPath"]
        mk = f"mkdir -p {q(t)}" if os.path.isdir(host) else \
            f"mkdir -p {q(os.path.dirname(t))} && touch {q(t)}"
        sh += [mk, f"mount --bind {q(host)} {q(t)}"]
        if "ro" in (m.get("options") or []):
            sh.append(f"mount -o remount,bind,ro {q(t)}")
    sh += ["mount -t proc proc proc",
           # a session of its own, as a container's process has
           "exec chroot . /usr/bin/setsid /usr/bin/env -i " + " ".join(q(v) for v in e["env"]) + " " +
           " ".join(q(c) for c in cmd)]
    r = subprocess.run(["unshare", "--mount", "--pid", "--fork", "sh", "-c", "\n".join(sh)])
    os.rmdir(root)
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
