#!/bin/bash
# Connections that reuse a 5-tuple while dumps run: exact in JSON, SNMP and
# IPFIX.
#
# Two clients reconnect from one source port each, 300 times a second, every
# connection closed with a reset: the next SYN finds the last conntrack entry
# closing and the kernel gives the new connection the same id (tests/tools/
# flowgen tcp-reuse).  Meanwhile ctflowd dumps every 300 ms over 20,000 idle
# UDP entries, so dumps are slow and their rows race the DESTROY events of
# the same tuples: rows of a new incarnation applied before the old one's
# DESTROY, DESTROYs during a dump of the same entry, rows copied from an
# entry the kernel was destroying.  (Measured on the code before this test:
# 649 of 8,001 such connections lost, and live ones closed "unobserved".)
# Every table, every SNMP row and every collector's per-flow sums must equal
# the kernel's DESTROY records exactly, nothing may be closed unobserved,
# and the reuse must show in CTFLOW-MIB (ctflowIncarnations) and the IPFIX
# options record as well as the JSON.
TEST_NAME=reuse
. "$(dirname "$0")/../lib/netns.sh"
ROOT=1.3.6.1.4.1.32473
MC="python3 $TOP/tests/lib/mibcheck.py"

topo_up
notrack_lo "$NS_R"
snmpd_start || exit 1
# idle entries: UDP from 16 addresses behind the client to a server socket
# that never answers, kept for the whole test
ip -n "$NS_C" route add local 10.203.0.0/16 dev lo
ip -n "$NS_R" route add 10.203.0.0/16 via 10.201.1.2
ip netns exec "$NS_R" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600
P=$((30000 + $$ % 20000))
UDP_PORT=$P NF_PORT=$((P + 1))
mkdir -p "$T/nf"
bg_in "$NS_R" "$T/tshark.log" tshark -i lo -w "$T/cap.pcap" -f "udp port $UDP_PORT"
TSHARK_PID=$LAST_PID
for i in $(seq 1 100); do grep -qs "Capturing on" "$T/tshark.log" && break; sleep 0.1; done
bg_in "$NS_R" "$T/socat.log" socat -b 65535 -u UDP-RECV:$UDP_PORT,bind=127.0.0.1,rcvbuf=16777216 \
	OPEN:"$T/u.ipfix",creat,trunc
SOCAT_U=$LAST_PID
# the first dump exports the 20,000 idle entries at once: nfcapd needs the buffer
need_rmem_max 33554432
bg_in "$NS_R" "$T/nfcapd.log" nfcapd -b 127.0.0.1 -p $NF_PORT -B 33554432 -w "$T/nf" -t 60
NFCAPD_PID=$LAST_PID
test_conf "$T/ctflowd.conf" <<CONF
dump_interval = 300ms
ipfix_stats_interval = 1s
$(std_profiles)
[collector tshark]
address = 127.0.0.1
port = $UDP_PORT
[collector nfcapd]
address = 127.0.0.1
port = $NF_PORT
statistics = no
CONF
truth_start "$NS_R"
ctflowd_start "$T/ctflowd.conf" || exit 1
check "ctflowd registers with snmpd" wait_subagent 20
bg_in "$NS_S" /dev/null "$TOOLS/udpburst" sink 9000 300
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" tcp-server 80
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" tcp-server 81
sleep 0.3
ip netns exec "$NS_C" "$TOOLS/udpburst" send 10.201.2.2 9000 20000 10.203.0.1 16 20000 \
	>"$T/idle.out" 2>&1 || fail "idle entries: $(cat "$T/idle.out")"
note "idle: $(cat "$T/idle.out"), $(ct_count "$NS_R") entries in the router's table"

# the storm: two tuples, 3000 connections each, 300/s
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-reuse 10.201.2.2 80 40001 3000 600 300 >"$T/a.out" 2>&1 &
A=$!
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-reuse 10.201.2.2 81 40002 3000 1400 300 >"$T/b.out" 2>&1 &
B=$!
PIDS+=("$A" "$B")
wait "$A" || fail "storm on port 80: $(cat "$T/a.out")"
wait "$B" || fail "storm on port 81: $(cat "$T/b.out")"
note "storm: $(cat "$T/a.out"); $(cat "$T/b.out")"
tables "$T/t.json"
c() { collector "$T/t.json" "$1"; }
note "during the storm: $(c dump_runs) dumps, $(c incarnations) incarnations, $(c stale_rows) stale rows, $(c dying_rows) dying rows, $(c ended_unobserved) unobserved"

# End everything, let ctflowd see it and the exporter drain.
ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
sleep 1
n=$(python3 "$TOP/tests/lib/truth.py" count "$T/truth.events")
check "ctflowd received every DESTROY event ($n)" wait_events "$n" "$T/t.json" 60
reused=$(grep -o ' id=[0-9]*' "$T/truth.events" | sort | uniq -d | wc -l)
[ "$reused" -ge 2 ] && pass "the kernel reused conntrack ids ($reused ids for several connections)" ||
	fail "the kernel reused no id: the storm did not test anything"
drained() {
	local i
	for i in $(seq 1 100); do
		tables "$T/t.json"
		[ "$(jget "$T/t.json" ipfix.0.held)" = 0 ] && [ "$(jget "$T/t.json" ipfix.1.held)" = 0 ] &&
			return 0
		sleep 0.2
	done
	return 1
}
check "the exporter sent everything" drained
sleep 1.5 # an options record after the last flows
tables "$T/t.json"
check "the reference recorder lost no event" truth_clean
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/truth.py" compare "$T/truth.events" "$T/t.json" ||
	FAILS=$((FAILS + 1))
python3 - "$T/t.json" <<'PY' >"$T/c.txt" 2>&1 && pass "JSON: none lost, none closed unobserved, none counted twice: $(cat "$T/c.txt")" || fail "collector counters: $(cat "$T/c.txt")"
import json, sys
c = json.load(open(sys.argv[1]))["collector"]
print("%d incarnations, %d stale rows, %d dying rows" % (c["incarnations"], c["stale_rows"], c["dying_rows"]))
assert c["kernel_drops"] == 0 and c["overruns"] == 0, c
assert c["ended_unobserved"] == 0 and c["duplicate_destroys"] == 0 and c["late_destroys"] == 0, c
assert c["incarnations"] > 0 and c["tracked"] == 0, c
PY

# SNMP: the same tables, and the counters of what the accounting saw
snmpn snmpbulkwalk -Cr25 -Oe -Ot "$SNMP_AGENT" ".$ROOT.1.3" >"$T/bulk.walk" 2>&1
snmpn snmpwalk -Oe -Ot "$SNMP_AGENT" ".$ROOT.1.2" >>"$T/bulk.walk" 2>&1
TEST_NAME=$TEST_NAME $MC compare "$T/truth.events" "$T/bulk.walk" "$ROOT" || FAILS=$((FAILS + 1))
inc=$(snmpn snmpget -Oqv "$SNMP_AGENT" ".$ROOT.1.1.29.0" 2>/dev/null)
unobs=$(snmpn snmpget -Oqv "$SNMP_AGENT" ".$ROOT.1.1.9.0" 2>/dev/null)
json_inc=$(collector "$T/t.json" incarnations)
[ "$inc" = "$json_inc" ] && [ "$unobs" = 0 ] &&
	pass "CTFLOW-MIB: ctflowIncarnations.0 = $inc (as the JSON), ctflowFlowsEndedUnobserved.0 = 0" ||
	fail "CTFLOW-MIB: ctflowIncarnations.0 = $inc (JSON $json_inc), unobserved $unobs"

kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
sleep 0.5
kill "$NFCAPD_PID" "$SOCAT_U"; kill -INT "$TSHARK_PID"
for p in "$NFCAPD_PID" "$SOCAT_U" "$TSHARK_PID"; do wait "$p" 2>/dev/null; done
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/ipfixcheck.py" flows --truth "$T/truth.events" \
	--label IPFIX --pcap "$T/cap.pcap" --udp-port $UDP_PORT --ipfix-file "$T/u.ipfix" \
	--nfdump "$T/nf" || FAILS=$((FAILS + 1))
# the options record 303 says what the accounting saw, as the MIB does
ipfixDump --element-file "$TOP/conf/ipfix-elements.xml" --in "$T/u.ipfix" 2>/dev/null |
	grep -o 'ctflowdIncarnations[^0-9]*[0-9]*' | tail -n 1 | grep -o '[0-9]*$' >"$T/opt.txt"
[ "$(cat "$T/opt.txt")" = "$json_inc" ] &&
	pass "IPFIX options record 303: ctflowdIncarnations = $json_inc, as CTFLOW-MIB and the JSON" ||
	fail "IPFIX options record: ctflowdIncarnations '$(cat "$T/opt.txt")', JSON $json_inc"
finish
