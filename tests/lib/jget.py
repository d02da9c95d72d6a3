#!/usr/bin/env python3
"""One value of ctflowd's JSON dump, for the shell tests (tests/lib/netns.sh: jget).

    jget.py FILE PATH [DEFAULT]

PATH is dot-separated: an object's key, a list's position (0, 1, ...), or
NAME=VALUE for the first element of a list whose NAME is VALUE, e.g.
collector.events, ipfix.0.state, ipfix.name=away.buffered,
profiles.name=flows.rows.  `#` at the end gives a list's length
(profiles.0.entries.#).  Prints the value (JSON for lists and objects);
without it, prints DEFAULT if given and exits 1.
"""
import json
import sys


def walk(v, steps):
    for s in steps:
        if s == "#":
            v = len(v)
        elif isinstance(v, list) and "=" in s:
            k, want = s.split("=", 1)
            v = next(x for x in v if str(x.get(k)) == want)
        elif isinstance(v, list):
            v = v[int(s)]
        else:
            v = v[s]
    return v


try:
    value = walk(json.load(open(sys.argv[1])), sys.argv[2].split("."))
except (OSError, ValueError, KeyError, IndexError, StopIteration, TypeError):
    if len(sys.argv) > 3:
        print(sys.argv[3])
    sys.exit(1)
print(json.dumps(value) if isinstance(value, (list, dict)) else value)
