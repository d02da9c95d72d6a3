#!/bin/bash
# A TCP collector that is away, comes, goes and comes back.  While it is away
# ctflowd keeps records in a bounded buffer (here 50) and counts what does not
# fit; when it comes back ctflowd reconnects by itself, sends templates first
# and then the exporting-reliability record with the overflow, then the
# buffered records.  Checked with ipfixDump against the kernel's DESTROY
# records: what was buffered arrives exactly, what overflowed is counted in
# flows, packets and octets, and each TCP session has its own sequence.
TEST_NAME=ipfix_outage
. "$(dirname "$0")/../lib/netns.sh"

BUFFER=50
topo_up
notrack_lo "$NS_R"
PORT=$((30000 + $$ % 20000))
# No periodic dumps: every flow becomes exactly one record, when it ends.
cat >"$T/ctflowd.conf" <<EOF
dump_interval = 0
dump_file = $T/tables.json
snmp = no
[collector central]
address = 127.0.0.1
port = $PORT
transport = tcp
reconnect = 1s
reconnect_max = 2s
encoding = reduced
buffer = $BUFFER
EOF
ctflowd_start "$T/ctflowd.conf" || exit 1
bg_in "$NS_S" "$T/udp.out" "$TOOLS/flowgen" udp-server 53
sleep 0.3

session() { # session FIELD: one value of the collector's session in the JSON dump
	tables "$T/tables.json" >/dev/null
	jget "$T/tables.json" "ipfix.0.$1"
}
wait_session() { # wait_session FIELD VALUE
	local i
	for i in $(seq 1 60); do
		[ "$(session "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	note "session $1 is $(session "$1"), waited for $2"
	return 1
}
flows() { # flows N BASE: N one-packet-each-way UDP flows from ports BASE+1.., ended at once
	local i
	for i in $(seq 1 "$1"); do
		ip netns exec "$NS_C" "$TOOLS/flowgen" udp-client 10.201.2.2 53 1 $((40 + i)) $(($2 + i)) ||
			fail "workload: flowgen udp-client"
	done
	ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
}

# 1. the collector is not there: 80 flows, 50 kept, 30 counted as not sent
truth_start "$NS_R"
flows 80 20000
sleep 0.5
check "ctflowd received the 80 DESTROY events" wait_events 80 "$T/tables.json"
kill "$TRUTH_PID"; wait "$TRUTH_PID" 2>/dev/null; mv "$T/truth.events" "$T/truth1.events"
[ "$(session state)" != up ] && pass "session is not up while the collector is away" ||
	fail "session is up without a collector"
[ "$(session buffered)" = $BUFFER ] && [ "$(session notsent_flows)" = 30 ] &&
	pass "the buffer holds $BUFFER records, 30 overflowed and are counted" ||
	fail "buffered $(session buffered), not sent $(session notsent_flows)"

# 2. the collector comes: ctflowd reconnects and sends what it kept
bg_in "$NS_R" "$T/socat1.log" socat -u TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr \
	OPEN:"$T/s1.ipfix",creat,trunc
SOCAT=$LAST_PID
check "ctflowd reconnects and sends the buffered records" wait_session buffered 0

# 3. the collector goes away; flows meanwhile wait in the buffer
kill "$SOCAT"; wait "$SOCAT" 2>/dev/null
check "ctflowd notices the collector closed the session" wait_session state down
truth_start "$NS_R"
flows 20 21000
sleep 0.5
check "ctflowd received the 20 more DESTROY events" wait_events 100 "$T/tables.json"
kill "$TRUTH_PID"; wait "$TRUTH_PID" 2>/dev/null; mv "$T/truth.events" "$T/truth2.events"
[ "$(session buffered)" = 20 ] && pass "the 20 new records wait in the buffer" ||
	fail "buffered $(session buffered), expected 20"

# 4. it comes back: a second transport session
bg_in "$NS_R" "$T/socat2.log" socat -u TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr \
	OPEN:"$T/s2.ipfix",creat,trunc
SOCAT=$LAST_PID
check "ctflowd reconnects a second time and sends them" wait_session buffered 0
tables "$T/tables.json"
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
wait "$SOCAT" 2>/dev/null # ends when ctflowd closes the session

TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/ipfixcheck.py" outage --truth1 "$T/truth1.events" \
	--truth2 "$T/truth2.events" --first "$T/s1.ipfix" --second "$T/s2.ipfix" \
	--json "$T/tables.json" --buffer $BUFFER || FAILS=$((FAILS + 1))
finish
