#!/bin/bash
# make install into a staging root lays out every file where the system
# looks for it; the systemd unit passes systemd-analyze verify; both man
# pages render without warnings; the installed MIB modules resolve with the
# installed net-snmp snippet alone; make uninstall removes it all again;
# plain `make` installs nothing and the tree stays clean.
TEST_NAME=install
. "$(dirname "$0")/../lib/netns.sh"

R=$T/root
tree_state() { (cd "$TOP" && git status --porcelain --untracked-files=all 2>/dev/null | grep -v ' build/'); }
before=$(tree_state)
make -s -C "$TOP" install DESTDIR="$R" PREFIX=/usr >"$T/install.log" 2>&1 ||
	fail "make install: $(tail -n 3 "$T/install.log")"
want="etc/ctflowd/ctflowd.conf etc/ctflowd/snmpd.conf.example etc/ctflowd/snmp-credentials.example
etc/modprobe.d/ctflowd.conf
etc/modules-load.d/ctflowd.conf etc/nftables.d/ctflowd.nft etc/sysctl.d/60-ctflowd.conf
lib/systemd/system/ctflowd.service usr/sbin/ctflowd usr/sbin/ctflowd-check
usr/share/man/man5/ctflowd.conf.5 usr/share/man/man8/ctflowd.8 usr/share/ctflowd/mibs/CTFLOW-MIB
usr/share/ctflowd/snmp.conf $(cd "$TOP/mibs/ietf" && ls | sed 's|^|usr/share/ctflowd/mibs/ietf/|')"
nwant=$(echo $want | wc -w)
got=$(cd "$R" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
[ "$got" = "$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ')" ] &&
	pass "make install DESTDIR lays out the $nwant files" || fail "installed: $got"
[ -z "$(ls "$R/usr/share/snmp" 2>/dev/null)" ] &&
	pass "nothing goes into net-snmp's own MIB directory" || fail "wrote into usr/share/snmp"
for m in "$TOP"/mibs/ietf/*; do
	cmp -s "$m" "$R/usr/share/ctflowd/mibs/ietf/$(basename "$m")" || fail "installed $(basename "$m") differs"
done
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
# The installed snippet alone makes every name resolve: an empty net-snmp
# configuration that includes it, as the README tells NMS hosts to do.
P=$T/prefix
make -s -C "$TOP" install PREFIX="$P" SYSCONFDIR="$T/etc" UNITDIR="$T/unit" >"$T/install2.log" 2>&1 ||
	fail "make install PREFIX: $(tail -n 3 "$T/install2.log")"
mkdir -p "$T/snmpconf"
printf 'mibs :\nincludeFile %s\n' "$P/share/ctflowd/snmp.conf" >"$T/snmpconf/snmp.conf"
bad=0
for name in CTFLOW-MIB::ctflowAggOctets IPFIX-MIB::ipfixTransportSessionRate \
	IPFIX-SELECTOR-MIB::ipfixFuncSelectAllAvail SNMPv2-MIB::sysUpTime; do
	env -u MIBS -u MIBDIRS SNMPCONFPATH="$T/snmpconf" snmptranslate -On "$name" >"$T/tr.out" 2>&1 &&
		grep -q '^\.1\.3\.6' "$T/tr.out" && ! grep -qiE 'cannot|unlinked' "$T/tr.out" || {
		fail "installed snippet: $name does not resolve: $(head -c 300 "$T/tr.out")"; bad=1; }
done
[ $bad = 0 ] && pass "with the installed snmp.conf snippet, CTFLOW-MIB, IPFIX-MIB, IPFIX-SELECTOR-MIB and SNMPv2-MIB names resolve"

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
# Plain make builds, installs nothing, and leaves the tree as git has it.
make -s -C "$TOP" -p -n 2>/dev/null | grep -qx '.DEFAULT_GOAL := all' &&
	pass "plain make's goal is all (it builds, it does not install)" || fail "default goal is not all"
after=$(tree_state)
[ "$before" = "$after" ] && pass "make install leaves the source tree as it was" ||
	fail "tree changed: $(diff <(echo "$before") <(echo "$after") | head -5 | tr '\n' ' ')"
finish
