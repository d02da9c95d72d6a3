#!/usr/bin/env python3
"""CTFLOW-MIB checks against what snmpd really answers.

  mibcheck.py compare EVENTS WALK ROOT      ctflowAggTable (numeric walk) vs the
                                            kernel's DESTROY records, per profile
  mibcheck.py same WALK1 WALK2 PREFIX       two walks hold the same objects and values
                                            under PREFIX
  mibcheck.py sweep ROOT AGENT WALK         GET/GETNEXT with malformed and edge
                                            indexes on every table: right answer or
                                            noSuchInstance/Object, never a wrong row
  mibcheck.py sweep-ipfix AGENT WALK        the same for IPFIX-MIB and IPFIX-SELECTOR-MIB
  mibcheck.py value WALK OID                print one value from a walk

WALK files are `snmpbulkwalk -On -Oe -Ot` output.  ROOT is CTFLOW-MIB's root OID.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth  # noqa: E402

TEST = os.environ.get("TEST_NAME", "mibcheck")


def parse_oid(s):
    return tuple(int(x) for x in s.strip().lstrip(".").split("."))


def parse_walk(path):
    """{oid tuple: (type, value text)} from `-On` output."""
    out = {}
    for line in open(path, errors="replace"):
        if " = " not in line or not line.startswith("."):
            continue
        o, v = line.rstrip("\n").split(" = ", 1)
        typ, sep, val = v.partition(": ")
        if not sep and typ.isdigit():  # -Ot prints TimeTicks as a bare number
            typ, val = "Timeticks", typ
        out[parse_oid(o)] = (typ, val)
    return out


KEY_COLUMN = 22  # ctflowAggKey


def under(o, root):
    return o[:len(root)] == root


def decode_agg_index(idx):
    """Index after the column -> (profile, addr1, plen1, addr2, plen2, proto, port, zone, mark)."""
    p, i = idx[0], 1
    addrs = []
    for _ in range(2):
        typ, n = idx[i], idx[i + 1]
        raw = bytes(idx[i + 2:i + 2 + n])
        plen = idx[i + 2 + n]
        i += 3 + n
        if typ == 0:
            addrs.append((None, 0))
        else:
            import ipaddress
            addrs.append((str(ipaddress.ip_address(raw)), plen))
    proto, port, zone, mark = idx[i:i + 4]
    if i + 4 != len(idx):
        raise ValueError("index too long: %s" % (idx,))
    return p, addrs, proto, port, zone, mark


def snmp_rows(walk, root):
    """{(profile, key tuple): [fwd pk, fwd B, rev pk, rev B, started, ended]} and profiles."""
    agg = root + (1, 3, 1)
    prof = root + (1, 2, 1)
    profiles = {}
    for o, (typ, val) in walk.items():
        if under(o, prof) and o[len(prof)] in (2, 3, 4):
            profiles.setdefault(o[len(prof) + 1], {})[o[len(prof)]] = val.strip('"')
    cols = {14: 0, 15: 1, 16: 2, 17: 3, 12: 4, 13: 5}
    rows = {}
    texts = {}
    for o, (typ, val) in walk.items():
        if not under(o, agg) or (o[len(agg)] not in cols and o[len(agg)] != KEY_COLUMN):
            continue
        p, addrs, proto, port, zone, mark = decode_agg_index(o[len(agg) + 1:])
        spec = profiles[p][3]
        fields = [f.split("/")[0] for f in spec.replace(",", " ").split()]
        key = []
        full = lambda a: 128 if ":" in a else 32  # noqa: E731
        for name in fields:
            if name in ("host", "src"):
                a, plen = addrs[0]
                key.append((name, a if plen == full(a) else "%s/%d" % (a, plen)))
            elif name == "dst":
                a, plen = addrs[1]
                key.append((name, a if plen == full(a) else "%s/%d" % (a, plen)))
            else:
                key.append((name, {"proto": proto, "port": port, "zone": zone, "mark": mark}[name]))
        key = tuple(sorted(key, key=lambda kv: truth.KEYS.index(kv[0])))
        if o[len(agg)] == KEY_COLUMN:
            texts[(p, key)] = val.strip('"')
            continue
        rows.setdefault((p, key), [0] * 6)[cols[o[len(agg)]]] = int(val)
    return profiles, rows, texts


def key_text(key):
    """ctflowAggKey as ctflowd writes it: 'host 10.1.2.3', 'src 10.1.0.0/16 proto 6'."""
    return " ".join("%s %s" % kv for kv in key)


def compare(events, walkfile, root):
    flows = truth.parse_events(events)
    profiles, rows, texts = snmp_rows(parse_walk(walkfile), root)
    ok = True
    badtext = ["%s: %r" % (key_text(k), texts.get((p, k))) for (p, k) in sorted(rows, key=str)
               if texts.get((p, k)) != key_text(k)]
    if badtext:
        ok = False
        print("FAIL: %s: ctflowAggKey differs from the index in %d of %d rows"
              % (TEST, len(badtext), len(rows)))
        for b in badtext[:8]:
            print("  # " + b)
    else:
        print("PASS: %s: ctflowAggKey of all %d rows is the key the index encodes"
              % (TEST, len(rows)))
    for p in sorted(profiles):
        name, spec = profiles[p][2], profiles[p][3]
        view = "translated" if profiles[p][4] in ("2", "translated(2)") else "original"
        want = {tuple(sorted(k, key=lambda kv: truth.KEYS.index(kv[0]))): v
                for k, v in truth.aggregate(flows, spec, view).items()}
        got = {k: v for (pp, k), v in rows.items() if pp == p}
        bad = ["%s: kernel %s snmp %s" % (dict(k), want.get(k), got.get(k))
               for k in sorted(set(want) | set(got), key=str) if want.get(k) != got.get(k)]
        if bad:
            ok = False
            print("FAIL: %s: SNMP profile %s (%s) differs from the kernel in %d of %d rows"
                  % (TEST, name, spec, len(bad), len(want)))
            for b in bad[:8]:
                print("  # " + b)
        else:
            print("PASS: %s: SNMP profile %s (%s, %s): %d rows equal the kernel's sums exactly"
                  % (TEST, name, spec, view, len(want)))
    return ok


def same(a, b, prefix):
    wa = {o: v for o, v in parse_walk(a).items() if under(o, prefix)}
    wb = {o: v for o, v in parse_walk(b).items() if under(o, prefix)}
    if wa == wb and wa:
        print("PASS: %s: GETNEXT walk and GETBULK walk of ctflowAggTable agree (%d objects)"
              % (TEST, len(wa)))
        return True
    diff = sorted(set(wa) ^ set(wb))[:5] + [o for o in wa if o in wb and wa[o] != wb[o]][:5]
    print("FAIL: %s: walks differ (%d vs %d objects), e.g. %s" % (TEST, len(wa), len(wb), diff))
    return False


# ---------------------------------------------------------------- sweep

def run(tool, agent, oid):
    # SNMP_NS: the agent is ctflowd's own listener, in that namespace
    ns = os.environ.get("SNMP_NS")
    pre = ["ip", "netns", "exec", ns] if ns else []
    r = subprocess.run(pre + [tool, "-v2c", "-c", "public", "-On", "-Oe", "-Ot", "-t", "3", "-r", "0",
                        agent, "." + ".".join(map(str, oid))],
                       capture_output=True, text=True)
    line = r.stdout.strip().splitlines()[0] if r.stdout.strip() else r.stderr.strip()
    return r.returncode, line


def edge_cases(root, walk):
    """OIDs a careless handler gets wrong, for every table and column."""
    cases = []
    coll = root + (1, 1)
    cases += [root, root + (1,), coll, coll + (0,), coll + (4,), coll + (4, 0), coll + (4, 1),
              coll + (4, 0, 0), coll + (26,), coll + (26, 0), coll + (999, 0), coll + (2**32 - 1,)]
    agg_rows = sorted(o for o in walk if under(o, root + (1, 3, 1, 12)))
    sample = agg_rows[0][len(root) + 4:] if agg_rows else (1, 1, 4, 10, 0, 0, 1, 32)
    for tab, first, last in ((2, 2, 10), (3, 12, 22), (4, 2, 14), (5, 2, 22), (6, 1, 5)):
        t = root + (1, tab)
        e = t + (1,)
        cases += [t, t + (0,), t + (2,), e, e + (0,), e + (1,), e + (first - 1,), e + (first,),
                  e + (last,), e + (last + 1,), e + (first, 0), e + (first, 2**32 - 1),
                  e + (last, 2**32 - 1), t[:-1] + (tab - 1, 99), t[:-1] + (tab + 1,)]
        if tab == 2:
            cases += [e + (2, 1), e + (2, 1, 0), e + (2, 0), e + (2, 99)]
        if tab == 4:
            cases += [e + (12, 1, 1), e + (12, 1), e + (12, 1, 0), e + (12, 1, 1, 0), e + (12, 99, 1),
                      e + (12, 1, 1001)]
    e = root + (1, 3, 1, 15)
    s = list(sample)
    variants = [s[:1], s[:2], s[:5], s[:-1], s + [0], s + [0, 0]]
    for i in range(1, min(len(s), 12)):
        for v in (256, 448, 2**32 - 1, 2**32):
            w = list(s)
            w[i] = v
            variants.append(w)
    # wrong InetAddressType/length pairs
    variants += [[s[0], 1, 16] + [10] * 16 + [128] + s[-10:],
                 [s[0], 2, 4, 10, 0, 0, 1, 32] + s[-10:],
                 [s[0], 3, 4, 10, 0, 0, 1, 32] + s[-10:],
                 [s[0], 0, 4, 10, 0, 0, 1, 32] + s[-10:],
                 [s[0], 1, 4, 10, 0, 0, 1, 33] + s[-10:],
                 [s[0], 1, 255], [2**32 - 1], [0], [0, 0], [99, 1, 4, 10, 0, 0, 1, 32]]
    cases += [e + tuple(min(x, 2**32 - 1) for x in v) for v in variants if all(x < 2**32 for x in v)]
    # every stored row, and its neighbours by one step in the last sub-id
    for o in agg_rows[:40]:
        cases += [o, o[:-1] + (o[-1] + 1,), o[:-1]]
    # alarm rows (threshold, then an aggregate index): the same around them
    for o in sorted(x for x in walk if under(x, root + (1, 6, 1, 1)))[:10]:
        cases += [o, o[:-1] + (o[-1] + 1,), o[:-1], o + (0,), o[:-1] + (2**32 - 1,),
                  o[:len(root) + 5] + (99,) + o[len(root) + 6:]]
    return cases


def expected_next(sorted_oids, oid):
    for o in sorted_oids:
        if o > oid:
            return o
    return None


IPFIX_MIB = (1, 3, 6, 1, 2, 1, 193)
IPFIX_SELECTOR = (1, 3, 6, 1, 2, 1, 194)
# IPFIX-MIB tables: (subtree under ipfixObjects, first column, last column)
IPFIX_TABLES = [((1, 1), 2, 16), ((1, 2), 3, 4), ((1, 3), 2, 5), ((1, 4), 2, 2), ((1, 5), 2, 4),
                ((1, 6), 3, 6), ((1, 7), 3, 3), ((2, 1), 1, 9), ((2, 2), 1, 2), ((2, 3), 1, 4),
                ((2, 4), 1, 3)]


def ipfix_edge_cases(walk):
    """Around every IPFIX-MIB table and row: indexes too short, too long, out
    of range, off by one in each sub-id; and the selector scalar."""
    big = 2**32 - 1
    cases = [IPFIX_MIB, IPFIX_MIB + (1,), IPFIX_MIB + (1, 1), IPFIX_MIB + (1, 1, 0),
             IPFIX_MIB + (1, 1, 8), IPFIX_MIB + (1, 2, 5), IPFIX_MIB + (1, 3), IPFIX_MIB + (2,)]
    for sub, first, last in IPFIX_TABLES:
        t = IPFIX_MIB + (1,) + sub
        e = t + (1,)
        cases += [t, t + (0,), t + (2,), e, e + (0,), e + (first - 1,), e + (first,),
                  e + (last,), e + (last + 1,), e + (first, 0), e + (first, big), e + (last, big)]
        rows = sorted(o[len(e) + 1:] for o in walk if under(o, e + (first,)))
        for idx in rows[:3] + rows[-2:]:
            for col in (first, last):
                c = e + (col,)
                cases += [c + idx, c + idx[:-1], c + idx + (0,), c + idx + (0, 0)]
                for i, v in enumerate(idx):
                    for w in (0, v - 1, v + 1, 256, big):
                        if 0 <= w <= big:
                            cases.append(c + idx[:i] + (w,) + idx[i + 1:])
    s = IPFIX_SELECTOR + (1, 1, 1)
    cases += [IPFIX_SELECTOR, s, s + (0,), s + (1,), s + (1, 0), s + (1, 1), s + (1, 0, 0),
              s + (2,), s + (2, 0), s + (1, big)]
    return sorted(set(cases))


def sweep(root, agent, walkfile, cases=None, live=None, live_region=None):
    walk = parse_walk(walkfile)
    ours = sorted(o for o in walk if under(o, root))
    fixed = [o for o in ours if live_region is None or not under(o, live_region)]
    bad = checked = 0
    for oid in (cases if cases is not None else edge_cases(root, walk)):
        checked += 1
        rc, line = run("snmpget", agent, oid)
        want = walk.get(oid)
        if want is not None:
            # the top table is re-ranked on a timer: same object and type, value may move
            live_now = live(oid) if live else under(oid, root + (1, 4))
            got_value = line.split(" = ", 1)[1] if " = " in line else ""
            same_type = got_value.isdigit() if want[0] == "Timeticks" else \
                got_value.startswith(want[0] + ":")
            good = line.startswith("." + ".".join(map(str, oid)) + " = ") and \
                (same_type if live_now else want[1].strip() in got_value)
            # a row of the live region may have gone since the walk
            good = good or (live_region is not None and under(oid, live_region) and
                            "No Such Instance" in line)
        else:
            good = "No Such Instance" in line or "No Such Object" in line
        if not good:
            bad += 1
            if bad <= 8:
                print("  # GET %s: got %r, expected %s" % (".".join(map(str, oid)), line,
                                                           "a value" if want else "noSuch*"))
        rc, line = run("snmpgetnext", agent, oid)
        want_next = expected_next(ours, oid)
        if " = " not in line:
            got = None
        else:
            got = parse_oid(line.split(" = ", 1)[0])
        if want_next is not None:
            good = got == want_next
        else:
            good = got is None or not under(got, root)
        # Rows of a live region (the top table, re-ranked on a timer) come and
        # go between the walk and the sweep: its successor is any of its
        # objects after the request, or the first fixed object after it.
        if not good and live_region is not None and got is not None:
            fixed_next = expected_next(fixed, oid)
            good = (under(got, live_region) and got > oid) or got == fixed_next or \
                (fixed_next is None and not under(got, root))
        if not good:
            bad += 1
            if bad <= 8:
                print("  # GETNEXT %s: got %s, expected %s" % (
                    ".".join(map(str, oid)), got and ".".join(map(str, got)),
                    want_next and ".".join(map(str, want_next))))
    if bad:
        print("FAIL: %s: %d of %d GET/GETNEXT edge cases answered wrongly" % (TEST, bad, 2 * checked))
    else:
        print("PASS: %s: %d malformed and edge-case GET/GETNEXT requests on every table answered "
              "exactly (value, noSuch*, or the true successor)" % (TEST, 2 * checked))
    return bad == 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "compare":
        sys.exit(0 if compare(sys.argv[2], sys.argv[3], parse_oid(sys.argv[4])) else 1)
    if len(sys.argv) == 5 and sys.argv[1] == "same":
        sys.exit(0 if same(sys.argv[2], sys.argv[3], parse_oid(sys.argv[4])) else 1)
    if len(sys.argv) == 5 and sys.argv[1] == "sweep":
        root = parse_oid(sys.argv[2])
        sys.exit(0 if sweep(root, sys.argv[3], sys.argv[4], live_region=root + (1, 4)) else 1)
    if len(sys.argv) == 4 and sys.argv[1] == "sweep-ipfix":
        walk = parse_walk(sys.argv[3])
        cases = ipfix_edge_cases(walk)
        # statistics move (rates, counters of the exporter's own options records)
        stats = IPFIX_MIB + (1, 2)
        ok = sweep(IPFIX_MIB, sys.argv[2], sys.argv[3],
                   [c for c in cases if under(c, IPFIX_MIB)], lambda o: under(o, stats))
        # the selector MIB: what follows IPFIX-MIB's last object is its first
        ok = sweep((1, 3, 6, 1, 2, 1), sys.argv[2], sys.argv[3],
                   [c for c in cases if under(c, IPFIX_SELECTOR)] +
                   [max(o for o in walk if under(o, IPFIX_MIB))], lambda o: False) and ok
        sys.exit(0 if ok else 1)
    if len(sys.argv) == 4 and sys.argv[1] == "value":
        v = parse_walk(sys.argv[2]).get(parse_oid(sys.argv[3]))
        print(v[1] if v else "")
        return
    print(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main()
