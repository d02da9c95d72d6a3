#!/bin/bash
# Loss is counted, visible and recovered where possible.
#
# A: a receive buffer far too small for a flush of flows ctflowd already
#    tracks.  Events are lost; the loss must be counted exactly
#    (events + kernel_drops = flows), the overrun must grow the buffer and
#    trigger a resync dump, and every flow whose DESTROY was lost must be
#    closed as "ended unobserved", so flow and byte totals stay exact.
# B: nf_conntrack_events=2 (the kernel default) and flows that began while
#    ctflowd was not running: they never send DESTROY; the dump tracking must
#    still account and close every one of them.
TEST_NAME=loss
. "$(dirname "$0")/../lib/netns.sh"
N=30000
M=2000

service_row_exact() { # service_row_exact JSON FLOWS
	local row
	row=$(python3 "$TOP/tests/lib/truth.py" row "$1" service proto=17 port=9000)
	python3 - "$row" "$2" <<-'EOF'
	import json, sys
	r, n = json.loads(sys.argv[1]), int(sys.argv[2])
	assert r["flows_started"] == n and r["flows_ended"] == n, r
	assert r["fwd_packets"] == n and r["fwd_bytes"] == 60 * n, r
	EOF
}

wait_for() { # wait_for SECONDS JSON PYTHON-CONDITION-ON-c
	local secs=$1 f=$2 cond=$3 i
	for i in $(seq 1 $((secs * 5))); do
		tables "$f" || return 1
		python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['collector']; sys.exit(0 if ($cond) else 1)" "$f" && return 0
		sleep 0.2
	done
	return 1
}

pair_up
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 120

# ---- A: overrun, exact loss count, resync, recovery
cat >"$T/a.conf" <<EOF
dump_file = $T/a.json
dump_interval = 1s
rcvbuf = 64K
rcvbuf_max = 256K
coalesce = 50ms
EOF
CTF_NS=$NS_B ctflowd_start "$T/a.conf" || exit 1
udp_flows $N >/dev/null || fail "generator"
check "ctflowd tracks all $N live flows from a dump" wait_for 20 "$T/a.json" "c['tracked'] == $N"
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
check "every DESTROY is either received or counted as a kernel drop" \
	wait_for 20 "$T/a.json" "c['events'] + c['kernel_drops'] == $N"
check "the lost flows are closed by the resync dump" \
	wait_for 20 "$T/a.json" "c['ended_unobserved'] == c['kernel_drops'] and c['tracked'] == 0"
python3 - "$T/a.json" <<'EOF' >"$T/a.txt" 2>&1 && pass "overrun counted: $(cat "$T/a.txt")" || fail "overrun accounting: $(cat "$T/a.txt")"
import json, sys
c = json.load(open(sys.argv[1]))["collector"]
print("events %d, drops %d, overruns %d, resyncs %d, buffer grown %d times to %d" %
      (c["events"], c["kernel_drops"], c["overruns"], c["resyncs"], c["rcvbuf_grows"], c["rcvbuf"]))
assert c["kernel_drops"] > 0 and c["overruns"] >= 1 and c["resyncs"] >= 1, c
assert c["rcvbuf_grows"] >= 1, c
EOF
check "flow and byte totals stay exact despite the lost events" service_row_exact "$T/a.json" $N
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null

# ---- B: flows from before ctflowd started, with nf_conntrack_events=2
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_events=2
udp_flows $M >/dev/null || fail "generator"
cat >"$T/b.conf" <<EOF
dump_file = $T/b.json
dump_interval = 1s
EOF
CTF_NS=$NS_B ctflowd_start "$T/b.conf" || exit 1
check "pre-existing flows are tracked by the first dump" wait_for 20 "$T/b.json" "c['tracked'] == $M"
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
check "flows that never send DESTROY are closed by the dumps" \
	wait_for 20 "$T/b.json" "c['ended_unobserved'] + c['events'] == $M and c['tracked'] == 0"
note "events=2: $(collector "$T/b.json" events) DESTROY received, $(collector "$T/b.json" ended_unobserved) closed unobserved"
check "their flows and bytes are all accounted" service_row_exact "$T/b.json" $M
check "--check-kernel warns about nf_conntrack_events=2" \
	sh -c "ip netns exec '$NS_B' '$CTFLOWD' --check-kernel | grep -q '^WARN  nf_conntrack_events = 2'"
finish
