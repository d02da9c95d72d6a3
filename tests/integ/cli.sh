#!/bin/bash
# The command line and bad configuration files, through the real binary:
# each kind of error gives "file:line: reason" on stderr and exit status 2,
# never a crash; --check-kernel tells accounting off from on.
TEST_NAME=cli
. "$(dirname "$0")/../lib/netns.sh"

expect_conf_error() { # expect_conf_error TEXT EXPECTED-STDERR-PREFIX
	printf '%b' "$1" >"$T/bad.conf"
	"$CTFLOWD" -d -f "$T/bad.conf" >"$T/out" 2>"$T/err"
	local rc=$? want="ctflowd: $T/bad.conf$2"
	if [ $rc -eq 2 ] && [ "$(head -c ${#want} "$T/err")" = "$want" ]; then
		pass "config error reported: $(sed "s|$T/||" "$T/err")"
	else
		fail "config '$1': exit $rc, stderr '$(cat "$T/err")', expected '$want'"
	fi
}

expect_conf_error 'colour = blue\n' ':1: unknown key'
expect_conf_error '# c\n\nrcvbuf = lots\n' ':3: rcvbuf:'
expect_conf_error 'dump_interval = -1\n' ':1: dump_interval:'
expect_conf_error 'log_level = loud\n' ':1: log_level:'
expect_conf_error 'rcvbuf = 1M\nrcvbuf = 2M\n' ':2: '"'rcvbuf'"' is set twice'
expect_conf_error '[profile a]\nkey = src/99\n' ':2: key: bad prefix'
expect_conf_error '[profile a]\nrows = 5\n' ':1: [profile a] has no'
expect_conf_error '[whatever]\n' ':1: unknown section'
expect_conf_error 'rcvbuf = 256M\nrcvbuf_max = 64M\n' ':2: rcvbuf_max'
expect_conf_error 'just words\n' ':1: expected'

"$CTFLOWD" -f /nonexistent/x.conf 2>"$T/err"
[ $? -eq 2 ] && grep -q "/nonexistent/x.conf: cannot open" "$T/err" &&
	pass "missing config file: $(cat "$T/err")" || fail "missing config: $(cat "$T/err")"
"$CTFLOWD" --bogus >/dev/null 2>&1
[ $? -eq 2 ] && pass "unknown option exits 2" || fail "unknown option"
check "--version prints the version" sh -c "'$CTFLOWD' --version | grep -q '^ctflowd [0-9]'"
check "--help lists the options" sh -c "'$CTFLOWD' --help | grep -q -- --check-kernel"

# --check-kernel in a namespace of our own, accounting off then on
require_root
ns_add "$NS_B"
ip netns exec "$NS_B" nft -f "$TOP/kmod/ctflowd.nft"
ip netns exec "$NS_B" sysctl -qw net.netfilter.nf_conntrack_acct=0
ip netns exec "$NS_B" "$CTFLOWD" --check-kernel >"$T/ck" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q '^FAIL  nf_conntrack_acct = 0' "$T/ck" &&
	pass "--check-kernel fails when accounting is off (exit 1)" ||
	fail "--check-kernel with acct=0: exit $rc: $(cat "$T/ck")"
ct_enable "$NS_B"
ip netns exec "$NS_B" "$CTFLOWD" --check-kernel >"$T/ck" 2>&1
rc=$?
[ $rc -eq 0 ] && ! grep -q '^FAIL' "$T/ck" && grep -q 'accounting can work' "$T/ck" &&
	pass "--check-kernel passes when everything is on" ||
	fail "--check-kernel with acct=1: exit $rc: $(cat "$T/ck")"
sed 's/^/  # /' "$T/ck" >&2
check "kmod/ctflowd-check wraps the same probe" sh -c "ip netns exec '$NS_B' '$TOP/kmod/ctflowd-check' | grep -q 'accounting can work'"

# Daemon mode (no -d), as the README shows it: what stops the start is seen
# before ctflowd detaches, with a non-zero exit and the reason on stderr.
# Without CAP_NET_ADMIN (a user without capabilities) it cannot open its
# netlink sockets; with them, it detaches and runs (exit 0, the pid file).
printf 'dump_file = none\nstate_dir = none\nstate_file = none\nsnmp = no\npid_file = %s\n' \
	"$T/d.pid" >"$T/d.conf"
chmod 644 "$T/d.conf"
chmod 755 "$T"
ip netns exec "$NS_B" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all "$CTFLOWD" -f "$T/d.conf" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -ne 0 ] && grep -q "cannot open ctnetlink sockets (needs CAP_NET_ADMIN)" "$T/err" &&
	pass "daemon mode without CAP_NET_ADMIN: exit $rc before detaching, stderr: $(head -n 1 "$T/err")" ||
	fail "daemon mode without CAP_NET_ADMIN: exit $rc, stderr '$(cat "$T/err")'"
ip netns exec "$NS_B" "$CTFLOWD" -f "$T/d.conf" >"$T/out" 2>"$T/err"
rc=$?
dpid=$(cat "$T/d.pid" 2>/dev/null)
[ $rc -eq 0 ] && [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null && [ ! -s "$T/err" ] &&
	pass "daemon mode with the capability: exit 0 once it runs (pid $dpid), nothing on stderr" ||
	fail "daemon mode: exit $rc, pid '$dpid', stderr '$(cat "$T/err")'"
[ -n "$dpid" ] && PIDS+=("$dpid") && kill "$dpid" 2>/dev/null
for i in $(seq 1 50); do [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done

# ctflowd must not create flows of its own in the namespace it accounts, not
# even while it retries a master agent that is not there (net-snmp's own
# default would fall back to tcp:localhost:705 on every attempt).
bg_in "$NS_B" "$T/own.txt" conntrack -E -e NEW -o extended
sleep 0.3
printf 'dump_file = none\nagentx_ping = 1s\n' >"$T/own.conf"
CTF_NS=$NS_B ctflowd_start "$T/own.conf" || exit 1
sleep 3.5
kill "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
check "ctflowd creates no flows of its own while it retries AgentX" sh -c "! grep -q NEW '$T/own.txt'"
finish
