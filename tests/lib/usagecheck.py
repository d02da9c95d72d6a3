#!/usr/bin/env python3
"""Usage per period against the kernel, for tests/integ/usage.sh.

  usagecheck.py EVENTS READINGS JSON PROFILE KIND SECONDS FROM

EVENTS: the kernel's DESTROY records (tests/tools/ctrecord, with stop_ns).
READINGS: lines "READ EPOCH [DESTROY] <conntrack -L -o extended line>", the
kernel's counters of live flows read by the test in quiet moments.  A flow
counts in N-second periods (aligned to the epoch) like this: each reading
adds what the counters grew since the last one to the period it was taken
in, its end adds the rest to the period of the kernel's stop time stamp;
a flow is started in the period of its first piece.  Every period of KIND
from FROM (epoch) on that the JSON keeps is compared, row by row, exactly.
Prints a PASS or FAIL line per period.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth  # noqa: E402

TEST = os.environ.get("TEST_NAME", "usage")
FIELDS = ("fwd_packets", "fwd_bytes", "rev_packets", "rev_bytes", "flows_started")


def counters(f):
    return (f["o"]["packets"], f["o"]["bytes"], f["r"]["packets"], f["r"]["bytes"])


def flow_id(f):
    """A live flow and its end are the same connection: its tuple."""
    o = f["o"]
    return (f["proto"], o["src"], o["dst"], o.get("sport"), o.get("dport"))


def pieces(events, readings, secs):
    """(period start, flow, (op, ob, rp, rb), started) for each piece."""
    seen = {}
    for t, f in sorted(readings, key=lambda x: x[0]):
        seen.setdefault(flow_id(f), []).append((t, f))
    out = []
    for f in events:
        last, first = (0, 0, 0, 0), True
        for t, r in seen.pop(flow_id(f), []):
            c = counters(r)
            out.append((int(t) // secs * secs, f, tuple(a - b for a, b in zip(c, last)), first))
            last, first = c, False
        stop = f["stop_ns"] // 1000000000
        out.append((stop // secs * secs, f, tuple(a - b for a, b in zip(counters(f), last)), first))
    return out, seen


def want_rows(pcs, spec):
    fields = truth.parse_spec(spec)
    host = any(n == "host" for n, _, _ in fields)
    periods = {}
    for start, f, c, first in pcs:
        rows = periods.setdefault(start, {})

        def add(key, fwd, rev, count):
            r = rows.setdefault(key, [0, 0, 0, 0, 0])
            r[0] += fwd[0]
            r[1] += fwd[1]
            r[2] += rev[0]
            r[3] += rev[1]
            r[4] += count

        o, r = (c[0], c[1]), (c[2], c[3])
        ka = truth.key_of(f, fields, False, 0)
        add(ka, o, r, 1 if first else 0)
        if host:
            kb = truth.key_of(f, fields, False, 1)
            if kb == ka:
                add(ka, r, o, 0)
            else:
                add(kb, r, o, 1 if first else 0)
    return periods


def got_rows(profile, kind, age):
    rows = {}
    for e in profile["entries"]:
        key = tuple((k, e[k]) for k in truth.KEYS if k in e)
        u = e["usage"][kind][age]
        v = [u[c] for c in FIELDS]
        if any(v):
            rows[key] = v
    return rows


def main():
    events, readings_path, tables, name, kind, secs, since = sys.argv[1:8]
    secs, since = int(secs), int(since)
    flows = truth.parse_events(events)
    readings = []
    for line in open(readings_path):
        if not line.startswith("READ "):
            continue
        _, t, rest = line.split(" ", 2)
        readings.append((float(t), truth.parse_line(rest)))
    pcs, unmatched = pieces(flows, readings, secs)
    if unmatched:
        print("FAIL: %s: readings of flows that never ended: %s" % (TEST, list(unmatched)))
        sys.exit(1)
    doc = json.load(open(tables))
    prof = [p for p in doc["profiles"] if p["name"] == name][0]
    want = want_rows(pcs, prof["key"])
    ok, checked = True, 0
    for age, b in enumerate(prof["periods"][kind]):
        if b["start"] < since:
            continue
        w = {k: v for k, v in want.get(b["start"], {}).items() if any(v)}
        g = got_rows(prof, kind, age)
        checked += 1
        bad = ["%s: kernel %s ctflowd %s" % (dict(k), w.get(k), g.get(k))
               for k in sorted(set(w) | set(g), key=str) if w.get(k) != g.get(k)]
        tot = [sum(v[i] for v in w.values()) for i in range(5)]
        if bad:
            ok = False
            print("FAIL: %s: %s period %d-%d (age %d) differs from the kernel in %d rows"
                  % (TEST, kind, b["start"], b["end"], age, len(bad)))
            for x in bad[:8]:
                print("  # " + x)
        else:
            print("PASS: %s: %s period %d-%d (age %d): %d rows equal the kernel's "
                  "(%d+%d bytes, %d flows started)"
                  % (TEST, kind, b["start"], b["end"], age, len(w), tot[1], tot[3], tot[4]))
    late = [p for p in want if p < since]
    if late or not checked:
        print("FAIL: %s: %d periods checked, traffic before the first: %s" % (TEST, checked, late))
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
