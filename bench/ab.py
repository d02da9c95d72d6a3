#!/usr/bin/env python3
"""bench/ab.py: two or more ctflowd builds and the bare listener on one
DESTROY stream at once, for comparing a change within one run (the VM's
noise moves figures between runs, not within one).

    python3 bench/ab.py BIN_A,BIN_B[,...] [RATE [RUNS]]   (root)

A name "least" instead of a build runs the least consumer (tests/tools/
ctlisten least, no export): the essential work of the design done plainly.

Each build runs with its three default profiles and its own state; per run
it prints events, kernel drops, CPU per event of the main thread, and how
much of it was user-space and kernel time (from /proc, in microseconds,
over the measured window).  Uses bench.py's rig, generator and consumers;
BENCH_SECONDS sets the length.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402


def main():
    if len(sys.argv) < 2 or os.geteuid() != 0:
        sys.exit(__doc__)
    bins = sys.argv[1].split(",")
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    B.setup()
    try:
        B.udp_timeouts(1)
        for _ in range(runs):
            cons = [B.Least() if b == "least" else B.Ctflowd(name=b, binary=b) for b in bins]
            cons.append(B.Bare())
            prep, work = B.churn(rate, B.SECONDS)
            gen, rows, busy = B.measure(cons, work, prep)
            for c, r in zip(cons, rows):
                split = ""
                if r["events"]:
                    k = r["kernel_us_per_event"]
                    split = "  user %.3f  sys %.3f" % (r["us_per_event"] - k, k)
                print("%-40s events %9d  lost %6d  us/event %.2f%s" % (
                    c.name, r["events"], r["drops"], r["us_per_event"], split))
            print("generator %.0f/s, machine %.0f%% busy\n" % (gen["rate"], busy), flush=True)
    finally:
        B.teardown()


if __name__ == "__main__":
    main()
