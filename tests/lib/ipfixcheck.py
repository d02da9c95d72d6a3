#!/usr/bin/env python3
"""What real IPFIX collectors received from ctflowd, checked against the kernel.

Decoders are the collectors' own tools: tshark (cflow dissector), ipfixDump
(libfixbuf), nfdump (files written by nfcapd) and pmacct nfacctd's JSON.
Each one's records are reduced to per-flow sums and compared, exactly, with
the kernel's DESTROY records (conntrack -E, see truth.py).

  ipfixcheck.py export ARGS...   the interoperability test (tests/integ/ipfix.sh)
  ipfixcheck.py outage ARGS...   TCP reconnect and overflow (tests/integ/ipfix_outage.sh)
  ipfixcheck.py summary FILE     one line about an IPFIX stream file (for notes)

Prints PASS/FAIL lines named after $TEST_NAME; exits 1 on any failure.
"""
import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth  # noqa: E402

TEST = os.environ.get("TEST_NAME", "ipfix")
FAILS = 0
# data template ids: per counter width (full 256, 4-octet 320, compact 336),
# 8 biflow (plain, NAT, IPv6, IPv6 NAT; then with enterprise IEs) and 8 uniflow
WIDTH_BASES = (256, 320, 336)
FLOW_TIDS = {b + i for b in WIDTH_BASES for i in range(16)}
ELEMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../conf/ipfix-elements.xml")
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "icmpv6": 58}
NAT_TIDS = {b + i for b in WIDTH_BASES for i in range(1, 16, 2)}
OPT_TIDS = (300, 301, 302, 303)  # options templates


def data_tids(enterprise=False, uniflow=False):
    """The data templates a reduced-size biflow (or uniflow) session announces."""
    off = (8 if uniflow else 0) + (4 if enterprise else 0)
    return [b + off + i for b in WIDTH_BASES for i in range(4)]


def ok(cond, what, detail=""):
    global FAILS
    if cond:
        print("PASS: %s: %s" % (TEST, what))
    else:
        FAILS += 1
        print("FAIL: %s: %s%s" % (TEST, what, (": " + detail) if detail else ""))
    return cond


def addr(s):
    return str(ipaddress.ip_address(s)) if s else s


# ---------------------------------------------------------------- ground truth

def truth_flows(path):
    """flow id -> the kernel's final counters and tuples.  The kernel reuses
    an id for a new connection on the same tuple: its incarnations are summed,
    as a collector's per-flowId sums sum them."""
    out = {}
    for f in truth.parse_events(path):
        o, r = f["o"], f["r"]
        icmp = f["proto"] in (1, 58)
        t = {
            "proto": f["proto"], "src": addr(o["src"]), "dst": addr(o["dst"]),
            "sport": 0 if icmp else o["sport"], "dport": 0 if icmp else o["dport"],
            "oct": o["bytes"], "pkt": o["packets"], "roct": r["bytes"], "rpkt": r["packets"],
            # post-NAT source = reply destination, post-NAT destination = reply source
            "nsrc": addr(r["dst"]), "ndst": addr(r["src"]),
            "nsport": 0 if icmp else r["dport"], "ndport": 0 if icmp else r["sport"],
            "mark": f["mark"], "zone": f["zone"],
        }
        t["nat"] = (t["nsrc"], t["ndst"], t["nsport"], t["ndport"]) != \
            (t["src"], t["dst"], t["sport"], t["dport"])
        t["incarnations"] = 1
        if f["id"] in out:
            for c in ("oct", "pkt", "roct", "rpkt", "incarnations"):
                t[c] += out[f["id"]][c]
        out[f["id"]] = t
    return out


# ---------------------------------------------------------------- decoders

class Msg:
    def __init__(self):
        self.seq = None
        self.odid = None
        self.length = 0
        self.time = None
        self.templates = []   # template ids announced
        self.opt_templates = []  # ... of them, the options templates
        self.withdrawn = []   # template ids withdrawn (field count 0)
        self.records = []     # normalized data records (flow and options)
        self.gap = False      # the decoder saw a sequence number gap


def to_int(v):
    if isinstance(v, list):
        return [to_int(x) for x in v]
    if v is None:
        return None
    v = str(v).strip()
    if re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2})*", v) and ":" in v:
        return int(v.replace(":", ""), 16)
    if v.startswith("0x"):
        return int(v, 16)
    return int(v)


# ipfixDump ----------------------------------------------------------------

IPFIXDUMP_FLOW = {
    "8": "src", "27": "src", "12": "dst", "28": "dst", "7": "sport", "11": "dport",
    "4": "proto", "1": "oct", "2": "pkt", "29305/1": "roct", "29305/2": "rpkt",
    "136": "reason", "148": "id", "225": "nsrc", "281": "nsrc", "226": "ndst", "282": "ndst",
    "227": "nsport", "228": "ndport", "32473/2": "zone", "32473/1": "mark",
    "152": "start", "153": "end",
}
IPFIXDUMP_OPT = {
    "41": "x_msgs", "42": "x_flows", "40": "x_octets", "166": "ns_flows", "167": "ns_pkts",
    "168": "ns_octets", "32473/4": "ev_lost", "32473/5": "overruns", "32473/6": "unobserved",
    "32473/7": "rejected", "149": "odid", "144": "epid",
}
ADDR_FIELDS = ("src", "dst", "nsrc", "ndst")


def ipfixdump(path):
    """Messages of an IPFIX stream file; (messages, error text)."""
    # our element file makes ipfixDump decode the enterprise IEs by type
    # (unknown ones it prints as host-order integers)
    p = subprocess.run(["ipfixDump", "--element-file", ELEMENTS, "--in", path],
                       capture_output=True, text=True)
    msgs, cur, rec = [], None, None
    for line in p.stdout.splitlines():
        if line.startswith("--- Message Header ---"):
            cur = Msg()
            msgs.append(cur)
            rec = None
            continue
        if cur is None:
            continue
        m = re.search(r"observation domain id:\s*(\d+)", line)
        if m:
            cur.odid = int(m.group(1))
        m = re.search(r"message length:\s*(\d+)\s+sequence number:\s*(\d+)", line)
        if m:
            cur.length, cur.seq = int(m.group(1)), int(m.group(2))
            continue
        m = re.match(r"--- (options )?template record ---", line)
        if m:
            rec = "otemplate" if m.group(1) else "template"
            continue
        if line.startswith("--- data record"):
            rec = {}
            cur.records.append(rec)
            continue
        m = re.search(r"tid:\s*(\d+)", line)
        if m:
            if rec in ("template", "otemplate") and re.search(r"field count:\s*0\b", line):
                cur.withdrawn.append(int(m.group(1)))
            elif rec in ("template", "otemplate"):
                cur.templates.append(int(m.group(1)))
                if rec == "otemplate":
                    cur.opt_templates.append(int(m.group(1)))
            elif isinstance(rec, dict):
                rec["tid"] = int(m.group(1))
            continue
        m = re.match(r"\s*\((\d+(?:/\d+)?)\)\s*(?:\(S\))?\s*\S+\s*:\s*(.*)$", line)
        if m and isinstance(rec, dict):
            ie, val = m.group(1), m.group(2).strip()
            name = (IPFIXDUMP_OPT if rec.get("tid", 0) in OPT_TIDS else IPFIXDUMP_FLOW).get(ie)
            if name is None:
                continue
            if name in ADDR_FIELDS:
                rec[name] = addr(val)
            elif name in ("start", "end"):
                rec[name] = val
            else:
                rec[name] = int(val) if re.fullmatch(r"\d+", val) else val
    return msgs, p.stderr.strip() if p.returncode else ""


# tshark ---------------------------------------------------------------------

TSHARK_FLOW = {
    "cflow.srcaddr": "src", "cflow.srcaddrv6": "src", "cflow.dstaddr": "dst",
    "cflow.dstaddrv6": "dst", "cflow.srcport": "sport", "cflow.dstport": "dport",
    "cflow.protocol": "proto", "cflow.flow_end_reason": "reason", "cflow.flow_id": "id",
    "cflow.post_natsource_ipv4_address": "nsrc", "cflow.post_nat_source_ipv6_address": "nsrc",
    "cflow.post_natdestination_ipv4_address": "ndst",
    "cflow.post_nat_destination_ipv6_address": "ndst",
    "cflow.post_naptsource_transport_port": "nsport",
    "cflow.post_naptdestination_transport_port": "ndport",
}
TSHARK_OPT = {
    "cflow.packetsexp": "x_msgs", "cflow.flowsexp": "x_flows", "cflow.octetsexp": "x_octets",
    "cflow.notsent_flows": "ns_flows", "cflow.notsent_packets": "ns_pkts",
    "cflow.notsent_octets": "ns_octets",
}


def walk(obj, key):
    """Does key occur anywhere in the JSON tree?"""
    if isinstance(obj, dict):
        return key in obj or any(walk(v, key) for v in obj.values())
    if isinstance(obj, list):
        return any(walk(v, key) for v in obj)
    return False


def experts(obj):
    """Every expert message in the JSON tree."""
    if isinstance(obj, dict):
        return [m for k, v in obj.items() for m in (
            [v.get("_ws.expert.message", "")] if k == "_ws.expert" and isinstance(v, dict) else experts(v))]
    if isinstance(obj, list):
        return [m for v in obj for m in experts(v)]
    return []


# tshark 4.0 reads an options template withdrawal (RFC 7011 8.1, Figure T:
# template id and a field count of 0, in an options template set) as if it
# had a scope field count, the next record's id, and calls it malformed.
# The bytes are RFC 7011's (test_ipfix checks them); libfixbuf reads them.
TSHARK_WITHDRAWAL = re.compile(r"More scope fields \(\d+\) than fields \(0\)")


def ts_record(tid, fl):
    rec = {"tid": tid}
    table = TSHARK_OPT if tid in OPT_TIDS else TSHARK_FLOW
    for k, name in table.items():
        if k in fl:
            v = fl[k]
            rec[name] = addr(v) if name in ADDR_FIELDS else to_int(v)
    if tid not in OPT_TIDS:
        rec["oct"], rec["roct"] = to_int(fl["cflow.octets"])
        rec["pkt"], rec["rpkt"] = to_int(fl["cflow.packets"])
        ent = fl.get("cflow.enterprise_private_entry")
        if isinstance(ent, list) and len(ent) == 3:
            rec["zone"], rec["mark"] = to_int(ent[0]), to_int(ent[1])
    return rec


def ts_message(cf, t):
    m = Msg()
    m.time = t
    m.seq = int(cf["cflow.sequence"])
    m.odid = int(cf["cflow.od_id"])
    m.length = int(cf["cflow.len"])
    m.gap = walk(cf, "cflow.sequence_analysis.expected_sn")
    for k, st in cf.items():
        if not (k.startswith("Set ") and isinstance(st, dict)):
            continue
        sid = int(st["cflow.flowset_id"])
        if sid in (2, 3):
            for tk, tv in st.items():
                if isinstance(tv, dict) and "cflow.template_id" in tv:
                    n = tv.get("cflow.template_field_count", tv.get("cflow.template_ipfix_total_field_count"))
                    (m.withdrawn if n == "0" else m.templates).append(int(tv["cflow.template_id"]))
            continue
        for fk, fl in st.items():
            if fk.startswith("Flow ") and isinstance(fl, dict):
                m.records.append(ts_record(sid, fl))
    return m


def tshark(pcap, udp_port, tcp_port):
    """{stream: [Msg]} (streams 'udp' and 'tcp:N'), and a list of anomalies."""
    cmd = ["tshark", "-r", pcap, "-T", "json", "--no-duplicate-keys"]
    if udp_port:
        cmd += ["-d", "udp.port==%s,cflow" % udp_port]
    if tcp_port:
        cmd += ["-d", "tcp.port==%s,cflow" % tcp_port]
    p = subprocess.run(cmd, capture_output=True, text=True)
    streams, bad = {}, []
    if p.returncode != 0:
        return streams, ["tshark failed: " + p.stderr.strip()[-300:]]
    for pkt in json.loads(p.stdout or "[]"):
        lay = pkt["_source"]["layers"]
        t = float(lay["frame"]["frame.time_epoch"])
        if "_ws.malformed" in lay:
            bad.append("frame %s malformed" % lay["frame"]["frame.number"])
        cfs = lay.get("cflow")
        if cfs is None:
            continue
        if isinstance(cfs, dict):
            cfs = [cfs]
        msgs = [m for m in experts(cfs) if not TSHARK_WITHDRAWAL.search(m)]
        if msgs or (walk(cfs, "_ws.expert") and not experts(cfs)):
            bad.append("frame %s: expert info in cflow: %s" % (lay["frame"]["frame.number"], msgs[:2]))
        key = "udp" if "udp" in lay else "tcp:%s" % lay["tcp"]["tcp.stream"]
        for cf in cfs:
            streams.setdefault(key, []).append(ts_message(cf, t))
    return streams, bad


# nfdump and pmacct ---------------------------------------------------------

def nfdump(flowdir):
    p = subprocess.run(["nfdump", "-r", flowdir, "-o", "json"], capture_output=True, text=True)
    out = []
    for r in json.loads(p.stdout or "[]"):
        if r.get("type") != "FLOW":
            continue
        out.append({
            "proto": r["proto"], "src": addr(r.get("src4_addr") or r.get("src6_addr")),
            "dst": addr(r.get("dst4_addr") or r.get("dst6_addr")),
            "sport": r.get("src_port", 0), "dport": r.get("dst_port", 0),
            "oct": r["in_bytes"], "pkt": r["in_packets"],
            "roct": r.get("out_bytes", 0), "rpkt": r.get("out_packets", 0),
            "nsrc": addr(r.get("src4_xlt_ip")) if r.get("src4_xlt_ip") not in (None, "0.0.0.0") else None,
            "exporter": addr(r.get("ip4_router") or r.get("ip6_router")),
        })
    return out


def nfdump_seq_failures(flowdir):
    fails = 0
    for fn in sorted(os.listdir(flowdir)):
        if not fn.startswith("nfcapd.2"):
            continue
        p = subprocess.run(["nfdump", "-E", os.path.join(flowdir, fn)], capture_output=True,
                           text=True)
        fails += sum(int(x) for x in re.findall(r"Sequence failures:\s*(\d+)", p.stdout))
    return fails


def pmacct(path):
    out = []
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        out.append({
            "id": int(r["flow_id"]), "src": addr(r["ip_src"]), "dst": addr(r["ip_dst"]),
            "proto": PROTO.get(r["ip_proto"], r["ip_proto"]), "seq": r["export_proto_seqno"],
            "sport": r["port_src"], "dport": r["port_dst"],
            "oct": r["bytes"], "pkt": r["packets"], "roct": int(r["rev_octets"]),
            "rpkt": int(r["rev_packets"]), "reason": int(r["flow_end_reason"]),
            "nsrc": addr(r["post_nat_ip_src"]) or None, "ndst": addr(r["post_nat_ip_dst"]) or None,
            "nsport": r["post_nat_port_src"], "ndport": r["post_nat_port_dst"],
        })
    return out


# ---------------------------------------------------------------- checks

COUNTERS = ("oct", "pkt", "roct", "rpkt")


def flow_records(msgs):
    return [r for m in msgs for r in m.records if r.get("tid", 256) in FLOW_TIDS]


def sums(records, keyf):
    out = {}
    for r in records:
        s = out.setdefault(keyf(r), [0, 0, 0, 0, 0])
        for i, c in enumerate(COUNTERS):
            s[i] += r[c]
        s[4] += 1
    return out


def exact_by_id(name, flows, records):
    """Per flow id: the deltas add up to the kernel's final counters."""
    got = sums(records, lambda r: r["id"])
    bad = []
    for fid, t in flows.items():
        want = [t[c] for c in COUNTERS]
        have = got.get(fid, [None] * 5)[:4]
        if have != want:
            bad.append("flow %s %s %s:%s->%s:%s want %s got %s" % (
                fid, t["proto"], t["src"], t["sport"], t["dst"], t["dport"], want, have))
    extra = sorted(set(got) - set(flows))
    ok(not bad and not extra,
       "%s: every flow's sum of deltas equals the kernel's counters (%d flows, %d records)"
       % (name, len(flows), len(records)),
       "; ".join(bad[:4]) + (" extra ids %s" % extra[:4] if extra else ""))


def tuple_key(r):
    icmp = r["proto"] in (1, 58)
    return (r["proto"], r["src"], r["dst"], 0 if icmp else r["sport"], 0 if icmp else r["dport"])


def exact_by_tuple(name, flows, records):
    got = sums(records, tuple_key)
    want = sums(flows.values(), tuple_key)
    diff = [(k, want.get(k), got.get(k)) for k in set(got) | set(want)
            if (want.get(k) or [None] * 4)[:4] != (got.get(k) or [None] * 4)[:4]]
    ok(not diff, "%s: per-flow octets and packets, both directions, equal the kernel's (%d flows)"
       % (name, len(want)), "; ".join("%s want %s got %s" % d for d in diff[:4]))


def fields_match(name, flows, records):
    """Keys, NAT fields, mark and template choice of every record."""
    bad = []
    for r in records:
        t = flows.get(r["id"])
        if t is None:
            continue
        for f in ("proto", "src", "dst", "sport", "dport"):
            if r.get(f) != t[f]:
                bad.append("flow %s %s=%s want %s" % (r["id"], f, r.get(f), t[f]))
        if "tid" in r and (r["tid"] in NAT_TIDS) != t["nat"]:
            bad.append("flow %s template %s, NAT=%s" % (r["id"], r["tid"], t["nat"]))
        if t["nat"]:
            for f in ("nsrc", "ndst", "nsport", "ndport"):
                if f in r and r[f] != t[f]:
                    bad.append("flow %s %s=%s want %s" % (r["id"], f, r[f], t[f]))
        if "mark" in r and r["mark"] != t["mark"]:
            bad.append("flow %s mark=%s want %s" % (r["id"], r["mark"], t["mark"]))
    ok(not bad, "%s: addresses, ports, post-NAT fields, mark and template of every record match"
       % name, "; ".join(bad[:4]))


def end_reasons(name, flows, records):
    """Interim slices say active timeout (2), the last one how the flow ended."""
    by = {}
    # stream order; pmacct's purges are unordered, its records carry the message's sequence
    for r in sorted(records, key=lambda r: r.get("seq", 0)):
        by.setdefault(r["id"], []).append(r)
    bad = []
    for fid, rs in by.items():
        t = flows.get(fid)
        if t is None:
            continue
        *early, last = rs
        want = 3 if t["proto"] == 6 else 1
        if last["reason"] != want or any(r["reason"] != 2 for r in early):
            bad.append("flow %s proto %s reasons %s" % (fid, t["proto"], [r["reason"] for r in rs]))
    ok(not bad, "%s: flowEndReason 2 on interim records, 3 (TCP closed) or 1 (idle) on the last"
       % name, "; ".join(bad[:4]))


def long_flow(name, flows, records, port):
    ids = [i for i, t in flows.items() if t["dport"] == port and t["proto"] == 6]
    rs = [r for r in records if ids and r["id"] == ids[0]]
    interim = [r for r in rs if r["reason"] == 2 and r["oct"] + r["roct"] > 0]
    ok(len(ids) == 1 and len(interim) >= 2,
       "%s: the long-lived flow was exported in %d growing slices before it ended"
       % (name, len(interim)), "records %s" % [(r["reason"], r["oct"], r["roct"]) for r in rs])


def sequence(name, msgs, start=0):
    """RFC 7011: each header carries the data records sent before it."""
    bad, expect = [], start
    for i, m in enumerate(msgs):
        if m.seq != expect:
            bad.append("message %d: seq %s, expected %s" % (i, m.seq, expect))
        expect = m.seq + len(m.records)
    ok(not bad, "%s: sequence numbers consecutive over %d messages" % (name, len(msgs)),
       "; ".join(bad[:3]))


def templates_first(name, msgs, want):
    """The messages before the first record announce every template (they
    may take more than one message: the MTU)."""
    lead = []
    for m in msgs:
        if m.records:
            break
        lead += m.templates
    ok(sorted(lead) == sorted(want) and len(lead) == len(set(lead)),
       "%s: the first messages announce all templates %s before any record" % (name, sorted(want)),
       "before the first record: templates %s" % sorted(lead))


def options(name, msgs, ns_flows=0, base=(0, 0, 0)):
    """Metering statistics equal what was sent before; the loss records say none."""
    bad, n_msgs, n_flows, n_oct = [], base[0], base[1], base[2]
    seen = {300: 0, 303: 0, 302: 0}
    for m in msgs:
        for r in m.records:
            tid = r.get("tid")
            if tid in seen:
                seen[tid] += 1
            if tid == 300 and (r["x_msgs"], r["x_flows"], r["x_octets"]) != (n_msgs, n_flows, n_oct):
                bad.append("300: %s/%s/%s, sent before: %s/%s/%s" % (
                    r["x_msgs"], r["x_flows"], r["x_octets"], n_msgs, n_flows, n_oct))
            if tid == 303 and any(r.get(k) for k in ("ev_lost", "overruns", "unobserved",
                                                      "rejected")):
                bad.append("303 reports loss: %s" % r)
            if tid == 302 and r["ns_flows"] != ns_flows:
                bad.append("302 notSentFlowTotalCount %s, expected %s" % (r["ns_flows"], ns_flows))
        n_msgs += 1
        n_oct += m.length
        n_flows += sum(1 for r in m.records if r.get("tid") in FLOW_TIDS)
    ok(not bad and all(seen.values()),
       "%s: options records (300 metering, 303 loss, 302 reliability: %s) agree with the stream"
       % (name, "/".join(str(seen[k]) for k in (300, 303, 302))), "; ".join(bad[:3]))
    return n_msgs, n_flows, n_oct


def refresh(name, msgs, every):
    # an announcement may take more than one message (the MTU): one time each
    times = []
    for m in msgs:
        if m.templates and not (times and m.time - times[-1] < 0.5):
            times.append(m.time)
    gaps = [b - a for a, b in zip(times, times[1:])]
    ok(len(times) >= 3 and all(0.5 * every <= g <= 2 * every + 1 for g in gaps),
       "%s: templates resent every %ss (%d announcements)" % (name, every, len(times)),
       "gaps %s" % ["%.2f" % g for g in gaps])


def session_json(path, name):
    doc = json.load(open(path))
    return next(s for s in doc["ipfix"] if s["name"] == name)


# ---------------------------------------------------------------- commands

def cmd_export(a):
    flows = truth_flows(a.truth)
    ok(len(flows) >= 10, "kernel reported %d flows to compare with" % len(flows))
    streams, bad = tshark(a.pcap, a.udp_port, a.tcp_port)
    ok(not bad, "tshark: no malformed message, no expert warning in any IPFIX message",
       "; ".join(bad[:3]))
    ts_udp = streams.get("udp", [])
    ts_tcp = [m for k, v in sorted(streams.items()) if k.startswith("tcp") for m in v]
    ok(ts_udp and ts_tcp and not any(m.gap for m in ts_udp + ts_tcp),
       "tshark: sequence analysis finds no gap (UDP %d, TCP %d messages)"
       % (len(ts_udp), len(ts_tcp)))
    all_tids = data_tids(a.enterprise) + [300, 302, 303]
    odids = {m.odid for m in ts_udp + ts_tcp}
    ok(odids == {a.domain}, "every message carries observation domain %d" % a.domain,
       "seen %s" % sorted(odids))
    for label, msgs in (("tshark UDP", ts_udp), ("tshark TCP", ts_tcp)):
        recs = flow_records(msgs)
        exact_by_id(label, flows, recs)
    recs = flow_records(ts_tcp)
    fields_match("tshark TCP", flows, recs)
    refresh("tshark UDP", ts_udp, a.refresh)
    for label, path in (("ipfixDump UDP", a.udp_file), ("ipfixDump TCP", a.tcp_file)):
        msgs, err = ipfixdump(path)
        ok(not err and msgs, "%s: the stream decodes (%d messages)" % (label, len(msgs)), err)
        recs = flow_records(msgs)
        exact_by_id(label, flows, recs)
        fields_match(label, flows, recs)
        end_reasons(label, flows, recs)
        templates_first(label, msgs, all_tids)
        sequence(label, msgs)
        options(label, msgs)
        if a.long_port:
            long_flow(label, flows, recs, a.long_port)
        sess = session_json(a.json, "udp" if "UDP" in label else "tcp")
        ok(sess["records"] == len(recs) and sess["notsent_flows"] == 0 and
           sess["discarded_messages"] == 0 and sess["buffered"] == 0,
           "%s: ctflowd's counters agree (%d records sent, none dropped)" % (label, len(recs)),
           json.dumps(sess))
    nf = nfdump(a.nfdump)
    exact_by_tuple("nfcapd/nfdump", flows, nf)
    ok(nfdump_seq_failures(a.nfdump) == 0, "nfcapd/nfdump: no sequence failures")
    pm = pmacct(a.pmacct)
    exact_by_id("pmacct nfacctd", flows, pm)
    fields_match("pmacct nfacctd", flows, pm)
    end_reasons("pmacct nfacctd", flows, pm)
    marked = [t for t in flows.values() if t["mark"]]
    ok(marked, "the workload had %d marked flows to export" % len(marked))
    return FAILS == 0


def cmd_outage(a):
    flows1, flows2 = truth_flows(a.truth1), truth_flows(a.truth2)
    flows2 = {k: v for k, v in flows2.items() if k not in flows1}
    s1, err1 = ipfixdump(a.first)
    s2, err2 = ipfixdump(a.second)
    ok(not err1 and not err2 and s1 and s2, "ipfixDump decodes both TCP sessions (%d, %d messages)"
       % (len(s1), len(s2)), err1 + err2)
    tids = data_tids() + [300, 302, 303]
    r1, r2 = flow_records(s1), flow_records(s2)
    # session 1: what fitted the buffer arrives exactly; the rest is counted, not lost silently
    templates_first("session 1", s1, tids)
    sequence("session 1", s1)
    ok(len(r1) == a.buffer, "session 1: the %d records the buffer held arrived after the outage"
       % a.buffer, "got %d" % len(r1))
    got = {r["id"] for r in r1}
    exact_by_id("session 1", {k: v for k, v in flows1.items() if k in got}, r1)
    dropped = [v for k, v in flows1.items() if k not in got]
    want_ns = (len(dropped), sum(t["pkt"] + t["rpkt"] for t in dropped),
               sum(t["oct"] + t["roct"] for t in dropped))
    ns = [(r["ns_flows"], r["ns_pkts"], r["ns_octets"]) for m in s1 for r in m.records
          if r.get("tid") == 302]
    ok(ns and ns[0] == want_ns,
       "session 1: exporting-reliability record counts the %d overflowed flows, their packets "
       "and octets %s" % (len(dropped), want_ns), "302 records: %s" % ns)
    base = options("session 1", s1, ns_flows=len(dropped))
    # session 2: a new transport session after the collector went away and came back
    templates_first("session 2", s2, tids)
    sequence("session 2", s2)
    exact_by_id("session 2", flows2, r2)
    options("session 2", s2, ns_flows=len(dropped), base=base)
    sess = session_json(a.json, "central")
    ok(sess["connects"] == 2 and sess["notsent_flows"] == len(dropped) and
       sess["records"] == len(r1) + len(r2) and sess["buffered"] == 0,
       "ctflowd's session counters: 2 connections, %d records, %d not sent"
       % (len(r1) + len(r2), len(dropped)), json.dumps(sess))
    return FAILS == 0


def cmd_flows(a):
    """Per flow: what each collector got sums to the kernel's counters (ids
    the kernel reused summed over their incarnations, as collectors sum)."""
    flows = truth_flows(a.truth)
    reused = sum(1 for t in flows.values() if t["incarnations"] > 1)
    ok(len(flows) >= 1, "kernel reported %d flows (%d ids reused by later connections)"
       % (len(flows), reused))
    if a.pcap:
        streams, bad = tshark(a.pcap, a.udp_port, a.tcp_port)
        ok(not bad, "%s: tshark finds no malformed message" % a.label, "; ".join(bad[:3]))
        msgs = [m for v in streams.values() for m in v]
        exact_by_id("%s: tshark" % a.label, flows, flow_records(msgs))
    if a.ipfix_file:
        msgs, err = ipfixdump(a.ipfix_file)
        ok(not err and msgs, "%s: ipfixDump decodes the stream (%d messages)"
           % (a.label, len(msgs)), err)
        exact_by_id("%s: ipfixDump" % a.label, flows, flow_records(msgs))
    if a.nfdump:
        exact_by_tuple("%s: nfcapd/nfdump" % a.label, flows, nfdump(a.nfdump))
    return FAILS == 0


def cmd_summary(a):
    msgs, err = ipfixdump(a.file)
    recs = flow_records(msgs)
    print("%d messages, %d flow records, %d octets%s" % (
        len(msgs), len(recs), sum(m.length for m in msgs), (", error: " + err) if err else ""))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    for k in ("truth", "pcap", "udp-file", "tcp-file", "nfdump", "pmacct", "json"):
        e.add_argument("--" + k, required=True)
    e.add_argument("--udp-port", required=True)
    e.add_argument("--tcp-port", required=True)
    e.add_argument("--refresh", type=float, default=2)
    e.add_argument("--long-port", type=int, default=0)
    e.add_argument("--enterprise", action="store_true")
    e.add_argument("--domain", type=int, default=1)
    o = sub.add_parser("outage")
    for k in ("truth1", "truth2", "first", "second", "json"):
        o.add_argument("--" + k, required=True)
    o.add_argument("--buffer", type=int, required=True)
    f = sub.add_parser("flows")
    f.add_argument("--truth", required=True)
    f.add_argument("--label", default="collector")
    for k in ("pcap", "udp-port", "tcp-port", "ipfix-file", "nfdump"):
        f.add_argument("--" + k)
    s = sub.add_parser("summary")
    s.add_argument("file")
    a = ap.parse_args()
    good = {"export": cmd_export, "outage": cmd_outage, "flows": cmd_flows,
            "summary": cmd_summary}[a.cmd](a)
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
