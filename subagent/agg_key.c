/*
 * agg_key: key spec parsing and key encoding.  Pure functions.
 */
#include "agg_key.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const field_names[AGG_NFIELDS] = {
	[AGG_SRC] = "src", [AGG_DST] = "dst", [AGG_HOST] = "host", [AGG_PROTO] = "proto",
	[AGG_PORT] = "port", [AGG_ZONE] = "zone", [AGG_MARK] = "mark",
};

static const uint8_t field_len[AGG_NFIELDS] = {
	[AGG_PROTO] = 1, [AGG_PORT] = 2, [AGG_ZONE] = 2, [AGG_MARK] = 4,
};

int agg_key_cmp(const struct agg_key *a, const struct agg_key *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->b, b->b, n);

	return c ? c : (int)a->len - (int)b->len;
}

static int is_addr_field(int f)
{
	return f == AGG_SRC || f == AGG_DST || f == AGG_HOST;
}

static int parse_plen(const char **pp, unsigned max, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p) && v <= 1000)
		v = v * 10 + (unsigned)(*p++ - '0');
	if (v > max)
		return -2;
	*out = v;
	*pp = p;
	return 0;
}

static int lookup_field(const char *name, size_t n)
{
	for (int i = 0; i < AGG_NFIELDS; i++)
		if (strlen(field_names[i]) == n && strncmp(field_names[i], name, n) == 0)
			return i;
	return -1;
}

/* One token "name[/len4[/len6]]" ending at `end`. */
static int parse_token(const char *tok, const char *end, struct agg_field_spec *fs, char *err,
		       size_t errlen)
{
	const char *slash = memchr(tok, '/', (size_t)(end - tok));
	size_t n = (size_t)((slash ? slash : end) - tok);
	int f = lookup_field(tok, n);
	unsigned p4 = 32, p6 = 128;

	if (f < 0) {
		snprintf(err, errlen, "unknown key field '%.*s' (expected src, dst, host, proto, port, zone or mark)",
			 (int)(end - tok), tok);
		return -1;
	}
	if (slash && !is_addr_field(f)) {
		snprintf(err, errlen, "key field '%s' takes no prefix length", field_names[f]);
		return -1;
	}
	if (slash) {
		const char *p = slash + 1;
		int rc = parse_plen(&p, 32, &p4);

		if (rc == 0 && *p == '/' && p < end) {
			p++;
			rc = parse_plen(&p, 128, &p6);
		}
		if (rc == -2 || (rc == 0 && p != end)) {
			snprintf(err, errlen,
				 "bad prefix in '%.*s': write %s/LEN4 or %s/LEN4/LEN6 with LEN4 <= 32 and LEN6 <= 128",
				 (int)(end - tok), tok, field_names[f], field_names[f]);
			return -1;
		}
		if (rc == -1) {
			snprintf(err, errlen, "bad prefix length in '%.*s'", (int)(end - tok), tok);
			return -1;
		}
	}
	fs->field = (uint8_t)f;
	fs->plen4 = (uint8_t)p4;
	fs->plen6 = (uint8_t)p6;
	return 0;
}

static int spec_add(struct agg_keyspec *ks, const struct agg_field_spec *fs, char *err,
		    size_t errlen)
{
	for (unsigned i = 0; i < ks->nfields; i++) {
		if (ks->f[i].field == fs->field) {
			snprintf(err, errlen, "key field '%s' given twice", field_names[fs->field]);
			return -1;
		}
	}
	ks->f[ks->nfields++] = *fs;
	if (is_addr_field(fs->field))
		ks->has_addr = 1;
	if (fs->field == AGG_HOST)
		ks->host = 1;
	return 0;
}

int agg_keyspec_parse(const char *text, struct agg_keyspec *ks, char *err, size_t errlen)
{
	const char *p = text;

	memset(ks, 0, sizeof(*ks));
	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *end = p;

		while (*end && *end != ',' && !isspace((unsigned char)*end))
			end++;
		struct agg_field_spec fs;

		if (ks->nfields >= AGG_MAX_FIELDS) {
			snprintf(err, errlen, "too many key fields");
			return -1;
		}
		if (parse_token(p, end, &fs, err, errlen) < 0 || spec_add(ks, &fs, err, errlen) < 0)
			return -1;
		p = end;
	}
	if (ks->nfields == 0) {
		snprintf(err, errlen, "empty key: name at least one field");
		return -1;
	}
	for (unsigned i = 0; ks->host && i < ks->nfields; i++) {
		if (ks->f[i].field == AGG_SRC || ks->f[i].field == AGG_DST) {
			snprintf(err, errlen, "'host' cannot be combined with 'src' or 'dst'");
			return -1;
		}
	}
	return 0;
}

void agg_keyspec_format(const struct agg_keyspec *ks, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < ks->nfields && off < len; i++) {
		const struct agg_field_spec *fs = &ks->f[i];
		int n;

		if (is_addr_field(fs->field) && (fs->plen4 != 32 || fs->plen6 != 128))
			n = snprintf(buf + off, len - off, "%s%s/%u/%u", i ? "," : "",
				     field_names[fs->field], fs->plen4, fs->plen6);
		else
			n = snprintf(buf + off, len - off, "%s%s", i ? "," : "", field_names[fs->field]);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

size_t agg_keyspec_maxlen(const struct agg_keyspec *ks)
{
	size_t n = ks->has_addr ? 1 : 0;

	for (unsigned i = 0; i < ks->nfields; i++)
		n += is_addr_field(ks->f[i].field) ? 16 : field_len[ks->f[i].field];
	return n;
}

static uint8_t *put_addr(uint8_t *p, const union ct_addr *a, size_t alen, unsigned plen)
{
	memcpy(p, a->b, alen);
	for (size_t i = 0; i < alen; i++) {
		unsigned bit = (unsigned)i * 8;

		if (bit >= plen)
			p[i] = 0;
		else if (bit + 8 > plen)
			p[i] &= (uint8_t)(0xff00u >> (plen - bit));
	}
	return p + alen;
}

static uint8_t *put_be(uint8_t *p, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return p + n;
}

/* The service port: destination port of the flow (ICMP: type << 8 | code). */
static uint16_t service_port(const struct ct_flow *f, int view)
{
	const struct ct_tuple *o = &f->tuple[CT_ORIG];

	if (o->proto == 1 || o->proto == 58)
		return ct_icmp_port(o);
	return view == AGG_VIEW_TRANSLATED ? f->tuple[CT_REPLY].sport : o->dport;
}

/* Bit set of the fields a spec uses. */
static unsigned spec_fields(const struct agg_keyspec *ks)
{
	unsigned m = 0;

	for (unsigned i = 0; i < ks->nfields; i++)
		m |= 1u << ks->f[i].field;
	return m;
}

static const struct agg_field_spec *spec_field(const struct agg_keyspec *ks, int field)
{
	for (unsigned i = 0; i < ks->nfields; i++)
		if (ks->f[i].field == field)
			return &ks->f[i];
	return NULL;
}

/*
 * Fields are laid out in one canonical order whatever order the spec lists
 * them in: family, first address (src or host), second address (dst),
 * proto, port, zone, mark.  That is the order of the SNMP index, so keys
 * compared as bytes sort exactly like their index OIDs.
 */
void agg_key_build(const struct agg_keyspec *ks, const struct ct_flow *f, enum agg_side side,
		   struct agg_key *key)
{
	const struct ct_tuple *o = &f->tuple[CT_ORIG], *r = &f->tuple[CT_REPLY];
	int xl = ks->view == AGG_VIEW_TRANSLATED;
	const union ct_addr *src = xl ? &r->dst : &o->src, *dst = xl ? &r->src : &o->dst;
	int v6 = f->family == AF_INET6;
	size_t alen = v6 ? 16 : 4;
	unsigned m = spec_fields(ks);
	const struct agg_field_spec *fs;
	uint8_t *p = key->b;

	/* All of it defined: keys are copied whole into alarms and the store. */
	*key = (struct agg_key){ 0 };
	if (ks->has_addr)
		*p++ = v6 ? 2 : 1;
	if ((fs = spec_field(ks, AGG_HOST)) != NULL)
		p = put_addr(p, side == AGG_SIDE_SRC ? src : dst, alen, v6 ? fs->plen6 : fs->plen4);
	if ((fs = spec_field(ks, AGG_SRC)) != NULL)
		p = put_addr(p, src, alen, v6 ? fs->plen6 : fs->plen4);
	if ((fs = spec_field(ks, AGG_DST)) != NULL)
		p = put_addr(p, dst, alen, v6 ? fs->plen6 : fs->plen4);
	if (m & (1u << AGG_PROTO))
		*p++ = o->proto;
	if (m & (1u << AGG_PORT))
		p = put_be(p, service_port(f, ks->view), 2);
	if (m & (1u << AGG_ZONE))
		p = put_be(p, f->zone, 2);
	if (m & (1u << AGG_MARK))
		p = put_be(p, f->mark, 4);
	key->len = (uint8_t)(p - key->b);
}

static uint32_t get_be(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static const uint8_t *take_addr(const uint8_t *p, const uint8_t *end, size_t alen,
				const struct agg_field_spec *fs, struct agg_key_fields *out, int slot)
{
	if (!p || (size_t)(end - p) < alen)
		return NULL;
	memcpy(out->addr[slot].b, p, alen);
	out->plen[slot] = out->family == 2 ? fs->plen6 : fs->plen4;
	out->has_addr[slot] = 1;
	return p + alen;
}

static const uint8_t *take_be(const uint8_t *p, const uint8_t *end, unsigned n, uint32_t *v)
{
	if (!p || (size_t)(end - p) < n)
		return NULL;
	*v = get_be(p, n);
	return p + n;
}

int agg_key_decode(const struct agg_keyspec *ks, const struct agg_key *key,
		   struct agg_key_fields *out)
{
	const uint8_t *p = key->b, *end = key->b + key->len;
	unsigned m = spec_fields(ks);
	const struct agg_field_spec *fs;
	size_t alen = 0;
	uint32_t v;

	memset(out, 0, sizeof(*out));
	if (ks->has_addr) {
		if (p >= end || (*p != 1 && *p != 2))
			return -1;
		out->family = *p++;
		alen = out->family == 2 ? 16 : 4;
	}
	if ((fs = spec_field(ks, AGG_HOST)) != NULL || (fs = spec_field(ks, AGG_SRC)) != NULL)
		p = take_addr(p, end, alen, fs, out, 0);
	if ((fs = spec_field(ks, AGG_DST)) != NULL)
		p = take_addr(p, end, alen, fs, out, 1);
	if ((m & (1u << AGG_PROTO)) && (p = take_be(p, end, 1, &v)) != NULL)
		out->proto = (uint8_t)v;
	if ((m & (1u << AGG_PORT)) && (p = take_be(p, end, 2, &v)) != NULL)
		out->port = (uint16_t)v;
	if ((m & (1u << AGG_ZONE)) && (p = take_be(p, end, 2, &v)) != NULL)
		out->zone = (uint16_t)v;
	if ((m & (1u << AGG_MARK)) && (p = take_be(p, end, 4, &v)) != NULL)
		out->mark = v;
	return p == end ? 0 : -1;
}

static void text_addr(char *buf, size_t len, size_t *at, const char *name,
		     const struct agg_key_fields *kf, int i)
{
	char a[INET6_ADDRSTRLEN];
	unsigned full = kf->family == 2 ? 128 : 32;

	if (!kf->has_addr[i] ||
	    !inet_ntop(kf->family == 2 ? AF_INET6 : AF_INET, &kf->addr[i], a, sizeof(a)))
		return;
	if (kf->plen[i] && kf->plen[i] < full)
		*at += (size_t)snprintf(buf + *at, *at < len ? len - *at : 0, "%s%s %s/%u",
					*at ? " " : "", name, a, kf->plen[i]);
	else
		*at += (size_t)snprintf(buf + *at, *at < len ? len - *at : 0, "%s%s %s",
					*at ? " " : "", name, a);
}

int agg_key_format(const struct agg_keyspec *ks, const struct agg_key *key, char *buf, size_t len)
{
	struct agg_key_fields kf;
	unsigned m = spec_fields(ks);
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	if (agg_key_decode(ks, key, &kf) < 0)
		return -1;
	text_addr(buf, len, &at, (m & (1u << AGG_HOST)) ? "host" : "src", &kf, 0);
	text_addr(buf, len, &at, "dst", &kf, 1);
	static const struct { unsigned field; const char *name; } nums[] = {
		{ AGG_PROTO, "proto" }, { AGG_PORT, "port" }, { AGG_ZONE, "zone" }, { AGG_MARK, "mark" },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		uint32_t v = nums[i].field == AGG_PROTO ? kf.proto : nums[i].field == AGG_PORT ? kf.port
			   : nums[i].field == AGG_ZONE ? kf.zone : kf.mark;

		if (m & (1u << nums[i].field))
			at += (size_t)snprintf(buf + at, at < len ? len - at : 0, "%s%s %u",
					       at ? " " : "", nums[i].name, (unsigned)v);
	}
	return at < len ? 0 : -1;
}

int agg_prefix_parse(const char *text, uint8_t *family, union ct_addr *addr, uint8_t *plen)
{
	char a[INET6_ADDRSTRLEN + 8], *slash, *end = NULL;
	unsigned long n;

	*family = *plen = 0;
	memset(addr, 0, sizeof(*addr));
	if (strcmp(text, "any") == 0)
		return 0;
	if (strlen(text) >= sizeof(a))
		return AGG_PREFIX_EADDR;
	memcpy(a, text, strlen(text) + 1);
	slash = strchr(a, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, a, addr) == 1)
		*family = 1;
	else if (inet_pton(AF_INET6, a, addr) == 1)
		*family = 2;
	else
		return AGG_PREFIX_EADDR;
	unsigned max = *family == 1 ? 32 : 128;

	n = slash ? strtoul(slash, &end, 10) : max;
	if (slash && (!*slash || *end || n > max))
		return AGG_PREFIX_ELEN;
	*plen = (uint8_t)n;
	return 0;
}

void agg_prefix_format(uint8_t family, const union ct_addr *addr, uint8_t plen, char *buf,
		       size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (family && inet_ntop(family == 2 ? AF_INET6 : AF_INET, addr, a, sizeof(a)))
		snprintf(buf, len, "%s/%u", a, plen);
	else
		snprintf(buf, len, "any");
}
