#!/bin/bash
# conf/prometheus with the real Debian servers, private to the test: the
# shipped generator.yml regenerates the shipped snmp.yml exactly
# (prometheus-snmp-generator, MIBs from the clone); promtool accepts the
# rules and the scrape configuration; snmp_exporter with the shipped
# snmp.yml scrapes a private snmpd and ctflowd (or ctflowd's own port with
# SNMP_MODE=listen) under real traffic: a host's row is a counter labelled
# by profile name and key (no OID fragments), equal to ctflowd's own
# counter; Prometheus itself, on the shipped scrape configuration and
# rules, sees a non-zero rate for the busy host, and the events-lost alert
# fires when loss is provoked.
TEST_NAME=prometheus
. "$(dirname "$0")/../lib/netns.sh"
for b in prometheus promtool prometheus-snmp-exporter prometheus-snmp-generator curl; do
	command -v "$b" >/dev/null || { fail "$b is not installed (make deps)"; exit 1; }
done
P=$TOP/conf/prometheus
EXP_PORT=$((SNMP_PORT + 2)) PROM_PORT=$((SNMP_PORT + 3))
ROOT=.1.3.6.1.4.1.32473

# ---- the files as shipped
mkdir -p "$T/gen"
cp "$P/generator.yml" "$T/gen/"
(cd "$T/gen" && MIBDIRS="$TOP/mibs:$TOP/mibs/ietf" MIBS= prometheus-snmp-generator generate) \
	>"$T/gen.out" 2>&1
if cmp -s "$T/gen/snmp.yml" "$P/snmp.yml"; then
	pass "prometheus-snmp-generator on the shipped generator.yml gives the shipped snmp.yml ($(grep -c '^  - name:' "$P/snmp.yml") metrics)"
else
	fail "snmp.yml is not what generator.yml gives: $(diff "$T/gen/snmp.yml" "$P/snmp.yml" | head -n 5 | tr '\n' ' ') $(tail -n 2 "$T/gen.out")"
fi
check "promtool check rules: the shipped rules load" promtool check rules "$P/ctflowd-rules.yml"
check "promtool check config: the shipped scrape configuration" promtool check config "$P/prometheus.yml"

# ---- ctflowd, the exporter, Prometheus
pair_up
listen_mode && notrack_lo "$NS_B" # (the exporter's and Prometheus's own loopback traffic)
nms_gateway <<EOF
[profile host]
key = host
[profile nets]
key = src/16
periods = month
EOF
bg_snmp_ns "$T/exporter.log" prometheus-snmp-exporter --config.file="$P/snmp.yml" \
	--web.listen-address="127.0.0.1:$EXP_PORT"
# the shipped scrape configuration, with this test's target, exporter and intervals
sed -e "s/scrape_interval: 60s/scrape_interval: 3s/; s/evaluation_interval: 60s/evaluation_interval: 1s/" \
	-e "s/scrape_interval: 5m/scrape_interval: 3s/; s/scrape_timeout: 2m/scrape_timeout: 3s/" \
	-e "s/scrape_timeout: 50s/scrape_timeout: 3s/; s|- ctflowd-rules.yml|- $P/ctflowd-rules.yml|" \
	-e "s/127.0.0.1:9116/127.0.0.1:$EXP_PORT/" -e "/192.0.2.2:1161/d" \
	-e "s/- 192.0.2.1 .*/- 127.0.0.1:$SNMP_PORT/" "$P/prometheus.yml" >"$T/prometheus.yml"
bg_snmp_ns "$T/prometheus.log" prometheus --config.file="$T/prometheus.yml" \
	--storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT"

scrape() { in_snmp_ns curl -s --max-time 20 "http://127.0.0.1:$EXP_PORT/snmp?module=ctflowd&target=127.0.0.1:$SNMP_PORT"; }
promql() { # promql EXPR: the first value of an instant query, or empty
	in_snmp_ns curl -s --max-time 5 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}

# a host uploads 1 MB; once its flow has ended the row stands still
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 1000000 0 || fail "upload"
sleep 2
ROW="$ROOT.1.3.1.15.1.1.4.10.202.0.1.32.0.0.0.0.0.0.0"
want=$(snmpn snmpget -Oqv "$SNMP_AGENT" "$ROW")
scrape >"$T/scrape.txt"
got=$(awk '/^ctflowAggFwdOctets\{/ && /ctflowAggKey="host 10.202.0.1"/ && /ctflowProfileName="host"/ { print $NF }' "$T/scrape.txt")
note "ctflowd's ctflowAggFwdOctets for 10.202.0.1: $want; scraped: $got"
# (the exposition format writes the shortest exact float: 1.001732e+06)
[ -n "$want" ] && [ -n "$got" ] && python3 -c "import sys; sys.exit(float('$got') != int('$want'))" &&
	[ "$want" -ge 1000000 ] &&
	pass "the exporter's ctflowAggFwdOctets{ctflowProfileName=\"host\",ctflowAggKey=\"host 10.202.0.1\"} equals ctflowd's counter ($got)" ||
	fail "scraped '$got', ctflowd says '$want'"
grep -q "^# TYPE ctflowAggFwdOctets counter" "$T/scrape.txt" && grep -q "^# TYPE ctflowEventsLost counter" "$T/scrape.txt" &&
	pass "Counter64 columns come out as Prometheus counters" || fail "types: $(grep '^# TYPE ctflowAgg' "$T/scrape.txt" | head -n 2)"
! grep -qE '^ctflowAgg[A-Za-z]*\{[^}]*ctflowAgg(Addr|Port|Proto|Zone|Mark)' "$T/scrape.txt" &&
	grep -q 'ctflowProfileRows{ctflowProfileIndex="1",ctflowProfileName="host"}' "$T/scrape.txt" &&
	pass "keys are labels (the profile's name, the row's key), not OID fragments" ||
	fail "labels: $(grep '^ctflowAggFwdOctets{' "$T/scrape.txt" | head -n 1)"

# usage this month (profile nets: one row, the clients' /16): a gauge
# labelled by the period's name and age
want=$(snmpn snmpwalk -Oq "$SNMP_AGENT" "$ROOT.1.7.1.7.2" | awk '$1 ~ /\.1\.0$/ { print $2; exit }')
in_snmp_ns curl -s --max-time 20 "http://127.0.0.1:$EXP_PORT/snmp?module=ctflowd_usage&target=127.0.0.1:$SNMP_PORT" >>"$T/scrape.txt"
got=$(awk '/^ctflowUsageFwdOctets\{/ && /ctflowAggKey="src 10.202.0.0\/16"/ && /ctflowUsagePeriodName="month"/ && /ctflowUsageAge="0"/ { print $NF }' "$T/scrape.txt")
[ -n "$want" ] && [ -n "$got" ] && python3 -c "import sys; sys.exit(float('$got') != int('$want'))" &&
	grep -q "^# TYPE ctflowUsageFwdOctets gauge" "$T/scrape.txt" &&
	pass "usage this month: ctflowUsageFwdOctets{ctflowAggKey=\"src 10.202.0.0/16\",ctflowUsagePeriodName=\"month\",ctflowUsageAge=\"0\"} is a gauge equal to ctflowd's ($got)" ||
	fail "usage this month: scraped '$got', ctflowd says '$want'"

# Prometheus: the busy host's rate while it uploads (6 MB at 300 kB/s)
ip netns exec "$NS_A" "$TOOLS/flowgen" tcp-client 10.202.0.2 80 6000000 0 300000 &
UP=$!
rate=
for i in $(seq 1 60); do
	rate=$(promql 'rate(ctflowAggFwdOctets{ctflowProfileName="host",ctflowAggKey="host 10.202.0.1"}[10s])')
	python3 -c "import sys; sys.exit(not float('${rate:-0}') > 0)" 2>/dev/null && break
	sleep 0.5
done
wait $UP
python3 -c "import sys; sys.exit(not float('${rate:-0}') > 0)" 2>/dev/null &&
	pass "Prometheus, on the shipped scrape configuration, sees the host's upload: rate $rate B/s" ||
	fail "no rate from Prometheus: '$rate' ($(tail -n 2 "$T/prometheus.log"))"
use=$(promql 'ctflowd:usage_bytes:current{ctflowAggKey="src 10.202.0.0/16",ctflowUsagePeriodName="month"}')
[ -n "$use" ] && python3 -c "import sys; sys.exit(not float('$use') >= 1000000)" &&
	pass "the recording rule ctflowd:usage_bytes:current gives the network's usage this month ($use)" ||
	fail "ctflowd:usage_bytes:current: '$use'"
rec=$(promql 'ctflowd:row_fwd_bytes:rate5m{ctflowAggKey="host 10.202.0.1"}')
[ -n "$rec" ] && pass "the recording rule ctflowd:row_fwd_bytes:rate5m is evaluated ($rec)" ||
	fail "no ctflowd:row_fwd_bytes:rate5m"

# loss: a 64K buffer against a flush of 20,000 flows; the alert fires
[ -z "$(promql 'ALERTS{alertname="CtflowdEventsLost",alertstate="firing"}')" ] &&
	pass "no events-lost alert before the loss" || fail "the alert fired before any loss"
udp_flows 20000 >/dev/null
sleep 1
ip netns exec "$NS_B" conntrack -F >/dev/null 2>&1
alert=
# up to 90 s: on a loaded machine a scrape through AgentX during the resync can time out
for i in $(seq 1 180); do
	alert=$(promql 'ALERTS{alertname="CtflowdEventsLost",alertstate="firing"}')
	[ -n "$alert" ] && break
	sleep 0.5
done
lost=$(snmpn snmpget -Oqv "$SNMP_AGENT" "$ROOT.1.1.5.0")
[ "$alert" = 1 ] && pass "CtflowdEventsLost fires once ctflowd lost events ($lost)" ||
	fail "the alert did not fire (ctflowEventsLost $lost): $(tail -n 2 "$T/prometheus.log")"
finish
