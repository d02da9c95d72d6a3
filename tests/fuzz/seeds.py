#!/usr/bin/env python3
"""Seed the fuzz corpora: each captured kernel message (tests/data/*.hex) as
one binary datagram, and the reference configuration plus small variants."""
import glob, os, sys

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ct_dir, conf_dir = sys.argv[1], sys.argv[2]
os.makedirs(ct_dir, exist_ok=True)
os.makedirs(conf_dir, exist_ok=True)
n = 0
for path in sorted(glob.glob(os.path.join(top, "tests", "data", "*.hex"))):
    for line in open(path):
        line = line.strip()
        if line:
            with open(os.path.join(ct_dir, "seed-%03d" % n), "wb") as f:
                f.write(bytes.fromhex(line))
            n += 1
ref = open(os.path.join(top, "conf", "ctflowd.conf"), "rb").read()
seeds = [ref, b"[profile a]\nkey = src/24/64, dst, proto, port, zone, mark\nrows = 10\naddresses = translated\n",
         b"dump_interval = 500ms\nrcvbuf = 1G\nrcvbuf_max = 2G\ncoalesce = 0\n",
         b"timezone = UTC\n[profile m]\nkey = host\nperiods = day, month, 6h\nkeep = 2\nmonth_start = 15\n"
         b"[threshold t]\nprofile = m\nperiod = 6h\nrising = 5\n"
         b"[quota q]\nprofile = m\nperiod = month\ncap = 2T\nwarn = 50, 90, 100\nmatch = 10.0.0.0/8\n"]
for i, s in enumerate(seeds):
    with open(os.path.join(conf_dir, "seed-%d" % i), "wb") as f:
        f.write(s)
