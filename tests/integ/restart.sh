#!/bin/bash
# Restarts and kills in the middle of long transfers: nothing counted twice,
# nothing lost, the tables and SNMP counters continue.
#
# Three long uploads run through the NAT router while ctflowd exports to a
# UDP collector (nfcapd, and tshark on the wire) and a TCP one.  ctflowd is
# stopped with SIGTERM and started again; later killed with SIGKILL while a
# quiet UDP connection it tracks is deleted (it ends while ctflowd is down);
# later killed again under load and started at once.  Then every collector's
# per-flow sums, the JSON tables and the SNMP rows must equal the kernel's
# DESTROY records exactly (the connection that ended while ctflowd was down
# sent nothing after the last dump that saw it, so its last counted values
# are its final ones), the UDP session must keep its sequence numbers across
# the restarts (nfcapd sees no gap), the SNMP counters must only grow, the
# state must be the same one throughout (ctflowStateCreated) and the
# connection that ended while ctflowd was down must be counted as such.
TEST_NAME=restart
. "$(dirname "$0")/../lib/netns.sh"
ROOT=1.3.6.1.4.1.32473
MC="python3 $TOP/tests/lib/mibcheck.py"

topo_up
notrack_lo "$NS_R"
snmpd_start || exit 1
P=$((30000 + $$ % 20000))
UDP_PORT=$P TCP_PORT=$((P + 1))
mkdir -p "$T/nf"
need_rmem_max 16777216
bg_in "$NS_R" "$T/tshark.log" tshark -i lo -w "$T/cap.pcap" -f "udp port $UDP_PORT"
TSHARK_PID=$LAST_PID
for i in $(seq 1 100); do grep -qs "Capturing on" "$T/tshark.log" && break; sleep 0.1; done
bg_in "$NS_R" "$T/nfcapd.log" nfcapd -b 127.0.0.1 -p $UDP_PORT -B 16777216 -w "$T/nf" -t 60
NFCAPD_PID=$LAST_PID
bg_in "$NS_R" "$T/sink.json" "$TOOLS/ipfixsink" tcp $TCP_PORT "$T/t.ipfix"
SINK_PID=$LAST_PID
test_conf "$T/ctflowd.conf" <<CONF
dump_interval = 1s
state_dir = $T/state
[profile host]
key = host
[profile service]
key = proto, port
[collector udp]
address = 127.0.0.1
port = $UDP_PORT
# nfcapd neither stores options records nor counts them in its sequence check
statistics = no
[collector tcp]
address = 127.0.0.1
port = $TCP_PORT
transport = tcp
reconnect = 1s
CONF
truth_start "$NS_R"
ctflowd_start "$T/ctflowd.conf" || exit 1
check "ctflowd registers with snmpd" wait_subagent 20
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" tcp-server 80
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" udp-server 53
sleep 0.3
UPLOADS=()
for i in 1 2 3; do
	ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.2 80 $((4000000 + i * 1000)) \
		$((10000 * i)) 300000 >"$T/up$i.out" 2>&1 &
	UPLOADS+=($!)
	PIDS+=($!)
done
# a quiet UDP connection: five echoes, then nothing; tracked from the next dump
ip netns exec "$NS_C" "$TOOLS/flowgen" udp-client 10.201.2.2 53 5 300 45000 ||
	fail "the quiet UDP connection"

# SNMP: a host's octets, the events received and the state's identity
host_oid=".$ROOT.1.3.1.21.1.1.4.10.201.1.2.32.0.0.0.0.0.0.0"
sample() { snmpn snmpget -Oqv "$SNMP_AGENT" "$host_oid" ".$ROOT.1.1.4.0" ".$ROOT.1.1.36.0" 2>/dev/null | tr '\n' ' '; }
created() { snmpn snmpget -Oqv "$SNMP_AGENT" ".$ROOT.1.1.35.0" 2>/dev/null; }
SAMPLES=()
take() { wait_subagent 20 && SAMPLES+=("$(sample)"); }
sleep 3
take
created0=$(created)

# 1. an orderly restart
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
ctflowd_start "$T/ctflowd.conf" || exit 1
check "after SIGTERM it starts on the state it left" grep -q "state kept from the last run" "$T/ctflowd.log"
sleep 2
take

# 2. killed; the quiet UDP connection ends while it is down
kill -9 "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
ip netns exec "$NS_R" conntrack -D -p udp --orig-port-src 45000 >/dev/null 2>&1 ||
	fail "conntrack -D of the quiet connection"
sleep 1.5
ctflowd_start "$T/ctflowd.conf" || exit 1
check "after SIGKILL it starts on the state it left" grep -q "state kept from the last run" "$T/ctflowd.log"
sleep 2
take

# 3. killed under load and started at once
kill -9 "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
ctflowd_start "$T/ctflowd.conf" || exit 1
for p in "${UPLOADS[@]}"; do wait "$p" || fail "an upload failed"; done
take

# End everything; wait until ctflowd has closed all and the exporter drained.
ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
settled() {
	local i
	for i in $(seq 1 150); do
		tables "$T/t.json"
		python3 - "$T/t.json" <<-'PY' && return 0
		import json, sys
		d = json.load(open(sys.argv[1]))
		c = d["collector"]
		sys.exit(0 if c["tracked"] == 0 and all(x["buffered"] == 0 and x["state"] == "up"
		                                         for x in d["ipfix"]) else 1)
		PY
		sleep 0.2
	done
	return 1
}
check "every connection closed and every record exported" settled
take
check "the reference recorder lost no event" truth_clean
note "SNMP samples (host octets, events received, starts): $(printf '%s| ' "${SAMPLES[@]}")"

python3 - "$T/t.json" "${SAMPLES[@]}" <<'PY' >"$T/c.txt" 2>&1 && pass "counters continue: $(cat "$T/c.txt")" || fail "counters: $(cat "$T/c.txt")"
import json, sys
c = json.load(open(sys.argv[1]))["collector"]
samples = [[int(x) for x in s.split()] for s in sys.argv[2:]]
print("%d starts on one state, %d ended while down, host octets %s" % (
    c["starts"], c["ended_while_down"], " <= ".join(str(s[0]) for s in samples)))
assert c["starts"] == 4 and c["state_kept"] == 1, c
assert c["ended_while_down"] == 1 and c["ended_unobserved"] == 1, c
assert c["kernel_drops"] == 0 and c["duplicate_destroys"] == 0, c
assert len(samples) == 5 and all(len(s) == 3 for s in samples), samples
for a, b in zip(samples, samples[1:]):
    assert a[0] <= b[0] and a[1] <= b[1] and a[2] <= b[2], (a, b)
assert [s[2] for s in samples] == [1, 2, 3, 4, 4], samples
PY
[ -n "$created0" ] && [ "$(created)" = "$created0" ] &&
	pass "ctflowStateCreated did not change ($created0): no discontinuity" ||
	fail "ctflowStateCreated was $created0, now $(created)"

TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/truth.py" compare "$T/truth.events" "$T/t.json" ||
	FAILS=$((FAILS + 1))
snmpn snmpbulkwalk -Cr25 -Oe -Ot "$SNMP_AGENT" ".$ROOT.1.3" >"$T/bulk.walk" 2>&1
snmpn snmpwalk -Oe -Ot "$SNMP_AGENT" ".$ROOT.1.2" >>"$T/bulk.walk" 2>&1
TEST_NAME=$TEST_NAME $MC compare "$T/truth.events" "$T/bulk.walk" "$ROOT" || FAILS=$((FAILS + 1))

kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
sleep 0.5
kill "$NFCAPD_PID" "$SINK_PID"; kill -INT "$TSHARK_PID"
for p in "$NFCAPD_PID" "$SINK_PID" "$TSHARK_PID"; do wait "$p" 2>/dev/null; done
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/ipfixcheck.py" flows --truth "$T/truth.events" \
	--label "UDP" --pcap "$T/cap.pcap" --udp-port $UDP_PORT --nfdump "$T/nf" ||
	FAILS=$((FAILS + 1))
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/ipfixcheck.py" flows --truth "$T/truth.events" \
	--label "TCP" --ipfix-file "$T/t.ipfix" || FAILS=$((FAILS + 1))
fails=$(nfdump -r "$T/nf" -E 2>/dev/null | sed -n 's/.*Sequence failures: *\([0-9]*\).*/\1/p' | paste -sd+ | bc)
[ "${fails:-0}" = 0 ] &&
	pass "nfcapd saw one UDP session across the restarts: no sequence failure" ||
	fail "nfcapd counted $fails sequence failures"
finish
