/*
 * snmp_creds: who may ask ctflowd's own SNMP listener what, read from the
 * credentials file (snmp_credentials) in snmpd's own words, and the access
 * decision for one request.  Pure: text in, a struct out; a request in, a
 * verdict out.  No net-snmp, no I/O except snmp_creds_load(), which also
 * refuses a file that others than its owner can read.
 *
 * The lines it knows (see conf/ctflowd.conf for the reference):
 *   rocommunity|rwcommunity NAME [SOURCE [OID | -V VIEW]]   (also ...6)
 *   rouser|rwuser NAME [noauth|auth|priv [OID | -V VIEW]]
 *   view NAME included|excluded OID
 *   createUser NAME AUTH-PROTO AUTHPASS [PRIV-PROTO [PRIVPASS]]
 *   trapsink|trap2sink|informsink HOST[:PORT] [COMMUNITY [PORT]]
 *   trapsess SNMP-ARGS HOST[:PORT]
 * The last three kinds are net-snmp's to apply (snmp_listen hands them on,
 * checked here first); the rest decide access here.  There is no default
 * community: an empty file lets nobody in.
 */
#ifndef CTFLOWD_SNMP_CREDS_H
#define CTFLOWD_SNMP_CREDS_H

#include <stddef.h>
#include <stdint.h>

#define CREDS_MAX_ACCESS 64
#define CREDS_MAX_VIEWS 128
#define CREDS_MAX_LINES 64   /* createUser and sinks */
#define CREDS_NAME_MAX 64
#define CREDS_OID_MAX 64
#define CREDS_LINE_MAX 1024

enum creds_level { CREDS_NOAUTH = 1, CREDS_AUTH = 2, CREDS_PRIV = 3 };

struct creds_oid {
	uint32_t sub[CREDS_OID_MAX];
	size_t len;
};

/* One rocommunity/rwcommunity/rouser/rwuser line. */
struct creds_access {
	int user;                 /* 0: a community (v1/v2c), 1: a USM user (v3) */
	char name[CREDS_NAME_MAX];
	int write;
	int level;                /* users: the least enum creds_level accepted */
	int family;               /* sources: 0 any, 4 or 6 */
	uint8_t addr[16];
	unsigned prefix;
	char view[CREDS_NAME_MAX];  /* "" = the subtree below, or all served */
	struct creds_oid subtree;   /* len 0 = none */
};

struct creds_view {
	char name[CREDS_NAME_MAX];
	int included;
	struct creds_oid subtree;
};

/* A line net-snmp applies: createUser, trapsink, trap2sink, informsink, trapsess. */
struct creds_line {
	char token[16];
	char rest[CREDS_LINE_MAX];
	unsigned line;
};

struct snmp_creds {
	size_t naccess, nviews, nlines;
	struct creds_access access[CREDS_MAX_ACCESS];
	struct creds_view views[CREDS_MAX_VIEWS];
	struct creds_line lines[CREDS_MAX_LINES];
};

/* Parse text (named `name` in errors): 0, or -1 with "name:line: reason". */
int snmp_creds_parse(struct snmp_creds *c, const char *name, const char *text, size_t len,
		     char *err, size_t errlen);
/* The file: refused when group or others may read it, or it is not a
 * regular file; then parsed. */
int snmp_creds_load(struct snmp_creds *c, const char *path, char *err, size_t errlen);

/* ---- the decision ---- */

enum creds_verdict {
	CREDS_OK,
	CREDS_BAD_NAME,      /* no such community from this source: dropped, counted */
	CREDS_NO_ACCESS,     /* a user with no access line, or too low a level */
	CREDS_NOT_IN_VIEW,   /* this object is outside the view, or a write is not allowed */
	CREDS_PARTLY,        /* (subtree checks) some of it is in view */
};

struct creds_request {
	int v3;                   /* 0: community, 1: USM user */
	const char *name;         /* the community or the security name */
	size_t namelen;
	int level;                /* enum creds_level, v3 */
	int family;               /* the source: 4, 6, or 0 unknown */
	const uint8_t *addr;      /* 4 or 16 octets */
	int write;
};

/* The access line the request comes under, or NULL (and why, in *v). */
const struct creds_access *creds_match(const struct snmp_creds *c, const struct creds_request *rq,
				       enum creds_verdict *v);
/*
 * Whether `a` may see the object `o` (subtree = 0) or everything under the
 * subtree `o` (subtree = 1: OK, NOT_IN_VIEW or PARTLY).  Without a view or
 * subtree of its own, an access line sees `served` (n roots), which is all
 * the listener answers for anyway.
 */
enum creds_verdict creds_in_view(const struct snmp_creds *c, const struct creds_access *a,
				 const uint32_t *o, size_t len, int subtree,
				 const struct creds_oid *served, size_t nserved);

#endif
