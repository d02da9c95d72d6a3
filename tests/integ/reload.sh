#!/bin/bash
# SIGHUP under traffic: a profile added and a threshold changed take effect;
# the unchanged profile keeps its rows and counters; the new one fills from
# the traffic after the reload.  A broken configuration on reload is
# rejected with file:line: reason in the log, and the running one stays.
# A TCP collector that is away keeps its buffered records, counters and
# session across a reload that adds another collector; removing it counts
# its records as not sent, in the log too.
TEST_NAME=reload
. "$(dirname "$0")/../lib/netns.sh"

pair_up
notrack_lo "$NS_B" # (ctflowd's own attempts to reach its collectors)
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 300
conf() { # conf RISING [EXTRA]: the configuration, with a threshold's rising value
	cat >"$T/c.conf" <<-EOF
	dump_file = $T/t.json
	snmp = no
	dump_interval = 1s
	[profile host]
	key = host
	${2:-}
	[threshold busy]
	profile = host
	window = 2s
	rising = $1
	falling = 0
	notify_limit = 0
	EOF
}
conf 1000M
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
sums() { # sums PROFILE: rows, flows started, bytes sent of a profile in the JSON dump
	python3 - "$T/t.json" "$1" <<-'EOF'
	import json, sys
	p = [p for p in json.load(open(sys.argv[1]))["profiles"] if p["name"] == sys.argv[2]]
	if not p:
	    print("none"); sys.exit()
	e = p[0]["entries"]
	print(len(e), sum(r["flows_started"] for r in e), sum(r["fwd_bytes"] for r in e))
	EOF
}
flows() { udp_flows "$1" >/dev/null; ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1; }

flows 100
check "100 flows counted before the reload" wait_events 100 "$T/t.json"
tables "$T/t.json"
before=$(sums host)
note "host before: $before"

# 1. add a profile, lower the threshold: SIGHUP
conf 1 "[profile service]
key = proto, port"
kill -HUP "$CTF_PID"
for i in $(seq 1 25); do grep -q "reloaded" "$T/ctflowd.log" && break; sleep 0.2; done
grep -q "reloaded .*: 2 profiles (1 kept their rows), 1 thresholds" "$T/ctflowd.log" &&
	pass "SIGHUP reloads: 2 profiles, the unchanged one kept" ||
	fail "reload: $(grep -i reload "$T/ctflowd.log" | tail -n 2)"
tables "$T/t.json"
[ "$(sums host)" = "$before" ] && pass "the host profile kept its rows and counters ($before)" ||
	fail "host after reload: $(sums host), before: $before"
[ "$(sums service)" = "0 0 0" ] && pass "the new profile starts empty" ||
	fail "service after reload: $(sums service)"
flows 50
check "50 more flows counted" wait_events 150 "$T/t.json"
tables "$T/t.json"
read -r rows flows bytes <<<"$(sums service)"
read -r hrows hflows hbytes <<<"$(sums host)"
read -r brows bflows bbytes <<<"$before"
# (a host profile counts each flow for both of its endpoints)
[ "$flows" = 50 ] && [ "$hflows" = $((bflows + 100)) ] && [ "$hbytes" -gt "$bbytes" ] &&
	pass "the new profile fills with the traffic since (50 flows); host went on from its counts ($hflows)" ||
	fail "after: service $rows/$flows/$bytes, host $hrows/$hflows/$hbytes"
# (alarms are evaluated and logged once a second)
for i in $(seq 1 25); do grep -q "threshold busy: rising" "$T/ctflowd.log" && break; sleep 0.2; done
grep -q "threshold busy: rising" "$T/ctflowd.log" &&
	pass "the changed threshold takes effect (rising alarms in the log)" ||
	fail "no alarm after lowering the threshold"

# 2. a broken configuration: rejected, the running one stays
cp "$T/c.conf" "$T/good.conf"
echo "rows = many" >>"$T/c.conf"
kill -HUP "$CTF_PID"
for i in $(seq 1 25); do grep -q "reload rejected" "$T/ctflowd.log" && break; sleep 0.2; done
grep -q "reload rejected, the running configuration stays: $T/c.conf:[0-9]*: rows: 'many'" \
	"$T/ctflowd.log" && pass "a broken configuration is rejected with file:line: reason" ||
	fail "broken reload: $(grep -i reload "$T/ctflowd.log" | tail -n 1)"
flows 20
check "ctflowd goes on counting with the running configuration" wait_events 170 "$T/t.json"
tables "$T/t.json"
[ "$(sums service | cut -d' ' -f2)" = 70 ] && pass "both profiles still in use" ||
	fail "service after the rejected reload: $(sums service)"
kill -0 "$CTF_PID" && pass "ctflowd is still running" || fail "ctflowd died"

# 3. collectors across reloads
AWAY=$((30000 + $$ % 20000))
away="[collector away]
address = 127.0.0.1
port = $AWAY
transport = tcp
reconnect = 1s
buffer = 1000"
other="[collector other]
address = 127.0.0.1
port = $((AWAY + 1))"
ipfix() { # ipfix NAME FIELD: a session's value in the JSON dump, "none" if it has none
	tables "$T/t.json" >/dev/null
	jget "$T/t.json" "ipfix.name=$1.$2" none
}
reload_to() { # reload_to N: SIGHUP, and wait for the Nth "reloaded" line
	kill -HUP "$CTF_PID"
	for i in $(seq 1 25); do [ "$(grep -c reloaded "$T/ctflowd.log")" -ge "$1" ] && break; sleep 0.2; done
}
conf 1 "$away"
reload_to 2
flows 30
check "30 more flows counted" wait_events 200 "$T/t.json"
[ "$(ipfix away buffered)" = 30 ] && pass "the away collector buffers the 30 records" ||
	fail "away buffered $(ipfix away buffered)"
conf 1 "$away
$other"
reload_to 3
grep -q "reloaded .*, 2 collectors (1 kept their sessions)" "$T/ctflowd.log" &&
	[ "$(ipfix away buffered)" = 30 ] && [ "$(ipfix away notsent_flows)" = 0 ] &&
	pass "adding a collector keeps the away one's session and its 30 records" ||
	fail "after adding a collector: away buffered $(ipfix away buffered), not sent $(ipfix away notsent_flows): $(grep reloaded "$T/ctflowd.log" | tail -n 1)"
conf 1 "$other"
reload_to 4
grep -q "ipfix: collector away removed by the reload: 30 records not sent" "$T/ctflowd.log" &&
	[ "$(ipfix away buffered)" = none ] && [ "$(ipfix other state)" != none ] &&
	pass "removing the away collector counts its 30 records as not sent, in the log" ||
	fail "after removing it: $(grep 'ipfix:' "$T/ctflowd.log" | tail -n 1)"
finish
