/*
 * test_creds: the credentials file: every line kind, one case per kind of
 * error (each "file:line: reason"), the file's mode, and the access
 * decisions: sources and prefixes, levels, views with the longest match
 * deciding, subtrees wholly in, out or partly in.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snmp_creds.h"
#include "tap.h"

#define TAP_NAME "test_creds"

static struct snmp_creds c;

static int parse(const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return snmp_creds_parse(&c, "t.creds", text, strlen(text), err, errlen);
}

static const char *full =
	"# comment\n"
	"rocommunity public 127.0.0.1\n"
	"rocommunity net 10.1.0.0/16\n"
	"rwcommunity6 admin fd00::/8 .1.3.6.1.4.1.32473\n"
	"rocommunity sys default -V systemonly\n"
	"view systemonly included .1.3.6.1.2.1.1\n"
	"view mixed included .1.3.6.1.4.1.32473\n"
	"view mixed excluded .1.3.6.1.4.1.32473.1.3\n"
	"view mixed included .1.3.6.1.4.1.32473.1.3.1.12\n"
	"createUser nms SHA-256 \"a pass phrase\" AES \"privacy phrase\"\n"
	"rouser nms priv -V mixed\n"
	"rwuser ops auth\n"
	"trap2sink udp:127.0.0.1:162 public\n"
	"trapsess -v 3 -u nms -l authPriv -a SHA-256 -A \"a pass phrase\" 127.0.0.1:162\n";

static void every_line_kind(void)
{
	char err[512];

	CHECK(parse(full, err, sizeof(err)) == 0);
	if (err[0])
		printf("  # %s\n", err);
	CHECK_EQ_U(c.naccess, 6);
	CHECK_EQ_U(c.nviews, 4);
	CHECK_EQ_U(c.nlines, 3);
	CHECK(c.access[1].family == 4 && c.access[1].prefix == 16);
	CHECK(c.access[2].family == 6 && c.access[2].write && c.access[2].subtree.len == 7);
	CHECK(c.access[3].family == 0 && strcmp(c.access[3].view, "systemonly") == 0);
	CHECK(c.access[4].user && c.access[4].level == CREDS_PRIV && !c.access[4].write);
	CHECK(c.access[5].user && c.access[5].level == CREDS_AUTH && c.access[5].write);
	CHECK(strcmp(c.lines[0].token, "createUser") == 0);
	CHECK(strcmp(c.lines[0].rest, "\"nms\" \"SHA-256\" \"a pass phrase\" \"AES\" \"privacy phrase\"") == 0);
	CHECK(strcmp(c.lines[1].rest, "udp:127.0.0.1:162 public") == 0); /* sinks: unquoted */
	CHECK_EQ_U(c.lines[2].line, 14);
}

static void errors_name_file_and_line(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "frobnicate x\n", "t.creds:1: unknown keyword 'frobnicate'" },
		{ "\nrocommunity\n", "t.creds:2: rocommunity needs a community name" },
		{ "rocommunity a 10.0.0.0/33\n", "t.creds:1: '10.0.0.0/33' has no valid prefix" },
		{ "rocommunity a host.example\n", "t.creds:1: source 'host.example' is not" },
		{ "rocommunity a default .1.3.x\n", "t.creds:1: '.1.3.x' is not a numeric OID" },
		{ "rocommunity a default -V\n", "t.creds:1: -V takes one view name" },
		{ "rouser u superpriv\n", "t.creds:1: 'superpriv' is not noauth, auth or priv" },
		{ "view v maybe .1.3\n", "t.creds:1: 'maybe' is not included or excluded" },
		{ "view v included .1.3 ff\n", "t.creds:1: view takes NAME included|excluded OID" },
		{ "createUser u SHA short\n", "t.creds:1: the authentication pass phrase" },
		{ "createUser u SHA-1024 longenough\n", "t.creds:1: 'SHA-1024' is not MD5" },
		{ "createUser u SHA longenough ROT13\n", "t.creds:1: 'ROT13' is not DES" },
		{ "createUser u SHA longenough AES short\n", "t.creds:1: the privacy pass phrase" },
		{ "trap2sink\n", "t.creds:1: trap2sink takes HOST[:PORT]" },
		{ "rocommunity \"a\n", "t.creds:1: a quote that does not end" },
		{ "rocommunity a default -V nowhere\n", "t.creds: community 'a' uses view 'nowhere'" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].text, err, sizeof(err));

		CHECK(rc == -1);
		if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0) {
			printf("  # case %zu: got \"%s\", want \"%s...\"\n", i, err, cases[i].want);
			CHECK(0);
		}
	}
}

static void the_file_must_be_private(void)
{
	char path[] = "/tmp/test_creds.XXXXXX", err[512];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "rocommunity a 127.0.0.1\n", 24) == 24);
	close(fd);
	chmod(path, 0600);
	CHECK(snmp_creds_load(&c, path, err, sizeof(err)) == 0 && c.naccess == 1);
	chmod(path, 0640);
	CHECK(snmp_creds_load(&c, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, "group or others may read it (mode 0640)") != NULL);
	unlink(path);
	CHECK(snmp_creds_load(&c, path, err, sizeof(err)) == -1);
}

static const struct creds_access *match(const char *name, int v3, int level, int family,
					 const char *addr, enum creds_verdict *v)
{
	static uint8_t a[16];
	struct creds_request rq = { v3, name, strlen(name), level, family, a, 0 };

	memset(a, 0, sizeof(a));
	if (family == 4)
		sscanf(addr, "%hhu.%hhu.%hhu.%hhu", &a[0], &a[1], &a[2], &a[3]);
	else if (family == 6)
		a[0] = (uint8_t)strtoul(addr, NULL, 16); /* the first octet is what differs */
	return creds_match(&c, &rq, v);
}

static void who_may_ask(void)
{
	char err[512];
	enum creds_verdict v;

	CHECK(parse(full, err, sizeof(err)) == 0);
	CHECK(match("public", 0, 0, 4, "127.0.0.1", &v) == &c.access[0] && v == CREDS_OK);
	CHECK(match("public", 0, 0, 4, "127.0.0.2", &v) == NULL && v == CREDS_BAD_NAME);
	CHECK(match("public", 0, 0, 6, "fd", &v) == NULL);
	CHECK(match("net", 0, 0, 4, "10.1.200.3", &v) == &c.access[1]);
	CHECK(match("net", 0, 0, 4, "10.2.0.1", &v) == NULL);
	CHECK(match("admin", 0, 0, 6, "fd", &v) == &c.access[2]);
	CHECK(match("admin", 0, 0, 6, "fe", &v) == NULL);
	CHECK(match("sys", 0, 0, 4, "192.0.2.9", &v) == &c.access[3]);
	CHECK(match("nms", 0, 0, 4, "127.0.0.1", &v) == NULL); /* a user is not a community */
	CHECK(match("nms", 1, CREDS_PRIV, 0, "", &v) == &c.access[4]);
	CHECK(match("nms", 1, CREDS_AUTH, 0, "", &v) == NULL && v == CREDS_NO_ACCESS);
	CHECK(match("ops", 1, CREDS_PRIV, 0, "", &v) == &c.access[5]);
	CHECK(match("ops", 1, CREDS_NOAUTH, 0, "", &v) == NULL);
}

static enum creds_verdict see(const struct creds_access *a, const char *dotted, int subtree)
{
	static const struct creds_oid served[] = {
		{ { 1, 3, 6, 1, 4, 1, 32473 }, 7 }, { { 1, 3, 6, 1, 2, 1, 1 }, 7 },
	};
	uint32_t o[64];
	size_t n = 0;
	char buf[256], *p = buf;

	snprintf(buf, sizeof(buf), "%s", dotted);
	while (*p && n < 64) {
		o[n++] = (uint32_t)strtoul(p, &p, 10);
		p += *p == '.';
	}
	return creds_in_view(&c, a, o, n, subtree, served, 2);
}

static void what_they_see(void)
{
	char err[512];
	const struct creds_access *all, *sub, *sys, *mixed;

	CHECK(parse(full, err, sizeof(err)) == 0);
	all = &c.access[0], sub = &c.access[2], sys = &c.access[3], mixed = &c.access[4];
	/* no view: what the listener serves */
	CHECK(see(all, "1.3.6.1.4.1.32473.1.1.4.0", 0) == CREDS_OK);
	CHECK(see(all, "1.3.6.1.2.1.1.3.0", 0) == CREDS_OK);
	CHECK(see(all, "1.3.6.1.2.1.2.1.0", 0) == CREDS_NOT_IN_VIEW);
	CHECK(see(all, "1.3.6.1.2.1", 1) == CREDS_PARTLY);
	/* a subtree of its own */
	CHECK(see(sub, "1.3.6.1.4.1.32473.1.3", 0) == CREDS_OK);
	CHECK(see(sub, "1.3.6.1.2.1.1.3.0", 0) == CREDS_NOT_IN_VIEW);
	/* a view */
	CHECK(see(sys, "1.3.6.1.2.1.1.5.0", 0) == CREDS_OK);
	CHECK(see(sys, "1.3.6.1.4.1.32473.1.1.4.0", 0) == CREDS_NOT_IN_VIEW);
	CHECK(see(sys, "1.3.6.1.4.1.32473", 1) == CREDS_NOT_IN_VIEW);
	/* the longest match decides: in, out, in again */
	CHECK(see(mixed, "1.3.6.1.4.1.32473.1.1.4.0", 0) == CREDS_OK);
	CHECK(see(mixed, "1.3.6.1.4.1.32473.1.3.1.21.1", 0) == CREDS_NOT_IN_VIEW);
	CHECK(see(mixed, "1.3.6.1.4.1.32473.1.3.1.12.1", 0) == CREDS_OK);
	CHECK(see(mixed, "1.3.6.1.4.1.32473.1.3", 1) == CREDS_PARTLY);
	CHECK(see(mixed, "1.3.6.1.4.1.32473.1.3.1.12", 1) == CREDS_OK);
	CHECK(see(mixed, "1.3.6.1.4.1.32473.1.1", 1) == CREDS_OK);
	CHECK(see(mixed, "1.3.6.1.4.1.32473.1.3.1.21", 1) == CREDS_NOT_IN_VIEW);
}

int main(void)
{
	RUN(every_line_kind);
	RUN(errors_name_file_and_line);
	RUN(the_file_must_be_private);
	RUN(who_may_ask);
	RUN(what_they_see);
	TAP_DONE();
}
