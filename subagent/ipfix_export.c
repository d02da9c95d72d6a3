/*
 * ipfix_export: the Exporting Process: its sessions (ipfix_session, the
 * logic) over their transports (ipfix_transport, the sockets), the timers
 * that drive them, each session's store region, and what the IPFIX-MIB
 * reads.  A pump timer turns waiting records into messages, a bounded
 * number per session and call, so the event loop never stalls on export.
 *
 * A reload hands the exporter a new list of collectors: an unchanged one
 * keeps its session (connection, records waiting, sequence numbers,
 * counters, IPFIX-MIB row); a removed or changed one's waiting records are
 * counted as not sent and logged, and its state goes.
 */
#include "ipfix_export.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base_clock.h"
#include "base_log.h"
#include "ipfix_rec.h"
#include "ipfix_session.h"
#include "ipfix_transport.h"

#define PUMP_MS 20
#define PUMP_MESSAGES 64 /* per session and pump call */
#define RATE_MS 1000

/* One collector: its session, its transport, its region. */
struct exp_session {
	struct ipfix_session s;
	struct ipfix_transport t;
	void *region;
};

/* The exporter's own persistent counters; when they started, in realtime
 * (a monotonic time would mean nothing after a reboot). */
struct meter_hdr {
	uint32_t epoch;
	uint32_t pad;
	uint64_t start_real_ms;
	struct ipfix_metering m;
};

struct ipfix_exporter {
	struct ipfix_cfg cfg;
	struct loop *lp;
	struct ipfix_common common;
	struct exp_session **s;      /* heap objects: the loop holds pointers to them */
	size_t n;
	int t_pump, t_stats, t_rate;
	struct meter_hdr *meter;
	uint64_t meter_start_mono_ms; /* start_real_ms in loop time, worked out once */
};

static uint64_t real_ms(void)
{
	return clock_real_ns() / 1000000u;
}

/* ---- timers ---- */

static void on_pump(void *arg)
{
	struct ipfix_exporter *x = arg;
	int more = 0;

	for (size_t i = 0; i < x->n; i++)
		more |= ipfix_transport_pump(&x->s[i]->t, PUMP_MESSAGES);
	/* a backlog is worked off at once, in slices, between the loop's other work */
	loop_timer_arm(x->lp, x->t_pump, more ? 0 : PUMP_MS);
}

/* ipfixTransportSessionRate: octets of the last second. */
static void on_rate(void *arg)
{
	struct ipfix_exporter *x = arg;

	for (size_t i = 0; i < x->n; i++)
		ipfix_session_rate_tick(&x->s[i]->s);
	loop_timer_arm(x->lp, x->t_rate, RATE_MS);
}

static void on_stats(void *arg)
{
	struct ipfix_exporter *x = arg;

	for (size_t i = 0; i < x->n; i++)
		ipfix_session_stats_due(&x->s[i]->s);
	loop_timer_arm(x->lp, x->t_stats, x->cfg.stats_interval_ms);
}

/* ---- sessions and their regions ---- */

/* What identifies a session's state: where it goes, how, and its ring. */
static uint64_t session_sig(const struct ipfix_collector_cfg *c)
{
	uint64_t h = 14695981039346656037ull;
	const char *a = c->address;

	while (*a)
		h = (h ^ (uint8_t)*a++) * 1099511628211ull;
	h = (h ^ c->port) * 1099511628211ull;
	h = (h ^ (uint64_t)c->tcp) * 1099511628211ull;
	return (h ^ c->buffer) * 1099511628211ull;
}

static void *map_region(struct ipfix_exporter *x, const struct ipfix_collector_cfg *c, int *kept)
{
	char name[STORE_NAME_MAX];
	uint64_t sig = session_sig(c);
	enum store_origin o;
	const char *why;
	void *p;

	snprintf(name, sizeof(name), "ipfix-%s-%016llx", c->name, (unsigned long long)sig);
	p = store_region(x->common.st, name, sig ^ ipfix_session_layout(),
			 ipfix_session_region_size(c->buffer), &o);
	if (p && o == STORE_KEPT && (why = ipfix_session_check(p, c->buffer)) != NULL) {
		p = store_region_reset(x->common.st, p, why);
		o = STORE_FRESH;
	}
	*kept = o == STORE_KEPT;
	return p;
}

static struct exp_session *session_new(struct ipfix_exporter *x,
				       const struct ipfix_collector_cfg *cfg)
{
	struct exp_session *e = calloc(1, sizeof(*e));
	struct ipfix_collector_cfg c = *cfg;
	int kept;

	if (!e)
		return NULL;
	if (c.buffer == 0)
		c.buffer = 1;
	e->region = map_region(x, &c, &kept);
	if (!e->region) {
		free(e);
		return NULL;
	}
	ipfix_session_attach(&e->s, &x->common, &c, ipfix_transport_msg_max(&c), e->region, kept);
	if (ipfix_transport_init(&e->t, &e->s, x->lp) < 0) {
		store_region_release(x->common.st, e->region);
		free(e);
		errno = EINVAL;
		return NULL;
	}
	return e;
}

/* drop: the collector is gone from the configuration, and its state with it. */
static void session_free(struct ipfix_exporter *x, struct exp_session *e, int drop)
{
	ipfix_transport_close(&e->t);
	if (drop)
		store_region_drop(x->common.st, e->region);
	else
		store_region_release(x->common.st, e->region);
	free(e);
}

static int map_meter(struct ipfix_exporter *x)
{
	enum store_origin o;

	x->meter = store_region(x->common.st, "ipfix-meter", sizeof(struct meter_hdr),
				sizeof(*x->meter), &o);
	if (!x->meter)
		return -1;
	if (o == STORE_FRESH)
		x->meter->start_real_ms = real_ms();
	x->meter->epoch = 0;
	/* Converted once: the two clocks read at each request would give a
	 * start that moves by a millisecond, and a TimeStamp by a tick. */
	uint64_t now = clock_mono_ms(), ago = real_ms() - x->meter->start_real_ms;
	x->meter_start_mono_ms = ago < now ? now - ago : 0; /* 0: before this boot */
	return 0;
}

/* The data templates of every format (each session uses its collector's). */
static void set_templates(struct ipfix_common *c, int enterprise)
{
	for (unsigned m = 0; m < IPFIX_MODES; m++)
		c->ndata[m] = ipfix_rec_templates(enterprise, m, c->data_t[m], IPFIX_TEMPLATES_MAX);
}

/* The configuration's collectors, copied: x->cfg.collectors points here. */
static int keep_cfg(struct ipfix_exporter *x, const struct ipfix_cfg *cfg)
{
	struct ipfix_collector_cfg *c = calloc(cfg->ncollectors ? cfg->ncollectors : 1, sizeof(*c));

	if (!c)
		return -1;
	memcpy(c, cfg->collectors, cfg->ncollectors * sizeof(*c));
	free((void *)(uintptr_t)x->cfg.collectors);
	x->cfg = *cfg;
	x->cfg.collectors = c;
	return 0;
}

struct ipfix_exporter *ipfix_exporter_new(const struct ipfix_cfg *cfg, struct loop *lp,
					  const struct ipfix_source *src, struct store *st)
{
	struct ipfix_exporter *x = calloc(1, sizeof(*x));
	struct ipfix_common *c;

	if (!x)
		return NULL;
	x->lp = lp;
	c = &x->common;
	c->st = st;
	c->domain = cfg->domain;
	c->enterprise_ies = cfg->enterprise_ies;
	c->epid = (uint32_t)getpid();
	if (src)
		c->src = *src;
	set_templates(c, cfg->enterprise_ies);
	c->nopt = ipfix_opt_templates(c->opt_t, IPFIX_TEMPLATES_MAX);
	x->t_pump = loop_timer_add(lp, on_pump, x);
	x->t_stats = loop_timer_add(lp, on_stats, x);
	x->t_rate = loop_timer_add(lp, on_rate, x);
	x->s = calloc(cfg->ncollectors ? cfg->ncollectors : 1, sizeof(*x->s));
	if (!x->s || keep_cfg(x, cfg) < 0 || x->t_pump < 0 || x->t_stats < 0 || x->t_rate < 0 ||
	    map_meter(x) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->ncollectors; i++) {
		if (!(x->s[i] = session_new(x, &cfg->collectors[i])))
			goto fail;
		x->n = i + 1;
	}
	loop_timer_arm(lp, x->t_pump, 0);
	loop_timer_arm(lp, x->t_stats, cfg->stats_interval_ms);
	loop_timer_arm(lp, x->t_rate, RATE_MS);
	return x;
fail:
	ipfix_exporter_free(x);
	return NULL;
}

void ipfix_exporter_free(struct ipfix_exporter *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		session_free(x, x->s[i], 0);
	if (x->meter)
		store_region_release(x->common.st, x->meter);
	if (x->t_pump >= 0)
		loop_timer_disarm(x->lp, x->t_pump);
	if (x->t_stats >= 0)
		loop_timer_disarm(x->lp, x->t_stats);
	if (x->t_rate >= 0)
		loop_timer_disarm(x->lp, x->t_rate);
	free((void *)(uintptr_t)x->cfg.collectors);
	free(x->s);
	free(x);
}

/* ---- reload ---- */

/*
 * The exporter's own settings.  A new observation domain or template set
 * means new transport sessions (the collector keys templates by both): every
 * session reconnects with the records it holds; a message cut short by that
 * and encoded with templates that are gone is counted as not sent.
 */
static void new_settings(struct ipfix_exporter *x, const struct ipfix_cfg *cfg,
			 struct exp_session **kept, size_t n)
{
	struct ipfix_common *c = &x->common;
	int templates = cfg->enterprise_ies != c->enterprise_ies;

	if (cfg->stats_interval_ms != x->cfg.stats_interval_ms)
		loop_timer_arm(x->lp, x->t_stats, cfg->stats_interval_ms);
	if (!templates && cfg->domain == c->domain)
		return;
	c->domain = cfg->domain;
	c->enterprise_ies = cfg->enterprise_ies;
	set_templates(c, cfg->enterprise_ies);
	for (size_t i = 0; i < n; i++) {
		if (!kept[i])
			continue;
		ipfix_transport_withdraw(&kept[i]->t);
		ipfix_transport_close(&kept[i]->t);
		if (templates)
			ipfix_session_drop_again(&kept[i]->s);
	}
}

/* The old session for collector c, if it did not change (taken out of old). */
static struct exp_session *take_same(struct exp_session **old, size_t n,
				     const struct ipfix_collector_cfg *c)
{
	for (size_t i = 0; i < n; i++) {
		struct exp_session *e = old[i];

		if (e && memcmp(&e->s.cfg, c, sizeof(*c)) == 0) {
			old[i] = NULL;
			return e;
		}
	}
	return NULL;
}

/* A collector removed or changed: what waits for it will not be sent. */
static void retire(struct ipfix_exporter *x, struct exp_session *e)
{
	uint64_t n;

	ipfix_transport_withdraw(&e->t); /* before its books are closed */
	n = ipfix_session_drop_all(&e->s);
	if (n)
		log_warnx("ipfix: collector %s removed by the reload: %llu records not sent",
			  e->s.cfg.name, (unsigned long long)n);
	session_free(x, e, 1);
}

int ipfix_exporter_reconfigure(struct ipfix_exporter *x, const struct ipfix_cfg *cfg,
			       size_t *kept)
{
	struct exp_session **next, **old = x->s;
	size_t n_old = x->n;

	*kept = 0;
	next = calloc(cfg->ncollectors ? cfg->ncollectors : 1, sizeof(*next));
	if (!next)
		return -1;
	for (size_t i = 0; i < cfg->ncollectors; i++) {
		struct ipfix_collector_cfg c = cfg->collectors[i];

		if (c.buffer == 0)
			c.buffer = 1;
		next[i] = take_same(old, n_old, &c);
		*kept += next[i] != NULL;
	}
	/* the ones that go first: a changed collector's new region has its name */
	for (size_t i = 0; i < n_old; i++)
		if (old[i])
			retire(x, old[i]);
	free(old);
	x->s = next;
	new_settings(x, cfg, next, cfg->ncollectors);
	x->n = 0;
	for (size_t i = 0; i < cfg->ncollectors; i++) {
		if (!next[i] && !(next[i] = session_new(x, &cfg->collectors[i]))) {
			log_warn("ipfix: collector %s", cfg->collectors[i].name);
			for (size_t j = i + 1; j < cfg->ncollectors; j++)
				if (next[j])
					session_free(x, next[j], 0);
			break;
		}
		x->n = i + 1;
	}
	if (keep_cfg(x, cfg) < 0)
		return -1;
	loop_timer_arm(x->lp, x->t_pump, 0);
	return x->n == cfg->ncollectors ? 0 : -1;
}

/* ---- records ---- */

size_t ipfix_exporter_save_max(const struct ipfix_exporter *x)
{
	return x ? (x->n + 1) * ipfix_session_save_max() : 0;
}

void ipfix_exporter_slice(struct ipfix_exporter *x, const struct slice *s)
{
	struct ipfix_flowrec r;
	uint32_t epoch = store_epoch(x->common.st);

	ipfix_rec_from_slice(s, &r);
	if (x->meter->epoch != epoch) {
		store_save(x->common.st, x->meter, sizeof(*x->meter));
		x->meter->epoch = epoch;
	}
	x->meter->m.records++;
	x->meter->m.packets += r.packets[0] + r.packets[1];
	for (size_t i = 0; i < x->n; i++)
		ipfix_session_push(&x->s[i]->s, &r);
}

uint64_t ipfix_exporter_pending(const struct ipfix_exporter *x)
{
	uint64_t n = 0;

	for (size_t i = 0; i < x->n; i++)
		if (ipfix_session_is_up(&x->s[i]->s))
			n += ipfix_session_pending(&x->s[i]->s);
	return n;
}

void ipfix_exporter_abandon(struct ipfix_exporter *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct ipfix_session *s = &x->s[i]->s;
		uint64_t n;

		/* an orderly end: the collector may forget the templates (TCP) */
		ipfix_transport_withdraw(&x->s[i]->t);
		/* not acknowledged by now: the collector cannot be counted on to have it */
		n = ipfix_session_drop_flight(s);
		if (n)
			log_warnx("ipfix: collector %s: %llu records not acknowledged at exit",
				  s->cfg.name, (unsigned long long)n);
		n = ipfix_session_waiting(s);
		if (!n)
			continue;
		if (store_persistent(x->common.st)) {
			/* they wait in the state directory for the next start */
			log_info("ipfix: collector %s: %llu records kept for the next start",
				 s->cfg.name, (unsigned long long)n);
			continue;
		}
		n = ipfix_session_drop_all(s);
		log_warnx("ipfix: collector %s: %llu records not sent at exit", s->cfg.name,
			  (unsigned long long)n);
	}
}

/* ---- what the IPFIX-MIB reads ---- */

size_t ipfix_exporter_sessions(const struct ipfix_exporter *x)
{
	return x ? x->n : 0;
}

uint32_t ipfix_exporter_domain(const struct ipfix_exporter *x)
{
	return x ? x->cfg.domain : 0;
}

const struct ipfix_collector_cfg *ipfix_exporter_collector(const struct ipfix_exporter *x,
							   size_t i)
{
	return x && i < x->n ? &x->s[i]->s.cfg : NULL;
}

void ipfix_exporter_stats(const struct ipfix_exporter *x, size_t i,
			  struct ipfix_session_stats *out)
{
	if (!x || i >= x->n) {
		memset(out, 0, sizeof(*out));
		return;
	}
	ipfix_session_get_stats(&x->s[i]->s, out);
	out->packets = ipfix_transport_packets(&x->s[i]->t);
}

static void addr_port(const struct sockaddr_storage *ss, uint8_t *addr, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;

		memcpy(addr, &v4->sin_addr, 4);
		*port = ntohs(v4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;

		memcpy(addr, &v6->sin6_addr, 16);
		*port = ntohs(v6->sin6_port);
	}
}

void ipfix_exporter_session_info(const struct ipfix_exporter *x, size_t i,
				 struct ipfix_session_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!x || i >= x->n)
		return;
	out->family = x->s[i]->t.sa.ss_family;
	addr_port(&x->s[i]->t.sa, out->remote, &out->remote_port);
	addr_port(&x->s[i]->t.local, out->local, &out->local_port);
}

int ipfix_exporter_template(const struct ipfix_exporter *x, size_t i, uint32_t tid,
			    struct ipfix_template_row *out)
{
	const struct ipfix_template *t;

	if (!x || i >= x->n)
		return 0;
	const struct ipfix_session *s = &x->s[i]->s;

	/* the live template with the smallest id >= tid (positions are not in
	 * id order: the widths of reduced-size encoding have ids of their own) */
	size_t best = SIZE_MAX;

	for (size_t p = 0; (t = ipfix_session_template(s, p)) != NULL; p++) {
		if (s->tmpl[p].live && t->id >= tid &&
		    (best == SIZE_MAX || t->id < ipfix_session_template(s, best)->id))
			best = p;
	}
	if (best == SIZE_MAX)
		return 0;
	const struct ipfix_tstate *ts = &s->tmpl[best];

	*out = (struct ipfix_template_row){ ipfix_session_template(s, best), ts->records,
					    ts->sent_ms, ts->since_ms };
	return 1;
}

void ipfix_exporter_metering(const struct ipfix_exporter *x, struct ipfix_metering *out)
{
	if (!x) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = x->meter->m;
	out->start_ms = x->meter_start_mono_ms;
}
