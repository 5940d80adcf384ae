#!/usr/bin/env python3
"""Idle cost of many clients blocked in BLPOP on distinct keys, Ferrite vs redis-server, same run.

    bench/blocked-idle.py [--clients 10000] [--seconds 10] [--rounds 3] [--ferrite target/release/ferrite-server]

For each round and each server (alternating): start it on a free loopback port, open N connections,
send `BLPOP idle:<i> 0` on each, wait until INFO says N clients are blocked, then measure the server's
CPU time (all threads, /proc/<pid>/task/*/schedstat) over the idle window. Afterwards one LPUSH per
key checks every client is still served by its push. Prints per-round figures and the median, as CPU
percent of one core and as CPU microseconds per blocked client per second.
"""
import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_ns(pid):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


def cmd(sock, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)


def read_line(sock):
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def info_field(port, field):
    s = socket.create_connection(("127.0.0.1", port))
    cmd(s, "INFO", "clients")
    head = read_line(s)
    n = int(head[1:-2])
    data = b""
    while len(data) < n + 2:
        data += s.recv(65536)
    s.close()
    for line in data.decode().splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":")[1])
    return None


def run_one(argv, n, seconds):
    port = free_port()
    tmp = tempfile.mkdtemp()
    args = [a.replace("{PORT}", str(port)) for a in argv]
    proc = subprocess.Popen(args, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.02)
        conns = []
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            cmd(s, "BLPOP", f"idle:{i}", 0)
            conns.append(s)
        deadline = time.time() + 60
        while info_field(port, "blocked_clients") != n:
            if time.time() > deadline:
                raise RuntimeError("clients did not all block")
            time.sleep(0.1)
        time.sleep(1)
        c0 = cpu_ns(proc.pid)
        time.sleep(seconds)
        c1 = cpu_ns(proc.pid)
        # Every client must still be waiting, and be served by its own push.
        pusher = socket.create_connection(("127.0.0.1", port))
        for i in range(n):
            cmd(pusher, "LPUSH", f"idle:{i}", "x")
        for i in range(n):
            read_line(pusher)
        served = 0
        for s in conns:
            s.settimeout(10)
            if s.recv(64).startswith(b"*2"):
                served += 1
        for s in conns:
            s.close()
        pusher.close()
        return (c1 - c0) / 1e9 / seconds, served
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--ferrite", default=os.path.join(here, "..", "target", "release", "ferrite-server"))
    a = ap.parse_args()
    want = a.clients + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))
    common = ["--port", "{PORT}", "--bind", "127.0.0.1", "--save", "", "--maxclients", str(a.clients + 100)]
    sides = {
        "ferrite": [a.ferrite] + common + ["--logfile", ""],
        "redis": ["redis-server"] + common + ["--appendonly", "no"],
    }
    results = {k: [] for k in sides}
    for r in range(a.rounds):
        for name, argv in sides.items():
            frac, served = run_one(argv, a.clients, a.seconds)
            results[name].append(frac)
            print(f"round {r + 1} {name:8s}: idle CPU {frac * 100:.3f}% of a core "
                  f"({frac * 1e6 / a.clients:.3f} us per blocked client per second), served {served}/{a.clients}",
                  flush=True)
    for name, v in results.items():
        m = statistics.median(v)
        print(f"median {name:8s}: {m * 100:.3f}% of a core")
    f, r = statistics.median(results["ferrite"]), statistics.median(results["redis"])
    print(f"ratio ferrite/redis: {f / r:.2f}" if r > 0 else "ratio: redis used no CPU")


if __name__ == "__main__":
    sys.exit(main())
