# tests/lib/netns.sh: namespaces, processes and assertions for integration tests.
#
# Source it, then call topo_up.  Everything it creates is named after the test
# and its pid, tracked, and removed by the EXIT trap: processes by pid,
# namespaces by name.  Results are lines "PASS: name" / "FAIL: name: why",
# counted by tests/run.sh.
#
# Topology (router does the conntrack tracking and NAT; ctflowd runs there):
#
#   client 10.201.1.2 fd01:1::2  --  10.201.1.1 fd01:1::1 ROUTER 10.201.2.1 fd01:2::1
#       --  server 10.201.2.2 fd01:2::2, and 10.201.2.3 (reached through SNAT)
#   DNAT: 10.201.1.1:8080 -> 10.201.2.2:80

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/tests/lib/rig.sh"   # the parts make bench shares
TOOLS=$TOP/build/tools
CTFLOWD=${CTFLOWD:-$TOP/subagent/ctflowd}
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
[ "${SNMP_MODE:-}" = listen ] && TEST_NAME=$TEST_NAME-listen
NSP="cft$$"
NS_C=$NSP-c NS_R=$NSP-r NS_S=$NSP-s NS_A=$NSP-a NS_B=$NSP-b
T=$(mktemp -d "/tmp/ctflowd-$TEST_NAME.XXXXXX")
PIDS=()
NAMESPACES=()
FAILS=0

pass() { echo "PASS: $TEST_NAME: $1"; }
fail() { echo "FAIL: $TEST_NAME: $1"; FAILS=$((FAILS + 1)); }
check() { # check NAME CMD...: PASS if CMD succeeds
	local name=$1; shift
	if "$@" >"$T/check.out" 2>&1; then pass "$name"; else fail "$name: $(tail -n 5 "$T/check.out" | tr '\n' ' ')"; fi
}
note() { echo "  # $*" >&2; }

# Functions a test adds here run first at cleanup, before every remembered
# process is sent SIGTERM: for a server that must stop before another (a
# client of a database before the database).
CLEANUP_FIRST=()
# stop_first SIGNAL SECONDS PID...: send SIGNAL, wait up to SECONDS for all
# of them to end; then kill what is left, and its children, for good.
stop_first() {
	local sig=$1 secs=$2 p i alive
	shift 2
	for p in "$@"; do kill -"$sig" "$p" 2>/dev/null; done
	for i in $(seq 1 $((secs * 10))); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 1 ] || return 0
		sleep 0.1
	done
	note "did not stop in $secs s: $*"
	for p in "$@"; do pkill -9 -P "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
}
cleanup() {
	local p
	for p in "${CLEANUP_FIRST[@]}"; do "$p"; done
	[ -n "${ORIG_CT_MAX:-}" ] && sysctl -qw net.netfilter.nf_conntrack_max="$ORIG_CT_MAX"
	[ -n "${ORIG_RMEM_MAX:-}" ] && sysctl -qw net.core.rmem_max="$ORIG_RMEM_MAX"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rig_down "${NAMESPACES[@]}"
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# Run in background inside a namespace; remembers the pid.
bg_in() { # bg_in NS OUTFILE CMD...
	local ns=$1 out=$2; shift 2
	ip netns exec "$ns" "$@" >"$out" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}

require_root() {
	if [ "$(id -u)" != 0 ] || ! ip netns add "$NSP-probe" 2>/dev/null; then
		fail "needs root and network namespaces (ip netns add failed)"
		exit 1
	fi
	ip netns del "$NSP-probe"
}

ns_add() {
	rig_ns_add "$1" || { fail "ip netns add $1"; exit 1; }
	NAMESPACES+=("$1")
}

ct_enable() { rig_ct_enable "$1"; }

topo_up() {
	require_root
	ns_add "$NS_C"; ns_add "$NS_R"; ns_add "$NS_S"
	ip link add vc netns "$NS_C" type veth peer name vrc netns "$NS_R"
	ip link add vs netns "$NS_S" type veth peer name vrs netns "$NS_R"
	ip -n "$NS_C" addr add 10.201.1.2/24 dev vc
	ip -n "$NS_C" addr add fd01:1::2/64 dev vc nodad
	ip -n "$NS_R" addr add 10.201.1.1/24 dev vrc
	ip -n "$NS_R" addr add fd01:1::1/64 dev vrc nodad
	ip -n "$NS_R" addr add 10.201.2.1/24 dev vrs
	ip -n "$NS_R" addr add fd01:2::1/64 dev vrs nodad
	ip -n "$NS_S" addr add 10.201.2.2/24 dev vs
	ip -n "$NS_S" addr add 10.201.2.3/24 dev vs
	ip -n "$NS_S" addr add fd01:2::2/64 dev vs nodad
	ip -n "$NS_C" link set vc up; ip -n "$NS_S" link set vs up
	ip -n "$NS_R" link set vrc up; ip -n "$NS_R" link set vrs up
	ip -n "$NS_C" route add default via 10.201.1.1
	ip -n "$NS_C" -6 route add default via fd01:1::1
	ip -n "$NS_S" route add default via 10.201.2.1
	ip -n "$NS_S" -6 route add default via fd01:2::1
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ct_enable "$NS_R"
	ip netns exec "$NS_R" nft -f "$TOP/kmod/ctflowd.nft" || { fail "nft track"; exit 1; }
	ip netns exec "$NS_R" nft -f - <<-'EOF' || { fail "nft nat"; exit 1; }
	table ip cftnat {
		chain pre { type nat hook prerouting priority dstnat; ip daddr 10.201.1.1 tcp dport 8080 dnat to 10.201.2.2:80; }
		chain post { type nat hook postrouting priority srcnat; ip daddr 10.201.2.3 masquerade; }
	}
	EOF
	warm_up
}

# Resolve neighbours and let IPv6 settle (right after link-up the first
# packets can vanish), then empty the router's table so tests start clean.
warm_up() {
	local i
	for i in $(seq 1 50); do
		ip netns exec "$NS_C" ping -q -c 1 -W 1 fd01:2::2 >/dev/null 2>&1 &&
			ip netns exec "$NS_C" ping -q -c 1 -W 1 10.201.2.2 >/dev/null 2>&1 &&
			ip netns exec "$NS_C" ping -q -c 1 -W 1 10.201.2.3 >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
}

# Bulk topology: generator A sends from the AnyIP range 10.202.128.0/17 to
# B (10.202.0.2), which tracks.  Used with tests/tools/udpburst.
pair_up() {
	require_root
	ns_add "$NS_A"; ns_add "$NS_B"
	rig_pair "$NS_A" "$NS_B" 10.202 || { fail "the namespace pair"; exit 1; }
}

# The gateway the SNMP and NMS tests watch, on the namespace pair (pair_up
# first): snmpd with the extra lines given (in listen mode: the credentials
# file), a TCP server on 80 and a UDP sink on 9000 in the tracking
# namespace, and ctflowd there with dumps every second, a 64K event buffer
# (so loss can be provoked) and the configuration lines on stdin.
# nms_gateway [SNMPD-EXTRA-LINES] <<EOF ... EOF
nms_gateway() {
	snmpd_start "${1:-}" || exit 1
	bg_in "$NS_B" "$T/server.out" "$TOOLS/flowgen" tcp-server 80
	bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 300
	test_conf "$T/c.conf" < <(printf 'dump_interval = 1s\nrcvbuf = 64K\nrcvbuf_max = 64K\n'; cat)
	CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
	check "ctflowd answers SNMP" wait_subagent 30
}

# Loopback traffic of namespace $1 (collectors, a private snmpd's clients) is
# not tracked: a deployment exports to another box, and here it would be a
# flow of its own in the tables under test.
notrack_lo() { # notrack_lo NS
	ip netns exec "$1" nft -f - <<-'EOF' || { fail "nft notrack on lo"; exit 1; }
	table inet cftlo {
		chain pre { type filter hook prerouting priority raw; iif lo notrack; }
		chain out { type filter hook output priority raw; oif lo notrack; }
	}
	EOF
}

# Listen mode: the SNMP requests and notifications on namespace $1's
# loopback are not tracked (only those: a test's own loopback traffic is).
notrack_snmp() { # notrack_snmp NS
	ip netns exec "$1" nft list table inet cftsnmp >/dev/null 2>&1 && return 0
	ip netns exec "$1" nft -f - <<-EOF || { fail "nft notrack of SNMP on lo"; exit 1; }
	table inet cftsnmp {
		chain pre { type filter hook prerouting priority raw; iif lo udp dport { $SNMP_PORT, $TRAP_PORT } notrack; iif lo udp sport { $SNMP_PORT, $TRAP_PORT } notrack; }
		chain out { type filter hook output priority raw; oif lo udp dport { $SNMP_PORT, $TRAP_PORT } notrack; oif lo udp sport { $SNMP_PORT, $TRAP_PORT } notrack; }
	}
	EOF
}

# The mixed workload through the router (21 flows once it has ended): TCP with
# known payload sizes over IPv4 and IPv6, UDP, DNAT and SNAT, pings; plus the
# long transfer, started first (3 MB at 600 kB/s, about 5 s), whose pid is
# LONG.  Servers: tcp 80 and 81, udp 53.  ON_LONG_STARTED, if set, is run
# once the long transfer is under way (e.g. to start watching it).
mixed_workload() {
	bg_in "$NS_S" "$T/tcp80.out" "$TOOLS/flowgen" tcp-server 80
	bg_in "$NS_S" "$T/tcp81.out" "$TOOLS/flowgen" tcp-server 81
	bg_in "$NS_S" "$T/udp.out" "$TOOLS/flowgen" udp-server 53
	sleep 0.5
	ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.2 81 3000000 1000 600000 \
		>"$T/long.out" 2>&1 &
	LONG=$!
	PIDS+=("$LONG")
	eval "${ON_LONG_STARTED:-:}"
	local i
	for i in 1 2 3; do
		flowgen_c tcp-client 10.201.2.2 80 $((1000 * i)) $((20000 * i))     # IPv4 TCP
		flowgen_c tcp-client fd01:2::2 80 $((3000 * i)) $((500 * i))        # IPv6 TCP
		flowgen_c udp-client 10.201.2.2 53 $((i + 1)) $((64 * i))           # IPv4 UDP
		flowgen_c udp-client fd01:2::2 53 $((i + 2)) 100                    # IPv6 UDP
		flowgen_c tcp-client 10.201.1.1 8080 700 $((900 * i))               # DNAT
		flowgen_c tcp-client 10.201.2.3 80 $((400 * i)) 300                 # SNAT
	done
	ip netns exec "$NS_C" ping -q -c 3 -i 0.2 10.201.2.2 >/dev/null || fail "ping"
	ip netns exec "$NS_C" ping -q -c 2 -i 0.2 fd01:2::2 >/dev/null || fail "ping6"
}
flowgen_c() { ip netns exec "$NS_C" "$TOOLS/flowgen" "$@" || fail "workload: flowgen $*"; }

# nf_conntrack_max is global (read-only in a child namespace); raise it for
# big tests and restore it afterwards.
need_conntrack_max() { # need_conntrack_max N
	local cur
	cur=$(sysctl -n net.netfilter.nf_conntrack_max)
	if [ "$cur" -lt "$1" ]; then
		ORIG_CT_MAX=$cur
		sysctl -qw net.netfilter.nf_conntrack_max="$1"
	fi
}

# net.core.rmem_max is global too: a UDP collector (nfcapd -B) that must
# hold a burst of records needs a bigger receive buffer than the default.
need_rmem_max() { # need_rmem_max BYTES
	local cur
	cur=$(sysctl -n net.core.rmem_max)
	if [ "$cur" -lt "$1" ]; then
		ORIG_RMEM_MAX=$cur
		sysctl -qw net.core.rmem_max="$1"
	fi
}

# Send COUNT one-packet UDP flows from A to B:9000 (60 bytes each on the wire).
udp_flows() { # udp_flows COUNT [RATE]
	ip netns exec "$NS_A" "$TOOLS/udpburst" send 10.202.0.2 9000 "$1" 10.202.128.0 4096 ${2:-}
}

ct_count() { ip netns exec "$1" conntrack -C 2>/dev/null; }

# One value of ctflowd's JSON dump: jget FILE PATH [DEFAULT]; PATH as
# tests/lib/jget.py takes it (collector.events, ipfix.name=away.buffered,
# profiles.0.entries.#).  The one JSON reader of the shell tests.
jget() { python3 "$TOP/tests/lib/jget.py" "$@"; }

# Read one collector counter from the JSON tables.
collector() { # collector JSONFILE NAME
	jget "$1" "collector.$2"
}

# The profiles most tests count with, for a configuration's heredoc:
# per host, per service, per host pair.
std_profiles() {
	printf '[profile host]\nkey = host\n[profile service]\nkey = proto, port\n'
	printf '[profile pair]\nkey = src, dst\n'
}

# A test's ctflowd configuration: the lines they all share (the JSON dump
# in $T/t.json, the private snmpd's AgentX socket, retried every second),
# then the test's own from stdin.
test_conf() { # test_conf FILE <<EOF ... EOF
	{
		printf 'dump_file = %s\nagentx_socket = %s\nagentx_ping = 1s\n' "$T/t.json" "$T/agentx"
		if listen_mode; then
			printf 'snmp = listen\nsnmp_listen = %s\nsnmp_credentials = %s\n' \
				"$SNMP_AGENT" "$T/snmp.creds"
			grep -v '^snmp *='   # a test's own "snmp = no" would be set twice
		else
			cat
		fi
	} >"$1"
}

# ctflowd in namespace $CTF_NS (default the router) with config file $1,
# its log $CTF_LOG (default $T/ctflowd.log); sets CTF_PID.  Extra args are
# a command prefix (e.g. valgrind ...).  A
# configuration that names no state_dir gets one of its own (one per
# configuration file) in the test's directory, never the system's.
ctflowd_start() {
	local conf=$1; shift
	grep -q '^state_dir' "$conf" || sed -i "1i state_dir = $T/state-$(basename "$conf" .conf)" "$conf"
	if listen_mode && grep -q '^snmp = listen' "$conf"; then
		# the tools ask from inside ctflowd's namespace, over its loopback,
		# which must not become flows of the tables under test
		export SNMP_NS=${CTF_NS:-$NS_R}
		notrack_snmp "$SNMP_NS"
	fi
	local log=${CTF_LOG:-$T/ctflowd.log}
	bg_in "${CTF_NS:-$NS_R}" "$log" "$@" "$CTFLOWD" -d -f "$conf"
	CTF_PID=$LAST_PID
	local i
	for i in $(seq 1 300); do
		grep -q "started" "$log" 2>/dev/null && return 0
		kill -0 "$CTF_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "ctflowd did not start: $(tail -n 5 "$log")"
	return 1
}

# Ask ctflowd for a fresh JSON dump into $1 (its dump_file) and wait for it
# (each dump is a new file renamed over the last: a new inode).
tables() { # tables JSONFILE
	local f=$1 before i
	before=$(stat -c %i "$f" 2>/dev/null)
	kill -USR1 "$CTF_PID" || return 1
	for i in $(seq 1 200); do
		[ "$(stat -c %i "$f" 2>/dev/null)" != "$before" ] && [ -s "$f" ] && return 0
		sleep 0.025
	done
	return 1
}

# Start the independent ground truth in namespace $1: the kernel's DESTROY
# events, recorded losslessly and decoded by libnetfilter_conntrack
# (tests/tools/ctrecord; conntrack -E loses events on bursts).
truth_start() { # truth_start NS
	bg_in "$1" "$T/truth.out" "$TOOLS/ctrecord" "$T/truth.events"
	TRUTH_PID=$LAST_PID
	sleep 0.3
}

# (grep -c prints 0 itself when nothing matches, and fails: one number always)
truth_lines() { local n; n=$(grep -c '\[DESTROY\]' "$T/truth.events" 2>/dev/null); echo "${n:-0}"; }

# The recorder writes a WARNING line when the kernel dropped an event for it
# or it saw ENOBUFS: the reference itself lost events.
truth_clean() { ! grep -q WARNING "$T/truth.events"; }

# Wait until ctflowd has received at least N DESTROY events (JSON in $2).
wait_events() { # wait_events N JSONFILE [SECONDS]
	local want=$1 f=$2 secs=${3:-20} i got
	for i in $(seq 1 $((secs * 5))); do
		tables "$f" || return 1
		got=$(jget "$f" collector.events)
		[ "$got" -ge "$want" ] && return 0
		sleep 0.2
	done
	note "ctflowd saw $got of $want events"
	return 1
}

# ---- a private snmpd: own config, 127.0.0.1 port, AgentX socket and
# persistent directory in the test's temp dir; never the system one.
SNMP_PORT=${SNMP_PORT:-$((20000 + $$ % 20000))}
SNMP_AGENT=udp:127.0.0.1:$SNMP_PORT
# CTFLOW-MIB and the standard modules it imports or ctflowd serves (mibs/ietf,
# shipped with the project: Debian has none of them).
MIBDIRS=+$TOP/mibs:$TOP/mibs/ietf
export SNMP_PERSISTENT_DIR=$T/snmp-persist MIBS=
mkdir -p "$T/snmp-persist"

# trapd_start [OUTPUT-OPTIONS...]: a private snmptrapd on 127.0.0.1:$TRAP_PORT
# that accepts every notification and logs each on one line to $T/trapd.log,
# "TRAP varbind|varbind|..." (OIDs numeric unless the options load MIBs).
# snmpd sends to it with: snmpd_start "trap2sink udp:127.0.0.1:$TRAP_PORT public"
TRAP_PORT=${TRAP_PORT:-$((20000 + ($$ + 7) % 20000))}
# In listen mode ctflowd sends its notifications itself: snmptrapd then runs
# in ctflowd's namespace (on its loopback, untracked).
trapd_start() {
	echo "disableAuthorization yes" >"$T/snmptrapd.conf"
	local pre=()
	if listen_mode; then
		pre=(ip netns exec "$(snmp_ns)")
		notrack_snmp "$(snmp_ns)"
	fi
	SNMP_PERSISTENT_DIR=$T/trapd-persist "${pre[@]}" /usr/sbin/snmptrapd -f -Lf "$T/trapd.log" -C \
		-c "$T/snmptrapd.conf" -n "${@:--On}" -F "TRAP %V|%v\n" udp:127.0.0.1:$TRAP_PORT \
		>/dev/null 2>&1 &
	PIDS+=($!)
}

# SNMP_MODE=listen runs the same SNMP tests against ctflowd's own listener
# (snmp = listen) instead of snmpd over AgentX: snmpd_start then starts no
# snmpd but writes the credentials file from the same lines (communities,
# users, views and sinks are written alike), test_conf configures the
# listener on $SNMP_AGENT, and the net-snmp tools (shell functions below;
# mibcheck.py reads SNMP_NS) ask from inside ctflowd's namespace.
SNMP_MODE=${SNMP_MODE:-agentx}
listen_mode() { [ "$SNMP_MODE" = listen ]; }
# The namespace ctflowd (and so its listener) runs in: the one a test named,
# else the tracking side of the pair if there is one, else the router.
snmp_ns() {
	if [ -n "${SNMP_NS:-}" ]; then echo "$SNMP_NS"
	elif [ -n "${CTF_NS:-}" ]; then echo "$CTF_NS"
	elif [[ " ${NAMESPACES[*]} " == *" $NS_B "* ]]; then echo "$NS_B"
	else echo "$NS_R"; fi
}
if listen_mode; then
	for tool in snmpget snmpgetnext snmpwalk snmpbulkwalk snmpbulkget snmpset snmptable; do
		eval "$tool() { ip netns exec \"\$(snmp_ns)\" $tool \"\$@\"; }"
	done
	unset tool
fi
# In listen mode: run a command inside the listener's namespace (else as is).
in_snmp_ns() { # in_snmp_ns CMD...
	if listen_mode; then ip netns exec "$(snmp_ns)" "$@"; else "$@"; fi
}
# The same in the background, for a server: the pid remembered for the
# cleanup is the command's own (a backgrounded function's would be a shell's,
# and the server would outlive the test).
bg_snmp_ns() { # bg_snmp_ns OUTFILE CMD...
	local out=$1; shift
	if listen_mode; then
		ip netns exec "$(snmp_ns)" "$@" >"$out" 2>&1 &
	else
		"$@" >"$out" 2>&1 &
	fi
	PIDS+=($!)
	LAST_PID=$!
}

# snmpd_start [EXTRA-CONFIG-LINES]: writes $T/snmpd.conf, starts snmpd, sets SNMPD_PID.
snmpd_start() {
	if listen_mode; then
		printf 'rocommunity public 127.0.0.1\n%s\n' "${1:-}" >"$T/snmp.creds"
		chmod 600 "$T/snmp.creds"
		SNMPD_PID=
		return 0
	fi
	rig_snmpd_conf "$T/snmpd.conf" "$SNMP_AGENT" "$T/agentx" 3 1 "${1:-}"
	snmpd_start_file "$T/snmpd.conf"
}

# snmpd_start_file CONF: start snmpd on a complete configuration file.
snmpd_start_file() {
	/usr/sbin/snmpd -f -Lf "$T/snmpd.log" -C -c "$1" -p "$T/snmpd.pid" -I -smux \
		>/dev/null 2>&1 &
	SNMPD_PID=$!
	PIDS+=("$SNMPD_PID")
	local i
	for i in $(seq 1 50); do
		[ -S "$T/agentx" ] && return 0
		sleep 0.1
	done
	fail "snmpd did not start: $(tail -n 5 "$T/snmpd.log")"
	return 1
}

snmpd_stop() {
	listen_mode && return 0
	kill "$SNMPD_PID" 2>/dev/null
	wait "$SNMPD_PID" 2>/dev/null
}

# Net-SNMP tools against the private snmpd, names resolved with CTFLOW-MIB.
snmp() { # snmp TOOL ARGS...
	local tool=$1; shift
	"$tool" -v2c -c public -M "$MIBDIRS" -m CTFLOW-MIB -t 3 -r 1 "$@"
}
snmpn() { # numeric output, no MIB
	local tool=$1; shift
	"$tool" -v2c -c public -t 3 -r 1 -On "$@"
}

# Wait until the subagent's objects answer (numeric: no MIB files needed).
wait_subagent() { # wait_subagent [SECONDS]
	local i
	for i in $(seq 1 $((${1:-20} * 5))); do
		snmpn snmpget -Oqv "$SNMP_AGENT" .1.3.6.1.4.1.32473.1.1.1.0 2>/dev/null | grep -q '^"\?[0-9]' && return 0
		sleep 0.2
	done
	return 1
}

finish() {
	[ "$FAILS" -eq 0 ] && exit 0 || exit 1
}
