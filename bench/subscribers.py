#!/usr/bin/env python3
"""Hold N subscriber connections on a channel for bench/messaging.sh.

    subscribers.py PORT CHANNEL N

Opens N connections, SUBSCRIBEs each to CHANNEL, waits for every confirmation, prints "ready", then
reads and discards whatever arrives (so the server's writes never back up) until stdin closes, and
prints the number of message bytes received in all.
"""
import selectors
import socket
import sys

port, channel, n = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
cmd = b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(channel), channel)
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(cmd)
    conns.append(s)
for s in conns:
    got = b""
    while not got.endswith(b":1\r\n"):
        got += s.recv(4096)
    s.setblocking(False)
print("ready", flush=True)
sel = selectors.DefaultSelector()
for s in conns:
    sel.register(s, selectors.EVENT_READ)
sel.register(sys.stdin, selectors.EVENT_READ)
total = 0
done = False
while not done:
    for key, _ in sel.select():
        if key.fileobj is sys.stdin:
            if not sys.stdin.readline():
                done = True
            continue
        try:
            data = key.fileobj.recv(1 << 16)
        except BlockingIOError:
            continue
        total += len(data)
print(total, flush=True)
