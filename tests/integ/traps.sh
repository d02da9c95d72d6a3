#!/bin/bash
# Threshold and health notifications through a private snmpd to a real
# snmptrapd.  A host uploading above a rising value gives exactly one rising
# trap with the right varbinds, none more while it goes on, one falling trap
# when it stops; a second host crossing gives its own.  While the crossing
# row is over, ctflowAlarmTable shows it.  A threshold whose rows flap is held
# to its notification limit and counts the rest.  An alarm raised while snmpd
# is down arrives once it is back.  A forced event loss (small receive buffer,
# a flush burst) raises ctflowEventLoss, a full profile ctflowProfileEvicting,
# conntrack accounting turned off ctflowAccountingOff.
TEST_NAME=traps
. "$(dirname "$0")/../lib/netns.sh"

ROOT=.1.3.6.1.4.1.32473
pair_up
trapd_start
nms_gateway "trap2sink udp:127.0.0.1:$TRAP_PORT public" <<EOF
[profile host]
key = host
[profile tiny]
key = src
rows = 4
[threshold bulk]
profile = host
match = 10.202.0.0/24
metric = bytes
direction = sent
window = 2s
rising = 100000
falling = 20000
notify_limit = 0
[threshold flap]
profile = host
match = 10.202.128.0/17
metric = bytes
window = 2s
rising = 1
falling = 0
notify_limit = 2
EOF

traps() { # traps PATTERN: how many received traps match
	grep -c -- "$1" "$T/trapd.log" 2>/dev/null || true
}
wait_traps() { # wait_traps PATTERN N [SECONDS]
	local i
	for i in $(seq 1 $((${3:-15} * 5))); do
		[ "$(traps "$1")" -ge "$2" ] && return 0
		sleep 0.2
	done
	note "$(traps "$1") traps match '$1', waited for $2"
	return 1
}
RISING="OID: $ROOT.0.1|" FALLING="OID: $ROOT.0.2|"
A_KEY="$ROOT.1.6.1.1.1.1.1.4.10.202.0.1.32" B_KEY="$ROOT.1.6.1.1.1.1.1.4.10.202.0.2.32"

# 1. host A uploads 1.2 MB at 300 kB/s: over 100 kB/s for about 4 s
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 1200000 0 300000 &
UP=$!
PIDS+=("$UP")
check "a rising trap arrives for host 10.202.0.1" wait_traps "$RISING.*$A_KEY" 1
snmpn snmpbulkwalk -Ot "$SNMP_AGENT" $ROOT.1.6 >"$T/alarms.txt" 2>&1
snmpn snmpbulkwalk -Ot "$SNMP_AGENT" $ROOT.1.5 >"$T/thresholds.txt" 2>&1
wait "$UP"
check "the falling trap follows when the upload stops" wait_traps "$FALLING.*$A_KEY" 1
sleep 1
[ "$(traps "$RISING.*$A_KEY")" = 1 ] && [ "$(traps "$FALLING.*$A_KEY")" = 1 ] &&
	pass "exactly one rising and one falling trap for host 10.202.0.1 over the whole upload" ||
	fail "host 10.202.0.1: $(traps "$RISING.*$A_KEY") rising, $(traps "$FALLING.*$A_KEY") falling traps"
grep -- "$RISING.*$A_KEY" "$T/trapd.log" | head -n 1 >"$T/rising.txt"
python3 - "$T/rising.txt" "$ROOT" <<'EOF' && pass "the rising trap carries threshold name, row key, rate, rising value and window" || fail "rising trap varbinds: $(cat "$T/rising.txt")"
import re, sys
line = open(sys.argv[1]).read().strip()
root = sys.argv[2]
vb = dict(v.split(" = ", 1) for v in line.split("|")[1:] if " = " in v)
idx = ".1.1.4.10.202.0.1.32.0.0.0.0.0.0.0"  # profile 1, IPv4, 4 octets, /32, no address 2, 0s
assert vb[root + ".1.5.1.2.1"] == 'STRING: "bulk"', vb
assert vb[root + ".1.6.1.1.1" + idx] == 'STRING: "host 10.202.0.1"', vb
rate = int(vb[root + ".1.6.1.3.1" + idx].split(": ")[1])
assert rate >= 100000, rate
assert vb[root + ".1.5.1.8.1"] == "Gauge32: 100000", vb
assert vb[root + ".1.5.1.7.1"] == "Gauge32: 2", vb
EOF
grep -q "\"host 10.202.0.1\"" "$T/alarms.txt" &&
	grep -q "^$ROOT.1.5.1.13.1 = Gauge32: 1" "$T/thresholds.txt" &&
	pass "while it is over, ctflowAlarmTable has its row and ctflowThresholdOver.1 = 1" ||
	fail "alarm table during the upload: $(head -c 400 "$T/alarms.txt")"

# 2. host B sends 2 MB back: its own rising and falling traps
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 100 2000000 ||
	fail "download"
check "host 10.202.0.2 raises its own rising trap" wait_traps "$RISING.*$B_KEY" 1
check "and its falling trap" wait_traps "$FALLING.*$B_KEY" 1
sleep 1
[ "$(traps "$RISING.*$B_KEY")" = 1 ] && [ "$(traps "$RISING.*$A_KEY")" = 1 ] &&
	pass "one rising trap per host that crossed" ||
	fail "rising traps: A $(traps "$RISING.*$A_KEY"), B $(traps "$RISING.*$B_KEY")"

# 3. 60 hosts flap: two notifications, the rest counted
udp_flows 60 >/dev/null
sleep 4
FLAP_TRAPS=$(grep -c -- "OID: $ROOT.0.[12]|.*$ROOT.1.5.1.2.2 = " "$T/trapd.log")
SUPPRESSED=$(snmpn snmpget -Oqv "$SNMP_AGENT" $ROOT.1.5.1.16.2 2>/dev/null)
EVENTS=$(( $(snmpn snmpget -Oqv "$SNMP_AGENT" $ROOT.1.5.1.14.2) + $(snmpn snmpget -Oqv "$SNMP_AGENT" $ROOT.1.5.1.15.2) ))
[ "$FLAP_TRAPS" = 2 ] && [ "$SUPPRESSED" = $((EVENTS - 2)) ] && [ "$EVENTS" -ge 60 ] &&
	pass "a flapping threshold sends its limit (2 traps) and counts the other $SUPPRESSED alarms" ||
	fail "flap: $FLAP_TRAPS traps, $EVENTS alarms, $SUPPRESSED suppressed"
# the 60 sources overflowed the 4-row profile 'tiny'
check "a full profile raises ctflowProfileEvicting" wait_traps "OID: $ROOT.0.5|.*$ROOT.1.2.1.2.2 = STRING: \"tiny\"" 1
[ "$(traps "OID: $ROOT.0.5|")" = 1 ] && pass "once (at most once a minute)" ||
	fail "$(traps "OID: $ROOT.0.5|") evicting traps"

# 4. snmpd is away while host A crosses again: held, sent when it is back
# (AgentX only: a listener sends to its sinks itself)
if ! listen_mode; then
snmpd_stop
sleep 2.5 # the subagent notices at its next ping
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 900000 0 300000
sleep 1
for i in $(seq 1 50); do grep -q "threshold bulk: rising: host 10.202.0.1" <(tail -n 20 "$T/ctflowd.log") && break; sleep 0.2; done
before=$(traps "$RISING.*$A_KEY")
snmpd_start_file "$T/snmpd.conf" || exit 1
check "the alarm raised while snmpd was down arrives after it is back" \
	wait_traps "$RISING.*$A_KEY" $((before + 1)) 20
fi

# 5. forced event loss: a 64K buffer and a flush of 20,000 flows
udp_flows 20000 >/dev/null
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
check "event loss raises ctflowEventLoss" wait_traps "OID: $ROOT.0.3|" 1 20
grep -- "OID: $ROOT.0.3|" "$T/trapd.log" | head -n 1 | grep -q "$ROOT.1.1.6.0 = Counter64: [1-9]" &&
	pass "ctflowEventLoss carries the overrun count" ||
	fail "ctflowEventLoss varbinds: $(grep -- "OID: $ROOT.0.3|" "$T/trapd.log" | head -n 1)"

# 6. accounting turned off: found at the next dump
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_acct=0
check "conntrack accounting off raises ctflowAccountingOff" \
	wait_traps "OID: $ROOT.0.4|.*$ROOT.1.1.17.0 = INTEGER: 2" 1
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_acct=1
SENT=$(snmpn snmpget -Oqv "$SNMP_AGENT" $ROOT.1.1.26.0 2>/dev/null)
[ "${SENT:-0}" -ge 7 ] && pass "ctflowNotificationsSent counts them ($SENT)" ||
	fail "ctflowNotificationsSent = $SENT"
finish
