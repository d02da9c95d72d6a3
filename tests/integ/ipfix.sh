#!/bin/bash
# IPFIX export to real collectors at once: a UDP and a TCP (IPv6) session
# decoded by tshark and ipfixDump, nfcapd/nfdump and pmacct nfacctd.  The
# workload of tests/integ/exactness.sh (TCP, UDP, ICMP, IPv6, SNAT, DNAT, a
# marked service and one long transfer) runs through the router; every
# decoder's per-flow sums of the exported deltas must equal the kernel's own
# DESTROY records, with the right NAT fields, flowEndReason, sequence numbers,
# templates and options records.
TEST_NAME=ipfix
. "$(dirname "$0")/../lib/netns.sh"

topo_up
# The collectors listen on the router's loopback; the DNS service gets a
# conntrack mark to export.
notrack_lo "$NS_R"
ip netns exec "$NS_R" nft -f - <<'EOF' || fail "nft mark"
table inet cftipfix {
	chain setmark { type filter hook prerouting priority mangle; udp dport 53 ct mark set 42; }
}
EOF
P=$((30000 + $$ % 20000))
UDP_PORT=$P TCP_PORT=$((P + 1)) NF_PORT=$((P + 2)) PM_PORT=$((P + 3))
mkdir -p "$T/nf" "$T/pm"

bg_in "$NS_R" "$T/tshark.log" tshark -i lo -w "$T/cap.pcap" -f "udp port $UDP_PORT or tcp port $TCP_PORT"
TSHARK_PID=$LAST_PID
for i in $(seq 1 100); do grep -qs "Capturing on" "$T/tshark.log" && break; sleep 0.1; done
bg_in "$NS_R" "$T/socat-u.log" socat -b 65535 -u UDP-RECV:$UDP_PORT,bind=127.0.0.1 \
	OPEN:"$T/u.ipfix",creat,trunc
SOCAT_U=$LAST_PID
bg_in "$NS_R" "$T/socat-t.log" socat -u TCP6-LISTEN:$TCP_PORT,bind=[::1],reuseaddr \
	OPEN:"$T/t.ipfix",creat,trunc
bg_in "$NS_R" "$T/nfcapd.log" nfcapd -b 127.0.0.1 -p $NF_PORT -w "$T/nf" -t 60
NFCAPD_PID=$LAST_PID
cat >"$T/pm/nfacctd.conf" <<EOF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $PM_PORT
aggregate_primitives: $TOP/conf/pmacct-primitives.lst
plugins: print
print_output: json
print_output_file: $T/pm/flows.json
print_output_file_append: true
print_refresh_time: 1
aggregate: src_host, dst_host, src_port, dst_port, proto, post_nat_src_host, post_nat_dst_host, post_nat_src_port, post_nat_dst_port, export_proto_seqno, flow_end_reason, rev_octets, rev_packets, flow_id
EOF
# (the primitives file operators get; the mark is checked with tshark and
# ipfixDump, see the note in it)
bg_in "$NS_R" "$T/nfacctd.log" nfacctd -f "$T/pm/nfacctd.conf"
NFACCTD_PID=$LAST_PID
for i in $(seq 1 50); do grep -qs "waiting for NetFlow" "$T/nfacctd.log" && break; sleep 0.1; done

cat >"$T/ctflowd.conf" <<EOF
dump_interval = 1s
dump_file = $T/tables.json
snmp = no
ipfix_enterprise_ies = yes
ipfix_stats_interval = 2s
ipfix_domain = 4200000000
[collector udp]
address = 127.0.0.1
port = $UDP_PORT
template_refresh = 2s
encoding = reduced
[collector tcp]
address = ::1
port = $TCP_PORT
transport = tcp
reconnect = 1s
encoding = reduced
[collector nfcapd]
address = 127.0.0.1
port = $NF_PORT
encoding = reduced
# nfcapd neither stores options records nor counts them in its sequence check
statistics = no
[collector pmacct]
address = 127.0.0.1
port = $PM_PORT
# (pmacct 1.7.7 reads the narrow counters as 0: the full encoding)
EOF
truth_start "$NS_R"
ctflowd_start "$T/ctflowd.conf" || exit 1
mixed_workload
wait "$LONG" || fail "long transfer did not complete: $(cat "$T/long.out")"

# End every flow, let ctflowd see it, and let the exporter drain.
ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
sleep 1
n=$(python3 "$TOP/tests/lib/truth.py" count "$T/truth.events")
check "ctflowd received every DESTROY event ($n)" wait_events "$n" "$T/tables.json"
drained() {
	local i
	for i in $(seq 1 50); do
		tables "$T/tables.json"
		python3 - "$T/tables.json" <<-'EOF' && return 0
		import json, sys
		s = json.load(open(sys.argv[1]))["ipfix"]
		sys.exit(0 if all(x["state"] == "up" and x["buffered"] == 0 for x in s) else 1)
		EOF
		sleep 0.2
	done
	return 1
}
check "every session is up and has sent everything" drained
sleep 4.5 # two more template refreshes and statistics records on the UDP session
tables "$T/tables.json"
check "the reference recorder lost no event" truth_clean
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
check "ctflowd exits cleanly on SIGTERM" grep -q "shutting down" "$T/ctflowd.log"
sleep 0.5
# stop the collectors so that they write out what they hold
kill -INT "$NFACCTD_PID"; kill "$NFCAPD_PID" "$SOCAT_U"; kill -INT "$TSHARK_PID"
for p in "$NFACCTD_PID" "$NFCAPD_PID" "$SOCAT_U" "$TSHARK_PID"; do wait "$p" 2>/dev/null; done

TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/ipfixcheck.py" export --truth "$T/truth.events" \
	--pcap "$T/cap.pcap" --udp-port $UDP_PORT --tcp-port $TCP_PORT --udp-file "$T/u.ipfix" \
	--tcp-file "$T/t.ipfix" --nfdump "$T/nf" --pmacct "$T/pm/flows.json" --json "$T/tables.json" \
	--refresh 2 --long-port 81 --enterprise --domain 4200000000 || FAILS=$((FAILS + 1))

# An orderly end over TCP withdraws every template it announced (RFC 7011
# 8.1): the stream's last message, after all data, only withdrawals (the
# decoders above read the stream with it).
last=$(python3 - "$T/t.ipfix" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
off, msgs = 0, []
while off + 16 <= len(b):
    n = struct.unpack(">H", b[off + 2:off + 4])[0]
    msgs.append(b[off:off + n])
    off += n
announced, withdrawn, other = set(), set(), 0
for i, m in enumerate(msgs):
    o = 16
    while o + 4 <= len(m):
        sid, slen = struct.unpack(">HH", m[o:o + 4])
        p = o + 4
        while sid in (2, 3) and p + 4 <= o + slen:
            tid, n = struct.unpack(">HH", m[p:p + 4])
            if n == 0:
                withdrawn.add(tid)
                other += i != len(msgs) - 1
                p += 4
                continue
            announced.add(tid)
            other += i == len(msgs) - 1
            p += 6 if sid == 3 else 4
            for _ in range(n):  # field specifiers: 8 octets with an enterprise number
                p += 8 if m[p] & 0x80 else 4
        other += sid >= 256 and i == len(msgs) - 1
        o += slen
print(len(b) == off and other == 0 and withdrawn == announced and len(withdrawn) > 0,
      sorted(withdrawn))
EOF
)
[ "${last%% *}" = True ] &&
	pass "TCP: the stream ends with the withdrawal of every template it announced: ${last#* }" ||
	fail "the TCP stream's last message: $last"
finish
