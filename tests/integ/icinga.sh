#!/bin/bash
# conf/icinga2/ctflowd.conf in a real, private Icinga 2 daemon (its own
# configuration, state and spool directories), against a private snmpd and
# ctflowd (or ctflowd's own port with SNMP_MODE=listen).  `icinga2 daemon
# -C` validates the shipped objects with the ITL; then the daemon itself
# schedules and runs every service the apply rules make for a gateway host,
# and its results (read from its PerfdataWriter) go OK, WARNING and CRITICAL
# as real traffic and kernel settings provoke them: a host's upload rate, a
# table filling up, events lost, kernel accounting turned off.
TEST_NAME=icinga
. "$(dirname "$0")/../lib/netns.sh"
command -v icinga2 >/dev/null || { fail "icinga2 is not installed (make deps)"; exit 1; }

IC=$T/icinga
mkdir -p "$IC"/{data,log,cache,spool,run,perf}
pair_up
nms_gateway <<EOF
[profile host]
key = host
[profile tiny]
key = src
rows = 4
EOF
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 1000 0 || fail "first flow"

# The site's side: the ITL, a generic-service template with short intervals
# (a site's has minutes), and the gateway host with the variables the
# shipped file documents; the shipped file itself, unchanged.
cat >"$IC/icinga2.conf" <<EOF
const PluginDir = "/usr/lib/nagios/plugins"
include <itl>
include <plugins>
object FileLogger "main" { path = "$IC/icinga.log"; severity = "warning" }
object CheckerComponent "checker" { }
object PerfdataWriter "perfdata" {
	service_perfdata_path = "$IC/perf/service"
	service_temp_path = "$IC/perf/service.tmp"
	host_perfdata_path = "$IC/perf/host"
	host_temp_path = "$IC/perf/host.tmp"
	service_format_template = "RESULT\t\$service.name\$\t\$service.state_id\$\t\$service.output\$"
	rotation_interval = 1s
}
template Service "generic-service" {
	check_interval = 2s
	retry_interval = 2s
	max_check_attempts = 1
}
object Host "gw" {
	address = "127.0.0.1"
	check_command = "dummy"
	vars.ctflowd = true
	vars.snmp_community = "public"
	vars.snmp_port = $SNMP_PORT
	vars.ctflowd_rows["upload 10.202.0.1"] = {
		ctflowd_row_index = "1.1.4.10.202.0.1.32.0.0.0.0.0.0.0"
		ctflowd_row_column = 15
		ctflowd_row_warn = 100000
		ctflowd_row_crit = 1000000
	}
	vars.ctflowd_profiles["tiny table"] = {
		ctflowd_profile = 2
		ctflowd_fill_warn = ":1"
		ctflowd_fill_crit = ":2"
	}
}
include "$TOP/conf/icinga2/ctflowd.conf"
EOF
DIRS=(-DRunAsUser=root -DRunAsGroup=root -DDataDir="$IC/data" -DLogDir="$IC/log"
	-DCacheDir="$IC/cache" -DSpoolDir="$IC/spool" -DInitRunDir="$IC/run")
icinga2 daemon -C -c "$IC/icinga2.conf" "${DIRS[@]}" >"$T/validate.out" 2>&1
n=$(grep -o "Instantiated [0-9]* Services\?" "$T/validate.out" | grep -o "[0-9]*")
[ "${n:-0}" = 4 ] && ! grep -qE "critical/|warning/config" "$T/validate.out" &&
	pass "icinga2 daemon -C validates the shipped objects: 4 check commands, 4 services applied to the host" ||
	fail "icinga2 -C: $n services: $(grep -E 'critical|warning' "$T/validate.out" | head -n 3)"
bg_snmp_ns "$T/icinga.out" icinga2 daemon -c "$IC/icinga2.conf" "${DIRS[@]}"

# wait_state SERVICE STATE [SECONDS]: Icinga's own result for SERVICE (by
# its name) reaches STATE (0 OK, 1 WARNING, 2 CRITICAL); prints its output
results() { cat "$IC"/perf/service* 2>/dev/null | grep -a "^RESULT"; }
wait_state() {
	local svc=$1 want=$2 secs=${3:-30} pat=${4:-} i line
	for i in $(seq 1 $((secs * 4))); do
		line=$(results | awk -F'\t' -v s="$svc" -v w="$want" -v p="$pat" \
			'$2 == s && $3 == w && index($4, p)' | tail -n 1)
		[ -n "$line" ] && { echo "$line" | cut -f4 | cut -c1-80; return 0; }
		sleep 0.25
	done
	echo "last: $(results | awk -F'\t' -v s="$svc" '$2 == s' | tail -n 1 | cut -f3,4)"
	return 1
}
mark() { : >"$IC/perf/service"; rm -f "$IC"/perf/service.[0-9]*; } # forget earlier results
expect() { # expect WHAT SERVICE STATE [SECONDS [OUTPUT-PART]]
	local names=(OK WARNING CRITICAL UNKNOWN) out
	if out=$(wait_state "$2" "$3" "${4:-30}" "${5:-}"); then
		pass "$1: Icinga says ${names[$3]} ($out)"
	else
		fail "$1: no ${names[$3]} from Icinga: $out"
	fi
}

# 1. a host's upload rate: idle, 300 kB/s, 3 MB/s against 100 kB/s / 1 MB/s
ROW="ctflowd upload 10.202.0.1"
expect "upload rate, idle (a rate, not the first run's)" "$ROW" 0 30 "SNMP RATE OK"
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 3000000 0 300000 &
UP=$!
mark
expect "upload rate, 300 kB/s" "$ROW" 1 12
wait $UP
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 30000000 0 3000000 &
UP=$!
mark
expect "upload rate, 3 MB/s" "$ROW" 2 12
wait $UP

# 2. the 4-row profile 'tiny' (key src): 1 row OK, 2 WARNING, full CRITICAL
FILL="ctflowd tiny table"
expect "table fill, 1 row" "$FILL" 0
ip netns exec "$NS_A" ping -q -c 1 -I 10.202.128.1 10.202.0.2 >/dev/null 2>&1
mark
expect "table fill, 2 rows" "$FILL" 1
udp_flows 50 >/dev/null
mark
expect "table fill, full" "$FILL" 2

# 3. events lost per second: a 64K buffer against a 20,000-flow flush
LOSS="ctflowd event loss"
expect "event loss, none" "$LOSS" 0
udp_flows 20000 >/dev/null
sleep 1
mark
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
expect "event loss, after a flush the buffer cannot hold" "$LOSS" 2

# 4. kernel accounting on, then off
ACCT="ctflowd kernel accounting"
expect "kernel accounting on" "$ACCT" 0
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_acct=0
mark
expect "kernel accounting off" "$ACCT" 2
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_acct=1
check "Icinga logged no error" sh -c "! grep -a 'critical/' '$IC/icinga.log'"
finish
