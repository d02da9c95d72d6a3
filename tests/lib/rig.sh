# tests/lib/rig.sh: the rig the integration tests (through netns.sh) and
# make bench (bench/bench.py, running it as a command) share: namespaces
# with conntrack accounting on, the generator/tracker pair, a private
# snmpd's configuration, and tearing it all down.
#
#   bash tests/lib/rig.sh pair NS_A NS_B NET    A sends from NET.128.0/17 (AnyIP)
#                                               to B (NET.0.2), which tracks
#   bash tests/lib/rig.sh snmpd_conf FILE AGENT SOCKET TIMEOUT RETRIES [EXTRA]
#   bash tests/lib/rig.sh down NS...            kill what runs there, delete
#
# Nothing here keeps state: who creates a namespace removes it.

RIG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

rig_ns_add() { # rig_ns_add NS
	ip netns add "$1" || return 1
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# Conntrack accounting, timestamps and events on in namespace $1; tracking
# itself starts once a rule uses it (kmod/ctflowd.nft).
rig_ct_enable() { # rig_ct_enable NS
	ip netns exec "$1" sysctl -qw net.netfilter.nf_conntrack_acct=1 \
		net.netfilter.nf_conntrack_timestamp=1 net.netfilter.nf_conntrack_events=1
}

rig_track() { # rig_track NS
	rig_ct_enable "$1" && ip netns exec "$1" nft -f "$RIG_TOP/kmod/ctflowd.nft"
}

# Two namespaces (created already) joined by a veth: A generates from the
# AnyIP range NET.128.0/17 to B (NET.0.2), which tracks.  For
# tests/tools/udpburst.
rig_pair() { # rig_pair NS_A NS_B NET
	local a=$1 b=$2 net=$3
	ip link add va netns "$a" type veth peer name vb netns "$b" || return 1
	ip -n "$a" addr add "$net.0.1/16" dev va
	ip -n "$b" addr add "$net.0.2/16" dev vb
	ip -n "$a" link set va up; ip -n "$b" link set vb up
	ip -n "$a" route add local "$net.128.0/17" dev lo
	ip -n "$b" route add "$net.128.0/17" via "$net.0.1"
	rig_track "$b" || return 1
	ip netns exec "$a" ping -q -c 1 -W 2 "$net.0.2" >/dev/null 2>&1
	ip netns exec "$b" conntrack -F >/dev/null 2>&1
	return 0
}

# A private snmpd's configuration: its own address, AgentX socket and
# timeouts; EXTRA lines (trap sinks, communities) appended.
rig_snmpd_conf() { # rig_snmpd_conf FILE AGENT SOCKET TIMEOUT RETRIES [EXTRA]
	cat >"$1" <<-EOF
	agentaddress $2
	master agentx
	agentXSocket unix:$3
	agentXPerms 0600 0700
	agentXTimeout $4
	agentXRetries $5
	rocommunity public 127.0.0.1
	${6:-}
	EOF
}

rig_down() { # rig_down NS...
	local ns
	for ns in "$@"; do
		# children forked by servers live on in the namespace: kill them too
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# Run as a command: `rig.sh pair ...` calls rig_pair (creating the two
# namespaces first), the others as named.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	cmd=$1
	shift
	case $cmd in
	pair) rig_ns_add "$1" && rig_ns_add "$2" && rig_pair "$@" ;;
	snmpd_conf | down) "rig_$cmd" "$@" ;;
	*) echo "rig.sh: pair, snmpd_conf or down" >&2; exit 2 ;;
	esac
fi
