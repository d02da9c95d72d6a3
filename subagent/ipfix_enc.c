/*
 * ipfix_enc: every write goes through room(), so a message never grows past
 * its buffer, and the set and message lengths are computed, never trusted.
 */
#include "ipfix_enc.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The low `len` octets of v, big-endian (reduced-size encoding when len < 8).
 * The widths of our templates are 1, 2, 4 and 8: whole words each. */
static void put_uint(uint8_t *p, uint64_t v, size_t len)
{
	switch (len) {
	case 8:
		put32(p, (uint32_t)(v >> 32));
		put32(p + 4, (uint32_t)v);
		return;
	case 4:
		put32(p, (uint32_t)v);
		return;
	case 2:
		put16(p, (uint16_t)v);
		return;
	default:
		break;
	}
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

static size_t spec_len(const struct ipfix_field *f)
{
	return f->pen ? 8 : 4;
}

size_t ipfix_template_len(const struct ipfix_template *t)
{
	size_t n = t->scope ? 6 : 4;

	for (unsigned i = 0; i < t->nfields; i++)
		n += spec_len(&t->f[i]);
	return n;
}

size_t ipfix_record_len(const struct ipfix_template *t)
{
	size_t n = 0;

	for (unsigned i = 0; i < t->nfields; i++)
		n += t->f[i].len;
	return n;
}

void ipfix_msg_init(struct ipfix_msg *m, uint8_t *buf, size_t cap)
{
	m->buf = buf;
	m->cap = cap;
	m->len = IPFIX_HDR_LEN;
	m->set_off = 0;
	m->set_id = 0;
	m->records = 0;
}

static int room(const struct ipfix_msg *m, size_t n)
{
	return m->len + n <= m->cap && m->len + n <= 65535;
}

static void close_set(struct ipfix_msg *m)
{
	if (!m->set_off)
		return;
	put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
	m->set_off = 0;
	m->set_id = 0;
}

/* Make sure a set with this id is open, with room for `need` more octets. */
static int open_set(struct ipfix_msg *m, uint16_t id, size_t need, int force_new)
{
	if (m->set_off && m->set_id == id && !force_new)
		return room(m, need) ? 0 : -1;
	if (!room(m, IPFIX_SET_HDR_LEN + need))
		return -1;
	close_set(m);
	m->set_off = m->len;
	m->set_id = id;
	put16(m->buf + m->len, id);
	put16(m->buf + m->len + 2, 0);
	m->len += IPFIX_SET_HDR_LEN;
	return 0;
}

static void put_spec(uint8_t *p, const struct ipfix_field *f)
{
	put16(p, (uint16_t)(f->ie | (f->pen ? 0x8000u : 0)));
	put16(p + 2, f->len);
	if (f->pen)
		put32(p + 4, f->pen);
}

int ipfix_msg_template(struct ipfix_msg *m, const struct ipfix_template *t)
{
	size_t need = ipfix_template_len(t);
	uint16_t set = t->scope ? IPFIX_SET_OPTIONS_TEMPLATE : IPFIX_SET_TEMPLATE;
	uint8_t *p;

	if (open_set(m, set, need, t->scope != 0) < 0)
		return -1;
	p = m->buf + m->len;
	put16(p, t->id);
	put16(p + 2, t->nfields);
	p += 4;
	if (t->scope) {
		put16(p, t->scope);
		p += 2;
	}
	for (unsigned i = 0; i < t->nfields; i++) {
		put_spec(p, &t->f[i]);
		p += spec_len(&t->f[i]);
	}
	m->len += need;
	if (t->scope)
		close_set(m); /* one options template per set */
	return 0;
}

int ipfix_msg_withdraw(struct ipfix_msg *m, const struct ipfix_template *t)
{
	if (open_set(m, t->scope ? IPFIX_SET_OPTIONS_TEMPLATE : IPFIX_SET_TEMPLATE, 4, 0) < 0)
		return -1;
	put16(m->buf + m->len, t->id);
	put16(m->buf + m->len + 2, 0);
	m->len += 4;
	return 0;
}

int ipfix_msg_record(struct ipfix_msg *m, const struct ipfix_template *t,
		     const struct ipfix_values *v)
{
	size_t need = ipfix_record_len(t);
	uint8_t *p;

	if (open_set(m, t->id, need, 0) < 0)
		return -1;
	p = m->buf + m->len;
	for (unsigned i = 0; i < t->nfields; i++) {
		const struct ipfix_field *f = &t->f[i];

		if (f->kind == IPFIX_BYTES) {
			if (v->p[f->src])
				memcpy(p, v->p[f->src], f->len);
			else
				memset(p, 0, f->len);
		} else {
			put_uint(p, v->u[f->src], f->len);
		}
		p += f->len;
	}
	m->len += need;
	m->records++;
	return 0;
}

size_t ipfix_msg_finish(struct ipfix_msg *m, uint32_t export_time, uint32_t seq, uint32_t odid)
{
	close_set(m);
	put16(m->buf, IPFIX_VERSION);
	put16(m->buf + 2, (uint16_t)m->len);
	put32(m->buf + 4, export_time);
	put32(m->buf + 8, seq);
	put32(m->buf + 12, odid);
	return m->len;
}
