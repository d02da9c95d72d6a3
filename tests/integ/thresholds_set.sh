#!/bin/bash
# Thresholds created over SNMP (ctflowThresholdTable, RowStatus and
# StorageType), through a private snmpd: createAndGo takes effect on live
# traffic (a trap for the new threshold), createAndWait then active, a
# nonVolatile row survives a ctflowd restart and destroy removes it for good;
# invalid SETs get the right SNMP error and leave every row as it was.
# Memory: 127 thresholds each allowed the whole budget of rows are accepted
# and cost what they watch; a 129th is refused.  The state file: a notReady
# row is never written, a reload that removes a profile removes its
# thresholds from it, a bad entry in it is skipped at start.
TEST_NAME=thresholds_set
. "$(dirname "$0")/../lib/netns.sh"

ROOT=.1.3.6.1.4.1.32473
T5=$ROOT.1.5.1
pair_up
trapd_start
snmpd_start "trap2sink udp:127.0.0.1:$TRAP_PORT public
rwcommunity private 127.0.0.1" || exit 1
bg_in "$NS_B" "$T/server.out" "$TOOLS/flowgen" tcp-server 80
test_conf "$T/c.conf" <<EOF
dump_interval = 1s
state_file = $T/state.conf
[profile host]
key = host
[profile service]
key = proto, port
[threshold fixed]
profile = host
rising = 1000M
EOF
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
check "the subagent registered" wait_subagent 30

set_() { # set_ ARGS...: snmpset with the write community; prints its output
	snmpset -v2c -c private -t 5 -r 0 -On "$SNMP_AGENT" "$@" 2>&1
}
# the table without its live statistics (rows watched, over, alarms)
table() { snmpn snmpbulkwalk -Ot "$SNMP_AGENT" $T5 2>&1 | grep -v -E "^$T5\.1[2-7]\."; }
expect_error() { # expect_error NAME ERROR ARGS...
	local name=$1 want=$2 out
	shift 2
	table >"$T/before.txt"
	out=$(set_ "$@")
	table >"$T/after.txt"
	if echo "$out" | grep -q "Reason: $want" && cmp -s "$T/before.txt" "$T/after.txt"; then
		pass "$name: $want, and the table is unchanged"
	else
		fail "$name: $(echo "$out" | head -n 2 | tr '\n' ' ')$(cmp -s "$T/before.txt" "$T/after.txt" || echo ' (the table changed)')"
	fi
}

# 1. createAndGo, nonVolatile: watches host 10.202.0.1's uploads
out=$(set_ $T5.21.7 i 4 $T5.2.7 s upload $T5.3.7 u 1 $T5.4.7 s 10.202.0.0/24 \
	$T5.6.7 i 1 $T5.7.7 u 2 $T5.8.7 u 100000 $T5.9.7 u 20000 $T5.10.7 u 0 $T5.20.7 i 3)
echo "$out" | grep -q "$T5.21.7 = INTEGER: 4" && pass "createAndGo of threshold 7 is accepted" ||
	fail "createAndGo: $out"
[ "$(snmpn snmpget -Oqv "$SNMP_AGENT" $T5.21.7)" = 1 ] &&
	pass "threshold 7 is active with its values" || fail "threshold 7: $(table | grep '\.7 =')"
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 900000 0 300000 ||
	fail "upload"
for i in $(seq 1 50); do grep -q "OID: $ROOT.0.1|.*\"upload\"" "$T/trapd.log" && break; sleep 0.2; done
grep -q "OID: $ROOT.0.1|.*$T5.2.7 = STRING: \"upload\"" "$T/trapd.log" &&
	pass "it takes effect on live traffic: a rising trap for 'upload'" ||
	fail "no rising trap for the created threshold: $(tail -n 3 "$T/trapd.log")"
grep -q "^\[threshold upload\]" "$T/state.conf" && grep -q "^index = 7" "$T/state.conf" &&
	pass "the nonVolatile row is in the state file" || fail "state file: $(cat "$T/state.conf" 2>&1)"

# 2. createAndWait, then active; volatile
out=$(set_ $T5.21.9 i 5 $T5.3.9 u 2 $T5.18.9 i 6 $T5.19.9 i 443)
[ "$(snmpn snmpget -Oqv "$SNMP_AGENT" $T5.21.9)" = 3 ] &&
	pass "createAndWait without a rising value leaves it notReady" ||
	fail "createAndWait: $out; status $(snmpn snmpget -Oqv "$SNMP_AGENT" $T5.21.9)"
expect_error "active while notReady" inconsistentValue $T5.21.9 i 1
out=$(set_ $T5.8.9 u 5000 $T5.21.9 i 1)
[ "$(snmpn snmpget -Oqv "$SNMP_AGENT" $T5.21.9)" = 1 ] &&
	pass "with a rising value it becomes active" || fail "activate: $out"

# 3. invalid SETs
expect_error "a string for the profile" wrongType $T5.21.11 i 4 $T5.3.11 s host $T5.8.11 u 10
expect_error "falling above rising" inconsistentValue $T5.21.11 i 4 $T5.3.11 u 1 $T5.8.11 u 10 \
	$T5.9.11 u 20
expect_error "an unknown profile" inconsistentValue $T5.21.11 i 4 $T5.3.11 u 99 $T5.8.11 u 10
expect_error "a port on a profile without ports" inconsistentValue $T5.21.11 i 4 $T5.3.11 u 1 \
	$T5.8.11 u 10 $T5.19.11 i 80
expect_error "a window shorter than two dumps" inconsistentValue $T5.21.11 i 4 $T5.3.11 u 1 \
	$T5.8.11 u 10 $T5.7.11 u 1
expect_error "createAndGo on an existing row" inconsistentValue $T5.21.7 i 4
expect_error "active on a row that does not exist" inconsistentValue $T5.21.12 i 1
expect_error "a column of a row that does not exist" inconsistentName $T5.8.12 u 10
expect_error "notReady is not settable" wrongValue $T5.21.7 i 3
expect_error "a bad prefix" wrongValue $T5.4.7 s 10.0.0.0/40
expect_error "a read-only column" notWritable $T5.13.7 u 5
expect_error "changing the configuration file's threshold" notWritable $T5.8.1 u 5
expect_error "index 0" noCreation $T5.21.0 i 4
expect_error "a name another threshold has" inconsistentValue $T5.21.11 i 4 $T5.2.11 s upload \
	$T5.3.11 u 1 $T5.8.11 u 10
expect_error "a row limit over the budget of all thresholds" wrongValue $T5.21.11 i 4 \
	$T5.3.11 u 1 $T5.8.11 u 10 $T5.11.11 u 1000000

# a reload keeps the rows created over SNMP, quietly; a collector it adds
# exports and appears in IPFIX-MIB
printf '[collector added]\naddress = 127.0.0.1\nport = %s\n' $((30000 + $$ % 20000)) >>"$T/c.conf"
kill -HUP "$CTF_PID"
for i in $(seq 1 25); do grep -q "reloaded" "$T/ctflowd.log" && break; sleep 0.2; done
[ "$(snmpn snmpget -Oqv "$SNMP_AGENT" .1.3.6.1.2.1.193.1.1.1.1.16.1 2>/dev/null)" = 2 ] &&
	pass "a collector added by the reload is an active session in IPFIX-MIB" ||
	fail "IPFIX-MIB after the reload: $(snmpn snmpget "$SNMP_AGENT" .1.3.6.1.2.1.193.1.1.1.1.16.1 2>&1)"
table | grep -q "^$T5.2.7 = STRING: \"upload\"" && table | grep -q "^$T5.21.9 = INTEGER: 1" &&
	! grep -q "taken by one created over SNMP" "$T/ctflowd.log" &&
	pass "a reload keeps the thresholds created over SNMP" ||
	fail "after reload: $(grep -i reload "$T/ctflowd.log" | tail -n 2)"

# 4. a restart keeps the nonVolatile row, not the volatile one
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
check "the subagent registers again" wait_subagent 30
table >"$T/restarted.txt"
grep -q "^$T5.2.7 = STRING: \"upload\"" "$T/restarted.txt" &&
	grep -q "^$T5.21.7 = INTEGER: 1" "$T/restarted.txt" &&
	grep -q "^$T5.20.7 = INTEGER: 3" "$T/restarted.txt" &&
	pass "after a restart the nonVolatile threshold 7 is back, active" ||
	fail "after restart: $(grep '\.7 = ' "$T/restarted.txt" | head -n 5)"
! grep -q "^$T5.2.9 " "$T/restarted.txt" && pass "the volatile threshold 9 is gone" ||
	fail "volatile row survived a restart"

# 5. destroy: gone, and stays gone
out=$(set_ $T5.21.7 i 6)
! snmpn snmpget "$SNMP_AGENT" $T5.2.7 | grep -q STRING && ! grep -q "index = 7" "$T/state.conf" &&
	pass "destroy removes threshold 7 and its saved copy" || fail "destroy: $out"
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
check "the subagent registers a third time" wait_subagent 30
! table | grep -q "^$T5.2.7 " && pass "after another restart it is still gone" ||
	fail "destroyed row came back"

# 6. a ctflowd with no threshold configured and none saved takes its first over SNMP
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
sed -e '/^state_file/d' -e '/^\[threshold/,$d' "$T/c.conf" >"$T/none.conf"
CTF_NS=$NS_B ctflowd_start "$T/none.conf" || exit 1
check "the subagent registers without thresholds" wait_subagent 30
out=$(set_ $T5.21.3 i 4 $T5.2.3 s first $T5.3.3 u 1 $T5.8.3 u 100000)
[ "$(snmpn snmpget -Oqv "$SNMP_AGENT" $T5.21.3)" = 1 ] && kill -0 "$CTF_PID" &&
	pass "with none configured, createAndGo makes threshold 3 active" ||
	fail "createAndGo with no thresholds configured: $out; $(tail -n 2 "$T/ctflowd.log")"

# 7. memory a manager can make ctflowd take: bounded by threshold_rows, taken
#    as rows are watched.  127 more thresholds, each allowed the whole budget:
#    accepted, and the resident memory hardly moves.
rows=$(snmpn snmpget -Oqv "$SNMP_AGENT" $ROOT.1.1.37.0)
[ "$rows" = 100000 ] && pass "ctflowThresholdRows shows the budget (100000)" ||
	fail "ctflowThresholdRows: $rows"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$CTF_PID/status"; }
before=$(rss)
made=0
for i in $(seq 100 226); do
	set_ $T5.21.$i i 4 $T5.2.$i s "big$i" $T5.3.$i u 1 $T5.8.$i u 1000 $T5.11.$i u 100000 \
		| grep -q "INTEGER: 4" && made=$((made + 1))
done
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 100000 0 || fail "traffic"
sleep 1.5
after=$(rss)
used=$(snmpn snmpget -Oqv "$SNMP_AGENT" $ROOT.1.1.38.0)
[ "$made" = 127 ] && [ $((after - before)) -lt 8192 ] && [ "$used" -le 100000 ] &&
	pass "127 thresholds of 100000 rows each: accepted, RSS grew $((after - before)) kB, $used rows held" ||
	fail "127 big thresholds: $made made, RSS $before -> $after kB, $used rows held"
expect_error "a 129th threshold" resourceUnavailable $T5.21.300 i 4 $T5.2.300 s more \
	$T5.3.300 u 1 $T5.8.300 u 1000

# 8. the state file never holds what the configuration would refuse, and a
#    bad entry in it does not stop a start
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
test_conf "$T/s.conf" <<CONF
dump_interval = 1s
state_file = $T/state8.conf
[profile host]
key = host
[profile service]
key = proto, port
CONF
CTF_NS=$NS_B ctflowd_start "$T/s.conf" || exit 1
check "the subagent registers on the new configuration" wait_subagent 30
set_ $T5.21.5 i 5 $T5.20.5 i 3 >/dev/null         # createAndWait, nonVolatile: notReady
set_ $T5.21.6 i 4 $T5.2.6 s svc $T5.3.6 u 2 $T5.8.6 u 1000 $T5.18.6 i 6 $T5.20.6 i 3 >/dev/null
[ "$(snmpn snmpget -Oqv "$SNMP_AGENT" $T5.21.5)" = 3 ] && ! grep -q "^index = 5" "$T/state8.conf" &&
	grep -q "^\[threshold svc\]" "$T/state8.conf" &&
	pass "a notReady nonVolatile row is not written to the state file; a complete one is" ||
	fail "state file with a notReady row: $(cat "$T/state8.conf" 2>&1 | tr '\n' ' ')"
sed -i '/^\[profile service\]/,$d' "$T/s.conf"
kill -HUP "$CTF_PID"
for i in $(seq 1 25); do grep -q "goes with its profile" "$T/ctflowd.log" && break; sleep 0.2; done
grep -q "reload: threshold svc goes with its profile service" "$T/ctflowd.log" &&
	! grep -q "^\[threshold svc\]" "$T/state8.conf" &&
	pass "a reload that removes a profile removes its nonVolatile threshold, from the file too" ||
	fail "reload without the profile: $(tail -n 2 "$T/ctflowd.log"); $(cat "$T/state8.conf" | tr '\n' ' ')"
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
printf '[threshold orphan]\nprofile = gone\nrising = 5\nindex = 40\n' >>"$T/state8.conf"
CTF_NS=$NS_B ctflowd_start "$T/s.conf" || exit 1
grep -q "state8.conf:.*skipped" "$T/ctflowd.log" && kill -0 "$CTF_PID" &&
	pass "a bad entry in the state file is skipped with one log line, and ctflowd starts: $(grep -o 'state8.conf:.*' "$T/ctflowd.log" | head -n 1)" ||
	fail "bad state entry at start: $(tail -n 3 "$T/ctflowd.log")"
finish
