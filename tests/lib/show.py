#!/usr/bin/env python3
"""Print ctflowd's JSON tables as an operator reads them (used by make demo).
  show.py TABLES.json [PROFILE ...]"""
import json
import sys


def human(n):
    for unit in ("", "k", "M", "G", "T"):
        if abs(n) < 1000:
            return "%d%s" % (n, unit) if unit == "" else "%.1f%s" % (n, unit)
        n /= 1000.0
    return "%.1fP" % n


def key_text(e):
    parts = []
    for k in ("host", "src", "dst"):
        if k in e:
            parts.append(e[k])
    if "proto" in e:
        parts.append({1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}.get(e["proto"], str(e["proto"])))
    if "port" in e:
        parts.append(("type %d/%d" % (e["port"] >> 8, e["port"] & 255))
                     if e.get("proto") in (1, 58) else str(e["port"]))
    for k in ("zone", "mark"):
        if k in e:
            parts.append("%s %d" % (k, e[k]))
    return " ".join(parts)


def main():
    doc = json.load(open(sys.argv[1]))
    only = sys.argv[2:]
    c = doc["collector"]
    print("collector: %d DESTROY events, %d dump runs (%d rows), %d flows tracked of %d, "
          "lost events %d, overruns %d, ended unobserved %d, accounting %s, timestamps %s"
          % (c["events"], c["dump_runs"], c["dump_rows"], c["tracked"], c["tracked_limit"],
             c["kernel_drops"], c["overruns"], c["ended_unobserved"],
             "on" if c["acct"] == 1 else "OFF", "on" if c["timestamp"] == 1 else "off"))
    for p in doc["profiles"]:
        if only and p["name"] not in only:
            continue
        host = p["key"].startswith("host")
        print("\nprofile %s (key %s, %s addresses): %d rows of %d, %d evicted"
              % (p["name"], p["key"], p["addresses"], p["rows"], p["row_limit"], p["evictions"]))
        cols = ("sent", "received") if host else ("forward", "reverse")
        print("  %-40s %6s %6s %10s %10s %10s %10s" % ("KEY", "FLOWS", "ENDED", cols[0] + " pk",
                                                      cols[0] + " B", cols[1] + " pk", cols[1] + " B"))
        rows = sorted(p["entries"], key=lambda e: -(e["fwd_bytes"] + e["rev_bytes"]))
        for e in rows[:15]:
            print("  %-40s %6d %6d %10s %10s %10s %10s"
                  % (key_text(e)[:40], e["flows_started"], e["flows_ended"], human(e["fwd_packets"]),
                     human(e["fwd_bytes"]), human(e["rev_packets"]), human(e["rev_bytes"])))
        if len(rows) > 15:
            print("  ... %d more rows" % (len(rows) - 15))


if __name__ == "__main__":
    main()
