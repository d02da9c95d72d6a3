#!/bin/bash
# IPFIX-MIB (RFC 6615) and IPFIX-SELECTOR-MIB from a private snmpd while
# ctflowd exports to a UDP collector and a TCP collector over IPv6.  Both
# modules are walked by name with the modules in mibs/ietf; every object
# the exporter compliance and both statistics groups require is present with
# its SMI type; the values agree with what the collectors received (ipfixDump)
# and with what tshark decoded of the templates; the TCP collector goes away
# (its templates vanish, the session turns inactive, overflow is counted as
# discarded messages) and comes back (the templates return).  The malformed-
# index sweep runs on every table.
TEST_NAME=ipfix_mib
. "$(dirname "$0")/../lib/netns.sh"

pair_up
snmpd_start || exit 1
notrack_lo "$NS_B"
P=$((30000 + $$ % 20000))
UDP_PORT=$P TCP_PORT=$((P + 1))
BUFFER=3000
bg_in "$NS_B" "$T/tshark.log" tshark -i lo -w "$T/cap.pcap" \
	-f "udp port $UDP_PORT or tcp port $TCP_PORT"
TSHARK_PID=$LAST_PID
for i in $(seq 1 100); do grep -qs "Capturing on" "$T/tshark.log" && break; sleep 0.1; done
# (a socket buffer that holds a burst: what the collector receives is what was sent)
bg_in "$NS_B" "$T/sink-u.log" "$TOOLS/ipfixsink" udp $UDP_PORT "$T/u.ipfix"
SINK_U=$LAST_PID
tcp_collector() { # tcp_collector FILE
	bg_in "$NS_B" "$T/socat-t.log" socat -u TCP6-LISTEN:$TCP_PORT,bind=[::1],reuseaddr \
		OPEN:"$1",creat,trunc
	SOCAT_T=$LAST_PID
}
tcp_collector "$T/t1.ipfix"
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 300
test_conf "$T/c.conf" <<EOF
dump_interval = 1m
ipfix_domain = 7
ipfix_stats_interval = 1h
[profile host]
key = host
[collector udp]
address = 127.0.0.1
port = $UDP_PORT
template_refresh = 5m
encoding = reduced
[collector tcp]
address = ::1
port = $TCP_PORT
transport = tcp
reconnect = 1s
reconnect_max = 1s
encoding = reduced
buffer = $BUFFER
EOF
sleep 1 # the master's sysUpTime runs ahead of ctflowd's start
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
check "the subagent registered" wait_subagent 30

# mibwalk FILE: both modules, by name and numerically with raw SMI types
mibwalk() {
	local f=$1
	snmpbulkwalk -v2c -c public -t 5 -r 1 -M "$MIBDIRS" -m IPFIX-MIB:IPFIX-SELECTOR-MIB \
		"$SNMP_AGENT" IPFIX-MIB::ipfixMIB >"$f.names" 2>"$f.names.err"
	snmpbulkwalk -v2c -c public -t 5 -r 1 -M "$MIBDIRS" -m IPFIX-MIB:IPFIX-SELECTOR-MIB \
		"$SNMP_AGENT" IPFIX-SELECTOR-MIB::ipfixSelectorMIB >>"$f.names" 2>>"$f.names.err"
	snmpn snmpbulkwalk -m "" -Ox -Ot -t 5 "$SNMP_AGENT" .1.3.6.1.2.1.193 >"$f" 2>&1
	snmpn snmpbulkwalk -m "" -Ox -Ot -t 5 "$SNMP_AGENT" .1.3.6.1.2.1.194 >>"$f" 2>&1
	snmpn snmpget -m "" -Ot "$SNMP_AGENT" .1.3.6.1.2.1.1.3.0 >>"$f" 2>&1
}
session() { # session NAME FIELD: one value of a collector's session in the JSON dump
	tables "$T/t.json" >/dev/null
	jget "$T/t.json" "ipfix.name=$1.$2"
}
wait_session() { # wait_session NAME FIELD VALUE
	local i
	for i in $(seq 1 60); do
		[ "$(session "$1" "$2")" = "$3" ] && return 0
		sleep 0.2
	done
	note "session $1: $2 is $(session "$1" "$2"), waited for $3"
	return 1
}
drained() {
	wait_session udp buffered 0 && wait_session tcp buffered 0 && wait_session tcp state up
}
flows() { # flows N: N UDP flows, ended at once
	udp_flows "$1" >/dev/null
	ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
}
rate_seen() { # the send rate is positive in a second that records went out
	local i r
	for i in $(seq 1 20); do
		flows 100
		sleep 0.6
		r=$(snmpn snmpget -Oqv "$SNMP_AGENT" .1.3.6.1.2.1.193.1.2.1.1.1.1 2>/dev/null)
		[ "${r:-0}" -gt 0 ] 2>/dev/null && { note "ipfixTransportSessionRate.1 = $r"; return 0; }
	done
	return 1
}

# 1. traffic, exported and drained: the collectors have everything
flows 2000
check "the send rate of a busy session is above zero" rate_seen
sleep 1
check "both sessions are up and have sent everything" drained
sleep 2.2 # a quiet second: the rate falls to 0
tables "$T/t.json"
mibwalk "$T/w1"
note "walked $(grep -c . "$T/w1") objects"
cp "$T/t.json" "$T/t1.json"

# 2. the TCP collector goes away; what cannot be buffered is counted
kill "$SOCAT_T"; wait "$SOCAT_T" 2>/dev/null
check "ctflowd notices the TCP collector left" wait_session tcp state down
flows $((BUFFER + 500))
sleep 1.5
check "the UDP session has sent the new records" wait_session udp buffered 0
tables "$T/t.json"
mibwalk "$T/w2"
cp "$T/t.json" "$T/t2.json"

# 3. it comes back: a new TCP connection, templates first
tcp_collector "$T/t2.ipfix"
check "ctflowd reconnects and sends what it kept" drained
sleep 2.2
tables "$T/t.json"
mibwalk "$T/w3"
cp "$T/t.json" "$T/t3.json"
snmpn snmpbulkwalk -Oe -Ot "$SNMP_AGENT" .1.3.6.1.2.1.193 >"$T/sweep.walk" 2>&1
snmpn snmpbulkwalk -Oe -Ot "$SNMP_AGENT" .1.3.6.1.2.1.194 >>"$T/sweep.walk" 2>&1
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/mibcheck.py" sweep-ipfix "$SNMP_AGENT" "$T/sweep.walk" ||
	FAILS=$((FAILS + 1))

IDLE=$(ip netns exec "$NS_B" cat /proc/sys/net/netfilter/nf_conntrack_generic_timeout)
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
sleep 0.3
kill "$SINK_U" "$SOCAT_T" 2>/dev/null; kill -INT "$TSHARK_PID"
for p in "$SINK_U" "$SOCAT_T" "$TSHARK_PID"; do wait "$p" 2>/dev/null; done

TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/ipfixmib.py" --mibs "$TOP/mibs/ietf" --dir "$T" \
	--pcap "$T/cap.pcap" --udp-port $UDP_PORT --tcp-port $TCP_PORT --domain 7 --refresh 300 \
	--idle "$IDLE" || FAILS=$((FAILS + 1))
finish
