# tests/lib/fleet.sh: three gateways exporting to one collector host, for
# tests/integ/fleet.sh and make demo-fleet (source netns.sh and pg.sh first).
#
#   gateway g (g = 1, 2, 3): client -- ROUTER g -- server, the same private
#   addressing at every site (10.230.1.0/24 clients, 10.230.2.0/24 servers,
#   DNAT 10.230.1.1:8080 -> 10.230.2.2:80, SNAT towards 10.230.2.3), as
#   branch offices have; each router tracks, runs ctflowd and reaches the
#   collector host over its own uplink 10.239.g.1 -> 10.239.g.2.
#
#   collector host: one PostgreSQL cluster (database "fleet"), two pmacct
#   nfacctd writing into it (table uni from ctflowd's uniflow export, table
#   bi from its biflow export, reverse counters by the primitives file
#   shipped in conf/), and one nfcapd (biflow) for nfdump.
#
# The collectors tell the gateways apart by the exporter's address (each
# router's uplink) and by the observation domain, which each gateway's
# ctflowd sets to its number (ipfix_domain = g).
FLEET_G="1 2 3"
FP=$((30000 + $$ % 20000))
FLEET_UNI=$FP FLEET_BI=$((FP + 1)) FLEET_NF=$((FP + 2)) FLEET_PG=$((FP + 3))
NS_COL=$NSP-col
fns() { echo "$NSP-$1$2"; } # fns c|r|s G: a gateway's namespace

fleet_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$T/pg/sock" -p "$FLEET_PG" -U fleet -d fleet "$@"; }

# The namespaces, links, NAT and tracking of the three sites and the collector host.
fleet_topology() {
	local g c r s
	require_root
	ns_add "$NS_COL"
	for g in $FLEET_G; do
		c=$(fns c "$g") r=$(fns r "$g") s=$(fns s "$g")
		ns_add "$c"; ns_add "$r"; ns_add "$s"
		ip link add vc netns "$c" type veth peer name vrc netns "$r"
		ip link add vs netns "$s" type veth peer name vrs netns "$r"
		ip link add wan netns "$r" type veth peer name "g$g" netns "$NS_COL"
		ip -n "$c" addr add 10.230.1.2/24 dev vc
		ip -n "$r" addr add 10.230.1.1/24 dev vrc
		ip -n "$r" addr add 10.230.2.1/24 dev vrs
		ip -n "$s" addr add 10.230.2.2/24 dev vs
		ip -n "$s" addr add 10.230.2.3/24 dev vs
		ip -n "$r" addr add "10.239.$g.1/24" dev wan
		ip -n "$NS_COL" addr add "10.239.$g.2/24" dev "g$g"
		ip -n "$c" link set vc up; ip -n "$s" link set vs up
		ip -n "$r" link set vrc up; ip -n "$r" link set vrs up; ip -n "$r" link set wan up
		ip -n "$NS_COL" link set "g$g" up
		ip -n "$c" route add default via 10.230.1.1
		ip -n "$s" route add default via 10.230.2.1
		ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
		ct_enable "$r"
		ip netns exec "$r" nft -f "$TOP/kmod/ctflowd.nft" || { fail "nft track"; exit 1; }
		# the export itself is not a flow of the site, nor is loopback traffic
		# (the demo's SNMP questions to ctflowd)
		ip netns exec "$r" nft -f - <<-EOF || { fail "nft nat"; exit 1; }
		table ip cftfleet {
			chain out { type filter hook output priority raw; ip daddr 10.239.$g.2 notrack; oif lo notrack; }
			chain pre { type filter hook prerouting priority raw; ip saddr 10.239.$g.2 notrack; iif lo notrack; }
			chain natpre { type nat hook prerouting priority dstnat; ip daddr 10.230.1.1 tcp dport 8080 dnat to 10.230.2.2:80; }
			chain natpost { type nat hook postrouting priority srcnat; ip daddr 10.230.2.3 masquerade; }
		}
		EOF
		bg_in "$s" "$T/tcp$g.out" "$TOOLS/flowgen" tcp-server 80
		bg_in "$s" "$T/udp$g.out" "$TOOLS/flowgen" udp-server 53
		ip netns exec "$c" ping -q -c 1 -W 2 10.230.2.2 >/dev/null 2>&1
		ip netns exec "$c" ping -q -c 1 -W 2 10.230.2.3 >/dev/null 2>&1
		ip netns exec "$r" ping -q -c 1 -W 2 "10.239.$g.2" >/dev/null 2>&1
	done
}

# PostgreSQL, its two tables, the two nfacctd and nfcapd on the collector host.
fleet_collectors() {
	pg_private "$T/pg" "$FLEET_PG" fleet || exit 1
	psql -X -q -h "$T/pg/sock" -p "$FLEET_PG" -U fleet -d postgres -c "CREATE DATABASE fleet" >/dev/null ||
		{ fail "CREATE DATABASE"; exit 1; }
	fleet_psql <<-'EOF' || { fail "the collector's tables"; exit 1; }
	CREATE TABLE uni (peer_ip_src inet, ip_src inet, ip_dst inet, port_src int, port_dst int,
		ip_proto smallint, packets bigint, bytes bigint,
		stamp_inserted timestamp, stamp_updated timestamp);
	CREATE TABLE bi (peer_ip_src inet, ip_src inet, ip_dst inet, port_src int, port_dst int,
		ip_proto smallint, packets bigint, bytes bigint, rev_packets bigint, rev_octets bigint,
		flow_id bigint, export_proto_seqno bigint,
		stamp_inserted timestamp, stamp_updated timestamp);
	EOF
	local name port table agg extra
	for name in uni bi; do
		if [ $name = uni ]; then
			port=$FLEET_UNI agg="peer_src_ip, src_host, dst_host, src_port, dst_port, proto" extra=
		else
			# every biflow record its own row: the reverse counters are keys
			port=$FLEET_BI extra="aggregate_primitives: $TOP/conf/pmacct-primitives.lst"
			agg="peer_src_ip, src_host, dst_host, src_port, dst_port, proto, rev_octets, rev_packets, flow_id, export_proto_seqno"
		fi
		mkdir -p "$T/pm-$name"
		cat >"$T/pm-$name/nfacctd.conf" <<-EOF
		daemonize: false
		nfacctd_ip: 0.0.0.0
		nfacctd_port: $port
		$extra
		plugins: pgsql
		sql_host: $T/pg/sock
		sql_port: $FLEET_PG
		sql_db: fleet
		sql_user: fleet
		sql_table: $name
		sql_optimize_clauses: true
		sql_dont_try_update: true
		sql_num_protos: true
		sql_refresh_time: 1
		aggregate: $agg
		EOF
		bg_in "$NS_COL" "$T/pm-$name/nfacctd.log" nfacctd -f "$T/pm-$name/nfacctd.conf"
		FLEET_NFACCTD="${FLEET_NFACCTD:-} $LAST_PID"
	done
	mkdir -p "$T/nf"
	bg_in "$NS_COL" "$T/nfcapd.log" nfcapd -b 0.0.0.0 -p "$FLEET_NF" -w "$T/nf" -t 60
	FLEET_NFCAPD=$LAST_PID
	sleep 0.5
}

# Each site's kernel record (ctrecord) and its ctflowd, exporting uniflow to
# one nfacctd and biflow to the other and to nfcapd.  FLEET_SNMP: the
# gateways' SNMP lines (default: none); FLEET_EXTRA: more lines for every
# gateway's configuration.
fleet_gateways() {
	local g r
	for g in $FLEET_G; do
		r=$(fns r "$g")
		ip netns exec "$r" conntrack -F >/dev/null 2>&1
		bg_in "$r" "$T/truth$g.out" "$TOOLS/ctrecord" "$T/truth$g.events"
		cat >"$T/gw$g.conf" <<-EOF
		state_dir = $T/state$g
		dump_interval = 1s
		dump_file = $T/gw$g.json
		${FLEET_SNMP:-snmp = no}
		ipfix_domain = $g
		ipfix_stats_interval = 5s
		${FLEET_EXTRA:-}
		[collector sql-uniflow]
		address = 10.239.$g.2
		port = $FLEET_UNI
		export = uniflow
		[collector sql-biflow]
		address = 10.239.$g.2
		port = $FLEET_BI
		[collector nfcapd]
		address = 10.239.$g.2
		port = $FLEET_NF
		encoding = reduced
		statistics = no
		EOF
		CTF_NS=$r CTF_LOG=$T/gw$g.log ctflowd_start "$T/gw$g.conf" || exit 1
		eval "FLEET_PID$g=$CTF_PID"
	done
	sleep 0.3
}

# Real traffic at every site, more at the higher numbers: TCP with known
# sizes, a long upload (interim records), UDP, DNAT, SNAT, pings.  Then every
# flow is ended (conntrack -F) so that the kernel's record is complete.
fleet_traffic() {
	local g c pids=() i
	for g in $FLEET_G; do
		c=$(fns c "$g")
		ip netns exec "$c" "$TOOLS/flowgen" tcp-client 10.230.2.2 80 $((g * 1000000)) 1000 $((g * 400000)) \
			>"$T/long$g.out" 2>&1 &
		pids+=($!)
	done
	for g in $FLEET_G; do
		c=$(fns c "$g")
		for i in 1 2; do
			ip netns exec "$c" "$TOOLS/flowgen" tcp-client 10.230.2.2 80 $((g * 10000 * i)) $((g * 50000)) ||
				fail "gateway $g: tcp"
			ip netns exec "$c" "$TOOLS/flowgen" udp-client 10.230.2.2 53 $((g + i)) 200 || fail "gateway $g: udp"
			ip netns exec "$c" "$TOOLS/flowgen" tcp-client 10.230.1.1 8080 $((g * 700)) 9000 || fail "gateway $g: dnat"
			ip netns exec "$c" "$TOOLS/flowgen" tcp-client 10.230.2.3 80 $((g * 3000)) 300 || fail "gateway $g: snat"
		done
		ip netns exec "$c" ping -q -c "$g" -i 0.2 10.230.2.2 >/dev/null || fail "gateway $g: ping"
	done
	for i in "${pids[@]}"; do wait "$i" || fail "a long upload did not complete"; done
	for g in $FLEET_G; do ip netns exec "$(fns r "$g")" conntrack -F >/dev/null 2>&1; done
}

# Every ctflowd has received its site's DESTROY events and sent everything.
fleet_drained() {
	local g i want
	for g in $FLEET_G; do
		want=$(grep -c '\[DESTROY\]' "$T/truth$g.events")
		for i in $(seq 1 100); do
			CTF_PID=$(eval echo "\$FLEET_PID$g") tables "$T/gw$g.json"
			python3 - "$T/gw$g.json" "$want" <<-'EOF' && break
			import json, sys
			j = json.load(open(sys.argv[1]))
			ok = j["collector"]["events"] >= int(sys.argv[2]) and \
				all(s["state"] == "up" and s["buffered"] == 0 for s in j["ipfix"])
			sys.exit(0 if ok else 1)
			EOF
			sleep 0.2
		done
	done
	sleep 2.5 # nfacctd writes every second
}

# The collectors write out what they hold (nfcapd closes its file).
fleet_stop_nfcapd() {
	kill "$FLEET_NFCAPD" 2>/dev/null
	wait "$FLEET_NFCAPD" 2>/dev/null
}

# nfacctd stops before PostgreSQL (which waits for its clients to leave,
# while nfacctd's plugin would keep trying to write).
fleet_stop_nfacctd() { stop_first INT 5 $FLEET_NFACCTD; }
CLEANUP_FIRST+=(fleet_stop_nfacctd)

# fleetcheck.py's arguments: each gateway's kernel record and exporter address
fleet_truth_args() {
	local g
	printf -- '--truth'
	for g in $FLEET_G; do printf ' %s=%s' "$g" "$T/truth$g.events"; done
	printf ' --exporter'
	for g in $FLEET_G; do printf ' %s=10.239.%s.1' "$g" "$g"; done
}
