#!/bin/bash
# Install what building and testing ctflowd needs, when it is missing.
# Idempotent and quiet: nothing happens when everything is there.
set -u
PKGS=(
	build-essential pkg-config libmnl-dev        # build
	libsnmp-dev snmpd snmp snmptrapd smitools    # AgentX subagent, its tests, smilint
	clang libclang-rt-14-dev                     # clang build, sanitizers, libFuzzer
	valgrind cppcheck                            # checks
	iproute2 nftables conntrack iputils-ping     # namespaces and real conntrack
	libnetfilter-conntrack-dev                   # tests/tools/ctrecord, the ground truth
	python3 procps coreutils                     # test scripts
	curl prometheus prometheus-snmp-exporter      # Prometheus: server, promtool, exporter, generator
	tshark libfixbuf-tools socat nfdump pmacct   # IPFIX collectors and decoders
	man-db groff-base systemd util-linux passwd  # install: man pages, unit, setpriv, users
	monitoring-plugins-standard                  # Nagios: the real check_snmp
	icinga2-bin icinga2-common                   # Icinga 2: the real daemon and its ITL
	zabbix-server-pgsql zabbix-frontend-php      # Zabbix 6.0: server, frontend API,
	php-cli php-pgsql postgresql                 #   its private PostgreSQL cluster
	cacti mariadb-server rrdtool php-intl        # Cacti: its own CLI, poller and database
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages (${missing[*]}); run as root or install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Collector packages (nfdump, pmacct) ship services; tests run their own
# private instances, so keep the packages from starting any during install.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Cacti's package would set up its database through dbconfig-common; the
# test runs its own private database instead.
echo "cacti cacti/dbconfig-install boolean false" | debconf-set-selections
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/ctflowd-apt.log 2>&1; then
	apt-get update -qq >>/tmp/ctflowd-apt.log 2>&1
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/ctflowd-apt.log 2>&1 || {
		echo "deps: apt-get install failed; see /tmp/ctflowd-apt.log" >&2
		tail -n 20 /tmp/ctflowd-apt.log >&2
		exit 1
	}
fi
