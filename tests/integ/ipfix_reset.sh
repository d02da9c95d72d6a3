#!/bin/bash
# A TCP collector that accepts, reads a little and resets, again and again,
# while flows end at a steady rate.  ctflowd must count as sent only what
# the collector can have read (what its kernel acknowledged); whatever the
# reset threw away is counted as not sent, so for the session
#     records generated = sent + not sent + still buffered,
# exactly, and the collector never read more than what was counted as sent
# (nor far less: only what its small receive buffer held at each reset).
# Before, ctflowd counted a message as sent once its own kernel took it:
# 453,430 records "sent" to a collector that had read 35,660.
TEST_NAME=ipfix_reset
. "$(dirname "$0")/../lib/netns.sh"

PORT=$((30000 + $$ % 20000))
FLOWS=60000
pair_up
notrack_lo "$NS_B"
need_conntrack_max 200000
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 120
cat >"$T/c.conf" <<CONF
dump_interval = 0
dump_file = $T/t.json
snmp = no
[collector resetting]
address = 127.0.0.1
port = $PORT
transport = tcp
reconnect = 1s
reconnect_max = 1s
encoding = reduced
buffer = 200000
CONF
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
bg_in "$NS_B" "$T/resetsink.log" python3 "$TOP/tests/lib/resetsink.py" $PORT 200000 25 \
	"$T/collector.json"
# flows that end at once (one DESTROY each): 60,000 over 15 s
ip netns exec "$NS_A" "$TOOLS/udpburst" send 10.202.0.2 9000 $FLOWS 10.202.128.0 4096 4000 \
	>"$T/gen.out" 2>&1 || fail "generator"
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
check "ctflowd received every DESTROY" wait_events $FLOWS "$T/t.json" 30
for i in $(seq 1 150); do # the collector runs 25 s in all
	[ -s "$T/collector.json" ] && break
	sleep 0.2
done
# the last reset seen by ctflowd: nothing is in flight any more
for i in $(seq 1 50); do
	tables "$T/t.json"
	[ "$(jget "$T/t.json" ipfix.0.state)" != up ] && break
	sleep 0.2
done
python3 - "$T/t.json" "$T/collector.json" <<'PYEOF' >"$T/r.txt" 2>&1 &&
import json, sys
d = json.load(open(sys.argv[1]))
s, c = d["ipfix"][0], json.load(open(sys.argv[2]))
generated = d["collector"]["slices"]
print("%d records generated: %d sent, %d not sent, %d held; the collector read %d "
      "in %d connections it reset" % (generated, s["records"], s["notsent_flows"], s["held"],
                                       c["records"], c["resets"]))
assert c["resets"] >= 5, c
assert s["records"] + s["notsent_flows"] + s["held"] == generated, s
assert s["notsent_flows"] > 0, s
assert c["records"] <= s["records"], (c, s)
# acknowledged but not read: at most what the collector's buffer held at a reset
assert s["records"] - c["records"] <= 200 * c["resets"], (c, s)
PYEOF
	pass "the books balance: $(cat "$T/r.txt")" || fail "accounting: $(cat "$T/r.txt")"
finish
