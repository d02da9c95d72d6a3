#!/bin/bash
# Exactness on real traffic through a NAT router: TCP with known payload
# sizes, UDP, ICMP, IPv6, SNAT and DNAT flows, and one long-lived TCP transfer
# spanning several dump intervals.  ctflowd's host, service, pair, NAT-view
# and subnet tables must equal the sums of the kernel's own DESTROY records
# (recorded independently, tests/tools/ctrecord) exactly, and the long flow must grow in
# the tables while it runs.
TEST_NAME=exactness
. "$(dirname "$0")/../lib/netns.sh"

topo_up
cat >"$T/ctflowd.conf" <<EOF
dump_interval = 1s
dump_file = $T/tables.json
$(std_profiles)
[profile nat_host]
key = host
addresses = translated
[profile nat_service]
key = proto, port
addresses = translated
[profile subnet]
key = src/24/64, dst/16/48
EOF
truth_start "$NS_R"
ctflowd_start "$T/ctflowd.conf" || exit 1

# While the long transfer runs, its service row (tcp/81) must grow, unfinished.
# A watcher samples the row every half second for as long as the transfer runs,
# whatever else the workload does meanwhile (and however slowly the machine
# runs it): "alive bytes ended" per sample.
long_row() { python3 "$TOP/tests/lib/truth.py" row "$T/tables.json" service proto=6 port=81 >"$T/long.json"; }
field() { jget "$T/long.json" "$1" -1; }
watch_long() {
	local i r alive
	for i in $(seq 1 60); do
		kill -0 "$LONG" 2>/dev/null && alive=yes || alive=no
		tables "$T/tables.json" && long_row &&
			echo "$alive $(field fwd_bytes) $(field flows_ended)" >>"$T/long.samples"
		[ $alive = no ] && break
		sleep 0.4
	done
}
ON_LONG_STARTED='watch_long & WATCHER=$!'
mixed_workload
wait "$WATCHER"
samples=$(awk '$1 == "yes" && $3 == 0 && $2 > 0 { print $2 }' "$T/long.samples" | uniq | tr '\n' ' ')
note "long flow while it ran (bytes per sample): $samples"
if [ "$(echo $samples | wc -w)" -ge 2 ] && [ "$(echo $samples | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "$samples" ]; then
	pass "long-lived flow grows in the tables before it ends ($(echo $samples | wc -w) sizes: $samples)"
else
	fail "long-lived flow not seen growing while it ran: $(tr '\n' '|' <"$T/long.samples")"
fi
wait "$LONG" || fail "long transfer did not complete: $(cat "$T/long.out")"

# End every flow (TIME_WAIT, UDP and ICMP timeouts) and let both sides see it.
ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
sleep 1
n=$(python3 "$TOP/tests/lib/truth.py" count "$T/truth.events")
note "kernel reported $n DESTROY events"
check "ctflowd received every DESTROY event ($n)" wait_events "$n" "$T/tables.json"
sleep 0.5
tables "$T/tables.json"
check "the reference recorder lost no event" truth_clean
[ "$n" -eq 21 ] && pass "workload produced the 21 flows it makes" || fail "workload produced $n flows, expected 21"
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/truth.py" compare "$T/truth.events" "$T/tables.json" ||
	FAILS=$((FAILS + 1))
python3 - "$T/tables.json" <<'EOF' && pass "no loss, no rejects, dumps ran, nothing left tracked" || fail "collector counters: $(grep -o '"collector".*' "$T/tables.json" | head -c 600)"
import json, sys
c = json.load(open(sys.argv[1]))["collector"]
assert c["kernel_drops"] == 0 and c["overruns"] == 0 and c["rejected"] == 0, c
assert c["dump_runs"] >= 5 and c["dump_failures"] == 0, c
assert c["tracked"] == 0 and c["ended_unobserved"] == 0, c
assert c["acct"] == 1 and c["timestamp"] == 1, c
EOF
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
check "ctflowd exits cleanly on SIGTERM" grep -q "shutting down" "$T/ctflowd.log"
finish
