#!/bin/bash
# Least privilege: ctflowd started the way its systemd unit starts it (an
# unprivileged user, CAP_NET_ADMIN as its only capability, ambient, in the
# bounding set too, no new privileges), reproduced with setpriv.  It must
# end up with that uid and only CAP_NET_ADMIN in /proc/PID/status, and still
# collect (events and dumps), serve (AgentX through a socket its group may
# use), notify (a trap through snmpd to snmptrapd) and export (IPFIX to a
# collector).  Its log, started like that (no MIBS in its environment, as
# under systemd), holds only what an operator must act on: no MIB loading,
# no SNMPv1-conversion remarks.
TEST_NAME=privilege
. "$(dirname "$0")/../lib/netns.sh"

U=cft$(( $$ % 100000 ))
useradd -r -M -s /usr/sbin/nologin -U "$U" || { fail "useradd $U"; finish; }
cleanup_user() { userdel "$U" 2>/dev/null; }
trap 'cleanup_user; cleanup' EXIT

pair_up
notrack_lo "$NS_B"
chmod 711 "$T" # the user reaches the AgentX socket and its own directory in here
mkdir -p "$T/run" && chown "$U:$U" "$T/run"
cat >"$T/snmpd.conf" <<EOF
agentaddress $SNMP_AGENT
master agentx
agentXSocket unix:$T/agentx
agentXPerms 0660 0711 root $U
agentXTimeout 3
agentXRetries 1
rocommunity public 127.0.0.1
trap2sink udp:127.0.0.1:$TRAP_PORT public
EOF
trapd_start
snmpd_start_file "$T/snmpd.conf" || exit 1
P=$((30000 + $$ % 20000))
bg_in "$NS_B" "$T/sink.out" "$TOOLS/ipfixsink" udp $P
SINK=$LAST_PID
bg_in "$NS_B" "$T/burst.out" "$TOOLS/udpburst" sink 9000 120
cat >"$T/run/c.conf" <<EOF
dump_file = $T/run/t.json
pid_file = none
state_file = none
state_dir = $T/run/state
agentx_socket = $T/agentx
dump_interval = 1s
[profile host]
key = host
[profile tiny]
key = host
rows = 4
[collector sink]
address = 127.0.0.1
port = $P
EOF
CTF_NS=$NS_B ctflowd_start "$T/run/c.conf" env -u MIBS -u MIBDIRS setpriv --reuid="$U" --regid="$U" --init-groups \
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin \
	--no-new-privs || exit 1

status() { grep -E "^$1:" "/proc/$CTF_PID/status" | awk '{print $2}'; }
uid=$(status Uid)
[ "$uid" = "$(id -u "$U")" ] && [ "$uid" != 0 ] && pass "ctflowd runs as $U (uid $uid), not root" ||
	fail "uid is $uid"
for c in CapEff CapPrm CapBnd CapAmb; do
	[ "$(status $c)" = 0000000000001000 ] || fail "$c is $(status $c), not CAP_NET_ADMIN alone"
done
[ "$(status CapEff)" = 0000000000001000 ] && [ "$(status CapBnd)" = 0000000000001000 ] &&
	pass "its only capability is CAP_NET_ADMIN (effective, permitted, bounding, ambient)"
[ "$(status NoNewPrivs)" = 1 ] && pass "no new privileges" || fail "NoNewPrivs $(status NoNewPrivs)"

check "it serves CTFLOW-MIB over AgentX" wait_subagent 30
udp_flows 300 >/dev/null
sleep 1.5
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
check "it collects: the 300 flows' DESTROY events arrive" wait_events 300 "$T/run/t.json"
python3 - "$T/run/t.json" <<'EOF' && pass "it dumps the table and exports every flow over IPFIX" || fail "dumps or export: $(head -c 400 "$T/run/t.json")"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["collector"]
assert c["dump_runs"] >= 1 and c["dump_failures"] == 0, c
x = d["ipfix"][0]
assert x["state"] == "up" and x["records"] >= 300 and x["discarded_messages"] == 0, x
EOF
n=$(snmpn snmpget -Oqv "$SNMP_AGENT" .1.3.6.1.4.1.32473.1.1.4.0 2>/dev/null)
[ "${n:-0}" -ge 300 ] && pass "ctflowEventsReceived.0 = $n" || fail "ctflowEventsReceived.0 = $n"
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
kill "$SINK"; wait "$SINK" 2>/dev/null
grep -q '"records":[1-9]' "$T/sink.out" && pass "the collector received the records" ||
	fail "collector: $(cat "$T/sink.out")"
grep -q '32473\.0\.5|.*Counter64' "$T/trapd.log" &&
	pass "its ctflowProfileEvicting trap (with Counter64 varbinds) reached snmptrapd" ||
	fail "no ctflowProfileEvicting trap: $(tail -n 3 "$T/trapd.log")"
# Every line an operator would read, and only those (timestamps cut off):
# start, connection, the full profile (what to change), shutdown.
sed -E 's/^[0-9:.]+ ctflowd //' "$T/ctflowd.log" >"$T/log.txt"
unexpected=$(grep -vE '^info: (snmp: NET-SNMP version [0-9.]+ AgentX subagent connected|ctflowd [0-9.]+ started: .*|signal 15: shutting down)$' "$T/log.txt" |
	grep -vE '^warning: profile tiny is full and evicting rows \([0-9]+ evictions\); raise its rows$')
grep -qE '^warning: profile tiny is full' "$T/log.txt" &&
	pass "the full profile is in the log, with what to do" ||
	fail "no log line for the full profile: $(head -n 5 "$T/log.txt" | tr '\n' '|')"
[ -z "$unexpected" ] && [ -s "$T/log.txt" ] &&
	pass "the log holds only start, AgentX connection, the full profile and shutdown ($(wc -l <"$T/log.txt") lines)" ||
	fail "the log holds lines an operator cannot act on: $(echo "$unexpected" | head -n 3 | tr '\n' '|')"
finish
