#!/usr/bin/env python3
"""A TCP IPFIX collector that resets its connections.

    resetsink.py PORT READ_BYTES SECONDS OUT.json

Accepts a connection, reads whole IPFIX messages until it has READ_BYTES
(or the connection has nothing more for a moment), then closes it with a
reset (SO_LINGER 0: what the kernel still holds for it is thrown away) and
accepts the next.  Its receive buffer is small, so the kernel acknowledges
little it has not read.  Counts the flow records of every message it read
whole (data sets of the templates of template sets; options records are not
flows),
per connection, and writes the counts as JSON when SECONDS are up.
"""
import json
import select
import socket
import struct
import sys
import time

port, limit, seconds, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
RCVBUF = 4096

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)  # inherited by accepted sockets
srv.bind(("127.0.0.1", port))
srv.listen(1)
end = time.time() + seconds
stats = {"connections": 0, "resets": 0, "records": 0, "messages": 0, "bytes": 0}


def read_exact(c, n):
    b = b""
    while len(b) < n:
        r, _, _ = select.select([c], [], [], 0.2)
        if not r:
            return None
        chunk = c.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b


def flow_records(msg, templates):
    n, off = 0, 16
    while off + 4 <= len(msg):
        sid, slen = struct.unpack_from("!HH", msg, off)
        if slen < 4:
            break
        body = msg[off + 4:off + slen]
        if sid == 2:  # template set: learn record lengths
            p = 0
            while p + 4 <= len(body):
                tid, cnt = struct.unpack_from("!HH", body, p)
                p += 4
                reclen = 0
                for _ in range(cnt):
                    ie, ln = struct.unpack_from("!HH", body, p)
                    p += 8 if ie & 0x8000 else 4
                    reclen += ln
                templates[tid] = reclen
        elif sid >= 256 and templates.get(sid):  # (options templates are not learned)
            n += len(body) // templates[sid]
        off += slen
    return n


while time.time() < end:
    r, _, _ = select.select([srv], [], [], 0.2)
    if not r:
        continue
    c, _ = srv.accept()
    stats["connections"] += 1
    templates, got = {}, 0
    while got < limit and time.time() < end:
        hdr = read_exact(c, 16)
        if hdr is None:
            break
        ln = struct.unpack_from("!H", hdr, 2)[0]
        body = read_exact(c, ln - 16)
        if body is None:
            break
        stats["records"] += flow_records(hdr + body, templates)
        stats["messages"] += 1
        got += ln
        stats["bytes"] += ln
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    stats["resets"] += 1
json.dump(stats, open(out, "w"))
