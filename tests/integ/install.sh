#!/bin/bash
# make install into a staging root lays out every file where the system
# looks for it; the systemd unit passes systemd-analyze verify; both man
# pages render without warnings; make uninstall removes it all again.
TEST_NAME=install
. "$(dirname "$0")/../lib/netns.sh"

R=$T/root
make -s -C "$TOP" install DESTDIR="$R" PREFIX=/usr >"$T/install.log" 2>&1 ||
	fail "make install: $(tail -n 3 "$T/install.log")"
want="etc/ctflowd/ctflowd.conf etc/ctflowd/snmpd.conf.example etc/modprobe.d/ctflowd.conf
etc/modules-load.d/ctflowd.conf etc/nftables.d/ctflowd.nft etc/sysctl.d/60-ctflowd.conf
lib/systemd/system/ctflowd.service usr/sbin/ctflowd usr/sbin/ctflowd-check
usr/share/man/man5/ctflowd.conf.5 usr/share/man/man8/ctflowd.8 usr/share/snmp/mibs/CTFLOW-MIB"
got=$(cd "$R" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
[ "$got" = "$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ')" ] &&
	pass "make install DESTDIR lays out the 12 files" || fail "installed: $got"
[ -x "$R/usr/sbin/ctflowd" ] && "$R/usr/sbin/ctflowd" --version | grep -q "ctflowd" &&
	pass "the installed binary runs" || fail "installed binary"
grep -q "^ExecStart=/usr/sbin/ctflowd -d -f /etc/ctflowd/ctflowd.conf" \
	"$R/lib/systemd/system/ctflowd.service" && pass "the unit starts the installed binary" ||
	fail "unit: $(grep Exec "$R/lib/systemd/system/ctflowd.service")"
for k in "User=ctflowd" "AmbientCapabilities=CAP_NET_ADMIN" "CapabilityBoundingSet=CAP_NET_ADMIN" \
	"NoNewPrivileges=yes" "ProtectSystem=strict" "Restart=on-failure" \
	"RestrictAddressFamilies=AF_NETLINK AF_UNIX AF_INET AF_INET6" "After=network.target snmpd.service"; do
	grep -qx "$k" "$R/lib/systemd/system/ctflowd.service" || fail "unit lacks $k"
done
pass "the unit runs as ctflowd with CAP_NET_ADMIN alone, hardened, after snmpd"
# (the staged binary, since the unit's path is not installed on this machine;
# tests/deps.sh installs systemd, so a missing systemd-analyze fails here)
sed "s|^ExecStart=/usr/sbin/ctflowd|ExecStart=$R/usr/sbin/ctflowd|" \
	"$R/lib/systemd/system/ctflowd.service" >"$T/ctflowd.service"
check "systemd-analyze verify passes on the unit" systemd-analyze verify --man=no "$T/ctflowd.service"
for m in man8/ctflowd.8 man5/ctflowd.conf.5; do
	groff -man -ww -z "$R/usr/share/man/$m" >"$T/groff.log" 2>&1 &&
		[ ! -s "$T/groff.log" ] && man -l "$R/usr/share/man/$m" 2>/dev/null | grep -q "SEE ALSO" &&
		pass "man -l renders $m without warnings" || fail "$m: $(head -n 3 "$T/groff.log")"
done
# a second install keeps an existing configuration
echo "# local change" >>"$R/etc/ctflowd/ctflowd.conf"
make -s -C "$TOP" install DESTDIR="$R" PREFIX=/usr >/dev/null 2>&1
grep -q "# local change" "$R/etc/ctflowd/ctflowd.conf" &&
	pass "make install does not overwrite an existing ctflowd.conf" || fail "config overwritten"
make -s -C "$TOP" uninstall DESTDIR="$R" PREFIX=/usr >/dev/null 2>&1
left=$(cd "$R" && find . -type f | sed 's|^\./||' | tr '\n' ' ')
[ "$left" = "etc/ctflowd/ctflowd.conf " ] &&
	pass "make uninstall removes everything but the changed configuration" ||
	fail "left after uninstall: $left"
finish
