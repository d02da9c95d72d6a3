#!/bin/bash
# A slow kernel dump must not stall event reading.
#
# A table full of expired, not yet reaped entries (what heavy churn leaves
# behind) makes the kernel's dump step take most of a second, run inside the
# dumping thread's own syscall.  With the dump on the event thread, the
# events queued meanwhile overflowed the buffer (250,000 of 550,000 lost in
# this test).  Here ctflowd has its default buffer (64 MiB, ~52,000 events,
# under a fifth of the burst a dump of this table sets off), dumps every
# second, and a CPU-bound job competes for the two cores throughout, so the
# verdict holds on a busy machine too: no event may be lost.
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
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
t0=$(date +%s.%N)
udp_flows $SPACE 40000 >"$T/gen.out" || fail "churn"
note "churn: $(cat "$T/gen.out")"
sleep 1
tables "$T/t.json"
python3 - "$T/t.json" <<'EOF' >"$T/r.txt" 2>&1 && pass "no event lost while dumps ran over expired entries: $(cat "$T/r.txt")" || fail "events lost during slow dumps: $(cat "$T/r.txt")"
import json, sys
c = json.load(open(sys.argv[1]))["collector"]
print("%d events, %d dumps, %d drops, %d overruns" % (c["events"], c["dump_runs"], c["kernel_drops"], c["overruns"]))
assert c["events"] > 100000 and c["dump_runs"] >= 4, c
assert c["kernel_drops"] == 0 and c["overruns"] == 0, c
EOF
finish
