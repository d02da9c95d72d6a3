/*
 * fuzz_ipfix: libFuzzer target for the IPFIX encoder and the conntrack
 * mapping.  The input becomes a flow (tuples, counters, times, mark, zone,
 * labels, TCP state), a slice of it, a message capacity (any size a UDP MTU
 * can leave) and a choice of templates.  Invariants: nothing is written past
 * the capacity (the buffer is exactly that big, ASan watches), a full
 * message is refused with -1 rather than cut, every message is well formed
 * (tests/unit/ipfix_check.h), its record count is what the encoder says, and
 * every integer field of every record decodes back to the value put in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipfix_check.h"
#include "ipfix_rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
};

static void take(struct input *in, void *out, size_t len)
{
	size_t k = len < in->n ? len : in->n;

	memset(out, 0, len);
	memcpy(out, in->p, k);
	in->p += k;
	in->n -= k;
}

static struct ct_flow flow_from(struct input *in)
{
	struct ct_flow f;
	uint8_t b[4];

	memset(&f, 0, sizeof(f));
	take(in, b, sizeof(b));
	f.family = (b[0] & 1) ? AF_INET6 : AF_INET;
	f.kind = CT_MSG_FLOW_DESTROY;
	f.tcp_state = b[1] % 12;
	f.labels_len = b[2] % 17;
	f.has = CT_HAS_COUNTERS | ((b[3] & 1) ? CT_HAS_START : 0) | ((b[3] & 2) ? CT_HAS_TCP_STATE : 0);
	for (int d = 0; d < 2; d++) {
		struct ct_tuple *t = &f.tuple[d];

		take(in, t->src.b, f.family == AF_INET ? 4 : 16);
		take(in, t->dst.b, f.family == AF_INET ? 4 : 16);
		take(in, &t->sport, sizeof(t->sport));
		take(in, &t->dport, sizeof(t->dport));
		take(in, &t->icmp_type, 1);
		take(in, &t->icmp_code, 1);
	}
	take(in, &f.tuple[0].proto, 1);
	f.tuple[1].proto = f.tuple[0].proto;
	take(in, &f.id, sizeof(f.id));
	take(in, &f.mark, sizeof(f.mark));
	take(in, &f.zone, sizeof(f.zone));
	take(in, &f.start_ns, sizeof(f.start_ns));
	take(in, f.labels, f.labels_len);
	return f;
}

static uint64_t get_be(const uint8_t *p, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

/* Each integer field of the record at p decodes to the value given. */
static void check_record(const uint8_t *p, const struct ipfix_template *t,
			 const struct ipfix_values *v)
{
	for (uint16_t i = 0; i < t->nfields; i++) {
		const struct ipfix_field *f = &t->f[i];
		uint64_t want = v->u[f->src];

		if (f->kind == IPFIX_UINT) {
			if (f->len < 8)
				want &= (UINT64_C(1) << (8 * f->len)) - 1;
			if (get_be(p, f->len) != want)
				abort();
		} else if (memcmp(p, v->p[f->src], f->len) != 0) {
			abort();
		}
		p += f->len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct ct_flow f = flow_from(&in);
	struct slice s;
	struct ipfix_flowrec r;
	struct ipfix_values v;
	struct ipfix_msg m;
	uint16_t cap;
	uint8_t choice;

	memset(&s, 0, sizeof(s));
	s.flow = &f;
	take(&in, s.pkts, sizeof(s.pkts));
	take(&in, s.bytes, sizeof(s.bytes));
	take(&in, &s.reason, 1);
	take(&in, &s.time_ns, sizeof(s.time_ns));
	take(&in, &cap, sizeof(cap));
	take(&in, &choice, 1);
	cap = (uint16_t)(IPFIX_HDR_LEN + cap % 1500);

	ipfix_rec_from_slice(&s, &r);
	memset(&v, 0, sizeof(v));
	/* bit 2: uniflow, bit 3: its reply-direction record, bit 4: reduced-size
	 * counters (whose width the slice's counters choose) */
	ipfix_rec_values(&r, (choice >> 3) & 1, &v);
	const struct ipfix_template *t = ipfix_rec_template(
		&r, choice & 1, ((choice >> 2) & 1 ? IPFIX_MODE_UNIFLOW : 0u) |
				((choice >> 4) & 1 ? IPFIX_MODE_REDUCED : 0u));
	uint8_t *buf = malloc(cap);

	if (!buf)
		return 0;
	ipfix_msg_init(&m, buf, cap);
	int with_template = (choice & 2) && ipfix_msg_template(&m, t) == 0;
	uint32_t n = 0;

	while (n < 1000 && ipfix_msg_record(&m, t, &v) == 0)
		n++;
	if (m.records != n)
		abort();
	size_t len = ipfix_msg_finish(&m, 1, 2, 3);
	struct known_template known[4] = { { t->id, (uint32_t)ipfix_record_len(t) } };
	size_t nknown = with_template ? 0 : 1;
	uint32_t nrec = 0;

	if (len > cap || ipfix_check(buf, len, known, &nknown, 4, &nrec) != 0 || nrec != n)
		abort();
	/* the data set is the last one: its records follow its 4-octet header */
	size_t rl = ipfix_record_len(t);

	for (uint32_t i = 0; i < n; i++)
		check_record(buf + len - (size_t)(n - i) * rl, t, &v);
	free(buf);
	return 0;
}
