#!/bin/bash
# make demo: the whole pipeline on real traffic, in namespaces of its own.
#
# A client, a NAT router and a server (tests/lib/netns.sh).  ctflowd runs in
# the router, where conntrack tracks; the client browses, resolves, pings and
# downloads through it, over IPv4 and IPv6, partly through SNAT and DNAT.
# The demo shows the kernel check, the tables while a long upload runs, the
# tables once every flow has ended, and what an NMS sees: the same tables
# through a private snmpd, with the net-snmp tools and the MIB modules of
# mibs/, and what a flow collector receives: the same flows exported as IPFIX
# to a local nfcapd, read back with nfdump; and the traps a threshold on
# uploads sends to a local snmptrapd.  Everything it creates is removed at
# the end.
#
# Every part is checked: a command that fails, a name that does not resolve,
# an empty answer, no trap, a collector that received nothing.  The demo then
# ends with "make demo: FAILED" naming each part that failed, and exits 1.
TEST_NAME=demo
. "$(dirname "$0")/lib/netns.sh"
DEMO="make demo"
. "$TOP/tests/lib/demo.sh"
cd "$TOP" && make -s all tools || { echo "make demo: FAILED: build"; exit 1; }
# part NAME CMD...: run CMD, show its output; the part fails when CMD fails,
# prints nothing, or says a name did not resolve or an object is missing.
part() {
	local name=$1 out rc; shift
	out=$("$@" 2>&1); rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	if [ $rc -ne 0 ]; then
		broken "$name" "'$1' exited $rc"
	elif [ -z "$out" ]; then
		broken "$name" "'$1' printed nothing"
	elif grep -qE 'Unknown Object Identifier|Cannot find module|Cannot adopt|No Such (Object|Instance)|No more variables|Timeout: No Response|Was that a table' <<<"$out"; then
		broken "$name" "$(grep -m1 -E 'Unknown Object|Cannot find module|Cannot adopt|No Such|No more variables|Timeout|Was that a table' <<<"$out")"
	fi
	return 0
}
show() { part "ctflowd's tables (JSON)" python3 "$TOP/tests/lib/show.py" "$@"; }

say "Setting up client, NAT router and server namespaces, a private snmpd, snmptrapd and nfcapd"
topo_up
trapd_start -M "$MIBDIRS" -m SNMPv2-MIB:CTFLOW-MIB
snmpd_start "trap2sink udp:127.0.0.1:$TRAP_PORT public" || { echo "make demo: FAILED: snmpd"; exit 1; }
# nfcapd listens on the router's loopback; the export itself is not tracked.
notrack_lo "$NS_R"
NF_PORT=$((30000 + $$ % 20000))
mkdir -p "$T/flows"
bg_in "$NS_R" "$T/nfcapd.log" nfcapd -b 127.0.0.1 -p "$NF_PORT" -w "$T/flows" -t 60
NFCAPD_PID=$LAST_PID
cat >"$T/ctflowd.conf" <<EOF
dump_interval = 2s
dump_file = $T/tables.json
agentx_socket = $T/agentx
top_interval = 3s
$(std_profiles)
[profile wan]
key = host
addresses = translated
[threshold uploads]
profile = host
match = 10.201.1.0/24
metric = bytes
direction = sent
window = 4s
rising = 200k
falling = 50k
[collector nfcapd]
address = 127.0.0.1
port = $NF_PORT
statistics = no
EOF
say "ctflowd --check-kernel (in the router namespace)"
part "kernel check" ip netns exec "$NS_R" "$CTFLOWD" --check-kernel
ctflowd_start "$T/ctflowd.conf" || { echo "make demo: FAILED: ctflowd did not start"; exit 1; }
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" tcp-server 80
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" tcp-server 443
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" udp-server 53
sleep 0.3

say "Traffic: a 4 MB upload paced over 8 s, web requests, DNS, ping, IPv6, NAT"
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.2 443 4000000 2000 500000 >"$T/upload.out" 2>&1 &
DL=$!
PIDS+=("$DL")
traffic() { ip netns exec "$NS_C" "$@" >/dev/null 2>&1 || broken traffic "$*"; }
for i in $(seq 1 10); do
	traffic "$TOOLS/flowgen" tcp-client 10.201.2.2 80 400 $((i * 15000))
	traffic "$TOOLS/flowgen" udp-client 10.201.2.2 53 1 60
done
traffic "$TOOLS/flowgen" tcp-client fd01:2::2 80 500 250000
traffic "$TOOLS/flowgen" tcp-client 10.201.1.1 8080 300 64000
traffic "$TOOLS/flowgen" tcp-client 10.201.2.3 80 300 32000
traffic ping -q -c 3 -i 0.2 10.201.2.2
traffic ping -q -c 2 -i 0.2 fd01:2::2
sleep 3.5
tables "$T/tables.json" || broken "tables" "ctflowd did not write its JSON tables"
say "While the upload still runs (its bytes arrive in slices, one per dump):"
show "$T/tables.json" service
wait_subagent 20 || broken "SNMP" "the subagent did not register with snmpd"
S="-v2c -c public -M $MIBDIRS -m CTFLOW-MIB $SNMP_AGENT"
say "Top talkers of the last 3 s, per profile: snmpwalk $S CTFLOW-MIB::ctflowTopOctets"
part "SNMP top talkers" snmpwalk $S CTFLOW-MIB::ctflowTopOctets
part "SNMP top talkers" snmpget $S CTFLOW-MIB::ctflowTopRow.2.1
wait "$DL" || broken "traffic" "the paced upload failed: $(cat "$T/upload.out")"
say "Upload finished"
ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
sleep 1
tables "$T/tables.json" || broken "tables" "ctflowd did not write its JSON tables"
say "After every flow has ended (kill -USR1 writes these tables as JSON):"
show "$T/tables.json"
say "The same numbers as JSON, for scripts ($(wc -c <"$T/tables.json") bytes); one row:"
part "ctflowd's tables (JSON)" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["profiles"][0]["entries"][0]))' "$T/tables.json"

say "What an NMS sees: snmptable $S CTFLOW-MIB::ctflowProfileTable"
part "SNMP profile table" snmptable -Cb $S CTFLOW-MIB::ctflowProfileTable
say "snmpwalk $S CTFLOW-MIB::ctflowAggFwdOctets.1   (profile 1, host: octets sent)"
part "SNMP host rows" snmpwalk $S CTFLOW-MIB::ctflowAggFwdOctets.1
say "snmpwalk $S CTFLOW-MIB::ctflowAggOctets.2   (profile 2, service)"
part "SNMP service rows" snmpwalk $S CTFLOW-MIB::ctflowAggOctets.2
say "One row by its key: snmpget $S ctflowAggOctets.1.1.4.10.201.1.2.32.0.0.0.0.0.0.0"
part "SNMP GET by key" snmpget $S CTFLOW-MIB::ctflowAggOctets.1.1.4.10.201.1.2.32.0.0.0.0.0.0.0 \
	CTFLOW-MIB::ctflowAggCreated.1.1.4.10.201.1.2.32.0.0.0.0.0.0.0
say "Collector health: snmpget $S ctflowEventsReceived.0 ctflowEventsLost.0 ctflowKernelAccounting.0 ..."
part "SNMP collector health" snmpget $S CTFLOW-MIB::ctflowEventsReceived.0 CTFLOW-MIB::ctflowEventsLost.0 \
	CTFLOW-MIB::ctflowFlowsEndedUnobserved.0 CTFLOW-MIB::ctflowKernelAccounting.0 \
	CTFLOW-MIB::ctflowTrackedFlows.0 CTFLOW-MIB::ctflowLoopSlowest.0

# The standard IPFIX-MIB, by name with the module from mibs/ietf.
I="-v2c -c public -M $MIBDIRS -m IPFIX-MIB:IPFIX-SELECTOR-MIB $SNMP_AGENT"
say "The export in the standard IPFIX-MIB (RFC 6615): snmptable $I ipfixTransportSessionTable"
part "IPFIX-MIB sessions" snmptable -Cb -Ci $I IPFIX-MIB::ipfixTransportSessionTable
say "snmptable $I IPFIX-MIB::ipfixTransportSessionStatsTable"
part "IPFIX-MIB session statistics" snmptable -Cb -Ci $I IPFIX-MIB::ipfixTransportSessionStatsTable
say "Records per template: snmpwalk $I IPFIX-MIB::ipfixTemplateDataRecords"
part "IPFIX-MIB templates" snmpwalk $I IPFIX-MIB::ipfixTemplateDataRecords
SESSION_RECORDS=$(snmpget $I -OqvU IPFIX-MIB::ipfixTransportSessionRecords.1 2>/dev/null)

# stop nfcapd so that it closes its file, then read it the way an operator would
sleep 0.5
kill "$NFCAPD_PID"; wait "$NFCAPD_PID" 2>/dev/null
RECEIVED=$(nfdump -r "$T/flows" -q -N -o "fmt:%pr" 2>/dev/null | grep -c .)
say "The other end: nfcapd received $RECEIVED flow records; ctflowd's ipfixTransportSessionRecords.1 says it sent $SESSION_RECORDS"
if [ "${RECEIVED:-0}" -eq 0 ]; then
	broken "IPFIX" "nfcapd received nothing"
elif [ "$RECEIVED" != "$SESSION_RECORDS" ]; then
	broken "IPFIX" "nfcapd received $RECEIVED records, ctflowd says it sent ${SESSION_RECORDS:-none}"
fi
say "What the flow collector got (IPFIX from ctflowd to nfcapd): nfdump -r FLOWDIR -N 'port 443'"
echo "The upload arrived in slices while it ran (one per dump), then its last one when it ended."
echo "Packets/Bytes: original direction; Out Pkt/Out Byte: reply direction (RFC 5103 biflow)."
part "IPFIX upload slices" nfdump -r "$T/flows" -N -o "fmt:%te %pr %sap -> %dap %pkt %byt %opkt %obyt" 'port 443'
say "The NATed flows, with the addresses after translation (X-Src, X-Dst: IPFIX IEs 225-228)"
part "IPFIX NAT fields" nfdump -r "$T/flows" -q -N -o "fmt:%te %pr %sap -> %dap %pkt %byt %xsap %xdap" \
	'port 8080 or host 10.201.2.3'
say "Every flow, its slices summed: nfdump -r FLOWDIR -N -A proto,srcip,srcport,dstip,dstport"
nfdump -r "$T/flows" -N -A proto,srcip,srcport,dstip,dstport -O bytes \
	-o "fmt:%pr %sap -> %dap %pkt %byt %opkt %obyt" >"$T/summed.txt" 2>&1 ||
	broken "IPFIX per flow" "nfdump -A failed: $(tail -n 1 "$T/summed.txt")"
head -n 25 "$T/summed.txt"
say "The traps snmptrapd received: a threshold on uploads (host 10.201.1.x sending over 200 kB/s over 4 s)"
echo "One rising trap when the paced upload crossed it, one falling trap when it stopped."
for i in $(seq 1 50); do grep -q ctflowThresholdFallingAlarm "$T/trapd.log" 2>/dev/null && break; sleep 0.2; done
grep "^TRAP.*CTFLOW-MIB" "$T/trapd.log" 2>/dev/null | sed -e 's/^TRAP //' -e 's/|/\n    /g' -e 's/^/  /'
for kind in Rising Falling; do
	grep -q "ctflowThreshold${kind}Alarm" "$T/trapd.log" 2>/dev/null ||
		broken "traps" "snmptrapd received no ctflowThreshold${kind}Alarm"
done
if grep -qE 'Cannot find module|Unknown Object' "$T/trapd.log" 2>/dev/null; then
	broken "traps" "snmptrapd could not resolve the names: $(grep -m1 -E 'Cannot find|Unknown' "$T/trapd.log")"
fi
demo_end
