#!/bin/bash
# Large numbers and large tables through SNMP.
#
# 1. A 32,768-row profile is walked with GETBULK while churn makes tens of
#    thousands of DESTROY events per second: the walk returns every row and
#    ctflowd loses no event (a walk must never block event reading).
# 2. A 5 GB TCP transfer over loopback: the row's Counter64 read over SNMP
#    equals the kernel's byte count exactly, above 2^32.
TEST_NAME=snmp_large
. "$(dirname "$0")/../lib/netns.sh"
ROWS=32768

pair_up
snmpd_start || exit 1
test_conf "$T/c.conf" <<EOF
dump_interval = 1s
[profile service]
key = proto, port
[profile flows]
key = src, port
rows = 100000
EOF
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
check "subagent registered" wait_subagent 20
bg_in "$NS_B" /dev/null "$TOOLS/udpburst" sink 9000 300

# ---- 1: walk while events flow
# 4096 sources x 8 destination ports = 32,768 (src, port) keys
ip netns exec "$NS_A" "$TOOLS/udpburst" send 10.202.0.2 9000 $ROWS 10.202.128.0 4096 0 0 8 >/dev/null
for i in $(seq 1 50); do
	tables "$T/t.json"
	r=$(jget "$T/t.json" profiles.name=flows.rows)
	[ "$r" -ge $ROWS ] && break
	sleep 0.2
done
[ "$r" -eq $ROWS ] && pass "profile 'flows' holds $ROWS rows" || fail "profile 'flows' holds $r rows"
# expire the flows fast; cycling the same tuples then destroys one per flow sent
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1 \
	net.netfilter.nf_conntrack_udp_timeout_stream=1
sleep 1.5
before=$(collector "$T/t.json" events)
ip netns exec "$NS_A" "$TOOLS/udpburst" send 10.202.0.2 9000 $ROWS 10.202.128.0 4096 20000 30 8 \
	>"$T/churn.out" 2>&1 &
CHURN=$!
PIDS+=("$CHURN")
sleep 1
# Walks until 3 s have passed (one through snmpd takes longer than that; the
# listener walks several times): the churn meets walks all along.
start=$(date +%s.%N)
walks=0 short=0
while :; do
	snmpn snmpbulkwalk -Cr50 "$SNMP_AGENT" .1.3.6.1.4.1.32473.1.3.1.14.2 >"$T/walk.txt" 2>&1
	walks=$((walks + 1))
	walked=$(grep -c Counter64 "$T/walk.txt")
	[ "$walked" -eq $ROWS ] || short=$((short + 1))
	python3 -c "import sys, time; sys.exit(time.time() - $start < 3 and $walks < 20)" && break
done
secs=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
kill "$CHURN" 2>/dev/null
wait "$CHURN" 2>/dev/null
sleep 1
tables "$T/t.json"
events=$(( $(collector "$T/t.json" events) - before ))
note "$walks walks of $ROWS rows in $secs s while ctflowd took $events events"
[ "$short" = 0 ] && pass "every GETBULK walk returned all $ROWS rows ($walks walks)" ||
	fail "$short of $walks walks returned fewer rows (the last: $walked)"
drops=$(collector "$T/t.json" kernel_drops)
overruns=$(collector "$T/t.json" overruns)
[ "$events" -gt 20000 ] && [ "$drops" = 0 ] && [ "$overruns" = 0 ] &&
	pass "zero event loss during the walk ($events events meanwhile)" ||
	fail "events $events, kernel drops $drops, overruns $overruns during the walk"

# ---- 2: Counter64 above 2^32
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
truth_start "$NS_B"
bg_in "$NS_B" /dev/null "$TOOLS/flowgen" tcp-server 5001
sleep 0.3
ip netns exec "$NS_B" "$TOOLS/flowgen" tcp-client 127.0.0.1 5001 5000000000 1000 || fail "5 GB transfer"
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
sleep 1
kernel=$(grep 'dport=5001 ' "$T/truth.events" | sed -n 's/.*dport=5001 packets=[0-9]* bytes=\([0-9]*\).*/\1/p' | head -n 1)
check "ctflowd received the transfer's DESTROY" wait_events "$(( $(collector "$T/t.json" events) + 1 ))" "$T/t.json"
got=$(snmpn snmpget -Oqv "$SNMP_AGENT" .1.3.6.1.4.1.32473.1.3.1.15.1.0.0.0.0.0.0.6.5001.0.0)
note "kernel counted $kernel bytes, SNMP says $got"
[ -n "$kernel" ] && [ "$kernel" -gt 4294967296 ] && [ "$got" = "$kernel" ] &&
	pass "Counter64 above 2^32 is exact over SNMP ($got octets)" ||
	fail "Counter64: kernel '$kernel', SNMP '$got'"
finish
