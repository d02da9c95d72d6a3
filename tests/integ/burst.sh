#!/bin/bash
# Burst: 200,000 real UDP flows, then `conntrack -F`, with ctflowd on its
# default configuration (only dump_file set so the test can read the tables).
# This test asserts ZERO loss: every DESTROY received, no kernel drops, and
# the packet and byte totals exact (each flow is one 60-byte packet).
# (tests/integ/loss.sh covers a configuration that does lose events.)
TEST_NAME=burst
. "$(dirname "$0")/../lib/netns.sh"
N=200000

pair_up
need_conntrack_max $((N + 20000))
printf 'dump_file = %s/tables.json\n' "$T" >"$T/ctflowd.conf"
CTF_NS=$NS_B ctflowd_start "$T/ctflowd.conf" || exit 1
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 120
sleep 0.3
udp_flows $N >"$T/gen.out" || fail "generator: $(cat "$T/gen.out")"
note "generator: $(cat "$T/gen.out")"
have=$(ct_count "$NS_B")
[ "$have" -eq "$N" ] && pass "$N entries in the table before the flush" ||
	fail "table holds $have entries, expected $N"

start=$(date +%s.%N)
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
flush=$(python3 -c "import time; print('%.2f' % (time.time() - $start))")
note "conntrack -F of $have entries took $flush s"
check "ctflowd received all $N DESTROY events" wait_events "$N" "$T/tables.json" 60
tables "$T/tables.json"
drops=$(collector "$T/tables.json" kernel_drops)
overruns=$(collector "$T/tables.json" overruns)
events=$(collector "$T/tables.json" events)
note "events $events, kernel drops $drops, overruns $overruns, rcvbuf $(collector "$T/tables.json" rcvbuf)"
[ "$drops" -eq 0 ] && [ "$overruns" -eq 0 ] && [ "$events" -eq "$N" ] &&
	pass "default config: zero loss on a $N-entry flush (drops 0, overruns 0)" ||
	fail "default config lost events: events $events drops $drops overruns $overruns"
row=$(python3 "$TOP/tests/lib/truth.py" row "$T/tables.json" service proto=17 port=9000)
python3 - "$row" "$N" <<'EOF' && pass "service row udp/9000: $N flows, $N packets, $((N * 60)) bytes exactly" || fail "service row: $row"
import json, sys
r, n = json.loads(sys.argv[1]), int(sys.argv[2])
assert r["flows_started"] == n and r["flows_ended"] == n, r
assert r["fwd_packets"] == n and r["fwd_bytes"] == 60 * n and r["rev_packets"] == 0, r
EOF
finish
