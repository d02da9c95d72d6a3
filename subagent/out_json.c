/*
 * out_json: hand-written JSON; every string we emit is an address, a
 * validated profile name or a fixed word, so no escaping is needed beyond
 * what valid_name() in base_conf already guarantees.
 */
#include "out_json.h"

#include "base_version.h"
#include "ipfix_export.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define U64(x) ((unsigned long long)(x))

static void put_addr(FILE *f, const char *name, const struct agg_key_fields *k, int slot)
{
	char buf[INET6_ADDRSTRLEN];
	int af = k->family == 2 ? AF_INET6 : AF_INET;
	unsigned full = k->family == 2 ? 128 : 32;

	inet_ntop(af, k->addr[slot].b, buf, sizeof(buf));
	if (k->plen[slot] != full)
		fprintf(f, "\"%s\":\"%s/%u\",", name, buf, k->plen[slot]);
	else
		fprintf(f, "\"%s\":\"%s\",", name, buf);
}

static void put_key(FILE *f, const struct agg_keyspec *ks, const struct agg_key_fields *k)
{
	for (unsigned i = 0; i < ks->nfields; i++) {
		switch (ks->f[i].field) {
		case AGG_SRC: put_addr(f, "src", k, 0); break;
		case AGG_HOST: put_addr(f, "host", k, 0); break;
		case AGG_DST: put_addr(f, "dst", k, 1); break;
		case AGG_PROTO: fprintf(f, "\"proto\":%u,", k->proto); break;
		case AGG_PORT: fprintf(f, "\"port\":%u,", k->port); break;
		case AGG_ZONE: fprintf(f, "\"zone\":%u,", k->zone); break;
		case AGG_MARK: fprintf(f, "\"mark\":%" PRIu32 ",", k->mark); break;
		default: break;
		}
	}
}

/* The periods of a profile as of one moment: every row is read against the
 * same ordinals (and their bounds are printed once, in the profile). */
struct json_periods {
	uint32_t ord[USAGE_KINDS_MAX];
};

static void put_usage(FILE *f, const struct agg_profile *p, uint32_t idx,
		      const struct json_periods *jp)
{
	const void *area = agg_table_extra(p->tab, idx);

	fputs(",\"usage\":{", f);
	for (unsigned i = 0; i < p->usage.n; i++) {
		fprintf(f, "%s\"%s\":[", i ? "," : "", p->usage.k[i].name);
		for (unsigned a = 0; a <= p->usage.keep; a++) {
			struct usage_bucket b;

			usage_get_ord(&p->usage, area, i, jp->ord[i] - a, &b);
			fprintf(f, "%s{\"fwd_packets\":%llu,\"fwd_bytes\":%llu,\"rev_packets\":%llu,"
				   "\"rev_bytes\":%llu,\"flows_started\":%llu}",
				a ? "," : "", U64(b.pkts[0]), U64(b.bytes[0]), U64(b.pkts[1]),
				U64(b.bytes[1]), U64(b.flows));
		}
		fputc(']', f);
	}
	fputc('}', f);
}

static void put_row(FILE *f, const struct agg_profile *p, uint32_t idx,
		    const struct json_periods *jp)
{
	const struct agg_counters *r = agg_table_counters(p->tab, idx);
	struct agg_key key;
	struct agg_key_fields k;

	agg_table_key(p->tab, idx, &key);
	if (agg_key_decode(&p->spec, &key, &k) < 0)
		return;
	fputc('{', f);
	put_key(f, &p->spec, &k);
	fprintf(f, "\"flows_started\":%llu,\"flows_ended\":%llu,"
		   "\"fwd_packets\":%llu,\"fwd_bytes\":%llu,\"rev_packets\":%llu,\"rev_bytes\":%llu,"
		   "\"first\":%u,\"last\":%u,\"created\":%u",
		U64(r->flows_started), U64(r->flows_ended), U64(r->pkts[0]), U64(r->bytes[0]),
		U64(r->pkts[1]), U64(r->bytes[1]), r->first, r->last, r->created);
	if (p->usage.n)
		put_usage(f, p, idx, jp);
	fputc('}', f);
}

/* "periods":{"day":[{"start":S,"end":E},...]}: the bounds of each kept
 * period, current first, as the rows' "usage" lists them. */
static void put_periods(FILE *f, const struct agg_profile *p, struct json_periods *jp)
{
	int64_t now = (int64_t)time(NULL);

	fprintf(f, "\"keep\":%u,\"usage_late\":%llu,\"periods\":{", p->usage.n ? (unsigned)p->usage.keep : 0u,
		U64(p->usage_late));
	for (unsigned i = 0; i < p->usage.n; i++) {
		jp->ord[i] = usage_ordinal(&p->usage, i, now);
		fprintf(f, "%s\"%s\":[", i ? "," : "", p->usage.k[i].name);
		for (unsigned a = 0; a <= p->usage.keep; a++) {
			int64_t start, end;

			usage_bounds(&p->usage, i, jp->ord[i] - a, &start, &end);
			fprintf(f, "%s{\"start\":%lld,\"end\":%lld}", a ? "," : "", (long long)start,
				(long long)end);
		}
		fputc(']', f);
	}
	fputs("},", f);
}

static void put_profile(FILE *f, const struct agg_profile *p)
{
	struct agg_table_stats st;
	char key[128];
	const char *sep = "";
	struct json_periods jp;

	agg_table_get_stats(p->tab, &st);
	agg_keyspec_format(&p->spec, key, sizeof(key));
	fprintf(f, "{\"name\":\"%s\",\"key\":\"%s\",\"addresses\":\"%s\",\"rows\":%llu,"
		   "\"row_limit\":%llu,\"inserts\":%llu,\"evictions\":%llu,\"row_bytes\":%u,"
		   "\"bytes_used\":%llu,\"index_bytes\":%llu,",
		p->name, key, p->spec.view == AGG_VIEW_TRANSLATED ? "translated" : "original",
		U64(st.rows), U64(st.limit), U64(st.inserts), U64(st.evictions), st.row_bytes,
		U64(st.bytes_used), U64(st.index_bytes));
	put_periods(f, p, &jp);
	fputs("\"entries\":[", f);
	for (uint32_t i = agg_table_next(p->tab, 0); i; i = agg_table_next(p->tab, i)) {
		fputs(sep, f);
		put_row(f, p, i, &jp);
		sep = ",\n";
	}
	fputs("]}", f);
}

static void put_collector(FILE *f, const struct collector_view *c)
{
	const struct ctsock_stats *cs = &c->events;
	const struct track_stats *ts = &c->track;
	const struct loop_stats *ls = &c->loop;
	fprintf(f, "\"collector\":{\"events\":%llu,\"datagrams\":%llu,\"rejected\":%llu,"
		   "\"truncated\":%llu,\"overruns\":%llu,\"kernel_drops\":%llu,\"rcvbuf\":%llu,"
		   "\"rcvbuf_grows\":%llu,\"resyncs\":%llu,\"dump_runs\":%llu,\"dump_rows\":%llu,"
		   "\"dump_failures\":%llu,\"dumping\":%d,",
		U64(cs->events), U64(cs->datagrams), U64(cs->rejected), U64(cs->truncated),
		U64(cs->overruns), U64(cs->kernel_drops), U64(cs->rcvbuf), U64(cs->rcvbuf_grows),
		U64(c->resyncs), U64(cs->dump_runs), U64(cs->dump_rows), U64(cs->dump_failures),
		cs->dumping);
	fprintf(f, "\"tracked\":%llu,\"tracked_limit\":%llu,\"tracked_bytes\":%llu,"
		   "\"track_full\":%llu,\"counter_resets\":%llu,\"ended_unobserved\":%llu,"
		   "\"late_destroys\":%llu,\"incarnations\":%llu,\"duplicate_destroys\":%llu,"
		   "\"slices\":%llu,\"sweeps\":%llu,\"no_counters\":%llu,\"stale_rows\":%llu,"
		   "\"dying_rows\":%llu,\"ended_while_down\":%llu,\"recovered\":%llu,",
		U64(ts->tracked), U64(ts->limit), U64(ts->bytes_used), U64(ts->full_refusals),
		U64(ts->counter_resets), U64(ts->ended_unobserved), U64(ts->late_destroys),
		U64(ts->incarnations), U64(ts->duplicate_destroys), U64(ts->slices), U64(ts->sweeps),
		U64(ts->no_counters), U64(ts->stale_rows), U64(ts->dying_rows),
		U64(ts->ended_while_down), U64(ts->recovered));
	fprintf(f, "\"loop_iterations\":%llu,\"loop_slowest_us\":%u,\"loop_slowest_io\":%d,"
		   "\"loop_slowest_timer\":%d,",
		U64(ls->iterations), ls->slowest_us, ls->slowest_io, ls->slowest_timer);
	fprintf(f, "\"notify_sent\":%llu,\"notify_held\":%llu,\"notify_dropped\":%llu,"
		   "\"threshold_rows\":%u,\"threshold_rows_used\":%llu,",
		U64(c->notify.sent), U64(c->notify.held), U64(c->notify.dropped), c->threshold_rows,
		U64(c->threshold_rows_used));
	fprintf(f, "\"acct\":%d,\"timestamp\":%d,\"events_mode\":%d,\"last_event\":%llu,"
		   "\"started\":%llu,\"state_created\":%llu,\"starts\":%llu,\"state_kept\":%d},\n",
		c->acct_on, c->tstamp_on, c->events_mode, U64(c->last_event), U64(c->started),
		U64(c->state_created), U64(c->starts), c->state_kept);
}

static void put_ipfix(FILE *f, const struct ipfix_exporter *x)
{
	size_t n = ipfix_exporter_sessions(x);

	fputs("\"ipfix\":[", f);
	for (size_t i = 0; i < n; i++) {
		const struct ipfix_collector_cfg *c = ipfix_exporter_collector(x, i);
		struct ipfix_session_stats st;

		ipfix_exporter_stats(x, i, &st);
		fprintf(f, "%s{\"name\":\"%s\",\"address\":\"%s\",\"port\":%u,\"transport\":\"%s\","
			   "\"state\":\"%s\",\"messages\":%llu,\"octets\":%llu,\"records\":%llu,"
			   "\"data_records\":%llu,\"packets\":%llu,\"rate\":%llu,"
			   "\"templates\":%llu,\"options_templates\":%llu,\"discarded_messages\":%llu,"
			   "\"notsent_flows\":%llu,\"notsent_packets\":%llu,\"notsent_octets\":%llu,"
			   "\"buffered\":%llu,\"held\":%llu,\"buffered_max\":%llu,\"connects\":%llu,"
			   "\"sequence\":%u,"
			   "\"statistics\":%s,\"export\":\"%s\",\"encoding\":\"%s\"}",
			i ? ",\n" : "\n", c->name, c->address, c->port, c->tcp ? "tcp" : "udp",
			st.state == IPFIX_UP ? "up" : st.state == IPFIX_CONNECTING ? "connecting" : "down",
			U64(st.messages), U64(st.octets), U64(st.records), U64(st.data_records),
			U64(st.packets), U64(st.rate), U64(st.templates), U64(st.opt_templates),
			U64(st.discarded_messages), U64(st.notsent_flows), U64(st.notsent_packets),
			U64(st.notsent_octets), U64(st.buffered), U64(st.held), U64(st.buffered_max),
			U64(st.connects),
			st.seq, c->statistics ? "true" : "false", c->uniflow ? "uniflow" : "biflow",
			c->reduced ? "reduced" : "full");
	}
	fputs("],\n", f);
}

int json_write(FILE *f, const struct out_view *v, uint64_t generation)
{
	struct agg_set *set = v->profiles(v->arg);
	size_t n = agg_set_count(set);
	struct collector_view c;

	v->collector(v->arg, &c);
	fprintf(f, "{\"version\":\"%s\",\"generation\":%llu,\"time\":%llu,\n", CTFLOWD_VERSION,
		U64(generation), U64(time(NULL)));
	put_collector(f, &c);
	put_ipfix(f, v->exporter(v->arg));
	fputs("\"profiles\":[", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", f);
		put_profile(f, agg_set_profile(set, i));
	}
	fputs("]}\n", f);
	return ferror(f) ? -1 : 0;
}

int json_write_file(const char *path, const struct out_view *v, uint64_t generation)
{
	char tmp[4096 + 16];
	FILE *f;
	int rc, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	rc = json_write(f, v, generation);
	e = errno;
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = -1;
		e = errno;
	}
	if (rc < 0) {
		unlink(tmp);
		errno = e;
	}
	return rc;
}
