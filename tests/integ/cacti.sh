#!/bin/bash
# conf/cacti with Debian's Cacti: a private MariaDB and a private copy of
# Cacti's tree in the test's directory (the system's Cacti, its database and
# its cron job are never touched).  The templates are imported with Cacti's
# own CLI, a device points at a private snmpd with ctflowd behind it, graphs
# are made for the busy host, its service and its pair, the profiles and the
# collector, and Cacti's poller runs twice with real traffic in between.
# The RRD files must then hold that traffic: the host's last stored counter
# equals ctflowd's, and the rate for the minute of the upload is not zero.
TEST_NAME=cacti
. "$(dirname "$0")/../lib/netns.sh"

CACTI_SRC=/usr/share/cacti
[ -f "$CACTI_SRC/cli/import_template.php" ] || { fail "Cacti is not installed (make deps)"; exit 1; }
for b in mariadbd mariadb-install-db mariadb rrdtool php; do
	command -v "$b" >/dev/null || { fail "$b is missing (make deps)"; exit 1; }
done

DB=$T/mariadb
CACTI=$T/cacti
PHP="php -d error_reporting=E_ALL&~E_DEPRECATED"

db() { mariadb --no-defaults -S "$DB/sock" -uroot -N -B cacti -e "$1"; }

# A private MariaDB on a unix socket only.
db_up() {
	mkdir -p "$DB"
	mariadb-install-db --no-defaults --datadir="$DB/data" --user=root \
		--auth-root-authentication-method=normal >"$T/db-install.log" 2>&1 ||
		{ fail "mariadb-install-db: $(tail -n 3 "$T/db-install.log")"; return 1; }
	mariadbd --no-defaults --datadir="$DB/data" --socket="$DB/sock" --skip-networking \
		--user=root --pid-file="$DB/pid" --log-error="$DB/error.log" 2>>"$DB/error.log" &
	PIDS+=($!)
	local i
	for i in $(seq 1 100); do
		mariadb --no-defaults -S "$DB/sock" -uroot -e 'select 1' >/dev/null 2>&1 && break
		sleep 0.2
	done
	mariadb --no-defaults -S "$DB/sock" -uroot -e "
		CREATE DATABASE cacti CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER 'cacti'@'localhost' IDENTIFIED BY 'cacti-test';
		GRANT ALL ON cacti.* TO 'cacti'@'localhost';
		GRANT SELECT ON mysql.time_zone_name TO 'cacti'@'localhost';" ||
		{ fail "MariaDB did not start: $(tail -n 3 "$DB/error.log")"; return 1; }
	mysql_tzinfo_to_sql /usr/share/zoneinfo 2>/dev/null |
		mariadb --no-defaults -S "$DB/sock" -uroot mysql
	mariadb --no-defaults -S "$DB/sock" -uroot cacti <"$CACTI_SRC/conf_templates/cacti.sql"
}

# A copy of Cacti's tree whose config, logs, RRD files and caches are ours.
cacti_tree() {
	cp -a "$CACTI_SRC" "$CACTI"
	local l
	while IFS= read -r l; do
		case "$l" in
		site/log | site/cache | site/rra) rm "$CACTI/$l"; mkdir -p "$CACTI/$l" ;;
		site/include/config.php | site/resource) rm "$CACTI/$l" ;;
		*) ln -sfn "$(readlink -f "$CACTI_SRC/$l")" "$CACTI/$l" ;;
		esac
	done < <(cd "$CACTI" && find . -type l -printf '%P\n')
	ln -s ../resource "$CACTI/site/resource"
	mkdir -p "$CACTI/site/cache/"{boost,mibcache,realtime,spikekill}
	cat >"$CACTI/site/include/config.php" <<-EOF
	<?php
	\$database_type = 'mysql';
	\$database_default = 'cacti';
	\$database_hostname = '$DB/sock';
	\$database_username = 'cacti';
	\$database_password = 'cacti-test';
	\$database_port = '3306';
	\$database_retries = 5;
	\$database_ssl = false;
	\$database_ssl_key = '';
	\$database_ssl_cert = '';
	\$database_ssl_ca = '';
	\$database_persist = false;
	\$poller_id = 1;
	\$url_path = '/cacti/';
	\$cacti_session_name = 'Cacti';
	\$cacti_db_session = false;
	\$disable_log_rotation = true;
	\$path_csrf_secret = '$CACTI/site/cache/csrf-secret.php';
	EOF
}

cacti_up() {
	db_up || return 1
	cacti_tree
	(cd "$CACTI" && $PHP cli/install_cacti.php --accept-eula --install --automationmode=0 \
		--path="cactilog:$CACTI/site/log/cacti.log") >"$T/install.log" 2>&1
	grep -q "Installation has now completed" "$T/install.log" ||
		{ fail "Cacti's installer: $(tail -n 5 "$T/install.log" | tr '\n' ' ')"; return 1; }
	# One-minute polling, so two polls a minute apart fill one RRD step.
	db "REPLACE INTO settings (name, value) VALUES ('poller_interval', '60'), ('cron_interval', '60'),
		('log_verbosity', '3')"
}

cacti() { # cacti SCRIPT ARGS...: one of Cacti's CLI scripts, run in our tree
	local s=$1; shift
	(cd "$CACTI/cli" && in_snmp_ns $PHP "$s" "$@")  # (its database is a unix socket)
}

# --- ctflowd, snmpd and a first flow, so the rows exist when Cacti looks
pair_up
snmpd_start || exit 1
bg_in "$NS_B" "$T/server.out" "$TOOLS/flowgen" tcp-server 80
# The profiles of the shipped ctflowd.conf: the data queries assume its order.
test_conf "$T/c.conf" < <(
	echo "dump_interval = 1s"
	awk '/^\[/ { p = /^\[profile / } p && !/^#/' "$TOP/conf/ctflowd.conf" |
		sed '/^key = host$/a periods = month\nkeep = 0'  # usage this month
)
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
check "the subagent registered" wait_subagent 30
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 1000 0 || fail "first flow"

# --- Cacti, and the templates as an administrator installs them
cacti_up || exit 1
pass "Cacti $(cat "$CACTI/site/include/cacti_version") installed in a private tree and database"
for f in "$TOP"/conf/cacti/ctflowd_*.xml; do cp "$f" "$CACTI/resource/snmp_queries/"; done
cacti import_template.php --filename="$TOP/conf/cacti/cacti_ctflowd_templates.xml" --profile-id=3 \
	>"$T/import.log" 2>&1
if grep -q '\[success\]' "$T/import.log" && ! grep -qiE 'fail|error|unmet' "$T/import.log"; then
	pass "import_template.php imports every template ($(grep -c '\[success\]' "$T/import.log") objects)"
else
	fail "import_template.php: $(grep -iE 'fail|error|unmet' "$T/import.log" | head -n 3 | tr '\n' ' ')"
fi
check "no import errors in Cacti's log" sh -c "! grep -i 'import error' '$CACTI/site/log/cacti.log'"
# A second import (an upgrade with the same file) changes nothing and adds no copies.
cacti import_template.php --filename="$TOP/conf/cacti/cacti_ctflowd_templates.xml" --profile-id=3 \
	>"$T/import2.log" 2>&1
n=$(db "SELECT COUNT(*) FROM graph_templates WHERE name LIKE 'ctflowd%'")
[ "$(grep -c '\[unchanged\]' "$T/import2.log")" = "$(grep -c '\[success\]' "$T/import.log")" ] && [ "$n" = 11 ] &&
	pass "importing again leaves all $n graph templates unchanged, no copies" ||
	fail "second import: $n graph templates; $(grep -v unchanged "$T/import2.log" | head -n 5 | tr '\n' ' ')"

HT=$(db "SELECT id FROM host_template WHERE name = 'ctflowd Gateway'")
cacti add_device.php --description=gateway --ip=127.0.0.1 --template="$HT" --version=2 \
	--community=public --port="$SNMP_PORT" --avail=snmp >"$T/device.log" 2>&1
HID=$(sed -n 's/.*device-id: (\([0-9]*\)).*/\1/p' "$T/device.log")
[ -n "$HID" ] && pass "add_device.php added the gateway with the ctflowd Gateway template" ||
	{ fail "add_device.php: $(tail -n 3 "$T/device.log")"; exit 1; }
cacti poller_reindex_hosts.php --id="$HID" --qid=all >"$T/reindex.log" 2>&1

query_id() { db "SELECT id FROM snmp_query WHERE name = '$1'"; }
# graph QUERY GRAPH FIELD VALUE: a data query graph for the row whose FIELD is VALUE
graph() {
	local q g
	q=$(query_id "$1")
	g=$(db "SELECT id FROM snmp_query_graph WHERE snmp_query_id = $q AND name = '$2'")
	cacti add_graphs.php --host-id="$HID" --graph-type=ds --graph-template-id="$(db \
		"SELECT graph_template_id FROM snmp_query_graph WHERE id = $g")" --snmp-query-id="$q" \
		--snmp-query-type-id="$g" --snmp-field="$3" --snmp-value="$4" >"$T/graph.out" 2>&1
	cat "$T/graph.out" >>"$T/graphs.log"
	grep -q "Graph Added" "$T/graph.out" ||
		fail "add_graphs.php for $1 $2 '$4': $(tail -n 2 "$T/graph.out" | tr '\n' ' ')"
}
values() { # values QUERY FIELD: what Cacti's data query found, one per line
	cacti add_graphs.php --host-id="$HID" --list-snmp-values --snmp-query-id="$(query_id "$1")" \
		--snmp-field="$2" 2>/dev/null
}
values "ctflowd - Hosts" ctflowAggKey >"$T/hosts.txt"
check "the Hosts data query lists the client, labelled by ctflowAggKey" grep -qx "host 10.202.0.1" "$T/hosts.txt"
values "ctflowd - Services" ctflowAggKey >"$T/services.txt"
check "the Services data query lists tcp port 80" grep -qx "proto 6 port 80" "$T/services.txt"
values "ctflowd - Host pairs" ctflowAggKey >"$T/pairs.txt"
check "the Host pairs data query lists the pair" grep -qx "src 10.202.0.1 dst 10.202.0.2" "$T/pairs.txt"
values "ctflowd - Host usage" ctflowUsageKey >"$T/usage.txt"
check "the Host usage data query lists the client's usage this month" grep -qx "host 10.202.0.1" "$T/usage.txt"
values "ctflowd - Profiles" ctflowProfileName >"$T/profiles.txt"
check "the Profiles data query lists the three profiles" \
	sh -c "grep -qx host '$T/profiles.txt' && grep -qx service '$T/profiles.txt' && grep -qx pair '$T/profiles.txt'"

: >"$T/graphs.log"
graph "ctflowd - Hosts" Traffic ctflowAggKey "host 10.202.0.1"
graph "ctflowd - Hosts" "Packets and new flows" ctflowAggKey "host 10.202.0.1"
graph "ctflowd - Services" Traffic ctflowAggKey "proto 6 port 80"
graph "ctflowd - Host pairs" Traffic ctflowAggKey "src 10.202.0.1 dst 10.202.0.2"
graph "ctflowd - Profiles" Fill ctflowProfileName host
graph "ctflowd - Host usage" "Usage this period" ctflowUsageKey "host 10.202.0.1"
for gt in "ctflowd - Collector events" "ctflowd - Tracked flows"; do
	n=$(db "SELECT COUNT(*) FROM graph_local gl JOIN graph_templates gt ON gt.id = gl.graph_template_id
		WHERE gl.host_id = $HID AND gt.name = '$gt'")
	[ "$n" = 1 ] && pass "the device template made the '$gt' graph by itself" ||
		fail "$n '$gt' graphs after add_device.php, not 1"
done
n=$(db "SELECT COUNT(*) FROM graph_local WHERE host_id = $HID")
[ "$n" -eq 8 ] && pass "the device has 8 graphs" || fail "$n graphs, not 8: $(cat "$T/graphs.log")"

# --- two polls, one minute apart, around a paced upload.  The first poll is
# just after a minute starts, so the second one completes that minute's RRD
# step with most of it known.
poll() {
	cacti ../site/poller.php --force >>"$T/poller.log" 2>&1 || fail "poller.php: $(tail -n 3 "$T/poller.log")"
}
sec() { echo $((10#$(date +%S))); }
until [ "$(sec)" -ge 1 ] && [ "$(sec)" -le 8 ]; do sleep 0.5; done
t1=$(date +%s)
poll
# 2 MB at 50 kB/s: about 40 seconds of upload, over well before the next poll
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 2000000 0 50000 ||
	fail "the paced upload"
# The next minute's third second, and at least two dumps after the upload.
t2=$(( (t1 / 60 + 1) * 60 + 3 ))
[ "$t2" -lt $(($(date +%s) + 2)) ] && t2=$(($(date +%s) + 2))
while [ "$(date +%s)" -lt "$t2" ]; do sleep 0.5; done
poll
# Each poll logs "Items: N, Errors: E"; a failed SNMP get is an error there.
grep -o 'Items: [0-9]*, Errors: [0-9]*' "$CACTI/site/log/cacti.log" >"$T/polls.txt"
[ "$(grep -c 'Errors: 0$' "$T/polls.txt")" -eq 2 ] && [ "$(grep -c . "$T/polls.txt")" -eq 2 ] &&
	pass "both polls read every item without an error ($(head -n 1 "$T/polls.txt"))" ||
	fail "the polls: $(tr '\n' ' ' <"$T/polls.txt")"

# rrd DATA_SOURCE_NAME_PATTERN DS: the RRD file of the data source whose name matches
rrd_of() {
	db "SELECT REPLACE(data_source_path, '<path_rra>', '$CACTI/site/rra') FROM data_template_data
		WHERE local_data_id > 0 AND name_cache LIKE '$1' LIMIT 1"
}
# The step's rate: the largest AVERAGE over the last five minutes.
rrd_rate() { rrdtool fetch "$1" AVERAGE -s -300 | awk -v ds="$2" '
	NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) c = i + 1 }
	NR > 2 && c && $c != "-nan" && $c != "nan" { v = $c + 0; if (v > m) m = v }
	END { printf "%.6g\n", m }'; }
positive() { awk -v v="$1" 'BEGIN { exit !(v > 0) }'; }
rrd_last() { rrdtool info "$1" | sed -n "s/^ds\[$2\].last_ds = \"\(.*\)\"/\1/p"; }

# Every graph renders through Cacti's own graph function (the templates'
# items, CDEFs and GPRINTs make a valid rrdtool command).
cat >"$CACTI/cli/render_graph.php" <<'EOF'
<?php
require(__DIR__ . '/../site/include/cli_check.php');
include_once($config['library_path'] . '/rrd.php');
$png = rrdtool_function_graph($argv[1], 0, array('graph_start' => time() - 900, 'graph_end' => time()));
file_put_contents($argv[2], $png);
EOF
for g in $(db "SELECT id FROM graph_local WHERE host_id = $HID"); do
	title=$(db "SELECT title_cache FROM graph_templates_graph WHERE local_graph_id = $g")
	cacti render_graph.php "$g" "$T/graph-$g.png" >"$T/render.log" 2>&1
	[ "$(head -c 4 "$T/graph-$g.png" 2>/dev/null | tail -c 3)" = PNG ] &&
		pass "Cacti renders '$title'" || fail "graph '$title' does not render: $(head -c 300 "$T/graph-$g.png" "$T/render.log")"
done

ROW=1.1.4.10.202.0.1.32.0.0.0.0.0.0.0
f=$(rrd_of "%host 10.202.0.1 traffic")
if [ -n "$f" ] && [ -f "$f" ]; then
	want=$(snmpn snmpget -Oqv "$SNMP_AGENT" ".1.3.6.1.4.1.32473.1.3.1.15.$ROW" | awk '{print $1}')
	got=$(rrd_last "$f" fwd_octets)
	[ -n "$got" ] && [ "$got" = "$want" ] &&
		pass "the host's traffic RRD last stored $got octets sent: ctflowd's counter, exactly" ||
		fail "the host's traffic RRD last stored '$got' octets sent, ctflowd says '$want'"
	r=$(rrd_rate "$f" fwd_octets)
	positive "$r" && pass "the host's traffic RRD holds $r bytes/s sent for the minute of the upload" ||
		fail "the host's traffic RRD holds no traffic: $(rrdtool fetch "$f" AVERAGE -s -300 | tail -n 6 | tr '\n' ' ')"
	r=$(rrd_rate "$f" rev_octets)
	positive "$r" && pass "... and $r bytes/s received (the server's acknowledgements)" ||
		fail "the host's traffic RRD holds nothing received"
else
	fail "no RRD file for the host's traffic graph ('$f')"
fi
f=$(rrd_of "%host 10.202.0.1 usage this period")
want=$(snmpn snmpget -Oqv "$SNMP_AGENT" ".1.3.6.1.4.1.32473.1.7.1.7.$ROW.1.0" | awk '{print $1}')
got=$( [ -n "$f" ] && [ -f "$f" ] && rrd_last "$f" fwd_used)
[ -n "$got" ] && [ "$got" = "$want" ] && [ "$want" -ge 2000000 ] &&
	pass "the host's usage RRD last stored $got octets sent this month: ctflowd's total, exactly" ||
	fail "the host's usage RRD last stored '$got' octets sent this month, ctflowd says '$want' ('$f')"
for pat in "%host 10.202.0.1 packets and new flows:fwd_packets" "%proto 6 port 80 traffic:fwd_octets" \
	"%src 10.202.0.1 dst 10.202.0.2 traffic:fwd_octets" "%profile host fill:rows" \
	"%ctflowEventsReceived:events" "%ctflowTrackedFlows:tracked"; do
	f=$(rrd_of "${pat%%:*}")
	ds=${pat##*:}
	last=$( [ -n "$f" ] && [ -f "$f" ] && rrd_last "$f" "$ds")
	case "$last" in
	"" | U) fail "RRD '${pat%%:*}' ($ds): nothing stored ('$f')" ;;
	*) pass "RRD '${pat#%}' was updated by the poller (last value $last)" ;;
	esac
done
r=$(rrd_rate "$(rrd_of "%host 10.202.0.1 packets and new flows")" flows)
positive "$r" && pass "the host's new-flow rate in the upload's minute is $r/s, not zero" ||
	fail "the host's new-flow rate is zero"
finish
