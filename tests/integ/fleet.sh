#!/bin/bash
# A fleet on real parts (tests/lib/fleet.sh): three gateways with the same
# private addressing, each with its clients, servers, NAT and ctflowd, export
# to one collector host: pmacct nfacctd into a private PostgreSQL (uniflow
# export into one table, biflow with the shipped primitives file into
# another) and nfcapd (biflow).  After real traffic, the SQL sums per
# gateway (by exporter address) and per host, and nfdump's per exporter,
# equal each gateway's own kernel records exactly.  Also: every gateway's
# observation domain reaches the collector, the uniflow rows carry no
# reverse counters and need none.
TEST_NAME=fleet
. "$(dirname "$0")/../lib/netns.sh"
. "$TOP/tests/lib/pg.sh"
. "$TOP/tests/lib/fleet.sh"
for b in nfacctd nfcapd nfdump psql; do
	command -v "$b" >/dev/null || { fail "$b is not installed (make deps)"; exit 1; }
done

fleet_topology
fleet_collectors
fleet_gateways
fleet_traffic
fleet_drained
for g in $FLEET_G; do
	! grep -q WARNING "$T/truth$g.events" || fail "the reference recorder of gateway $g lost events"
done
fleet_stop_nfcapd

# what an operator would ask the database
fleet_psql -A -t -F'|' -c "SELECT peer_ip_src, ip_src, sum(bytes), sum(packets)
	FROM uni GROUP BY 1, 2" >"$T/uni.rows" || fail "SELECT from uni"
fleet_psql -A -t -F'|' -c "SELECT peer_ip_src, ip_src, ip_dst, sum(bytes), sum(packets),
	sum(rev_octets), sum(rev_packets) FROM bi GROUP BY 1, 2, 3" >"$T/bi.rows" || fail "SELECT from bi"
note "uni: $(wc -l <"$T/uni.rows") rows, bi: $(wc -l <"$T/bi.rows") rows"
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/fleetcheck.py" check $(fleet_truth_args) --uni "$T/uni.rows" --bi "$T/bi.rows" \
	--nfdump "$T/nf" || FAILS=$((FAILS + 1))

# nfcapd tells the gateways apart by address and observation domain, and
# saw no gap in any gateway's sequence numbers
nfdump -E "$T/nf"/nfcapd.2* >"$T/exporters.txt" 2>&1
ok=1
for g in $FLEET_G; do
	grep -qE "IP: +10\.239\.$g\.1, version: 10, ID: +$g, Sequence failures: 0," "$T/exporters.txt" || ok=0
done
[ $ok = 1 ] && pass "nfdump lists each gateway by its address and observation domain (= its number), no sequence failure" ||
	fail "exporters: $(grep SysID "$T/exporters.txt" | tr '\n' ' ')"
rows=$(fleet_psql -A -t -c "SELECT count(*) FROM uni")
[ "${rows:-0}" -gt 0 ] && pass "$rows uniflow rows in PostgreSQL, from standard IEs only" || fail "no uniflow rows"
! grep -h "ERROR" "$T/pm-uni/nfacctd.log" "$T/pm-bi/nfacctd.log" | head -n 2 | grep . &&
	pass "nfacctd wrote into PostgreSQL without an error" || fail "nfacctd reported errors"
finish
