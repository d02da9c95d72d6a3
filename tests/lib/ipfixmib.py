#!/usr/bin/env python3
"""IPFIX-MIB and IPFIX-SELECTOR-MIB as ctflowd serves them, against the
module texts and against what the collectors received.

Reads what tests/integ/ipfix_mib.sh leaves in --dir:
  w1, w2, w3            numeric walks (-On -Ox -Ot, no MIB) of mib-2 193 and 194,
                        then sysUpTime.0: exported and drained / TCP collector
                        away / back and drained
  w1.names ...          the same walks by name, with the reference modules
  t1.json ...           ctflowd's tables at the same moments
  u.ipfix               what the UDP collector received
  t1.ipfix, t2.ipfix    what the TCP collector received, one file per connection
and the capture of both sessions (--pcap).

The objects required are read from the modules (smidump): the groups of
ipfixExporterCompliance (mandatory and both statistics groups, since ctflowd
keeps statistics) and of ipfixSelectorBasicCompliance.
"""
import argparse
import ast
import calendar
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipfixcheck  # noqa: E402
import mibcheck  # noqa: E402
from ipfixcheck import ok  # noqa: E402
from mibcheck import parse_oid  # noqa: E402

MIB2 = (1, 3, 6, 1, 2, 1)
IPFIX = MIB2 + (193,)
MAIN = IPFIX + (1, 1)
STATS = IPFIX + (1, 2)
SELECT_ALL = MIB2 + (194, 1, 1, 1)
SYSUPTIME = MIB2 + (1, 3, 0)
FLOW_KEYS = {8, 12, 27, 28, 7, 11, 4, 32, 139}
PEN_CTFLOWD = 32473
OPT_TIDS = (300, 301, 302, 303)  # options templates; every other id is a data template
CTFLOWD_KEYS = {2}  # the zone


def typed(typ, val):
    """A value of a -Ox walk as Python: integers as int, octet strings as
    bytes, OIDs as tuples."""
    if typ == '""':
        return "STRING", b""
    if typ == "Hex-STRING":
        return typ, bytes.fromhex(val)
    if typ == "STRING":
        return typ, val.strip('"').encode()
    if typ == "OID":
        return typ, parse_oid(val)
    if typ in ("INTEGER", "Gauge32", "Counter64", "Timeticks", "Counter32"):
        return typ, int(val)
    return typ, val


def parse_walk(path):
    """{oid: (type, value)} of a numeric walk, values typed."""
    return {o: typed(*tv) for o, tv in mibcheck.parse_walk(path).items()}


def column(walk, entry, col):
    """{index: value} of one column."""
    base = entry + (col,)
    return {o[len(base):]: v[1] for o, v in walk.items() if o[:len(base)] == base}


# ---------------------------------------------------------------- the modules

def load_module(mibs, name):
    p = subprocess.run(["smidump", "-f", "python", os.path.join(mibs, name)],
                       capture_output=True, text=True,
                       env=dict(os.environ, SMIPATH=mibs))
    text = p.stdout[p.stdout.index("MIB = "):]
    return ast.literal_eval(text[len("MIB = "):].strip())


def required_objects(mibs):
    """[(group, object, oid, syntax, access)] of the compliances an exporter meets."""
    out = []
    for mod, comp in (("IPFIX-MIB", "ipfixExporterCompliance"),
                      ("IPFIX-SELECTOR-MIB", "ipfixSelectorBasicCompliance")):
        mib = load_module(mibs, mod)
        for group in mib["compliances"][comp]["requires"]:
            for obj in mib["groups"][group]["members"]:
                n = mib["nodes"][obj]
                out.append((group, obj, parse_oid(n["oid"]), n["syntax"]["type"],
                            n["access"], n["nodetype"]))
    return out


def type_check(syntax, typ, val):
    """'' if the value fits the SMI type, else why not."""
    # smidump names a base type (Unsigned32, Counter64...) like a textual convention
    name = syntax.get("name")
    base = syntax.get("basetype") or name
    named = {k: int(v["number"]) for k, v in syntax.items()
             if isinstance(v, dict) and v.get("nodetype") == "namednumber"}
    want = {
        "InetAddress": "octets", "DateAndTime": "octets", "TimeStamp": "Timeticks",
        "InetPortNumber": "Gauge32", "PhysicalIndexOrZero": "INTEGER",
        "InterfaceIndexOrZero": "INTEGER", "ObjectIdentifier": "OID", "TruthValue": "INTEGER",
    }.get(name) or {
        "Unsigned32": "Gauge32", "Enumeration": "INTEGER", "Bits": "octets",
        "Counter64": "Counter64", "Gauge32": "Gauge32",
    }.get(base)
    if want is None:
        return "no rule for %s" % syntax
    if want == "octets":
        if typ not in ("Hex-STRING", "STRING"):
            return "%s, want OCTET STRING" % typ
    elif typ != want:
        return "%s, want %s" % (typ, want)
    if name == "InetAddress" and len(val) not in (0, 4, 16):
        return "InetAddress of %d octets" % len(val)
    if name == "DateAndTime" and len(val) not in (8, 11):
        return "DateAndTime of %d octets" % len(val)
    if name == "InetPortNumber" and not 0 <= val <= 65535:
        return "port %d" % val
    if name == "TruthValue" and val not in (1, 2):
        return "TruthValue %d" % val
    if base == "Bits":
        if len(val) != 1 or val[0] & 0x3f or val[0] == 0xc0:
            return "BITS %s: want one octet, scope(0x80) or flowKey(0x40) or none" % val.hex()
    if base == "Enumeration" and val not in named.values():
        return "%d is not one of %s" % (val, named)
    if base == "Unsigned32" and "range" in syntax:
        lo, hi = int(syntax["range"]["min"]), int(syntax["range"]["max"])
        if not lo <= val <= hi:
            return "%d outside %d..%d" % (val, lo, hi)
    return ""


def compliance(mibs, walk, names):
    req = required_objects(mibs)
    by_group = {}
    for group, obj, oid, syntax, access, nodetype in req:
        inst = {o: v for o, v in walk.items() if o[:len(oid)] == oid}
        if nodetype == "scalar":
            inst = {o: v for o, v in inst.items() if o == oid + (0,)}
        bad = [] if inst else ["%s: no instance" % obj]
        if access != "readonly":
            bad.append("%s: access %s" % (obj, access))
        for o, (typ, val) in inst.items():
            why = type_check(syntax, typ, val)
            if why:
                bad.append("%s%s: %s" % (obj, "." + ".".join(map(str, o[len(oid):])), why))
                break
        by_group.setdefault(group, []).append((obj, bad))
    for group, objs in by_group.items():
        bad = [b for _, bs in objs for b in bs]
        ok(not bad, "%s: all %d objects present, each instance with its SMI type"
           % (group, len(objs)), "; ".join(bad[:6]))
    ours = [o for o in walk if o[:len(IPFIX)] == IPFIX or o[:len(SELECT_ALL)] == SELECT_ALL]
    resolved = [ln for ln in open(names) if " = " in ln]
    unnamed = [ln for ln in resolved if not ln.startswith(("IPFIX-MIB::", "IPFIX-SELECTOR-MIB::"))]
    ok(len(resolved) == len(ours) and not unnamed,
       "the walk by name (-M +mibs/ietf -m IPFIX-MIB:IPFIX-SELECTOR-MIB) resolves all %d "
       "objects to their names" % len(ours),
       "%d by name, %d numeric, unresolved: %s" % (len(resolved), len(ours), unnamed[:3]))


# ---------------------------------------------------------------- reality

def received(paths):
    """What a collector received over one or more connections."""
    msgs = []
    for p in paths:
        m, err = ipfixcheck.ipfixdump(p)
        ok(not err and m, "ipfixDump decodes %s (%d messages)" % (os.path.basename(p), len(m)), err)
        msgs += m
    return msgs


def counts(msgs):
    # the withdrawals of an orderly TCP end come after the MIB was read
    msgs = [m for m in msgs if m.templates or m.records or not m.withdrawn]
    recs = [r for m in msgs for r in m.records]
    per_tid = {}
    for r in recs:
        per_tid[r["tid"]] = per_tid.get(r["tid"], 0) + 1
    return {
        "messages": len(msgs), "bytes": sum(m.length for m in msgs), "records": len(recs),
        "templates": sum(len(m.templates) - len(m.opt_templates) for m in msgs),
        "opt_templates": sum(len(m.opt_templates) for m in msgs), "per_tid": per_tid,
        "packets": sum(r.get("pkt", 0) + r.get("rpkt", 0) for r in recs if r["tid"] not in OPT_TIDS),
        "flows": sum(1 for r in recs if r["tid"] not in OPT_TIDS),
    }


def session_stats(walk, s):
    e = STATS + (1, 1)
    names = ["rate", "packets", "bytes", "messages", "discarded", "records", "templates",
             "opt_templates", "discontinuity"]
    return {n: column(walk, e, i + 1).get((s,)) for i, n in enumerate(names)}


def tshark_templates(pcap, udp_port, tcp_port):
    """{(stream, tid): [(ie, length, pen, scope)]} as tshark decodes the templates,
    and the TCP streams' exporter ports."""
    cmd = ["tshark", "-r", pcap, "-T", "json", "--no-duplicate-keys",
           "-d", "udp.port==%s,cflow" % udp_port, "-d", "tcp.port==%s,cflow" % tcp_port,
           "-Y", "cflow.flowset_id == 2 || cflow.flowset_id == 3"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    out, ports = {}, {}
    for pkt in json.loads(p.stdout or "[]"):
        lay = pkt["_source"]["layers"]
        if "udp" in lay:
            stream, port = "udp", int(lay["udp"]["udp.srcport"])
        else:
            stream, port = "tcp:%s" % lay["tcp"]["tcp.stream"], int(lay["tcp"]["tcp.srcport"])
        ports[stream] = port
        cfs = lay["cflow"] if isinstance(lay["cflow"], list) else [lay["cflow"]]
        for cf in cfs:
            for k, st in cf.items():
                if not (k.startswith("Set ") and isinstance(st, dict)):
                    continue
                for tk, tv in st.items():
                    if not (isinstance(tv, dict) and "cflow.template_id" in tv):
                        continue
                    fields = []
                    for fk, f in tv.items():
                        if fk.startswith("Field ") and isinstance(f, dict):
                            ie = f.get("cflow.template_ipfix_field_type",
                                       f.get("cflow.template_ipfix_field_type_enterprise"))
                            fields.append((int(ie),
                                           int(f["cflow.template_field_length"]),
                                           int(f.get("cflow.template_ipfix_field_pen", 0)),
                                           "[Scope]" in fk))
                    if fields:  # (none: a withdrawal, at the session's orderly end)
                        out[(stream, int(tv["cflow.template_id"]))] = fields
    return out, ports


def mib_templates(walk, session, domain):
    """{tid: [(ie, length, pen, flags)]} of one session."""
    e = MAIN + (3, 1)
    ie, ln, pen, fl = (column(walk, e, c) for c in (2, 3, 4, 5))
    out = {}
    for idx in sorted(ie):
        s, d, tid, k = idx
        if s == session and d == domain:
            out.setdefault(tid, []).append((ie[idx], ln[idx], pen[idx], fl[idx]))
    return out


def uptime(walk):
    return walk[SYSUPTIME][1]


def datetime_of(octets):
    y = octets[0] << 8 | octets[1]
    return calendar.timegm((y, octets[2], octets[3], octets[4], octets[5], octets[6], 0, 0, 0))


def check_templates(walk, a, label, session, stream, ts):
    mt = mib_templates(walk, session, a.domain)
    want = {tid: f for (st, tid), f in ts.items() if st == stream}
    ok(sorted(mt) == sorted(want) and mt,
       "%s: ipfixTemplateDefinitionTable holds the templates tshark decoded (%s)"
       % (label, sorted(want)), "MIB %s" % sorted(mt))
    bad = []
    for tid, fields in want.items():
        got = mt.get(tid, [])
        if [(i, n, p) for i, n, p, _ in got] != [(i, n, p) for i, n, p, _ in fields]:
            bad.append("%d: MIB %s, tshark %s" % (tid, got, fields))
            continue
        for (i, n, p, flags), (_, _, _, scope) in zip(got, fields):
            key = (p == 0 and i in FLOW_KEYS) or (p == PEN_CTFLOWD and i in CTFLOWD_KEYS)
            want_flags = b"\x80" if scope else b"\x40" if key and tid not in OPT_TIDS else b"\x00"
            if flags != want_flags:
                bad.append("%d: IE %d/%d flags %s, want %s" % (tid, p, i, flags.hex(),
                                                               want_flags.hex()))
    ok(not bad, "%s: every field in wire order with IE, length, enterprise (0, 29305, %d), "
       "scope and flowKey flags" % (label, PEN_CTFLOWD), "; ".join(bad[:4]))
    sid = column(walk, MAIN + (2, 1), 3)
    ok(all(v == (3 if k[2] in OPT_TIDS else 2) for k, v in sid.items() if k[0] == session),
       "%s: ipfixTemplateSetId is 2 for templates, 3 for options templates" % label)


def check_sessions(a, w1, w2, w3, j1, j2, j3, ts_ports):
    e = MAIN + (1, 1)
    cols = {c: column(w3, e, c) for c in range(2, 17)}
    udp = {c: v.get((1,)) for c, v in cols.items()}
    tcp = {c: v.get((2,)) for c, v in cols.items()}
    lo4, lo6 = bytes([127, 0, 0, 1]), bytes(15) + b"\x01"
    ok((udp[2], udp[3], udp[4], udp[5], udp[6], udp[8]) == (17, 1, lo4, 1, lo4, a.udp_port),
       "session 1: UDP, from and to 127.0.0.1 (binary InetAddress), collector port %d"
       % a.udp_port, str(udp))
    ok((tcp[2], tcp[3], tcp[4], tcp[5], tcp[6], tcp[8]) == (6, 2, lo6, 2, lo6, a.tcp_port),
       "session 2: TCP, from and to ::1 (16 octets), collector port %d" % a.tcp_port, str(tcp))
    ok(udp[7] == ts_ports.get("udp"), "session 1: the source port is the one on the wire (%s)"
       % udp[7], "capture: %s" % ts_ports)
    tcp_ports = [ts_ports[k] for k in sorted(ts_ports) if k.startswith("tcp")]
    p1 = column(w1, e, 7).get((2,))
    ok(len(tcp_ports) == 2 and [p1, tcp[7]] == tcp_ports,
       "session 2: the source port follows the TCP connection (%s, then %s)" % (p1, tcp[7]),
       "capture: %s" % tcp_ports)
    same = all(s[9] == 0 and s[10] == 1 and s[15] == 10 for s in (udp, tcp))
    ok(same, "both: no SCTP association, exporting(1), IPFIX version 10")
    ok((udp[11], udp[12], udp[13], udp[14]) == (a.refresh, a.refresh, 0, 0) and
       (tcp[11], tcp[12], tcp[13], tcp[14]) == (0, 0, 0, 0),
       "refresh timeouts: %d s on UDP, 0 on TCP; never by message count" % a.refresh)
    st = [column(w, e, 16) for w in (w1, w2, w3)]
    ok(st[0] == {(1,): 2, (2,): 2} and st[1] == {(1,): 2, (2,): 1} and st[2] == st[0],
       "status: active(2); the TCP session inactive(1) while its collector is away", str(st))
    # discarded messages while the collector was away
    d2 = session_stats(w2, 2)["discarded"]
    tj = [s for s in j2["ipfix"] if s["name"] == "tcp"][0]
    ok(tj["notsent_flows"] == 500 and d2 == tj["discarded_messages"] and d2 > 0,
       "session 2: the 500 records that overflowed the buffer are counted as %s discarded "
       "messages while the collector is away" % d2, json.dumps(tj))


def check_counters(a, w3, j3, sess, label, msgs):
    got = session_stats(w3, sess)
    c = counts(msgs)
    js = [s for s in j3["ipfix"] if s["name"] == label][0]
    want = {"messages": c["messages"], "bytes": c["bytes"], "records": c["records"],
            "templates": c["templates"], "opt_templates": c["opt_templates"]}
    have = {k: got[k] for k in want}
    ok(have == want, "session %d (%s): messages, bytes, data records, templates and options "
       "templates equal what the collector received %s" % (sess, label, want), str(have))
    ok(got["discarded"] == js["discarded_messages"] and got["rate"] == 0,
       "session %d: discarded messages as ctflowd counts them (%d); rate 0 after a quiet second"
       % (sess, got["discarded"]), str(got))
    return got, c


def check_template_stats(w3, sess, msgs):
    c = counts(msgs)["per_tid"]
    got = {k[2]: v for k, v in column(w3, STATS + (2, 1), 1).items() if k[0] == sess}
    want = {tid: c.get(tid, 0) for tid in got}
    ok(got == want and got, "session %d: ipfixTemplateDataRecords per template equal the "
       "collector's records of that template %s" % (sess, want), "MIB %s" % got)


def check_lifecycle(a, w1, w2, w3):
    tt = MAIN + (2, 1)
    rows = [sorted(k for k in column(w, tt, 3) if k[0] == 2) for w in (w1, w2, w3)]
    defs = [sum(1 for k in column(w, MAIN + (3, 1), 2) if k[0] == 2) for w in (w1, w2, w3)]
    stats = [sum(1 for k in column(w, STATS + (2, 1), 1) if k[0] == 2) for w in (w1, w2, w3)]
    ok(rows[0] and not rows[1] and rows[2] == rows[0] and not defs[1] and not stats[1] and
       defs[2] == defs[0],
       "session 2: its %d template rows (%d field rows) vanish while the collector is away "
       "and return when it reconnects" % (len(rows[0]), defs[0]),
       "rows %s, fields %s, stats %s" % ([len(r) for r in rows], defs, stats))
    u = [sorted(k for k in column(w, tt, 3) if k[0] == 1) for w in (w1, w2, w3)]
    ok(u[0] == u[1] == u[2] and u[0], "session 1: its template rows stay (UDP: no withdrawal)")
    at1, at3 = column(w1, tt, 4), column(w3, tt, 4)
    d1, d3 = column(w1, STATS + (2, 1), 2), column(w3, STATS + (2, 1), 2)
    k = (2, a.domain, 256)
    ok(k in at1 and k in at3 and datetime_of(at3[k]) > datetime_of(at1[k]) and
       d3[k] > d1[k] and d3[k] <= uptime(w3),
       "session 2: the re-sent templates carry a later ipfixTemplateAccessTime and a new "
       "discontinuity time (%s -> %s)" % (d1.get(k), d3.get(k)))
    now = time.time()
    times = [datetime_of(v) for v in at3.values()]
    ok(times and all(now - 600 < t <= now + 1 for t in times) and
       all(len(v) == 11 for v in at3.values()),
       "ipfixTemplateAccessTime: DateAndTime in 11 octets (UTC), when each was last sent")


def check_exporter(a, w3, udp_counts, limit):
    one = lambda e, c, idx: column(w3, e, c).get(idx)  # noqa: E731
    ex = column(w3, MAIN + (4, 1), 2)
    ok(ex == {(1, 1, 1): 3, (1, 1, 2): 3},
       "ipfixExportTable: export 1 of cache 1 to both sessions, in parallel(3)", str(ex))
    mp = MAIN + (5, 1)
    ok((one(mp, 2, (1,)), one(mp, 3, (1,)), one(mp, 4, (1,))) == (1, 60, a.idle),
       "ipfixMeteringProcessTable: cache 1 at observation point group 1, active timeout 60 s "
       "(the dump interval), idle timeout %d s (the kernel's)" % a.idle,
       str([one(mp, c, (1,)) for c in (2, 3, 4)]))
    op = MAIN + (6, 1)
    ok([one(op, c, (1, 1)) for c in (3, 4, 5, 6)] == [a.domain, 0, 0, 3],
       "ipfixObservationPointTable: group 1 point 1 in domain %d, no entity or interface, "
       "both(3) directions" % a.domain)
    ok(one(MAIN + (7, 1), 3, (1, 1, 1)) == SELECT_ALL and
       w3.get(SELECT_ALL + (1, 0)) == ("INTEGER", 1),
       "ipfixSelectionProcessTable points at ipfixFuncSelectAll; ipfixFuncSelectAllAvail.0 "
       "is true(1)")
    ms, ss = STATS + (3, 1), STATS + (4, 1)
    active, unused = one(ms, 1, (1,)), one(ms, 2, (1,))
    ok(one(ms, 3, (1,)) == udp_counts["flows"] and active + unused == limit,
       "ipfixMeteringProcessStatsTable: %d data records generated (every flow record the UDP "
       "collector got), active %d + unused %d = the table's %d" % (
           one(ms, 3, (1,)), active, unused, limit))
    ok(one(ss, 1, (1, 1, 1)) == udp_counts["packets"] and one(ss, 2, (1, 1, 1)) == 0,
       "ipfixSelectionProcessStatsTable: %d packets observed (the records' packets), 0 "
       "dropped" % udp_counts["packets"], str(one(ss, 1, (1, 1, 1))))
    disc = [one(ms, 4, (1,)), one(ss, 3, (1, 1, 1)), session_stats(w3, 1)["discontinuity"],
            session_stats(w3, 2)["discontinuity"]]
    # through snmpd, ctflowd started after the master (> 0); its own listener
    # (SNMP_NS set) starts sysUpTime with ctflowd, so the counters began at 0
    own = bool(os.environ.get("SNMP_NS"))
    ok((min(disc) >= 0 if own else min(disc) > 0) and max(disc) - min(disc) <= 2
       and max(disc) < uptime(w3),
       "discontinuity times: sysUpTime when ctflowd started, %s (%s, sysUpTime now %d)"
       % ("its listener's start" if own else "after the master agent", disc, uptime(w3)))


def main():
    ap = argparse.ArgumentParser()
    for k in ("mibs", "dir", "pcap"):
        ap.add_argument("--" + k, required=True)
    for k in ("udp-port", "tcp-port", "domain", "refresh", "idle"):
        ap.add_argument("--" + k, type=int, required=True)
    a = ap.parse_args()
    d = a.dir
    w1, w2, w3 = (parse_walk(os.path.join(d, w)) for w in ("w1", "w2", "w3"))
    j1, j2, j3 = (json.load(open(os.path.join(d, j))) for j in ("t1.json", "t2.json", "t3.json"))
    compliance(a.mibs, w3, os.path.join(d, "w3.names"))
    ts, ts_ports = tshark_templates(a.pcap, a.udp_port, a.tcp_port)
    check_sessions(a, w1, w2, w3, j1, j2, j3, ts_ports)
    u = received([os.path.join(d, "u.ipfix")])
    t1 = received([os.path.join(d, "t1.ipfix")])
    t2 = received([os.path.join(d, "t2.ipfix")])
    got_u, cu = check_counters(a, w3, j3, 1, "udp", u)
    got_t, _ = check_counters(a, w3, j3, 2, "tcp", t1 + t2)
    ok(got_u["packets"] == got_u["messages"],
       "session 1: packets = messages (one datagram each)")
    segs = subprocess.run(["tshark", "-r", a.pcap, "-Y", "tcp.dstport == %d && tcp.len > 0"
                           % a.tcp_port, "-T", "fields", "-e", "frame.number"],
                          capture_output=True, text=True).stdout.split()
    # The kernel counts data segments it sent (tcpi_data_segs_out); a busy
    # capture can miss one, so one per connection may differ.
    ok(abs(got_t["packets"] - len(segs)) <= 2 and got_t["packets"] > 0,
       "session 2: packets = the TCP data segments on the wire (%d, MIB %d)"
       % (len(segs), got_t["packets"]), "MIB %s" % got_t["packets"])
    check_template_stats(w3, 1, u)
    check_template_stats(w3, 2, t2)
    check_templates(w3, a, "session 1", 1, "udp", ts)
    tcp_streams = sorted(s for s, _ in ts if s.startswith("tcp"))
    check_templates(w3, a, "session 2", 2, tcp_streams[-1] if tcp_streams else "tcp", ts)
    check_lifecycle(a, w1, w2, w3)
    check_exporter(a, w3, cu, j3["collector"]["tracked_limit"])
    sys.exit(1 if ipfixcheck.FAILS else 0)


if __name__ == "__main__":
    main()
