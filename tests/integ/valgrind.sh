#!/bin/bash
# The daemon under valgrind through a real workload: events, dumps with
# growth, an overrun with resync and unobserved closes, LRU eviction, the
# AgentX subagent answering a full walk and the malformed-index sweep, an
# IPFIX-MIB walk, IPFIX export over UDP and TCP with a collector that is away
# (reconnects, buffer overflow), SIGUSR1 and SIGTERM.  Any memory error or
# definite leak fails the test.
TEST_NAME=valgrind
. "$(dirname "$0")/../lib/netns.sh"

pair_up
snmpd_start || exit 1
notrack_lo "$NS_B"
P=$((30000 + $$ % 20000))
bg_in "$NS_B" "$T/socat-u.log" socat -u UDP-RECV:$P,bind=127.0.0.1 OPEN:/dev/null
bg_in "$NS_B" "$T/socat-t.log" socat -u TCP-LISTEN:$((P + 1)),bind=127.0.0.1,reuseaddr OPEN:/dev/null
test_conf "$T/c.conf" <<EOF
top_interval = 1s
dump_interval = 1s
rcvbuf = 64K
rcvbuf_max = 128K
[profile host]
key = host
[profile service]
key = proto, port
[profile tiny]
key = src/24/64, dst
rows = 4
[threshold busy]
profile = host
window = 2s
rising = 1
falling = 0
notify_limit = 5
rows = 50
[collector udp]
address = 127.0.0.1
port = $P
template_refresh = 1s
[collector tcp]
address = 127.0.0.1
port = $((P + 1))
transport = tcp
[collector away]
address = 127.0.0.1
port = $((P + 2))
transport = tcp
reconnect = 1s
buffer = 100
EOF
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 120
CTF_NS=$NS_B ctflowd_start "$T/c.conf" valgrind --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --log-file="$T/vg.log" || { cat "$T/vg.log"; exit 1; }
udp_flows 3000 >/dev/null
sleep 2.5
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
udp_flows 500 >/dev/null
sleep 1.5
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
sleep 1.5
check "tables written under valgrind" tables "$T/t.json"
check "the subagent answers under valgrind" wait_subagent 30
snmpn snmpbulkwalk -Oe -Ot -t 10 "$SNMP_AGENT" .1.3.6.1.4.1.32473 >"$T/walk.txt" 2>&1
note "walked $(grep -c . "$T/walk.txt") objects"
TEST_NAME=$TEST_NAME python3 "$TOP/tests/lib/mibcheck.py" sweep 1.3.6.1.4.1.32473 "$SNMP_AGENT" \
	"$T/walk.txt" || FAILS=$((FAILS + 1))
# IPFIX-MIB: every table, with sessions up, connecting and away
snmpn snmpbulkwalk -Oe -Ot -t 10 "$SNMP_AGENT" .1.3.6.1.2.1.193 >"$T/ipfix-walk.txt" 2>&1
n=$(grep -c '^\.1\.3\.6\.1\.2\.1\.193\.' "$T/ipfix-walk.txt")
[ "$n" -gt 300 ] && pass "IPFIX-MIB walked under valgrind ($n objects)" ||
	fail "IPFIX-MIB walk under valgrind: $n objects: $(tail -n 2 "$T/ipfix-walk.txt")"
# a reload: one profile more, the threshold changed, the rest kept
printf '[profile extra]\nkey = proto\n' >>"$T/c.conf"
sed -i 's/^rising = 1$/rising = 2/' "$T/c.conf"
kill -HUP "$CTF_PID"
for i in $(seq 1 50); do grep -q "reloaded" "$T/ctflowd.log" && break; sleep 0.2; done
grep -q "reloaded .*: 4 profiles (3 kept their rows), 1 thresholds" "$T/ctflowd.log" &&
	pass "SIGHUP reload under valgrind: a profile added, three kept, the threshold changed" ||
	fail "reload under valgrind: $(grep -i reload "$T/ctflowd.log" | tail -n 1)"
udp_flows 200 >/dev/null
sleep 1.5
kill "$CTF_PID"
wait "$CTF_PID"
rc=$?
errs=$(grep -o 'ERROR SUMMARY: [0-9]*' "$T/vg.log" | tail -n 1)
note "valgrind: $errs; $(grep -E 'definitely lost' "$T/vg.log" | tail -n 1 | sed 's/==[0-9]*==//')"
if [ $rc -eq 0 ] && [ "$errs" = "ERROR SUMMARY: 0" ]; then
	pass "no memory errors and no leaks under valgrind (exit $rc)"
else
	fail "valgrind exit $rc, $errs"
	grep -A12 -E 'Invalid|uninitialised|definitely' "$T/vg.log" | head -40 | sed 's/^/  # /'
fi
if python3 - "$T/t.json" 2>"$T/workload.err" <<'EOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
c = d["collector"]
assert c["events"] > 0 and c["dump_runs"] >= 2 and c["slices"] > 0, c
assert c["overruns"] >= 1 and c["ended_unobserved"] > 0, c
tiny = [p for p in d["profiles"] if p["name"] == "tiny"][0]
assert tiny["evictions"] > 0, tiny
x = {s["name"]: s for s in d["ipfix"]}
assert x["udp"]["records"] > 1000 and x["tcp"]["records"] > 1000, x
# The absent collector's buffer held 100 records; every other record the
# others got is a counted loss here, and the 100 wait in the state directory
# for the next start.
a = x["away"]
assert a["buffered_max"] == 100 and a["buffered"] == 100, a
assert a["notsent_flows"] + a["buffered"] == x["udp"]["records"], a
EOF
	pass "the workload exercised events, dumps, overruns, unobserved closes, eviction and export"
else
	fail "workload too small: $(tail -n 1 "$T/workload.err" | head -c 900)"
fi
finish
