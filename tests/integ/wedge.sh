#!/bin/bash
# A wedged snmpd must never cost an event.
#
# snmpd is stopped (SIGSTOP) for 30 s while 30,000 new flows a second go
# through the namespace ctflowd watches.  Before ctflowd served SNMP on a
# thread of its own, its event loop sat in net-snmp's synchronous AgentX
# ping for 22.6 s of such a stop and lost 13% of the DESTROY events.  Here,
# with a CPU-bound job competing for the cores throughout:
#   - every DESTROY the kernel sent is received (checked against a lossless
#     recorder of the kernel's events) and none is dropped or overrun;
#   - ctflowd keeps answering SIGUSR1 (a JSON dump) during the stop, and its
#     loop is never held up for long (ctflowLoopSlowest);
#   - SNMP answers again within a second of SIGCONT;
#   - the threshold alarm raised while snmpd was stopped is held, then
#     delivered to snmptrapd once snmpd runs again;
#   - SIGTERM while snmpd is stopped ends ctflowd all the same.
TEST_NAME=wedge
. "$(dirname "$0")/../lib/netns.sh"
RATE=30000
STOP_S=30
TUPLES=150000 # each tuple met again after 5 s: its entry (1 s timeout) has gone

pair_up
notrack_lo "$NS_B"
need_conntrack_max 400000
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1 \
	net.netfilter.nf_conntrack_udp_timeout_stream=1
trapd_start
snmpd_start "trap2sink udp:127.0.0.1:$TRAP_PORT public" || exit 1
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 200
truth_start "$NS_B"
test_conf "$T/c.conf" <<CONF
dump_interval = 5s
[profile service]
key = proto,port
[threshold churn]
profile = service
proto = udp
port = 9000
metric = flows
window = 10s
rising = 1000
falling = 10
CONF
timeout 200 sh -c 'while :; do :; done' &
PIDS+=($!)
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
check "the subagent registered" wait_subagent 30

kill -STOP "$SNMPD_PID"
note "snmpd stopped"
ip netns exec "$NS_A" "$TOOLS/udpburst" send 10.202.0.2 9000 $TUPLES 10.202.128.0 4096 \
	$RATE $((STOP_S - 5)) >"$T/gen.out" 2>&1 &
GEN=$!
PIDS+=($GEN)
worst=0
for i in $(seq 1 $((STOP_S / 3))); do
	sleep 2
	t0=$(date +%s%N)
	tables "$T/t.json" || { fail "no JSON dump while snmpd was stopped"; break; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $ms -gt $worst ] && worst=$ms
done
# (tables waits 5 s at most; the time includes the test's own readers on a
# loaded machine: the loop's own delay is ctflowLoopSlowest, checked below)
[ $worst -lt 5000 ] && pass "ctflowd answered every SIGUSR1 while snmpd was stopped (slowest $worst ms)" ||
	fail "a JSON dump took $worst ms while snmpd was stopped"
held=$(collector "$T/t.json" notify_held)
[ "$held" -ge 1 ] && pass "the alarm raised meanwhile is held ($held held)" ||
	fail "no notification held while snmpd was stopped (held $held)"
wait "$GEN"
note "churn: $(cat "$T/gen.out")"

kill -CONT "$SNMPD_PID"
t0=$(date +%s%N)
answered=
for i in $(seq 1 100); do
	if snmpn snmpget -t 1 -r 0 -Oqv "$SNMP_AGENT" .1.3.6.1.4.1.32473.1.1.4.0 2>/dev/null |
		grep -q '^[0-9]'; then
		answered=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.05
done
[ -n "$answered" ] && [ "$answered" -le 1000 ] &&
	pass "SNMP answered $answered ms after SIGCONT" ||
	fail "SNMP did not answer within a second of SIGCONT (${answered:-never} ms)"
traps_in() { grep -c -- '32473\.0\.1|' "$T/trapd.log" 2>/dev/null || true; }
for i in $(seq 1 50); do
	[ "$(traps_in)" -ge 1 ] && break
	sleep 0.2
done
[ "$(traps_in)" -ge 1 ] && pass "the held ctflowThresholdRisingAlarm reached snmptrapd" ||
	fail "the held notification never arrived: $(tail -n 2 "$T/trapd.log")"

# every flow ends: the remaining entries expire or are flushed
sleep 2
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
sleep 1
want=$(truth_lines)
check "the reference recorder lost no event" truth_clean
check "ctflowd received all $want DESTROY events of the kernel" wait_events "$want" "$T/t.json" 60
python3 - "$T/t.json" "$want" <<'PYEOF' >"$T/r.txt" 2>&1 && pass "nothing lost: $(cat "$T/r.txt")" || fail "loss: $(cat "$T/r.txt")"
import json, sys
c = json.load(open(sys.argv[1]))["collector"]
want = int(sys.argv[2])
print("%d events, %d drops, %d overruns, slowest loop callback %d us, %d notifications sent, %d held"
      % (c["events"], c["kernel_drops"], c["overruns"], c["loop_slowest_us"], c["notify_sent"],
         c["notify_held"]))
assert c["events"] == want and want > 500000, c
assert c["kernel_drops"] == 0 and c["overruns"] == 0, c
assert c["loop_slowest_us"] < 1000000, c
assert c["notify_held"] == 0 and c["notify_sent"] >= 1, c
PYEOF

# stopping ctflowd while snmpd is stopped again: it ends, in bounded time
kill -STOP "$SNMPD_PID"
kill "$CTF_PID"
for i in $(seq 1 100); do kill -0 "$CTF_PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$CTF_PID" 2>/dev/null && pass "SIGTERM while snmpd is stopped: ctflowd ends within $((i / 10)) s" ||
	fail "ctflowd did not end within 10 s of SIGTERM while snmpd was stopped"
kill -CONT "$SNMPD_PID"
finish
