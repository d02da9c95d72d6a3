#!/usr/bin/env python3
"""The layer order of subagent/: nothing includes a header of a layer above.

    base -> kernel -> accounting -> aggregation -> alarms -> outputs -> daemon

A file's layer is its name's prefix; a module's internal header (*_int.h)
may only be included by that module's own files.  Prints each violation and
exits 1 if there is one.
"""
import os
import re
import sys

LAYERS = [("base_", 0), ("kern_", 1), ("acct_", 2), ("agg_", 3), ("alarm_", 4),
          ("out_", 5), ("ipfix_", 5), ("snmp_", 5), ("mib_", 5),
          ("ctflowd", 6), ("main", 6)]


def layer(name):
    for prefix, n in LAYERS:
        if name.startswith(prefix):
            return n
    return None


src = sys.argv[1] if len(sys.argv) > 1 else "subagent"
bad = []
for f in sorted(os.listdir(src)):
    if not f.endswith((".c", ".h")):
        continue
    own = layer(f)
    if own is None:
        bad.append("%s: no layer (name it by its layer's prefix)" % f)
        continue
    for inc in re.findall(r'^#include "([^"]+)"', open(os.path.join(src, f)).read(), re.M):
        other = layer(inc)
        if other is None:
            bad.append("%s includes %s, which has no layer" % (f, inc))
        elif other > own:
            bad.append("%s includes %s: a layer above it" % (f, inc))
        elif inc.endswith("_int.h") and not f.startswith(inc.split("_")[0]):
            bad.append("%s includes %s: another module's internals" % (f, inc))
for b in bad:
    print(b)
print("%d files, %d violations" % (len([f for f in os.listdir(src) if f.endswith((".c", ".h"))]), len(bad)))
sys.exit(1 if bad else 0)
