#!/bin/bash
# conf/nagios/ctflowd.cfg with the real check_snmp (monitoring-plugins)
# against a private snmpd and ctflowd: each command line is taken from the
# file as shipped, its macros filled in as Nagios would, and run.  OK,
# WARNING and CRITICAL are each provoked by real traffic and real kernel
# settings: a host's upload rate, a table filling up, events lost, kernel
# accounting turned off.
TEST_NAME=nagios
. "$(dirname "$0")/../lib/netns.sh"

PLUGINS=/usr/lib/nagios/plugins
CFG=$TOP/conf/nagios/ctflowd.cfg
export NAGIOS_PLUGIN_STATE_DIRECTORY=$T/state
mkdir -p "$NAGIOS_PLUGIN_STATE_DIRECTORY"
pair_up
nms_gateway <<EOF
[profile host]
key = host
periods = day, month
[profile tiny]
key = src
rows = 4
EOF

# nagios_check NAME ARGS...: the command line of check command NAME from the
# shipped file, with $USER1$, host macros and $ARGn$ filled in; prints its
# output and returns its exit status (0 OK, 1 WARNING, 2 CRITICAL).
nagios_check() {
	local name=$1 line
	shift
	line=$(awk -v n="$name" '
		/command_name/ { found = ($2 == n) }
		found && /command_line/ { sub(/^[ \t]*command_line[ \t]*/, ""); print; exit }' "$CFG")
	[ -n "$line" ] || { echo "no command $name in $CFG"; return 3; }
	line=${line//\$USER1\$/$PLUGINS}
	line=${line//\$HOSTADDRESS\$/127.0.0.1}
	line=${line//\$_HOSTSNMPPORT\$/$SNMP_PORT}
	line=${line//\$_HOSTSNMPCOMMUNITY\$/public}
	local i=1
	for a in "$@"; do line=${line//\$ARG$i\$/$a}; i=$((i + 1)); done
	in_snmp_ns sh -c "$line"
}
expect() { # expect NAME STATUS CHECK ARGS...
	local what=$1 want=$2 out rc
	shift 2
	out=$(nagios_check "$@" 2>&1); rc=$?
	local names=(OK WARNING CRITICAL UNKNOWN)
	[ "$rc" = "$want" ] && pass "$what: ${names[$want]} ($(echo "$out" | head -n 1 | cut -c1-90))" ||
		fail "$what: expected ${names[$want]}, got $rc: $out"
}

# 1. a host's upload rate: none, 300 kB/s, 3 MB/s against 100 kB/s / 1 MB/s
ROW=1.1.4.10.202.0.1.32.0.0.0.0.0.0.0
rate() { expect "$1" "$2" check_ctflowd_row_rate $ROW 15 100000 1000000; }
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 1000 0 || fail "first flow"
sleep 2 # the row exists: the first rate check records its counter
nagios_check check_ctflowd_row_rate $ROW 15 100000 1000000 >/dev/null
sleep 2
rate "upload rate, idle" 0
nagios_check check_ctflowd_row_rate $ROW 15 100000 1000000 >/dev/null
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 1500000 0 300000 || fail "upload"
sleep 1.5
rate "upload rate, 300 kB/s" 1
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 15000000 0 3000000 || fail "upload"
sleep 1.5
rate "upload rate, 3 MB/s" 2

# 1b. the host's usage this month, exactly: OK at a warning level equal to
# what the JSON says it sent, WARNING one byte below, CRITICAL likewise
sleep 1.5 # the last upload's end is counted
tables "$T/t.json" || fail "tables"
SENT=$(python3 -c "
import json
p = [p for p in json.load(open('$T/t.json'))['profiles'] if p['name'] == 'host'][0]
print([e for e in p['entries'] if e['host'] == '10.202.0.1'][0]['usage']['month'][0]['fwd_bytes'])")
expect "usage this month ($SENT bytes sent) within its allowance" 0 check_ctflowd_usage $ROW 2 7 "$SENT" "$SENT"
expect "usage this month one byte over the warning level" 1 check_ctflowd_usage $ROW 2 7 "$((SENT - 1))" "$SENT"
expect "usage this month one byte over the critical level" 2 check_ctflowd_usage $ROW 2 7 1 "$((SENT - 1))"

# 2. the 4-row profile 'tiny' (key src): 1 row OK, 2 WARNING, 3 and more CRITICAL
fill() { expect "$1" "$2" check_ctflowd_profile_fill 2 :1 :2; }
fill "table fill, 1 row (the client's)" 0
ip netns exec "$NS_A" ping -q -c 1 -I 10.202.128.1 10.202.0.2 >/dev/null 2>&1
sleep 1.5
fill "table fill, 2 rows" 1
udp_flows 50 >/dev/null
sleep 1.5
fill "table fill, full" 2

# 3. events lost per second: a 64K buffer against a 20,000-flow flush
expect "event loss, none" 0 check_ctflowd_event_loss 0 10
udp_flows 20000 >/dev/null
sleep 1
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
sleep 2
expect "event loss, after a flush the buffer cannot hold" 2 check_ctflowd_event_loss 0 10

# 4. kernel accounting on, then off
expect "kernel accounting on" 0 check_ctflowd_accounting
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_acct=0
sleep 2 # read again at the next dump
expect "kernel accounting off" 2 check_ctflowd_accounting
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_acct=1
finish
