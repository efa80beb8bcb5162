#!/usr/bin/env python3
"""Slow clients for test_daemon_flood.sh: holds many connections to
gpuvisord, each with a request head that never ends (one more header line
every 2 seconds, so an idle timeout never fires), and records when the server
closes each one.

usage: slow_clients.py --unix PATH --unix-n N [--tcp HOST:PORT --tcp-n N
                       --tcp-sources K] --duration S --ready FILE --out FILE

TCP clients are spread over the source addresses 127.0.0.2 .. 127.0.0.(K+1)
(all loopback on Linux), so a per-address limit alone cannot refuse them.
--out gets one JSON object: for each kind, how many connected, how many the
server closed, and the latest close in seconds after connecting."""
import argparse
import errno
import json
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unix")
    ap.add_argument("--unix-n", type=int, default=0)
    ap.add_argument("--tcp")
    ap.add_argument("--tcp-n", type=int, default=0)
    ap.add_argument("--tcp-sources", type=int, default=1)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    conns = []  # [sock, kind, connected_at, closed_at]
    head = b"GET /v1/node HTTP/1.1\r\nHost: x\r\n"
    # one line every 2 s: well within the daemon's 10 s idle timeout
    for i in range(a.unix_n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(a.unix)
        conns.append([s, "unix", time.monotonic(), None])
    if a.tcp:
        host, port = a.tcp.rsplit(":", 1)
        for i in range(a.tcp_n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.%d" % (2 + i % a.tcp_sources), 0))
            s.connect((host, int(port)))
            conns.append([s, "tcp", time.monotonic(), None])
    for c in conns:
        c[0].setblocking(False)
        try:
            c[0].send(head)
        except OSError:
            c[3] = time.monotonic()
    with open(a.ready, "w") as f:
        f.write("%d\n" % len(conns))

    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        time.sleep(2.0)
        now = time.monotonic()
        for c in conns:
            if c[3] is not None:
                continue
            try:
                data = c[0].recv(4096)
                if data == b"":
                    c[3] = now
                    continue
            except BlockingIOError:
                pass
            except OSError:
                c[3] = now
                continue
            try:
                c[0].send(b"X-Slow: 1\r\n")
            except BlockingIOError:
                pass
            except OSError as e:
                if e.errno in (errno.EPIPE, errno.ECONNRESET):
                    c[3] = now
    out = {}
    for kind in ("unix", "tcp"):
        ks = [c for c in conns if c[1] == kind]
        closed = [c[3] - c[2] for c in ks if c[3] is not None]
        out[kind] = {"connected": len(ks), "closed": len(closed),
                     "latest_close_s": max(closed) if closed else None}
    with open(a.out, "w") as f:
        json.dump(out, f)
    for c in conns:
        c[0].close()


if __name__ == "__main__":
    main()
