#!/bin/bash
# A state directory ctflowd cannot use is never trusted and never a reason
# not to start: a region file that is corrupt, truncated, from another
# version or from another network namespace is refused with one log line
# naming it and why, kept aside, and ctflowd starts afresh for that part
# (the rest of the state is kept).  Two ctflowd on one state directory: the
# second refuses to start, saying why.  (The journal's own recovery, at any
# instant of a kill, is tests/unit/test_store and test_track's.)
TEST_NAME=state
. "$(dirname "$0")/../lib/netns.sh"

pair_up
cat >"$T/c.conf" <<CONF
dump_file = $T/t.json
snmp = no
dump_interval = 1s
state_dir = $T/state
[profile host]
key = host
CONF
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 120
start() { CTF_NS=${1:-$NS_B} ctflowd_start "$T/c.conf"; }
stop() { kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null; }
# a few flows so that the state holds rows and tracked flows
start || exit 1
udp_flows 50 >/dev/null
sleep 1.5
stop
check "an orderly stop leaves the state: track, journal, counters, profile" \
	sh -c "ls '$T/state' | grep -q '^track.region$' && ls '$T/state' | grep -q '^journal.region$' &&
	       ls '$T/state' | grep -q '^profile-host-.*\.region$'"

# refused: what it says, that it started, that the rest was kept
refused() { # refused CASE WHY-PATTERN
	local n
	start || { fail "$1: ctflowd did not start"; return; }
	n=$(grep -c "state track: .*kept aside as track.region.refused-" "$T/ctflowd.log")
	if [ "$n" = 1 ] && grep -q "state track: $2" "$T/ctflowd.log" &&
		ls "$T/state" | grep -q '^track.region.refused-'; then
		pass "$1: refused with one line ($(grep -o "state track: [^;]*" "$T/ctflowd.log")), kept aside, ctflowd runs"
	else
		fail "$1: $(grep state "$T/ctflowd.log" | tr '\n' '|')"
	fi
	rows=$(jget "$T/t.json" profiles.0.entries.#)
	tables "$T/t.json"
	rows=$(jget "$T/t.json" profiles.0.entries.#)
	[ "${rows:-0}" -gt 0 ] && pass "$1: the profile's rows were kept ($rows rows)" ||
		fail "$1: the profile's rows were lost too"
	stop
	rm -f "$T/state"/track.region.refused-*
}
printf 'this is not a state file at all.' | dd of="$T/state/track.region" conv=notrunc status=none
refused "corrupt" "not a ctflowd state file"
# the header's format number (bytes 8-11) of another version of ctflowd
printf '\x63\x00\x00\x00' | dd of="$T/state/track.region" bs=1 seek=8 conv=notrunc status=none
refused "another version" "written by another version"
truncate -s 5000 "$T/state/track.region"
refused "truncated" "truncated"

# the state of another network namespace: every region is refused
ip netns add "$NSP-other" && NAMESPACES+=("$NSP-other")
ip netns exec "$NSP-other" sysctl -qw net.netfilter.nf_conntrack_acct=1
start "$NSP-other" || exit 1
grep -c "written in another network namespace" "$T/ctflowd.log" >"$T/n.txt"
[ "$(cat "$T/n.txt")" -ge 4 ] && pass "another namespace's state: every region refused ($(cat "$T/n.txt") lines), ctflowd runs" ||
	fail "another namespace: $(grep state "$T/ctflowd.log" | tr '\n' '|')"
ANOTHER=$CTF_PID

# two ctflowd on one state directory
CTF_NS=$NS_B bg_in "$NS_B" "$T/second.log" "$CTFLOWD" -d -f "$T/c.conf"
SECOND=$LAST_PID
wait "$SECOND"; rc=$?
[ "$rc" != 0 ] && grep -q "in use by another ctflowd" "$T/second.log" &&
	pass "a second ctflowd on the same state exits $rc: $(grep -o 'state_dir.*' "$T/second.log")" ||
	fail "second ctflowd: exit $rc, $(cat "$T/second.log")"
kill "$ANOTHER"; wait "$ANOTHER" 2>/dev/null
finish
