/*
 * test_conf: the configuration parser: defaults, every key, and one case per
 * kind of error, each reported as "file:line: reason".
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctflowd_conf.h"
#include "tap.h"

#define TAP_NAME "test_conf"

static int parse(struct conf *c, const char *text, char *err, size_t errlen)
{
	conf_defaults(c);
	return conf_parse_buffer(c, "t.conf", text, strlen(text), err, errlen);
}

static void defaults_have_three_profiles(void)
{
	struct conf c;

	conf_defaults(&c);
	CHECK_EQ_U(c.nprofiles, 3);
	CHECK(strcmp(c.profiles[0].name, "host") == 0);
	CHECK(strcmp(c.profiles[1].name, "service") == 0);
	CHECK(strcmp(c.profiles[2].name, "pair") == 0);
	CHECK(c.profiles[0].spec.host);
	CHECK_EQ_U(c.dump_interval_ms, 60000);
	CHECK_EQ_U(c.rcvbuf, 64u << 20);
	CHECK(c.rcvbuf_max >= c.rcvbuf);
}

static void every_key_is_typed(void)
{
	struct conf c;
	char err[512] = "";
	const char *text =
		"# comment\n"
		"dump_interval = 5m   # trailing comment\n"
		"rcvbuf = 128M\n"
		"rcvbuf_max = 2G\n"
		"reliable_events = yes\n"
		"max_tracked_flows = 500k\n"
		"coalesce = 20ms\n"
		"loop_budget = 3ms\n"
		"dump_file = /tmp/x.json\n"
		"pid_file = /run/ctflowd.pid\n"
		"log_level = debug\n"
		"snmp = no\n"
		"agentx_socket = tcp:localhost:705\n"
		"agentx_ping = 10s\n"
		"snmp_root = .1.3.6.1.4.1.99999.5\n"
		"top_interval = 30s\n"
		"ipfix_domain = 4000000000\n"
		"ipfix_enterprise_ies = yes\n"
		"ipfix_stats_interval = 10s\n"
		"[collector nfcapd]\n"
		"address = 192.0.2.10\n"
		"port = 9995\n"
		"statistics = no\n"
		"export = uniflow\n"
		"[collector central]\n"
		"address = 2001:db8::10\n"
		"transport = tcp\n"
		"reconnect = 5s\n"
		"reconnect_max = 20s\n"
		"buffer = 5000\n"
		"mtu = 9000\n"
		"template_refresh = 2m\n"
		"\n"
		"[profile subnets]\n"
		"key = src/24/64, dst/24/64\n"
		"rows = 1000\n"
		"top = 25\n"
		"[profile nat]\n"
		"key = host\n"
		"addresses = translated\n";

	CHECK(parse(&c, text, err, sizeof(err)) == 0);
	if (err[0])
		printf("  # %s\n", err);
	CHECK_EQ_U(c.dump_interval_ms, 300000);
	CHECK_EQ_U(c.rcvbuf, 128u << 20);
	CHECK_EQ_U(c.rcvbuf_max, 2ull << 30);
	CHECK_EQ_U(c.reliable_events, 1);
	CHECK_EQ_U(c.max_tracked_flows, 500000);
	CHECK_EQ_U(c.coalesce_ms, 20);
	CHECK_EQ_U(c.loop_budget_ms, 3);
	CHECK(strcmp(c.dump_file, "/tmp/x.json") == 0);
	CHECK(strcmp(c.pid_file, "/run/ctflowd.pid") == 0);
	struct conf off;

	CHECK(parse(&off, "dump_file = none\n", err, sizeof(err)) == 0);
	CHECK(off.dump_file[0] == '\0');
	CHECK_EQ_U(c.log_level, LOG_LVL_DEBUG);
	CHECK_EQ_U(c.snmp, 0);
	CHECK(strcmp(c.agentx_socket, "tcp:localhost:705") == 0);
	CHECK_EQ_U(c.agentx_ping_ms, 10000);
	CHECK_EQ_U(c.snmp_root_len, 8);
	CHECK_EQ_U(c.snmp_root[6], 99999);
	CHECK_EQ_U(c.snmp_root[7], 5);
	CHECK_EQ_U(c.top_interval_ms, 30000);
	CHECK_EQ_U(c.profiles[0].top, 25);
	CHECK_EQ_U(c.ipfix_domain, 4000000000u);
	CHECK_EQ_U(c.ipfix_enterprise_ies, 1);
	CHECK_EQ_U(c.ipfix_stats_interval_ms, 10000);
	CHECK_EQ_U(c.ncollectors, 2);
	CHECK(strcmp(c.collectors[0].address, "192.0.2.10") == 0);
	CHECK_EQ_U(c.collectors[0].port, 9995);
	CHECK_EQ_U(c.collectors[0].tcp, 0);
	CHECK_EQ_U(c.collectors[0].mtu, 1500);
	CHECK_EQ_U(c.collectors[0].reconnect_ms, 60000);
	CHECK_EQ_U(c.collectors[1].tcp, 1);
	CHECK_EQ_U(c.collectors[1].port, 4739);
	CHECK_EQ_U(c.collectors[1].reconnect_ms, 5000);
	CHECK_EQ_U(c.collectors[1].buffer, 5000);
	CHECK_EQ_U(c.collectors[1].mtu, 9000);
	CHECK_EQ_U(c.collectors[1].template_refresh_ms, 120000);
	CHECK_EQ_U(c.collectors[0].statistics, 0);
	CHECK_EQ_U(c.collectors[0].reconnect_max_ms, 300000);
	CHECK_EQ_U(c.collectors[1].reconnect_max_ms, 20000);
	CHECK_EQ_U(c.collectors[1].statistics, 1);
	CHECK_EQ_U(c.collectors[0].uniflow, 1);
	CHECK_EQ_U(c.collectors[1].uniflow, 0); /* biflow by default */
	CHECK_EQ_U(c.profiles[1].top, 10);
	CHECK_EQ_U(c.nprofiles, 2); /* named profiles replace the defaults */
	CHECK(strcmp(c.profiles[0].name, "subnets") == 0);
	CHECK_EQ_U(c.profiles[0].rows, 1000);
	CHECK_EQ_U(c.profiles[0].spec.f[1].plen6, 64);
	CHECK_EQ_U(c.profiles[1].spec.view, AGG_VIEW_TRANSLATED);
	CHECK_EQ_U(c.profiles[1].rows, 65536);
}

static void errors_name_file_line_and_reason(void)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "colour = blue\n", "t.conf:1: unknown key 'colour'" },
		{ "\n\nrcvbuf = lots\n", "t.conf:3: rcvbuf: 'lots' is not a size such as 65536, 64M or 1G" },
		{ "rcvbuf = 1k\n", "t.conf:1: rcvbuf: 1k is out of range 65536..4294967296" },
		{ "dump_interval = soon\n", "t.conf:1: dump_interval: 'soon' is not a duration" },
		{ "coalesce = 2s\n", "t.conf:1: coalesce: 2s is out of range 0..1000 ms" },
		{ "reliable_events = maybe\n", "t.conf:1: reliable_events: 'maybe' is not yes or no" },
		{ "dump_file = tables.json\n", "t.conf:1: dump_file: 'tables.json' is not an absolute path (or none)" },
		{ "log_level = loud\n", "t.conf:1: log_level: 'loud' is not error, warning, info or debug" },
		{ "rcvbuf = 1M\nrcvbuf = 2M\n", "t.conf:2: 'rcvbuf' is set twice" },
		{ "rcvbuf\n", "t.conf:1: expected 'key = value' or a section header" },
		{ "rcvbuf =\n", "t.conf:1: 'rcvbuf' has no value" },
		{ "= 5\n", "t.conf:1: missing key before '='" },
		{ "[exporter x]\n", "t.conf:1: unknown section '[exporter x]'" },
		{ "[collector x]\n", "t.conf:1: [collector x] has no 'address'" },
		{ "[collector x]\naddress = 10.0.0.300\n", "t.conf:2: address: '10.0.0.300' is not an IPv4 or IPv6 address" },
		{ "[collector x]\naddress = ::1\ntransport = sctp\n", "t.conf:3: transport: 'sctp' is not udp or tcp" },
		{ "[collector x]\naddress = ::1\nexport = netflow\n", "t.conf:3: export: 'netflow' is not biflow or uniflow" },
		{ "[collector x]\naddress = ::1\nport = 70000\n", "t.conf:3: port: 70000 is out of range 1..65535" },
		{ "[collector x]\naddress = ::1\n[collector x]\naddress = ::1\n", "t.conf:3: collector 'x' is defined twice" },
		{ "[collector x]\naddress = ::1\nrows = 5\n", "t.conf:3: unknown key 'rows' in [collector x]" },
		{ "[collector x]\naddress = ::1\nreconnect = 2m\nreconnect_max = 1m\n",
		  "t.conf:4: [collector x]: reconnect_max is less than reconnect" },
		{ "[profile]\n", "t.conf:1: unknown section '[profile]'" },
		{ "[profile a b\n", "t.conf:1: section header must be '[profile NAME]'" },
		{ "[profile bad!name]\n", "t.conf:1: profile name 'bad!name' must be 1-32 letters" },
		{ "[profile a]\nkey = host\n[profile a]\n", "t.conf:3: profile 'a' is defined twice" },
		{ "[profile a]\nrows = 10\n", "t.conf:1: [profile a] has no 'key'" },
		{ "[profile a]\nkey = src/40\n", "t.conf:2: key: bad prefix in 'src/40'" },
		{ "[profile a]\nkey = host\nsize = 3\n", "t.conf:3: unknown key 'size' in [profile a]" },
		{ "[profile a]\nkey = host\naddresses = both\n", "t.conf:3: addresses: 'both' is not original or translated" },
		{ "[profile a]\nkey = host\nrows = 0\n", "t.conf:3: rows: 0 is out of range" },
		{ "rcvbuf = 256M\nrcvbuf_max = 128M\n", "t.conf:2: rcvbuf_max (134217728) is smaller than rcvbuf" },
		{ "max_tracked_flows = 99999999999999999999999\n", "t.conf:1: max_tracked_flows: '99999999999999999999999' is not a whole number" },
		{ "snmp_root = 1.3.six\n", "t.conf:1: snmp_root: '1.3.six' is not an OID" },
		{ "snmp_root = 1.3.\n", "t.conf:1: snmp_root: '1.3.' is not an OID" },
		{ "snmp_root = 1.3.6.1.4.1.4294967296\n", "t.conf:1: snmp_root: '1.3.6.1.4.1.4294967296' is not an OID" },
		{ "snmp_root = 1\n", "t.conf:1: snmp_root: '1' is too short" },
		{ "agentx_ping = 0\n", "t.conf:1: agentx_ping: 0 is out of range" },
		{ "[profile a]\nkey = host\ntop = 5000\n", "t.conf:3: top: 5000 is out of range 0..1000" },
		{ "[threshold t]\nrising = 5\n", "t.conf:1: [threshold t] has no 'profile'" },
		{ "[threshold t]\nprofile = host\n", "t.conf:1: [threshold t] has no 'rising'" },
		{ "[threshold t]\nprofile = nosuch\nrising = 5\n", "t.conf:2: [threshold t]: no profile 'nosuch'" },
		{ "[threshold t]\nprofile = host\nrising = 5\nfalling = 6\n",
		  "t.conf:4: [threshold t]: falling (6) is above rising (5)" },
		{ "[threshold t]\nprofile = host\nrising = 5\nport = 443\n",
		  "t.conf:4: [threshold t]: port needs a profile keyed by port" },
		{ "[threshold t]\nprofile = service\nrising = 5\nmatch = 10.0.0.0/8\n",
		  "t.conf:4: [threshold t]: match needs addresses" },
		{ "[threshold t]\nmatch = 10.0.0.0/33\n", "t.conf:2: match: prefix length in '10.0.0.0/33' must be 0-32" },
		{ "[threshold t]\nmatch = somewhere\n", "t.conf:2: match: 'somewhere' is not 'any' or ADDRESS[/LENGTH]" },
		{ "[threshold t]\nmetric = bits\n", "t.conf:2: metric: 'bits' is not bytes, packets or flows" },
		{ "[threshold t]\ndirection = up\n", "t.conf:2: direction: 'up' is not sent, received or both" },
		{ "[threshold t]\nproto = gre2\n", "t.conf:2: proto: 'gre2' is not tcp, udp, icmp" },
		{ "[threshold t]\nwindow = 2h\n", "t.conf:2: window: 2h is out of range" },
		{ "[threshold t]\nprofile = host\nrising = 5\n[threshold t]\n", "t.conf:4: threshold 't' is defined twice" },
		{ "[threshold t]\nrows = 0\n", "t.conf:2: rows: 0 is out of range" },
		{ "[threshold t]\nprofile = host\nrising = 5\nmatch2 = 10.0.0.1\n",
		  "t.conf:4: [threshold t]: match2 needs a profile keyed by dst" },
		{ "[threshold t]\nmatch2 = 1.2.3.4/99\n", "t.conf:2: match2: prefix length in '1.2.3.4/99' must be 0-32" },
		{ "[threshold t]\nstatus = on\n", "t.conf:2: status: 'on' is not active or notInService" },
		{ "dump_interval = 30s\n[threshold t]\nprofile = host\nrising = 5\nwindow = 40s\n",
		  "t.conf:5: [threshold t]: window (40 s) must be at least twice dump_interval (30 s)" },
		{ "[profile a]\nkey = host\nperiods = fortnight\n",
		  "t.conf:3: periods: 'fortnight' is not a period: day, week, month, or a length" },
		{ "[profile a]\nkey = host\nperiods = day, day\n", "t.conf:3: periods: period 'day' given twice" },
		{ "[profile a]\nkey = host\nkeep = 37\n", "t.conf:3: keep: 37 is out of range 0..36" },
		{ "[profile a]\nkey = host\nmonth_start = 29\n", "t.conf:3: month_start: 29 is out of range 1..28" },
		{ "timezone = Nowhere/Atlantis\n", "t.conf:1: timezone: time zone 'Nowhere/Atlantis' is not installed" },
		{ "timezone = ../../etc/passwd\n", "t.conf:1: timezone: '../../etc/passwd' is not a time zone" },
		{ "[threshold t]\nprofile = host\nrising = 5\nperiod = month\n",
		  "t.conf:4: [threshold t]: profile 'host' keeps no period 'month' (periods = none)" },
		{ "[profile h]\nkey = host\nperiods = day\n[quota q]\nprofile = h\nperiod = day\n",
		  "t.conf:4: [quota q] has no 'cap'" },
		{ "[profile h]\nkey = host\nperiods = day\n[quota q]\nprofile = h\ncap = 1G\n",
		  "t.conf:4: [quota q] has no 'period'" },
		{ "[profile h]\nkey = host\nperiods = day\n[quota q]\nprofile = h\ncap = 1G\nperiod = week\n",
		  "t.conf:7: [quota q]: profile 'h' keeps no period 'week' (periods = day)" },
		{ "[quota q]\nwarn = 95, 80\n", "t.conf:2: warn: '95, 80' is not up to 4 ascending percentages" },
		{ "[quota q]\nwarn = 10,20,30,40,50\n", "t.conf:2: warn: '10,20,30,40,50' is not up to 4" },
		{ "[profile h]\nkey = host\nperiods = day\n[threshold a]\nprofile = h\nrising = 5\n"
		  "index = 2\n[quota q]\nprofile = h\ncap = 1G\nperiod = day\nindex = 1\n",
		  "t.conf: [quota q]: its 3 levels need indexes 1-3, free" },
		/* every error carries a line: cross-field ones the line of a key involved */
		{ "rcvbuf = 4G\n", "t.conf:1: rcvbuf_max (1073741824) is smaller than rcvbuf" },
		{ "[threshold t]\nprofile = host\nrising = 5\nkind = x\n",
		  "t.conf:4: unknown key 'kind' in [threshold t] (expected profile, match, match2, proto, "
		  "port, metric, direction, window, rising, falling, notify_limit, rows, index, status, "
		  "period)" },
		{ "[threshold a]\nprofile = host\nrising = 5\nindex = 3\n[threshold b]\nprofile = host\nrising = 5\nindex = 3\n",
		  "t.conf:8: [threshold b]: index 3 is [threshold a]'s" },
	};
	struct conf c;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		CHECK(parse(&c, cases[i].text, err, sizeof(err)) < 0);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0) {
			printf("  # case %zu: got '%s'\n  #   expected '%s'\n", i, err, cases[i].err);
			CHECK(0);
		}
	}
}

static void long_lines_nul_bytes_and_too_many_profiles(void)
{
	struct conf c;
	char err[512], big[3000], many[4096];
	size_t off = 0;

	memset(big, 'a', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = 0;
	CHECK(parse(&c, big, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "t.conf:1: line longer than 1024 characters") == 0);
	conf_defaults(&c);
	CHECK(conf_parse_buffer(&c, "t.conf", "rcvbuf = 1M\0x\n", 14, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "t.conf:1: NUL byte in line") == 0);
	for (int i = 0; i <= CONF_MAX_PROFILES; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "[profile p%d]\nkey = host\n", i);
	CHECK(parse(&c, many, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":65: too many profiles") != NULL);
}

static void missing_file_is_reported(void)
{
	struct conf c;
	char err[512];

	conf_defaults(&c);
	CHECK(conf_load(&c, "/nonexistent/ctflowd.conf", err, sizeof(err)) < 0);
	CHECK(strcmp(err, "/nonexistent/ctflowd.conf: cannot open: No such file or directory") == 0);
}

static void thresholds_parse(void)
{
	struct conf c;
	char err[512] = "";
	static const char text[] =
		"dump_interval = 10s\n"
		"[profile hosts]\n"
		"key = host\n"
		"[profile svc]\n"
		"key = proto, port\n"
		"[threshold big-sender]\n"
		"profile = hosts\n"
		"match = 10.1.0.0/16\n"
		"metric = bytes\n"
		"direction = sent\n"
		"window = 30s\n"
		"rising = 10M\n"
		"falling = 5M\n"
		"notify_limit = 3\n"
		"rows = 500\n"
		"[threshold https]\n"
		"profile = svc\n"
		"proto = tcp\n"
		"port = 443\n"
		"metric = flows\n"
		"rising = 100\n";

	CHECK(parse(&c, text, err, sizeof(err)) == 0);
	if (err[0])
		printf("  # %s\n", err);
	CHECK_EQ_U(c.nthresholds, 2);
	const struct thresh_def *a = &c.thresholds[0], *b = &c.thresholds[1];

	CHECK(strcmp(a->name, "big-sender") == 0);
	CHECK_EQ_U(a->profile, 0);
	CHECK_EQ_U(a->family, 1);
	CHECK_EQ_U(a->plen, 16);
	CHECK_EQ_U(a->metric, THRESH_BYTES);
	CHECK_EQ_U(a->dir, THRESH_SENT);
	CHECK_EQ_U(a->window_s, 30);
	CHECK_EQ_U(a->rising, 10000000);
	CHECK_EQ_U(a->falling, 5000000);
	CHECK_EQ_U(a->notify_per_min, 3);
	CHECK_EQ_U(a->max_rows, 500);
	CHECK(a->proto == -1 && a->port == -1);
	CHECK_EQ_U(b->profile, 1);
	CHECK_EQ_U(b->family, 0);
	CHECK(b->proto == 6 && b->port == 443);
	CHECK_EQ_U(b->metric, THRESH_FLOWS);
	CHECK_EQ_U(b->dir, THRESH_BOTH);
	CHECK_EQ_U(b->window_s, 60);
	CHECK_EQ_U(b->falling, 90); /* 9/10 of rising unless set */
	CHECK_EQ_U(b->notify_per_min, 10);
	/* both addresses of a pair, an explicit index, kept inactive */
	CHECK(parse(&c, "[threshold p]\nprofile = pair\nrising = 1\nmatch = 10.0.0.1\n"
		  "match2 = 2001:db8::/32\nindex = 40\nstatus = notInService\n", err, sizeof(err)) == 0);
	CHECK(c.thresholds[0].family == 1 && c.thresholds[0].plen == 32);
	CHECK(c.thresholds[0].family2 == 2 && c.thresholds[0].plen2 == 32);
	CHECK_EQ_U(c.thresholds[0].index, 40);
	CHECK_EQ_U(c.thresholds[0].inactive, 1);
	CHECK_EQ_U(c.thresholds[0].storage, THRESH_READONLY);
	/* the default window: twice dump_interval, at least a minute */
	CHECK(parse(&c, "dump_interval = 5m\n[threshold t]\nprofile = host\nrising = 1\n", err,
		    sizeof(err)) == 0);
	CHECK_EQ_U(c.thresholds[0].window_s, 600);
	/* the default profiles, when none is named */
	CHECK(parse(&c, "[threshold t]\nprofile = pair\nrising = 1\n", err, sizeof(err)) == 0);
	CHECK_EQ_U(c.thresholds[0].profile, 2);
}

/* A quota is a period threshold per level, at the next free indexes. */
static void quotas_become_period_thresholds(void)
{
	static const char text[] =
		"[profile h]\nkey = host\nperiods = day, month\nkeep = 2\nmonth_start = 5\n"
		"[threshold t]\nprofile = h\nrising = 5\nindex = 7\n"
		"[quota monthly]\nprofile = h\nperiod = month\ncap = 1001\nwarn = 80, 100\n"
		"direction = received\nmatch = 10.0.0.0/8\n";
	struct conf c;
	char err[512];

	conf_defaults(&c);
	CHECK(conf_parse_buffer(&c, "t.conf", text, strlen(text), err, sizeof(err)) == 0);
	CHECK_EQ_U(c.profiles[0].usage.n, 2);
	CHECK_EQ_U(c.profiles[0].usage.keep, 2);
	CHECK_EQ_U(c.profiles[0].usage.month_day, 5);
	CHECK_EQ_U(c.nthresholds, 3);
	CHECK(strcmp(c.thresholds[1].name, "monthly-80") == 0);
	CHECK_EQ_U(c.thresholds[1].index, 8);
	CHECK_EQ_U(c.thresholds[1].period, 2);
	CHECK_EQ_U(c.thresholds[1].rising, 801); /* 80% of 1001, rounded up */
	CHECK_EQ_U(c.thresholds[1].dir, THRESH_RECEIVED);
	CHECK_EQ_U(c.thresholds[1].family, 1);
	CHECK(strcmp(c.thresholds[2].name, "monthly-100") == 0);
	CHECK_EQ_U(c.thresholds[2].index, 9);
	CHECK_EQ_U(c.thresholds[2].rising, 1001);
	CHECK_EQ_U(c.thresholds[0].period, 0);
}

static void reference_config_parses(void)
{
	struct conf c;
	char err[512] = "";

	conf_defaults(&c);
	CHECK(conf_load(&c, "conf/ctflowd.conf", err, sizeof(err)) == 0);
	if (err[0])
		printf("  # %s\n", err);
	CHECK_EQ_U(c.nprofiles, 3);
}

/* The state file: what the configuration would refuse is skipped (and
 * logged), the rest is loaded; ctflowd starts either way. */
static void state_file_skips_what_the_configuration_would_refuse(void)
{
	char path[] = "/tmp/ctflowd-test-state.XXXXXX", err[512] = "";
	struct conf c;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	CHECK(f != NULL);
	if (!f)
		return;
	fputs("[threshold good]\nindex = 7\nprofile = host\nrising = 5\n"
	      "[threshold nosuch]\nindex = 8\nprofile = gone\nrising = 5\n"
	      "[threshold broken]\nindex = 9\nprofile = host\nrising = lots\n"
	      "[threshold incomplete]\nindex = 10\nprofile = host\n"
	      "[threshold good]\nindex = 11\nprofile = host\nrising = 5\n"
	      "[threshold cfg]\nindex = 12\nprofile = host\nrising = 5\n"
	      "[threshold second]\nindex = 1\nprofile = host\nrising = 5\n"
	      "[threshold also-good]\nindex = 13\nprofile = pair\nrising = 5\nmatch2 = 10.0.0.0/8\n",
	      f);
	fclose(f);
	CHECK(parse(&c, "[threshold cfg]\nprofile = host\nrising = 1\n", err, sizeof(err)) == 0);
	log_init(1, LOG_LVL_ERR); /* the skipped ones are logged: not here */
	CHECK(conf_load_state(&c, path, err, sizeof(err)) == 0);
	unlink(path);
	CHECK_EQ_U(c.nthresholds, 3);
	CHECK(strcmp(c.thresholds[1].name, "good") == 0 && c.thresholds[1].index == 7);
	CHECK_EQ_U(c.thresholds[1].storage, THRESH_NONVOLATILE);
	CHECK(strcmp(c.thresholds[2].name, "also-good") == 0);
}

int main(void)
{
	RUN(defaults_have_three_profiles);
	RUN(every_key_is_typed);
	RUN(errors_name_file_line_and_reason);
	RUN(long_lines_nul_bytes_and_too_many_profiles);
	RUN(missing_file_is_reported);
	RUN(thresholds_parse);
	RUN(quotas_become_period_thresholds);
	RUN(reference_config_parses);
	RUN(state_file_skips_what_the_configuration_would_refuse);
	TAP_DONE();
}
