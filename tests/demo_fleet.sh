#!/bin/bash
# make demo-fleet: many gateways, one collector, one database.
#
# Three branch gateways with the same private addressing (tests/lib/fleet.sh),
# each with ctflowd, export IPFIX to one collector host: pmacct nfacctd
# writing into PostgreSQL, and nfcapd.  After real traffic at every site the
# demo shows the kernel's own totals per gateway, the SQL an operator would
# run on the collector and its answer, and beside each row what that
# gateway's ctflowd itself says over SNMP: equal, to the octet.  Everything
# it creates is removed at the end.
#
# Every part is checked; the demo ends with "make demo-fleet: FAILED" naming
# each part that failed, and exits 1.
TEST_NAME=demo-fleet
. "$(dirname "$0")/lib/netns.sh"
. "$TOP/tests/lib/pg.sh"
. "$TOP/tests/lib/fleet.sh"
DEMO="make demo-fleet"
. "$TOP/tests/lib/demo.sh"
cd "$TOP" && make -s all tools || { echo "make demo-fleet: FAILED: build"; exit 1; }
fail() { broken "setup" "$1"; echo "make demo-fleet: FAILED: setup: $1"; } # (the library's, before it exits)

say "Three gateways (clients, NAT router with ctflowd, servers; the same 10.230.0.0/16 at each site) and one collector host (nfacctd -> PostgreSQL, nfcapd)"
fleet_topology
fleet_collectors
printf 'rocommunity public 127.0.0.1\n' >"$T/snmp.creds"
chmod 600 "$T/snmp.creds"
FLEET_SNMP="snmp = listen
snmp_listen = udp:127.0.0.1:1161
snmp_credentials = $T/snmp.creds"
FLEET_EXTRA="[profile host]
key = host"
fleet_gateways
for g in $FLEET_G; do
	echo "gateway $g: ctflowd exports from 10.239.$g.1, observation domain $g: uniflow to nfacctd :$FLEET_UNI, biflow to nfacctd :$FLEET_BI and nfcapd :$FLEET_NF"
done

say "Traffic at every site: uploads, a long one, UDP, DNAT, SNAT, pings (more at the higher numbers)"
fleet_traffic
fleet_drained
fleet_stop_nfcapd

say "What each gateway's kernel recorded (its DESTROY events)"
python3 "$TOP/tests/lib/fleetcheck.py" truth $(fleet_truth_args) || broken "kernel" "no record"

QUERY="WITH sent AS (SELECT peer_ip_src AS gw, ip_src AS host, sum(bytes) AS o FROM uni GROUP BY 1, 2),
     recv AS (SELECT peer_ip_src AS gw, ip_dst AS host, sum(bytes) AS o FROM uni GROUP BY 1, 2)
SELECT host(coalesce(s.gw, r.gw)) AS gateway, host(coalesce(s.host, r.host)) AS host,
       coalesce(s.o, 0) AS sent, coalesce(r.o, 0) AS received
  FROM sent s FULL JOIN recv r ON s.gw = r.gw AND s.host = r.host
 ORDER BY 1, 2;"
say "On the collector: octets each host sent and received, per gateway (the gateway is the exporter's address)"
printf '%s\n\n' "$QUERY"
fleet_psql -c "$QUERY" || broken "SQL" "the query failed"

say "The same rows beside what each gateway's own ctflowd says over SNMP (CTFLOW-MIB host profile: ctflowAggFwdOctets, ctflowAggRevOctets)"
fleet_psql -A -t -F' ' -c "$QUERY" >"$T/sql.txt" || broken "SQL" "the query failed"
printf '%-11s %-11s %12s %12s %12s %12s  %s\n' gateway host "SQL sent" "SNMP sent" "SQL recvd" "SNMP recvd" ""
rows=0 bad=0
while read -r gw host sent recv; do
	g=${gw#10.239.}; g=${g%.1}
	idx="1.1.4.$host.32.0.0.0.0.0.0.0"
	read -r fwd rev < <(ip netns exec "$(fns r "$g")" snmpget -v2c -c public -t 2 -Oqv -On 127.0.0.1:1161 \
		".1.3.6.1.4.1.32473.1.3.1.15.$idx" ".1.3.6.1.4.1.32473.1.3.1.17.$idx" 2>&1 | tr '\n' ' ')
	verdict=equal
	[ "$sent" = "$fwd" ] && [ "$recv" = "$rev" ] || { verdict=DIFFERENT; bad=$((bad + 1)); }
	printf '%-11s %-11s %12s %12s %12s %12s  %s\n' "$gw" "$host" "$sent" "$fwd" "$recv" "$rev" "$verdict"
	rows=$((rows + 1))
done <"$T/sql.txt"
[ "$rows" -ge 12 ] || broken "SQL" "only $rows rows"
[ "$bad" = 0 ] || broken "SQL against SNMP" "$bad rows differ"

say "Every collector against every gateway's kernel record, exactly (tests/lib/fleetcheck.py)"
fleet_psql -A -t -F'|' -c "SELECT peer_ip_src, ip_src, sum(bytes), sum(packets) FROM uni GROUP BY 1, 2" >"$T/uni.rows"
fleet_psql -A -t -F'|' -c "SELECT peer_ip_src, ip_src, ip_dst, sum(bytes), sum(packets), sum(rev_octets),
	sum(rev_packets) FROM bi GROUP BY 1, 2, 3" >"$T/bi.rows"
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/fleetcheck.py" check $(fleet_truth_args) --uni "$T/uni.rows" --bi "$T/bi.rows" \
	--nfdump "$T/nf" | sed 's/^PASS: [^:]*: /  ok: /; s/^FAIL: [^:]*: /  FAILED: /' | tee "$T/check.txt"
grep -q "FAILED" "$T/check.txt" && broken "collectors" "a collector disagrees with a kernel"

say "nfcapd's exporters: one per gateway, by address and observation domain: nfdump -E FILE"
nfdump -E "$T/nf"/nfcapd.2* 2>&1 | grep SysID || broken "nfdump" "no exporter"

demo_end
