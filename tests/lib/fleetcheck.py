#!/usr/bin/env python3
"""The fleet's collectors against each gateway's kernel records.

    fleetcheck.py check --truth G=EVENTS... --exporter G=ADDR... \\
                        --uni SQLROWS --bi SQLROWS --nfdump DIR
    fleetcheck.py truth --truth G=EVENTS... --exporter G=ADDR...

Per gateway and per host, in one meaning everywhere: a host's octets and
packets are what it sent, in the original tuple's addressing (the reply of
a flow is sent by its original destination).  The kernel's DESTROY records
of each site give the truth; each collector's rows, told apart by the
exporter's address, must give exactly the same.  SQLROWS: psql -A -t -F'|'
output of the query in fleet.sh.  Prints PASS/FAIL lines; exits 1 on any
failure.  `truth` prints the per-gateway totals (for the demo).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipfixcheck  # noqa: E402
import truth  # noqa: E402
from ipfixcheck import ok  # noqa: E402  (PASS/FAIL lines named after $TEST_NAME)

norm = ipfixcheck.addr


def add(t, key, octets, packets):
    o, p = t.get(key, (0, 0))
    t[key] = (o + octets, p + packets)


def kernel(truths, exporters):
    """{(exporter, host): (octets, packets)} from every site's DESTROY records."""
    out = {}
    for g, path in truths.items():
        ex = exporters[g]
        for f in truth.parse_events(path):
            o, r = f["o"], f["r"]
            add(out, (ex, norm(o["src"])), o.get("bytes", 0), o.get("packets", 0))
            add(out, (ex, norm(o["dst"])), r.get("bytes", 0), r.get("packets", 0))
    return out


def sql_uni(path):
    """uniflow rows: exporter|host|octets|packets, summed by the query."""
    out = {}
    for line in open(path):
        line = line.strip()
        if line:
            ex, host, octets, packets = line.split("|")
            add(out, (norm(ex), norm(host)), int(octets), int(packets))
    return out


def sql_bi(path):
    """biflow rows: exporter|src|dst|octets|packets|rev_octets|rev_packets."""
    out = {}
    for line in open(path):
        line = line.strip()
        if line:
            ex, src, dst, o, p, ro, rp = line.split("|")
            add(out, (norm(ex), norm(src)), int(o), int(p))
            add(out, (norm(ex), norm(dst)), int(ro), int(rp))
    return out


def nfdump(flowdir):
    """nfcapd's records (biflow: in = original direction, out = reply)."""
    out = {}
    for r in ipfixcheck.nfdump(flowdir):
        add(out, (r["exporter"], r["src"]), r["oct"], r["pkt"])
        add(out, (r["exporter"], r["dst"]), r["roct"], r["rpkt"])
    return out


def per_gateway(t):
    out = {}
    for (ex, _), (o, p) in t.items():
        add(out, ex, o, p)
    return out


def nonzero(t):
    return {k: v for k, v in t.items() if v != (0, 0)}


def diff(a, b):
    keys = sorted(set(a) | set(b), key=str)
    return "; ".join("%s: kernel %s, collector %s" % (k, a.get(k), b.get(k))
                     for k in keys if a.get(k) != b.get(k))[:600]


def pairs(items):
    return dict(x.split("=", 1) for x in items)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("check", "truth"))
    ap.add_argument("--truth", nargs="+", required=True)
    ap.add_argument("--exporter", nargs="+", required=True)
    ap.add_argument("--uni")
    ap.add_argument("--bi")
    ap.add_argument("--nfdump")
    a = ap.parse_args()
    truths, exporters = pairs(a.truth), pairs(a.exporter)
    k = nonzero(kernel(truths, exporters))
    kg = per_gateway(k)
    if a.mode == "truth":
        for g in sorted(exporters):
            o, p = kg.get(exporters[g], (0, 0))
            print("gateway %s (%s): %d octets, %d packets, %d flows" % (
                g, exporters[g], o, p, len(truth.parse_events(truths[g]))))
        return 0
    ok(len(kg) == len(exporters) and all(v[0] > 0 for v in kg.values()),
       "every gateway's kernel record has traffic (%s)" % ", ".join(
           "%s: %d flows" % (g, len(truth.parse_events(truths[g]))) for g in sorted(truths)))
    for name, got in (("nfacctd -> PostgreSQL, uniflow export", sql_uni(a.uni) if a.uni else None),
                      ("nfacctd -> PostgreSQL, biflow export", sql_bi(a.bi) if a.bi else None),
                      ("nfcapd -> nfdump, biflow export", nfdump(a.nfdump) if a.nfdump else None)):
        if got is None:
            continue
        got = nonzero(got)
        gg = per_gateway(got)
        ok(gg == kg, "%s: octets and packets per gateway equal its kernel's (%s)" % (
            name, ", ".join("%s %d" % (ex, kg[ex][0]) for ex in sorted(kg))), diff(kg, gg))
        ok(got == k, "%s: octets and packets per gateway and host equal the kernel's (%d hosts)" % (
            name, len(k)), diff(k, got))
    return 1 if ipfixcheck.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
