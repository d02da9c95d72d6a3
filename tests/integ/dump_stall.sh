#!/bin/bash
# A slow kernel dump must not stall event reading.
#
# A table full of expired, not yet reaped entries (what heavy churn leaves
# behind) makes the kernel's dump step take most of a second, run inside the
# dumping thread's own syscall.  With the dump on the event thread, the
# events queued meanwhile overflowed the buffer (250,000 of 550,000 lost in
# this test).  Here ctflowd has its default buffer (64 MiB, ~52,000 events),
# dumps every second, and a CPU-bound job competes for the two cores
# throughout, so the verdict holds on a busy machine too: while 300,000 flows
# churn through a table that keeps 80,000 expired entries for each dump to
# walk, no event may be lost.
#
# Before the churn, ctflowd's first dump meets the 300,000 expired entries of
# the prefill at once and destroys them in one kernel walk: a burst six times
# the buffer, faster than any reader on a busy machine (whether the kernel's
# own garbage collector reaped part of it first varies from run to run).
# What that burst loses must be counted exactly and is not the claim here.
TEST_NAME=dump_stall
. "$(dirname "$0")/../lib/netns.sh"
SPACE=300000

pair_up
need_conntrack_max $((SPACE + 50000))
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1 \
	net.netfilter.nf_conntrack_udp_timeout_stream=1
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 120
udp_flows $SPACE >/dev/null || fail "prefill"
sleep 1.5   # every entry has expired; the GC has not reaped most of them
cat >"$T/c.conf" <<EOF
dump_file = $T/t.json
dump_interval = 1s
rcvbuf = 64M
rcvbuf_max = 64M
EOF
# the competing job: one busy process, bounded in time, ended by the cleanup
timeout 120 sh -c 'while :; do :; done' &
PIDS+=($!)
truth_start "$NS_B"
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
# the first dump's burst: every event is received or counted as dropped
for i in $(seq 1 100); do
	tables "$T/t.json"
	[ $(($(collector "$T/t.json" events) + $(collector "$T/t.json" kernel_drops))) -ge "$(truth_lines)" ] &&
		[ "$(collector "$T/t.json" dump_runs)" -ge 2 ] && break
	sleep 0.2
done
e0=$(collector "$T/t.json" events) d0=$(collector "$T/t.json" kernel_drops) n0=$(truth_lines)
check "the reference recorder lost none of the burst" truth_clean
[ $((e0 + d0)) = "$n0" ] && pass "the first dump's burst: $n0 DESTROY events, $e0 received, $d0 counted as dropped" ||
	fail "the first dump's burst: $n0 events, $e0 received, $d0 dropped"
udp_flows $SPACE 40000 >"$T/gen.out" || fail "churn"
note "churn: $(cat "$T/gen.out")"
sleep 1
tables "$T/t.json"
python3 - "$T/t.json" "$e0" "$d0" <<'EOF' >"$T/r.txt" 2>&1 && pass "no event lost while dumps ran over expired entries: $(cat "$T/r.txt")" || fail "events lost during slow dumps: $(cat "$T/r.txt")"
import json, sys
c = json.load(open(sys.argv[1]))["collector"]
e0, d0 = int(sys.argv[2]), int(sys.argv[3])
print("%d events, %d dumps, %d drops during the churn" % (c["events"] - e0, c["dump_runs"], c["kernel_drops"] - d0))
assert c["events"] - e0 > 100000 and c["dump_runs"] >= 4, c
assert c["kernel_drops"] == d0, c
EOF
finish
