#!/bin/bash
# make demo: the whole pipeline on real traffic, in namespaces of its own.
#
# A client, a NAT router and a server (tests/lib/netns.sh).  ctflowd runs in
# the router, where conntrack tracks; the client browses, resolves, pings and
# downloads through it, over IPv4 and IPv6, partly through SNAT and DNAT.
# The demo shows the kernel check, the tables while a long upload runs, the
# tables once every flow has ended, and what an NMS sees: the same tables
# through a private snmpd, with the net-snmp tools, and what a flow collector
# receives: the same flows exported as IPFIX to a local nfcapd, read back with
# nfdump; and the traps a threshold on uploads sends to a local snmptrapd.
# Everything it creates is removed at the end.
TEST_NAME=demo
. "$(dirname "$0")/lib/netns.sh"
cd "$TOP" && make -s all tools || exit 1
show() { python3 "$TOP/tests/lib/show.py" "$@"; }
if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }

say "Setting up client, NAT router and server namespaces, a private snmpd, snmptrapd and nfcapd"
topo_up
trapd_start -M "$MIBDIRS" -m CTFLOW-MIB
snmpd_start "trap2sink udp:127.0.0.1:$TRAP_PORT public" || exit 1
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
[profile host]
key = host
[profile service]
key = proto, port
[profile pair]
key = src, dst
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
ip netns exec "$NS_R" "$CTFLOWD" --check-kernel
ctflowd_start "$T/ctflowd.conf" || exit 1
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" tcp-server 80
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" tcp-server 443
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" udp-server 53
sleep 0.3

say "Traffic: a 4 MB upload paced over 8 s, web requests, DNS, ping, IPv6, NAT"
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.2 443 4000000 2000 500000 >/dev/null 2>&1 &
DL=$!
PIDS+=("$DL")
for i in $(seq 1 10); do
	ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.2 80 400 $((i * 15000))
	ip netns exec "$NS_C" "$TOOLS/flowgen" udp-client 10.201.2.2 53 1 60
done
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client fd01:2::2 80 500 250000
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.1.1 8080 300 64000
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.3 80 300 32000
ip netns exec "$NS_C" ping -q -c 3 -i 0.2 10.201.2.2 >/dev/null
ip netns exec "$NS_C" ping -q -c 2 -i 0.2 fd01:2::2 >/dev/null
sleep 3.5
tables "$T/tables.json"
say "While the upload still runs (its bytes arrive in slices, one per dump):"
show "$T/tables.json" service
wait_subagent 20 || echo "(the subagent did not register)"
S="-v2c -c public -M $MIBDIRS -m CTFLOW-MIB $SNMP_AGENT"
say "Top talkers of the last 3 s, per profile: snmpwalk $S CTFLOW-MIB::ctflowTopOctets"
snmpwalk $S CTFLOW-MIB::ctflowTopOctets
snmpget $S CTFLOW-MIB::ctflowTopRow.2.1
wait "$DL"
say "Upload finished"
ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
sleep 1
tables "$T/tables.json"
say "After every flow has ended (kill -USR1 writes these tables as JSON):"
show "$T/tables.json"
say "The same numbers as JSON, for scripts ($(wc -c <"$T/tables.json") bytes); one row:"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["profiles"][0]["entries"][0]))' "$T/tables.json"

say "What an NMS sees: snmptable $S CTFLOW-MIB::ctflowProfileTable"
snmptable -Cb $S CTFLOW-MIB::ctflowProfileTable
say "snmpwalk $S CTFLOW-MIB::ctflowAggFwdOctets.1   (profile 1, host: octets sent)"
snmpwalk $S CTFLOW-MIB::ctflowAggFwdOctets.1
say "snmpwalk $S CTFLOW-MIB::ctflowAggOctets.2   (profile 2, service)"
snmpwalk $S CTFLOW-MIB::ctflowAggOctets.2
say "One row by its key: snmpget $S ctflowAggOctets.1.1.4.10.201.1.2.32.0.0.0.0.0.0.0"
snmpget $S CTFLOW-MIB::ctflowAggOctets.1.1.4.10.201.1.2.32.0.0.0.0.0.0.0 \
	CTFLOW-MIB::ctflowAggCreated.1.1.4.10.201.1.2.32.0.0.0.0.0.0.0
say "Collector health: snmpget $S ctflowEventsReceived.0 ctflowEventsLost.0 ctflowKernelAccounting.0 ..."
snmpget $S CTFLOW-MIB::ctflowEventsReceived.0 CTFLOW-MIB::ctflowEventsLost.0 \
	CTFLOW-MIB::ctflowFlowsEndedUnobserved.0 CTFLOW-MIB::ctflowKernelAccounting.0 \
	CTFLOW-MIB::ctflowTrackedFlows.0 CTFLOW-MIB::ctflowLoopSlowest.0

# The standard IPFIX-MIB, by name where the module is installed (mibs/README).
I="-v2c -c public -M $MIBDIRS -m +IPFIX-MIB:IPFIX-SELECTOR-MIB $SNMP_AGENT"
if snmptranslate -M "$MIBDIRS" -m +IPFIX-MIB IPFIX-MIB::ipfixMIB >/dev/null 2>&1; then
	say "The export in the standard IPFIX-MIB (RFC 6615): snmptable $I ipfixTransportSessionTable"
	snmptable -Cb -Ci $I IPFIX-MIB::ipfixTransportSessionTable 2>/dev/null
	say "snmptable $I IPFIX-MIB::ipfixTransportSessionStatsTable"
	snmptable -Cb -Ci $I IPFIX-MIB::ipfixTransportSessionStatsTable 2>/dev/null
	say "Records per template: snmpwalk $I IPFIX-MIB::ipfixTemplateDataRecords"
	snmpwalk $I IPFIX-MIB::ipfixTemplateDataRecords 2>/dev/null
else
	say "The export in the standard IPFIX-MIB (RFC 6615; the module is not installed here, see mibs/README):"
	snmpwalk -v2c -c public -On "$SNMP_AGENT" .1.3.6.1.2.1.193.1.2.1 2>/dev/null
fi
SESSION_RECORDS=$(snmpget -v2c -c public -Oqv "$SNMP_AGENT" .1.3.6.1.2.1.193.1.2.1.1.6.1 2>/dev/null)

# stop nfcapd so that it closes its file, then read it the way an operator would
sleep 0.5
kill "$NFCAPD_PID"; wait "$NFCAPD_PID" 2>/dev/null
say "The other end: nfcapd received $(nfdump -r "$T/flows" -q -N -o "fmt:%pr" | grep -c .) flow records; ctflowd's ipfixTransportSessionRecords.1 says it sent $SESSION_RECORDS"
say "What the flow collector got (IPFIX from ctflowd to nfcapd): nfdump -r FLOWDIR -N 'port 443'"
echo "The upload arrived in slices while it ran (one per dump), then its last one when it ended."
echo "Packets/Bytes: original direction; Out Pkt/Out Byte: reply direction (RFC 5103 biflow)."
nfdump -r "$T/flows" -N -o "fmt:%te %pr %sap -> %dap %pkt %byt %opkt %obyt" 'port 443'
say "The NATed flows, with the addresses after translation (X-Src, X-Dst: IPFIX IEs 225-228)"
nfdump -r "$T/flows" -q -N -o "fmt:%te %pr %sap -> %dap %pkt %byt %xsap %xdap" \
	'port 8080 or host 10.201.2.3'
say "Every flow, its slices summed: nfdump -r FLOWDIR -N -A proto,srcip,srcport,dstip,dstport"
nfdump -r "$T/flows" -N -A proto,srcip,srcport,dstip,dstport -O bytes \
	-o "fmt:%pr %sap -> %dap %pkt %byt %opkt %obyt" | head -n 25
say "The traps snmptrapd received: a threshold on uploads (host 10.201.1.x sending over 200 kB/s over 4 s)"
echo "One rising trap when the paced upload crossed it, one falling trap when it stopped."
for i in $(seq 1 50); do grep -q ctflowThresholdFallingAlarm "$T/trapd.log" 2>/dev/null && break; sleep 0.2; done
grep "^TRAP.*CTFLOW-MIB" "$T/trapd.log" 2>/dev/null | sed -e 's/^TRAP //' -e 's/|/\n    /g' -e 's/^/  /'
echo
