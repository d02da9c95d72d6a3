#!/bin/bash
# CTFLOW-MIB through a real, private snmpd over AgentX (SNMP_MODE=listen:
# through ctflowd's own listener, with the same credentials; snmpd's restart
# and its example configuration are AgentX's, the listener's example
# credentials file is tested instead).
#
# Real traffic through the NAT router; snmpd is killed in the middle and
# started again while traffic goes on.  Afterwards the tables read with
# snmpbulkwalk (GETBULK) and snmpwalk (GETNEXT) must agree with each other
# and equal the kernel's own DESTROY records exactly, per profile; single
# rows answer a GET by their key; names resolve with the MIB; a sweep of
# malformed and edge-case indexes on every table gets exact answers; an
# SNMPv3 authPriv user reads the tables and a community without the view
# does not.
TEST_NAME=snmp
. "$(dirname "$0")/../lib/netns.sh"
ROOT=1.3.6.1.4.1.32473
MC="python3 $TOP/tests/lib/mibcheck.py"

topo_up
SNMPD_EXTRA="createUser ctadmin SHA \"ctflowd-auth-1\" AES \"ctflowd-priv-1\"
view ctview included .1.3.6.1.4.1.32473
view systemonly included .1.3.6.1.2.1.1
rouser ctadmin priv -V ctview
rocommunity limited 127.0.0.1 -V systemonly"
snmpd_start "$SNMPD_EXTRA" || exit 1
test_conf "$T/ctflowd.conf" <<EOF
dump_interval = 1s
top_interval = 2s
$(std_profiles)
[profile subnet]
key = src/24/64, dst/16/48
[profile wan]
key = host
addresses = translated
EOF
truth_start "$NS_R"
ctflowd_start "$T/ctflowd.conf" || exit 1
if listen_mode; then
	check "ctflowd answers SNMP on its own port" wait_subagent 20
else
	check "ctflowd registers with snmpd over AgentX" wait_subagent 20
fi
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" tcp-server 80
bg_in "$NS_S" /dev/null "$TOOLS/flowgen" udp-server 53
sleep 0.3

workload() { # workload ROUND
	local i=$1
	ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.2 80 $((1000 * i)) $((30000 * i)) || fail "tcp"
	ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client fd01:2::2 80 2000 $((700 * i)) || fail "tcp6"
	ip netns exec "$NS_C" "$TOOLS/flowgen" udp-client 10.201.2.2 53 $((i + 1)) 80 || fail "udp"
	ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.1.1 8080 500 $((900 * i)) || fail "dnat"
	ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.3 80 300 $((400 * i)) || fail "snat"
	ip netns exec "$NS_C" ping -q -c 2 -i 0.2 10.201.2.2 >/dev/null || fail "ping"
}
workload 1
workload 2

# snmpd goes away; traffic and accounting go on; snmpd comes back.
snmpd_stop
workload 3
if ! listen_mode; then
	snmpd_start "$SNMPD_EXTRA" || exit 1
	check "ctflowd re-registers by itself after snmpd restarts" wait_subagent 20
fi
workload 4
ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
sleep 1
n=$(python3 "$TOP/tests/lib/truth.py" count "$T/truth.events")
check "ctflowd received every DESTROY event ($n)" wait_events "$n" "$T/t.json"
check "the reference recorder lost no event" truth_clean
note "agentx: $(grep -c 'subagent connected' "$T/ctflowd.log") connections in ctflowd's log"

snmpn snmpbulkwalk -Cr25 -Oe -Ot "$SNMP_AGENT" ".$ROOT" >"$T/bulk.walk" 2>&1
snmpn snmpwalk -Oe -Ot "$SNMP_AGENT" ".$ROOT" >"$T/next.walk" 2>&1
note "walked $(grep -c . "$T/bulk.walk") objects"
TEST_NAME=$TEST_NAME $MC compare "$T/truth.events" "$T/bulk.walk" "$ROOT" || FAILS=$((FAILS + 1))
TEST_NAME=$TEST_NAME $MC same "$T/next.walk" "$T/bulk.walk" "$ROOT.1.3" || FAILS=$((FAILS + 1))

# GET by key: host 10.201.1.2 in profile 1, as an operator would ask for it
key="1.1.4.10.201.1.2.32.0.0.0.0.0.0.0"
got=$(snmpn snmpget -Oqv "$SNMP_AGENT" ".$ROOT.1.3.1.21.$key" 2>&1 | awk '{print $1}')
want=$($MC value "$T/bulk.walk" ".$ROOT.1.3.1.21.$key" | awk '{print $1}')
[ -n "$got" ] && [ "$got" = "$want" ] && pass "GET by key: host 10.201.1.2 has $got octets" ||
	fail "GET by key gave '$got', walk says '$want'"
check "names resolve with the MIB (snmptranslate)" \
	sh -c "snmptranslate -M '$MIBDIRS' -m CTFLOW-MIB -On CTFLOW-MIB::ctflowTopRow | grep -qx '.$ROOT.1.4.1.14'"
snmp snmptable -Cb "$SNMP_AGENT" CTFLOW-MIB::ctflowProfileTable >"$T/profiles.txt" 2>&1
check "snmptable, names from the MIB, shows the profile table" grep -q "subnet  *src/24/64,dst/16/48" "$T/profiles.txt"
lost=$(snmpn snmpget -Oqv "$SNMP_AGENT" ".$ROOT.1.1.5.0" | awk '{print $1}')
[ "$lost" = 0 ] && pass "ctflowEventsLost.0 = 0 across the snmpd restart" || fail "events lost: $lost"

TEST_NAME=$TEST_NAME $MC sweep "$ROOT" "$SNMP_AGENT" "$T/bulk.walk" || FAILS=$((FAILS + 1))
check "the subagent still answers after the sweep" wait_subagent 5

snmpget -v3 -l authPriv -u ctadmin -a SHA -A ctflowd-auth-1 -x AES -X ctflowd-priv-1 \
	-t 3 -r 1 -On "$SNMP_AGENT" ".$ROOT.1.1.4.0" >"$T/v3.txt" 2>&1
check "an SNMPv3 authPriv user reads CTFLOW-MIB" grep -q "Counter64: $n" "$T/v3.txt"
snmpget -v2c -c limited -t 3 -r 1 -On "$SNMP_AGENT" ".$ROOT.1.1.4.0" >"$T/limited.txt" 2>&1
check "a community without the view does not" grep -q "No Such Object" "$T/limited.txt"

if listen_mode; then
	# conf/snmp-credentials.example as shipped, with only its management
	# network adapted: ctflowd starts on it, its community and its SNMPv3
	# user read CTFLOW-MIB and the system group, and SNMPv1 is refused.
	kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
	sed -e "s|192.0.2.0/24|127.0.0.1|" "$TOP/conf/snmp-credentials.example" >"$T/snmp.creds"
	chmod 600 "$T/snmp.creds"
	ctflowd_start "$T/ctflowd.conf" || exit 1
	snmpget -v2c -c change-this-community -t 3 -r 1 -On "$SNMP_AGENT" ".$ROOT.1.1.4.0" \
		".1.3.6.1.2.1.1.1.0" >"$T/ex-v2.txt" 2>&1
	check "conf/snmp-credentials.example: its v2c community reads CTFLOW-MIB and sysDescr" \
		sh -c "grep -q Counter64 '$T/ex-v2.txt' && grep -q 'STRING: \"ctflowd' '$T/ex-v2.txt'"
	snmpget -v3 -l authPriv -u nms -a SHA-256 -A change-this-auth-pass -x AES \
		-X change-this-priv-pass -t 3 -r 1 -On "$SNMP_AGENT" ".$ROOT.1.1.4.0" \
		".1.3.6.1.2.1.1.3.0" >"$T/ex-v3.txt" 2>&1
	check "conf/snmp-credentials.example: its SNMPv3 user reads CTFLOW-MIB and sysUpTime" \
		sh -c "grep -q Counter64 '$T/ex-v3.txt' && grep -q Timeticks '$T/ex-v3.txt'"
	snmpget -v1 -c change-this-community -t 1 -r 0 -On "$SNMP_AGENT" ".$ROOT.1.1.4.0" \
		>"$T/ex-v1.txt" 2>&1
	check "conf/snmp-credentials.example: SNMPv1 is refused" \
		sh -c "! grep -q Counter64 '$T/ex-v1.txt'"
	finish
fi

# conf/snmpd.conf.example as shipped, with only its paths, port, socket owner
# and management network adapted to this test: ctflowd reconnects to it and
# both its v2c community and its SNMPv3 user see CTFLOW-MIB.
snmpd_stop
{
	echo "agentaddress $SNMP_AGENT"
	sed -e "s|/var/agentx/master|$T/agentx|" -e "s|Debian-snmp ctflowd|0 0|" \
		-e "s|192.0.2.0/24|127.0.0.1|" "$TOP/conf/snmpd.conf.example"
} >"$T/example.conf"
snmpd_start_file "$T/example.conf" || exit 1
check "conf/snmpd.conf.example parses without errors" sh -c "! grep -E 'Error|Warning|identify' '$T/snmpd.log'"
ok=0
for i in $(seq 1 50); do
	snmpget -v2c -c change-this-community -t 1 -r 0 -On "$SNMP_AGENT" ".$ROOT.1.1.4.0" 2>/dev/null |
		grep -q Counter64 && ok=1 && break
	sleep 0.2
done
[ $ok = 1 ] && pass "conf/snmpd.conf.example: its v2c community reads CTFLOW-MIB" ||
	fail "conf/snmpd.conf.example: no CTFLOW-MIB through its community: $(tail -n 3 "$T/snmpd.log")"
snmpget -v3 -l authPriv -u nms -a SHA -A change-this-auth-pass -x AES -X change-this-priv-pass \
	-t 3 -r 1 -On "$SNMP_AGENT" ".$ROOT.1.1.4.0" ".1.3.6.1.2.1.1.3.0" >"$T/ex-v3.txt" 2>&1
check "conf/snmpd.conf.example: its SNMPv3 user reads CTFLOW-MIB and sysUpTime" \
	sh -c "grep -q Counter64 '$T/ex-v3.txt' && grep -q Timeticks '$T/ex-v3.txt'"
snmpget -v1 -c change-this-community -t 1 -r 0 -On "$SNMP_AGENT" ".$ROOT.1.1.4.0" >"$T/ex-v1.txt" 2>&1
check "conf/snmpd.conf.example: SNMPv1 is refused" sh -c "! grep -q Counter64 '$T/ex-v1.txt'"
finish
