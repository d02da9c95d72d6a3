#!/usr/bin/env python3
"""Ground truth for the integration tests.

Reads the kernel's own record of finished flows (tests/tools/ctrecord's
output, the format of `conntrack -E -e DESTROY -o extended,id`), aggregates it independently of ctflowd's C code with
the same profile semantics (key fields, prefixes, host endpoints, NAT views),
and compares with the tables ctflowd wrote as JSON, exactly.

  truth.py compare EVENTS JSON [PROFILE ...]   PASS/FAIL line per profile
  truth.py count EVENTS                        number of DESTROY events
  truth.py row JSON PROFILE FIELD=VALUE...     print one row as JSON
"""
import ipaddress
import json
import sys

TEST = "truth"


def parse_events(path):
    return [parse_line(line) for line in open(path, errors="replace") if "[DESTROY]" in line]


def parse_line(line):
    """One record: [DESTROY] and what conntrack -o extended,id prints after it."""
    toks = line.split()
    i = toks.index("[DESTROY]")
    fam = 6 if toks[i + 1] == "ipv6" else 4
    proto = int(toks[i + 4])
    tup = [{}, {}]
    d, after_delta, extra = -1, False, {}
    for t in toks:
        if "=" not in t:
            continue
        k, v = t.split("=", 1)
        if k == "src" and not after_delta:
            d += 1
        if k == "delta-time":
            after_delta = True
        if after_delta or d not in (0, 1):
            if k in ("id", "zone", "mark", "start_ns", "stop_ns"):
                extra[k] = int(v)
            continue
        if k in ("zone", "mark"):
            extra[k] = int(v)
        elif k in ("src", "dst"):
            tup[d][k] = v
        else:
            tup[d][k] = int(v)
    return {"fam": fam, "proto": proto, "o": tup[0], "r": tup[1],
            "zone": extra.get("zone", 0), "mark": extra.get("mark", 0),
            "id": extra.get("id"), "start_ns": extra.get("start_ns", 0),
            "stop_ns": extra.get("stop_ns", 0)}


def parse_spec(text):
    fields = []
    for tok in text.replace(",", " ").split():
        parts = tok.split("/")
        p4 = int(parts[1]) if len(parts) > 1 else 32
        p6 = int(parts[2]) if len(parts) > 2 else 128
        fields.append((parts[0], p4, p6))
    return fields


def masked(addr, plen, full):
    net = ipaddress.ip_network("%s/%d" % (addr, plen), strict=False)
    s = str(net.network_address)
    return s if plen == full else "%s/%d" % (s, plen)


def is_icmp(f):
    return f["proto"] in (1, 58)


def service_port(f, translated):
    if is_icmp(f):
        return f["o"]["type"] * 256 + f["o"]["code"]
    return f["r"]["sport"] if translated else f["o"]["dport"]


def key_of(f, fields, translated, side):
    src = f["r"]["dst"] if translated else f["o"]["src"]
    dst = f["r"]["src"] if translated else f["o"]["dst"]
    full = 128 if f["fam"] == 6 else 32
    key = []
    for name, p4, p6 in fields:
        plen = p6 if f["fam"] == 6 else p4
        if name == "src":
            key.append(("src", masked(src, plen, full)))
        elif name == "dst":
            key.append(("dst", masked(dst, plen, full)))
        elif name == "host":
            key.append(("host", masked(src if side == 0 else dst, plen, full)))
        elif name == "proto":
            key.append(("proto", f["proto"]))
        elif name == "port":
            key.append(("port", service_port(f, translated)))
        elif name in ("zone", "mark"):
            key.append((name, f[name]))
    return tuple(key)


def aggregate(flows, spec, addresses):
    fields = parse_spec(spec)
    translated = addresses == "translated"
    host = any(n == "host" for n, _, _ in fields)
    rows = {}

    def add(key, fwd, rev, count):
        r = rows.setdefault(key, [0, 0, 0, 0, 0, 0])
        r[0] += fwd[0]
        r[1] += fwd[1]
        r[2] += rev[0]
        r[3] += rev[1]
        r[4] += count
        r[5] += count

    for f in flows:
        o = (f["o"]["packets"], f["o"]["bytes"])
        r = (f["r"]["packets"], f["r"]["bytes"])
        ka = key_of(f, fields, translated, 0)
        add(ka, o, r, 1)
        if host:
            kb = key_of(f, fields, translated, 1)
            if kb == ka:
                add(ka, r, o, 0)
            else:
                add(kb, r, o, 1)
    return rows


COUNTERS = ("fwd_packets", "fwd_bytes", "rev_packets", "rev_bytes", "flows_started", "flows_ended")
KEYS = ("src", "dst", "host", "proto", "port", "zone", "mark")


def json_rows(profile):
    rows = {}
    for e in profile["entries"]:
        key = tuple((k, e[k]) for k in KEYS if k in e)
        rows[key] = [e[c] for c in COUNTERS]
    return rows


def order(key):
    return tuple(k for _, k in key)


def compare(events, tables, names):
    flows = parse_events(events)
    doc = json.load(open(tables))
    ok = True
    for p in doc["profiles"]:
        if names and p["name"] not in names:
            continue
        want = aggregate(flows, p["key"], p.get("addresses", "original"))
        got = json_rows(p)
        # rows keyed in the JSON's field order; put ours in the same order
        got = {tuple(sorted(k, key=lambda kv: KEYS.index(kv[0]))): v for k, v in got.items()}
        want = {tuple(sorted(k, key=lambda kv: KEYS.index(kv[0]))): v for k, v in want.items()}
        bad = []
        for k in sorted(set(want) | set(got), key=str):
            if want.get(k) != got.get(k):
                bad.append("%s: kernel %s ctflowd %s" % (dict(k), want.get(k), got.get(k)))
        total = [sum(v[i] for v in want.values()) for i in range(6)]
        if bad:
            ok = False
            print("FAIL: %s: profile %s (%s) differs from the kernel in %d of %d rows"
                  % (TEST, p["name"], p["key"], len(bad), len(want)))
            for b in bad[:10]:
                print("  # " + b)
        else:
            print("PASS: %s: profile %s (%s, %s): %d rows equal the kernel's sums exactly "
                  "(%d flows, %d+%d packets, %d+%d bytes)"
                  % (TEST, p["name"], p["key"], p.get("addresses", "original"), len(want),
                     len(flows), total[0], total[2], total[1], total[3]))
    return ok


def main():
    global TEST
    if len(sys.argv) >= 4 and sys.argv[1] == "compare":
        TEST = __import__("os").environ.get("TEST_NAME", "truth")
        sys.exit(0 if compare(sys.argv[2], sys.argv[3], sys.argv[4:]) else 1)
    if len(sys.argv) == 3 and sys.argv[1] == "count":
        print(len(parse_events(sys.argv[2])))
        return
    if len(sys.argv) >= 4 and sys.argv[1] == "row":
        doc = json.load(open(sys.argv[2]))
        want = dict(a.split("=", 1) for a in sys.argv[4:])
        for p in doc["profiles"]:
            if p["name"] != sys.argv[3]:
                continue
            for e in p["entries"]:
                if all(str(e.get(k)) == v for k, v in want.items()):
                    print(json.dumps(e))
                    return
        print("{}")
        return
    print(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main()
