#!/bin/bash
# conf/zabbix with the real Debian Zabbix 6.0, private to the test: the
# shipped template is what gen_template.py writes; zabbix_server with its
# own PostgreSQL cluster (in the test's directory, socket only) and the
# frontend's API served by PHP's built-in server from a private copy of the
# frontend.  The template is imported through the API, a host gets an SNMP
# interface on the private snmpd (or ctflowd's own port with
# SNMP_MODE=listen), and Zabbix discovers and polls around real traffic.
# Read back through the API: the discovered host and service rows are
# ctflowd's rows (less the one a filter macro excludes), a host's octets
# item holds exactly ctflowd's counter, its usage this month too and the
# usage trigger fires for a host over its allowance, its traffic item is
# non-zero during an upload, the value map names the accounting state, the row-count guard
# refuses the pair discovery, and the events-lost trigger fires on loss.
TEST_NAME=zabbix
. "$(dirname "$0")/../lib/netns.sh"
. "$TOP/tests/lib/pg.sh"
for b in /usr/sbin/zabbix_server php psql; do
	command -v "$b" >/dev/null || { fail "$b is not installed (make deps)"; exit 1; }
done
[ -f /usr/share/zabbix/api_jsonrpc.php ] || { fail "zabbix-frontend-php is not installed (make deps)"; exit 1; }
Z=$TOP/conf/zabbix
# (zabbix_server takes a ListenPort up to 32767 only)
ZBX_PORT=$(((SNMP_PORT + 4) % 30000 + 2000)) WEB_PORT=$((SNMP_PORT + 5)) PG_PORT=$((SNMP_PORT + 6))
ROOT=.1.3.6.1.4.1.32473
TEMPLATE="ctflowd by SNMP"

# ---- the file as shipped
python3 "$Z/gen_template.py" "$T/gen.yaml"
cmp -s "$T/gen.yaml" "$Z/ctflowd_template.yaml" &&
	pass "gen_template.py writes the shipped ctflowd_template.yaml" ||
	fail "ctflowd_template.yaml is not what gen_template.py writes: $(diff "$T/gen.yaml" "$Z/ctflowd_template.yaml" | head -n 4 | tr '\n' ' ')"

# ---- the database, the server's schema, the frontend
pg_private "$T/pg" "$PG_PORT" zabbix || exit 1
PSQL=(psql -q -X -v ON_ERROR_STOP=1 -h "$T/pg/sock" -p "$PG_PORT" -U zabbix)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE zabbix" >"$T/psql.log" 2>&1 &&
	zcat /usr/share/zabbix-server-pgsql/{schema,images,data}.sql.gz | "${PSQL[@]}" -d zabbix >>"$T/psql.log" 2>&1 ||
	{ fail "the Zabbix schema: $(tail -n 3 "$T/psql.log")"; exit 1; }
# Debian's frontend reads its configuration from one fixed path in /etc; a
# private copy reads the test's own.
cp -a /usr/share/zabbix "$T/web"
sed -i "s|const CONFIG_FILE_PATH = '/etc/zabbix/zabbix.conf.php'|const CONFIG_FILE_PATH = '$T/zabbix.conf.php'|" \
	"$T/web/include/classes/core/CConfigFile.php"
grep -q "'$T/zabbix.conf.php'" "$T/web/include/classes/core/CConfigFile.php" ||
	{ fail "the frontend's configuration path is not where this test expects it"; exit 1; }
cat >"$T/zabbix.conf.php" <<EOF
<?php
\$DB['TYPE'] = 'POSTGRESQL';
\$DB['SERVER'] = '$T/pg/sock';
\$DB['PORT'] = '$PG_PORT';
\$DB['DATABASE'] = 'zabbix';
\$DB['USER'] = 'zabbix';
\$DB['PASSWORD'] = '';
\$DB['SCHEMA'] = '';
\$DB['DOUBLE_IEEE754'] = true;
\$ZBX_SERVER = '127.0.0.1';
\$ZBX_SERVER_PORT = '$ZBX_PORT';
\$ZBX_SERVER_NAME = 'ctflowd test';
\$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
EOF
php -S "127.0.0.1:$WEB_PORT" -t "$T/web" >"$T/php.log" 2>&1 &
PIDS+=($!)
API=http://127.0.0.1:$WEB_PORT/api_jsonrpc.php
zapi() { python3 "$TOP/tests/lib/zapi.py" "$API" "$@" 2>>"$T/zapi.err"; }
# zq PYTHON-EXPR: evaluate EXPR on the JSON read from stdin (as r), print it
zq() { python3 -c "import json,sys; r=json.load(sys.stdin); print($1)" 2>/dev/null; }
for i in $(seq 1 50); do
	[ -n "$(zapi apiinfo.version '{}')" ] && break
	sleep 0.2
done
AUTH=$(zapi user.login '{"username":"Admin","password":"zabbix"}' | tr -d '"')
[ -n "$AUTH" ] || { fail "no Zabbix API: $(tail -n 3 "$T/zapi.err") $(tail -n 3 "$T/php.log")"; exit 1; }
call() { zapi "$1" "$2" "$AUTH"; }

# ---- the template through the API
[ "$(call configuration.import "@$Z/ctflowd_template.yaml")" = true ] &&
	pass "the shipped template imports through the API (configuration.import)" ||
	{ fail "import: $(tail -n 3 "$T/zapi.err")"; exit 1; }
TID=$(call template.get "{\"filter\":{\"host\":\"$TEMPLATE\"},\"output\":[\"templateid\"]}" | zq 'r[0]["templateid"]')
call template.get "{\"templateids\":[\"$TID\"],\"selectItems\":\"count\",\"selectDiscoveries\":\"count\",\"selectTriggers\":\"count\",\"selectMacros\":[\"macro\"],\"selectValueMaps\":[\"name\"]}" >"$T/template.json"
note "template: $(zq '"%s items, %s discovery rules, %s triggers, %s macros, %s value maps" % (r[0]["items"], r[0]["discoveries"], r[0]["triggers"], len(r[0]["macros"]), len(r[0]["valuemaps"]))' <"$T/template.json")"

# ---- the gateway, and Zabbix watching it
pair_up
listen_mode && notrack_lo "$NS_B" # (Zabbix's polls on ctflowd's loopback)
nms_gateway <<EOF
[profile host]
key = host
periods = month
keep = 0
[profile service]
key = proto, port
[profile pair]
key = src, dst
EOF
cat >"$T/zabbix_server.conf" <<EOF
ListenIP=127.0.0.1
ListenPort=$ZBX_PORT
LogFile=$T/zabbix_server.log
LogFileSize=0
PidFile=$T/zabbix_server.pid
SocketDir=$T
DBHost=$T/pg/sock
DBPort=$PG_PORT
DBName=zabbix
DBUser=zabbix
AllowRoot=1
User=root
StartPollers=2
StartPollersUnreachable=1
StartTrappers=1
StartPingers=0
StartDiscoverers=0
StartHTTPPollers=0
StartPreprocessors=1
StartLLDProcessors=1
StartReportWriters=0
CacheSize=32M
CacheUpdateFrequency=1
HousekeepingFrequency=0
Timeout=10
FpingLocation=/bin/true
Fping6Location=/bin/true
EOF
bg_snmp_ns "$T/zabbix_server.out" /usr/sbin/zabbix_server -f -c "$T/zabbix_server.conf"
ZBX_PID=$LAST_PID
# zabbix_server stops its processes and closes their database connections
# before PostgreSQL is asked to stop (which waits for its clients).
zabbix_stop() { stop_first TERM 10 "$ZBX_PID"; }
CLEANUP_FIRST+=(zabbix_stop)
for i in $(seq 1 100); do
	grep -q "HA manager started in active mode" "$T/zabbix_server.log" 2>/dev/null && break
	kill -0 "$ZBX_PID" 2>/dev/null || break
	sleep 0.2
done
grep -q "HA manager started in active mode" "$T/zabbix_server.log" 2>/dev/null ||
	{ fail "zabbix_server did not start: $(tail -n 3 "$T/zabbix_server.out") $(tail -n 3 "$T/zabbix_server.log" 2>/dev/null)"; exit 1; }
# the demo host that comes with the schema polls an agent nobody runs
ZS=$(call host.get '{"filter":{"host":"Zabbix server"},"output":["hostid"]}' | zq 'r[0]["hostid"]')
[ -n "$ZS" ] && call host.update "{\"hostid\":\"$ZS\",\"status\":1}" >/dev/null
GID=$(call hostgroup.create '{"name":"ctflowd gateways"}' | zq 'r["groupids"][0]')
# polls every 2 s and discovery every 5 s; a filter keeps the server's row
# out, and the pair profile may hold no row at all (so its guard refuses)
HID=$(call host.create "$(python3 -c '
import json, sys
port, gid, tid = sys.argv[1:4]
print(json.dumps({"host": "gw", "groups": [{"groupid": gid}], "templates": [{"templateid": tid}],
    "interfaces": [{"type": 2, "main": 1, "useip": 1, "ip": "127.0.0.1", "dns": "", "port": port,
                    "details": {"version": 2, "bulk": 1, "community": "public"}}],
    "macros": [{"macro": "{$CTFLOWD.INTERVAL}", "value": "2s"},
               {"macro": "{$CTFLOWD.LLD.INTERVAL}", "value": "5s"},
               {"macro": "{$CTFLOWD.LOSS.PERIOD}", "value": "1m"},
               {"macro": "{$CTFLOWD.HOST.NOT_MATCH}", "value": "^host 10\\.202\\.0\\.2$"},
               {"macro": "{$CTFLOWD.LLD.MAX_ROWS:\"pair\"}", "value": "0"},
               {"macro": "{$CTFLOWD.USAGE.PERIOD}", "value": "1"},
               {"macro": "{$CTFLOWD.USAGE.CAP:\"host 10.202.0.1\"}", "value": "1000"}]}))' "$SNMP_PORT" "$GID" "$TID")" |
	zq 'r["hostids"][0]')
[ -n "$HID" ] && pass "a host with an SNMP interface on ctflowd's agent, linked to the template" ||
	{ fail "host.create: $(tail -n 3 "$T/zapi.err")"; exit 1; }
PAIR_RULE=$(call discoveryrule.get "{\"hostids\":[\"$HID\"],\"filter\":{\"key_\":\"ctflowd.pair.discovery\"},\"output\":[\"itemid\",\"status\"]}")
[ "$(echo "$PAIR_RULE" | zq 'r[0]["status"]')" = 1 ] &&
	pass "the pair discovery comes disabled" || fail "the pair discovery: $PAIR_RULE"
call discoveryrule.update "{\"itemid\":\"$(echo "$PAIR_RULE" | zq 'r[0]["itemid"]')\",\"status\":0}" >/dev/null

# a host uploads 1 MB, and sends to the UDP sink; then the rows stand still
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 1000000 0 || fail "upload"
ip netns exec "$NS_A" "$TOOLS/udpburst" send 10.202.0.2 9000 1 10.202.0.1 1 >/dev/null 2>&1
sleep 2

# ctflowd's keys in profile N, one per line, sorted
ctf_keys() { snmpn snmpwalk -Oqv "$SNMP_AGENT" "$ROOT.1.3.1.22.$1" | tr -d '"' | sort; }
# the keys of the rows Zabbix discovered for PROFILE (from its octets items' names)
zbx_keys() {
	call item.get "{\"hostids\":[\"$HID\"],\"search\":{\"key_\":\"ctflowd.$1.fwd.octets[\"},\"output\":[\"name\"]}" |
		zq '"\n".join(sorted(i["name"].rsplit(": ", 1)[0] for i in r))'
}
# item.get of one key on the host: FIELD of it
item() { call item.get "{\"hostids\":[\"$HID\"],\"filter\":{\"key_\":\"$1\"},\"output\":[\"lastvalue\",\"state\",\"error\",\"name\"]}" | zq "r[0][\"$2\"]"; }

# wait_item KEY OID SECONDS: until the item's last value is what ctflowd
# serves at OID; sets want and got
wait_item() {
	want=$(snmpn snmpget -Oqv "$SNMP_AGENT" "$2")
	got=
	for i in $(seq 1 "$3"); do
		got=$(item "$1" lastvalue)
		[ -n "$want" ] && [ "$got" = "$want" ] && return
		sleep 1
	done
}

ROW="$ROOT.1.3.1.15.1.1.4.10.202.0.1.32.0.0.0.0.0.0.0"
IDX=1.4.10.202.0.1.32.0.0.0.0.0.0.0 # the row's index within its profile: {#SNMPINDEX}
wait_item "ctflowd.host.fwd.octets[$IDX]" "$ROW" 90
note "ctflowd's ctflowAggFwdOctets for 10.202.0.1: $want; Zabbix's item: $got"
[ -n "$want" ] && [ "$got" = "$want" ] && [ "$want" -ge 1000000 ] &&
	pass "Zabbix's item \"$(item "ctflowd.host.fwd.octets[$IDX]" name)\" holds exactly ctflowd's counter ($got)" ||
	fail "Zabbix has '$got', ctflowd says '$want' ($(item "ctflowd.host.fwd.octets[$IDX]" error) $(grep -v 'started \[' "$T/zabbix_server.log" | tail -n 3))"

# usage this month: the item holds ctflowd's total, the host over its
# (per-row) allowance raises the HIGH problem
wait_item "ctflowd.host.usage.octets[$IDX.1.0]" "$ROOT.1.7.1.11.1.$IDX.1.0" 60
[ -n "$want" ] && [ "$got" = "$want" ] && [ "$want" -ge 1000000 ] &&
	pass "Zabbix's item \"$(item "ctflowd.host.usage.octets[$IDX.1.0]" name)\" holds exactly ctflowd's usage this month ($got)" ||
	fail "usage item: Zabbix has '$got', ctflowd says '$want' ($(item "ctflowd.host.usage.octets[$IDX.1.0]" error))"
problems() { call trigger.get "{\"hostids\":[\"$HID\"],\"filter\":{\"value\":1},\"output\":[\"description\"]}" | zq '"\n".join(t["description"] for t in r)'; }
for i in $(seq 1 30); do
	problems | grep -q "host 10.202.0.1: used all of its allowance this month" && break
	sleep 1
done
problems | grep -q "host 10.202.0.1: used all of its allowance this month" &&
	! problems | grep -q "host 10.202.0.1: used 80% of its allowance" &&
	pass "the usage trigger \"$(problems | grep "allowance this month")\" fires for the host over its own allowance (the 80% one depends on it)" ||
	fail "usage problems: $(problems | tr '\n' ',')"
# (the loss test below fills the profile with 20,000 rows: no usage walks then)
call discoveryrule.update "{\"itemid\":\"$(call discoveryrule.get "{\"hostids\":[\"$HID\"],\"filter\":{\"key_\":\"ctflowd.host.usage.discovery\"},\"output\":[\"itemid\"]}" | zq 'r[0]["itemid"]')\",\"status\":1}" >/dev/null

# one more discovery after the traffic, then the rows must agree
sleep 6
ctf_keys 1 | grep -vx 'host 10.202.0.2' >"$T/ctf.host"
zbx_keys host >"$T/zbx.host"
ctf_keys 1 | grep -qx 'host 10.202.0.2' && [ -s "$T/ctf.host" ] && cmp -s "$T/ctf.host" "$T/zbx.host" &&
	pass "the discovered host rows are ctflowd's ($(wc -l <"$T/zbx.host")), less host 10.202.0.2 which {\$CTFLOWD.HOST.NOT_MATCH} filters out" ||
	fail "host rows: ctflowd $(tr '\n' ',' <"$T/ctf.host") Zabbix $(tr '\n' ',' <"$T/zbx.host")"
ctf_keys 2 >"$T/ctf.service"
zbx_keys service >"$T/zbx.service"
[ -s "$T/ctf.service" ] && cmp -s "$T/ctf.service" "$T/zbx.service" &&
	pass "the discovered service rows are ctflowd's: $(tr '\n' ',' <"$T/zbx.service" | sed 's/,$//')" ||
	fail "service rows: ctflowd $(tr '\n' ',' <"$T/ctf.service") Zabbix $(tr '\n' ',' <"$T/zbx.service")"
PAIR=$(call discoveryrule.get "{\"hostids\":[\"$HID\"],\"filter\":{\"key_\":\"ctflowd.pair.discovery\"},\"output\":[\"state\",\"error\"]}")
npairs=$(zbx_keys pair | grep -c .)
[ "$(echo "$PAIR" | zq 'r[0]["state"]')" = 1 ] && [ "$npairs" = 0 ] &&
	echo "$PAIR" | zq 'r[0]["error"]' | grep -q "rows in the pair profile, more than" &&
	pass "the row guard refuses the pair discovery over its bound: \"$(echo "$PAIR" | zq 'r[0]["error"][r[0]["error"].index("ctflowd: "):]')\"" ||
	fail "the pair discovery's guard: $PAIR, $npairs rows discovered"
acc=$(call item.get "{\"hostids\":[\"$HID\"],\"filter\":{\"key_\":\"ctflowd.kernel.accounting\"},\"output\":[\"lastvalue\"],\"selectValueMap\":[\"name\",\"mappings\"]}" |
	zq '"%s %s" % (r[0]["lastvalue"], dict((m["value"], m["newvalue"]) for m in r[0]["valuemap"]["mappings"]).get(r[0]["lastvalue"]))')
[ "$acc" = "1 on" ] && pass "ctflowKernelAccounting reads 1, named \"on\" by the template's value map" ||
	fail "kernel accounting through Zabbix: '$acc'"

# the host's traffic while it uploads (6 MB at 300 kB/s)
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 6000000 0 300000 &
UP=$!
bps=
for i in $(seq 1 60); do
	bps=$(item "ctflowd.host.fwd.bps[$IDX]" lastvalue)
	python3 -c "import sys; sys.exit(not float('${bps:-0}') > 0)" 2>/dev/null && break
	sleep 0.5
done
wait $UP
python3 -c "import sys; sys.exit(not float('${bps:-0}') > 0)" 2>/dev/null &&
	pass "the traffic item (change per second of the counter, in bits) sees the upload: $bps bps" ||
	fail "no traffic from Zabbix: '$bps' ($(item "ctflowd.host.fwd.bps[$IDX]" error))"

# loss: a 64K buffer against a flush of 20,000 flows; the trigger fires
! problems | grep -q "events lost" && pass "no events-lost problem before the loss" ||
	fail "the events-lost trigger fired before any loss"
udp_flows 20000 >/dev/null
sleep 1
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
for i in $(seq 1 90); do
	problems | grep -q "events lost" && break
	sleep 1
done
lost=$(snmpn snmpget -Oqv "$SNMP_AGENT" "$ROOT.1.1.5.0")
problems | grep -q "events lost" && [ "${lost:-0}" -gt 0 ] &&
	pass "the trigger \"$(problems | grep "events lost")\" fires once ctflowd lost events ($lost)" ||
	fail "no events-lost problem (ctflowEventsLost $lost; lost item $(item ctflowd.events.lost lastvalue), rate $(item ctflowd.events.lost.rate lastvalue) $(item ctflowd.events.lost.rate error))"
grep -E "cannot|error|failed" "$T/zabbix_server.log" | grep -v -e "Zabbix server" -e "discovery rule" | tail -n 3 | while read -r l; do note "zabbix_server: $l"; done
finish
