#!/bin/bash
# What only ctflowd's own SNMP listener has (the tests that run in both
# modes cover the MIBs; SNMP_MODE=listen in tests/run.sh):
#
# 1. start failures: no address, no credentials, a credentials file others
#    may read, a broken line (file:line), a sink net-snmp refuses, a port in
#    use: each ends the start with its reason on the terminal;
# 2. the system group, snmp counters, snmpEngine and USM statistics a manager
#    discovers a device with; IPv4 and IPv6 listeners;
# 3. communities by source, SNMPv1 refused, views, read-only SET refused,
#    SNMPv3 users with SHA-2 and AES-128/256 at their levels; every refusal
#    counted in the standard counter;
# 4. a BER fuzz: thousands of random, truncated and hostile messages to both
#    listeners (the ASan/UBSan build of ctflowd when there is one): it keeps
#    answering and counts them;
# 5. the engine id stays across a restart and engineBoots counts the starts;
# 6. snmp = both: snmpd serves ctflowd's MIB over AgentX and keeps its own
#    system group; the listener beside it serves its own; a notification
#    reaches snmpd's sinks and the listener's.
TEST_NAME=snmp_listen
. "$(dirname "$0")/../lib/netns.sh"
ROOT=.1.3.6.1.4.1.32473
pair_up
notrack_lo "$NS_B"
L() { ip netns exec "$NS_B" "$@"; }
A=udp:127.0.0.1:$SNMP_PORT
A6=udp6:[::1]:$SNMP_PORT
DAEMON=$CTFLOWD
[ -x "$TOP/build/asan/ctflowd" ] && DAEMON=$TOP/build/asan/ctflowd
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
note "daemon: ${DAEMON#"$TOP"/}"

v2() { L snmpget -v2c -c "$1" -t 1 -r 0 -On "${@:2}" 2>&1; }
v2q() { L snmpget -v2c -c public -t 2 -r 1 -Oqv "$A" "$@" 2>&1; }
v3() { # v3 USER LEVEL AUTH AUTHPASS [PRIV PRIVPASS] -- ARGS
	local u=$1 l=$2 a=$3 ap=$4; shift 4
	local p=()
	[ "$1" != -- ] && p=(-x "$1" -X "$2") && shift 2
	shift
	L snmpget -v3 -u "$u" -l "$l" -a "$a" -A "$ap" "${p[@]}" -t 1 -r 0 -On "$@" 2>&1
}
stat() { v2q ".1.3.6.1.2.1.11.$1.0"; }
usm() { v2q ".1.3.6.1.6.3.15.1.1.$1.0"; }

creds() { cat >"$1"; chmod 600 "$1"; }
creds "$T/creds" <<EOF
# listener test credentials
rocommunity public 127.0.0.1
rocommunity public6 ::1
rwcommunity private 127.0.0.1/32
rocommunity sysonly 127.0.0.0/8 -V sys
view sys included .1.3.6.1.2.1.1
createUser sha2 SHA-256 "auth pass 1" AES "priv pass 1"
createUser strong SHA-512 "auth pass 2" AES-256 "priv pass 2"
createUser authonly SHA-384 "auth pass 3"
rouser sha2 priv
rouser strong priv
rouser authonly auth -V ctonly
view ctonly included $ROOT
EOF
listen_conf() { # listen_conf FILE MODE CREDS
	test_conf "$1" <<-EOF
	snmp = $2
	snmp_listen = $A, $A6
	snmp_credentials = $3
	snmp_location = rack 7, row 2
	snmp_contact = noc@example.net
	state_dir = $T/state
	dump_interval = 1s
	EOF
}
start_fails() { # start_fails NAME CONF WANT: ctflowd refuses to start, saying WANT on stderr
	local rc
	L "$DAEMON" -f "$2" >"$T/start.out" 2>&1; rc=$?
	if [ $rc -ne 0 ] && grep -qF -- "$3" "$T/start.out"; then
		pass "$1: exit $rc, \"$(grep -F -- "$3" "$T/start.out" | head -n 1 | cut -c1-110)\""
	else
		fail "$1: exit $rc: $(head -n 3 "$T/start.out")"
	fi
}

# ---- 1. start failures
test_conf "$T/e1.conf" <<EOF
snmp = listen
snmp_credentials = $T/creds
EOF
start_fails "snmp = listen without snmp_listen" "$T/e1.conf" "needs snmp_listen"
test_conf "$T/e2.conf" <<EOF
snmp = listen
snmp_listen = $A
EOF
start_fails "snmp = listen without credentials" "$T/e2.conf" "there is no default community"
cp "$T/creds" "$T/open.creds"; chmod 644 "$T/open.creds"
listen_conf "$T/e3.conf" listen "$T/open.creds"
start_fails "a credentials file others may read" "$T/e3.conf" "chmod 600"
creds "$T/bad.creds" <<EOF
rocommunity public 127.0.0.1
rouser sha2 superpriv
EOF
listen_conf "$T/e4.conf" listen "$T/bad.creds"
start_fails "a broken credentials line" "$T/e4.conf" "$T/bad.creds:2: 'superpriv' is not"
creds "$T/sink.creds" <<EOF
rocommunity public 127.0.0.1
trap2sink udp:sink.invalid:162 public
EOF
listen_conf "$T/e5.conf" listen "$T/sink.creds"
start_fails "a sink net-snmp refuses" "$T/e5.conf" "$T/sink.creds:2: net-snmp refused the trap2sink line"

# ---- 2. the listener
listen_conf "$T/c.conf" listen "$T/creds"
bg_in "$NS_B" "$T/ctflowd.log" "$DAEMON" -d -f "$T/c.conf"
CTF_PID=$LAST_PID
for i in $(seq 1 100); do v2q "$ROOT.1.1.1.0" | grep -q '^"' && break; sleep 0.1; done
check "ctflowd answers on its own port (IPv4)" sh -c "ip netns exec $NS_B snmpget -v2c -c public -Oqv $A $ROOT.1.1.1.0 | grep -q '^\"[0-9]'"
check "and on IPv6 with a community for ::1" sh -c "ip netns exec $NS_B snmpget -v2c -c public6 -Oqv $A6 $ROOT.1.1.1.0 | grep -q '^\"[0-9]'"
descr=$(v2q .1.3.6.1.2.1.1.1.0)
objid=$(L snmpget -v2c -c public -On -Oqv "$A" .1.3.6.1.2.1.1.2.0)
name=$(v2q .1.3.6.1.2.1.1.5.0) loc=$(v2q .1.3.6.1.2.1.1.6.0) contact=$(v2q .1.3.6.1.2.1.1.4.0)
up=$(L snmpget -v2c -c public -Oqvt "$A" .1.3.6.1.2.1.1.3.0)
[[ $descr == '"ctflowd '* ]] && [ "$objid" = "$ROOT.3" ] && [ "$name" = "\"$(L hostname)\"" ] &&
	[ "$loc" = '"rack 7, row 2"' ] && [ "$contact" = '"noc@example.net"' ] && [ "${up:-0}" -gt 0 ] &&
	pass "the system group: $descr, sysObjectID $objid, sysUpTime $up" ||
	fail "system group: descr $descr objid $objid name $name loc $loc contact $contact up $up"
engine=$(L snmpget -v2c -c public -Oqv -Ox "$A" .1.3.6.1.6.3.10.2.1.1.0 | tr -d ' "\n')
boots=$(v2q .1.3.6.1.6.3.10.2.1.2.0)
# (the starts that failed above count as boots too: the engine did start)
[[ $engine == 80007ED905* ]] && [ "${boots:-0}" -ge 1 ] &&
	pass "snmpEngineID $engine (format 5 under the MIB's enterprise), snmpEngineBoots $boots" ||
	fail "engine id '$engine', boots '$boots'"

# ---- 3. who may ask what, and every refusal counted
bad=$(stat 4)
v2 wrong "$A" "$ROOT.1.1.1.0" >"$T/r.txt"
v2 public "$A6" "$ROOT.1.1.1.0" >>"$T/r.txt"   # public is for 127.0.0.1 only
[ "$(grep -c Timeout "$T/r.txt")" = 2 ] && [ "$(stat 4)" = $((bad + 2)) ] &&
	pass "a wrong community, and a community from a source it is not for: no answer, snmpInBadCommunityNames +2" ||
	fail "bad communities: $(cat "$T/r.txt"), counter $bad -> $(stat 4)"
versions=$(stat 3)
L snmpget -v1 -c public -t 1 -r 0 -On "$A" .1.3.6.1.2.1.1.5.0 >"$T/v1.txt" 2>&1
grep -q Timeout "$T/v1.txt" && [ "$(stat 3)" = $((versions + 1)) ] &&
	pass "SNMPv1 is refused (it cannot carry Counter64) and counted in snmpInBadVersions" ||
	fail "v1: $(cat "$T/v1.txt"), snmpInBadVersions $versions -> $(stat 3)"
v2 sysonly "$A" .1.3.6.1.2.1.1.5.0 "$ROOT.1.1.1.0" >"$T/view.txt"
grep -q "1.5.0 = STRING" "$T/view.txt" && grep -q "$ROOT.1.1.1.0 = No Such Object" "$T/view.txt" &&
	pass "a community with a view sees the system group and not CTFLOW-MIB" ||
	fail "view: $(cat "$T/view.txt")"
uses=$(stat 5)
L snmpset -v2c -c public -t 1 -r 0 "$A" .1.3.6.1.2.1.1.5.0 s x >"$T/set.txt" 2>&1
grep -q noAccess "$T/set.txt" && [ "$(stat 5)" = $((uses + 1)) ] &&
	pass "a SET with a read-only community: noAccess, snmpInBadCommunityUses +1" ||
	fail "ro SET: $(cat "$T/set.txt"), snmpInBadCommunityUses $uses -> $(stat 5)"
L snmpset -v2c -c private -t 1 -r 0 "$A" .1.3.6.1.2.1.1.5.0 s x >"$T/set2.txt" 2>&1
grep -q notWritable "$T/set2.txt" &&
	pass "a read-write community cannot write outside ctflowThresholdTable (notWritable)" ||
	fail "rw SET of sysName: $(cat "$T/set2.txt")"
v3 sha2 authPriv SHA-256 "auth pass 1" AES "priv pass 1" -- "$A" "$ROOT.1.1.1.0" >"$T/v3a.txt"
v3 strong authPriv SHA-512 "auth pass 2" AES-256 "priv pass 2" -- "$A6" "$ROOT.1.1.1.0" >"$T/v3b.txt"
grep -q "STRING" "$T/v3a.txt" && grep -q "STRING" "$T/v3b.txt" &&
	pass "SNMPv3 users read CTFLOW-MIB: SHA-256/AES over IPv4, SHA-512/AES-256 over IPv6" ||
	fail "v3: $(cat "$T/v3a.txt" "$T/v3b.txt")"
v3 authonly authNoPriv SHA-384 "auth pass 3" -- "$A" "$ROOT.1.1.1.0" .1.3.6.1.2.1.1.5.0 >"$T/v3c.txt"
grep -q "$ROOT.1.1.1.0 = STRING" "$T/v3c.txt" && grep -q "1.5.0 = No Such Object" "$T/v3c.txt" &&
	pass "an authNoPriv user with a view: CTFLOW-MIB yes, the system group no" ||
	fail "authonly: $(cat "$T/v3c.txt")"
v3 sha2 authNoPriv SHA-256 "auth pass 1" -- "$A" "$ROOT.1.1.1.0" >"$T/v3d.txt"
grep -q authorizationError "$T/v3d.txt" &&
	pass "a priv user asking without privacy: authorizationError" || fail "level: $(cat "$T/v3d.txt")"
unk=$(usm 3) digests=$(usm 5)
v3 nobody authPriv SHA-256 "auth pass 1" AES "priv pass 1" -- "$A" "$ROOT.1.1.1.0" >"$T/v3e.txt"
v3 sha2 authPriv SHA-256 "not the pass" AES "priv pass 1" -- "$A" "$ROOT.1.1.1.0" >"$T/v3f.txt"
grep -qi "unknown user" "$T/v3e.txt" && grep -qi "authentication failure" "$T/v3f.txt" &&
	[ "$(usm 3)" = $((unk + 1)) ] && [ "$(usm 5)" = $((digests + 1)) ] &&
	pass "an unknown user and a wrong pass phrase: refused, usmStatsUnknownUserNames and usmStatsWrongDigests +1" ||
	fail "v3 refusals: $(cat "$T/v3e.txt" "$T/v3f.txt"); usm $unk->$(usm 3), $digests->$(usm 5)"

# ---- 4. the BER fuzz
parse=$(stat 6) inpkts=$(stat 1)
L python3 "$TOP/tests/lib/berfuzz.py" 127.0.0.1 "$SNMP_PORT" 6000 "$$" >"$T/fuzz.out" 2>&1
L python3 "$TOP/tests/lib/berfuzz.py" ::1 "$SNMP_PORT" 2000 "$(($$ + 1))" >>"$T/fuzz.out" 2>&1
sleep 1
alive=0
kill -0 "$CTF_PID" 2>/dev/null && alive=1
after=$(v2q "$ROOT.1.1.1.0")
note "fuzz: $(tr '\n' ' ' <"$T/fuzz.out"); snmpInPkts $inpkts -> $(stat 1), snmpInASNParseErrs $parse -> $(stat 6)"
[ $alive = 1 ] && [[ $after == '"'* ]] && [ "$(stat 6)" -gt "$parse" ] &&
	! grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$T/ctflowd.log" &&
	pass "8,000 malformed messages: ctflowd answers after them, counted $(( $(stat 6) - parse )) parse errors, no sanitizer report" ||
	fail "fuzz: alive $alive, answer '$after', parse errors $parse -> $(stat 6): $(grep -E 'Sanitizer|runtime error' "$T/ctflowd.log" | head -n 3)"
check "the log holds no line per request" sh -c "! grep -qi 'connection from' '$T/ctflowd.log'"

# ---- 5. the engine across a restart
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
bg_in "$NS_B" "$T/ctflowd2.log" "$DAEMON" -d -f "$T/c.conf"
CTF_PID=$LAST_PID
for i in $(seq 1 100); do v2q "$ROOT.1.1.1.0" | grep -q '^"' && break; sleep 0.1; done
engine2=$(L snmpget -v2c -c public -Oqv -Ox "$A" .1.3.6.1.6.3.10.2.1.1.0 | tr -d ' "\n')
boots2=$(v2q .1.3.6.1.6.3.10.2.1.2.0)
v3 sha2 authPriv SHA-256 "auth pass 1" AES "priv pass 1" -- -e "0x$engine" "$A" "$ROOT.1.1.1.0" >"$T/v3g.txt"
[ "$engine2" = "$engine" ] && [ "$boots2" = $((boots + 1)) ] && grep -q STRING "$T/v3g.txt" &&
	pass "after a restart: the same snmpEngineID, snmpEngineBoots $boots2, a v3 manager with the engine id configured still reads" ||
	fail "restart: engine $engine -> $engine2, boots $boots2: $(cat "$T/v3g.txt")"
listen_conf "$T/e6.conf" listen "$T/creds"
sed -i "s|^state_dir = .*|state_dir = $T/state2|" "$T/e6.conf"
start_fails "a second ctflowd on a port in use" "$T/e6.conf" "cannot listen on udp:127.0.0.1:$SNMP_PORT"
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null

# ---- 6. snmp = both: beside snmpd
trapd_start # (snmpd's sink, in the root namespace)
snmpd_start "trap2sink udp:127.0.0.1:$TRAP_PORT public" || exit 1
echo "disableAuthorization yes" >"$T/own-trapd.conf"
bg_in "$NS_B" /dev/null env SNMP_PERSISTENT_DIR="$T/own-trapd" /usr/sbin/snmptrapd -f \
	-Lf "$T/own-trapd.log" -C -c "$T/own-trapd.conf" -n -On -F "TRAP %V|%v\n" \
	"udp:127.0.0.1:$TRAP_PORT"
cp "$T/creds" "$T/both.creds"
echo "trap2sink udp:127.0.0.1:$TRAP_PORT public" >>"$T/both.creds"
listen_conf "$T/b.conf" both "$T/both.creds"
bg_in "$NS_B" "$T/ctflowd3.log" "$DAEMON" -d -f "$T/b.conf"
CTF_PID=$LAST_PID
check "snmp = both: registered with snmpd over AgentX" wait_subagent 20
check "snmp = both: answers on its own port" sh -c "ip netns exec $NS_B snmpget -v2c -c public -Oqv $A $ROOT.1.1.1.0 | grep -q '^\"[0-9]'"
master_descr=$(snmpn snmpget -Oqv "$SNMP_AGENT" .1.3.6.1.2.1.1.1.0)
own_descr=$(v2q .1.3.6.1.2.1.1.1.0)
[[ $master_descr != *ctflowd* ]] && [[ $own_descr == '"ctflowd '* ]] &&
	pass "snmpd keeps its own system group ($(echo "$master_descr" | cut -c1-40)...), the listener serves ctflowd's" ||
	fail "sysDescr: snmpd '$master_descr', listener '$own_descr'"
check "snmpd logged no registration conflict" sh -c "! grep -qiE 'duplicate|registration failed|error' '$T/snmpd.log'"
# a notification: conntrack accounting off, found at the next dump
L sysctl -qw net.netfilter.nf_conntrack_acct=0
for i in $(seq 1 100); do
	grep -q "$ROOT.0.4|" "$T/trapd.log" 2>/dev/null && grep -q "$ROOT.0.4|" "$T/own-trapd.log" 2>/dev/null && break
	sleep 0.2
done
L sysctl -qw net.netfilter.nf_conntrack_acct=1
[ "$(grep -c -- "$ROOT.0.4|" "$T/trapd.log")" = 1 ] && [ "$(grep -c -- "$ROOT.0.4|" "$T/own-trapd.log")" = 1 ] &&
	pass "ctflowAccountingOff reached snmpd's sink over AgentX and the listener's own sink, once each" ||
	fail "both-mode notification: snmpd's sink $(grep -c -- "$ROOT.0.4|" "$T/trapd.log"), own sink $(grep -c -- "$ROOT.0.4|" "$T/own-trapd.log" 2>/dev/null)"
finish
