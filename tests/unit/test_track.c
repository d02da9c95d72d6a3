/*
 * test_track: slice accounting.  Hand-written cases for each rule (growth,
 * remainder, reset, id reuse, vanished flows, late DESTROY, stale and dying
 * dump rows, full table, restart), then a randomized model of the kernel
 * interleaving dumps and events, with lost events, conntrack ids reused by
 * new incarnations of the same tuple, entries dumped while being destroyed,
 * and kills at any journal save followed by a restart: every incarnation's
 * slices must add up to exactly its final counters, and it must start and
 * end exactly once.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acct_track.h"
#include "tap.h"

#define TAP_NAME "test_track"
#define MAXF 4096

/* What the sink saw, per conntrack id. */
struct tally {
	uint64_t pkts[2], bytes[2];
	int starts, ends;
	int reasons[4];
};

static struct tally tally[MAXF];
static int nslices;

static void sink(void *arg, const struct slice *s)
{
	struct tally *t = &tally[s->flow->id % MAXF];

	(void)arg;
	nslices++;
	for (int d = 0; d < 2; d++) {
		t->pkts[d] += s->pkts[d];
		t->bytes[d] += s->bytes[d];
	}
	t->starts += !!(s->flags & SLICE_START);
	t->ends += !!(s->flags & SLICE_END);
	t->reasons[s->reason]++;
}

/* An anonymous store: no persistence, transactions cost nothing. */
static struct store *mem_store;

static struct track *fresh(size_t limit)
{
	const struct slice_sink ss = { sink, NULL };
	enum store_origin o;
	char err[256];

	memset(tally, 0, sizeof(tally));
	nslices = 0;
	if (!mem_store)
		mem_store = store_open("", 1 << 20, 4096, err, sizeof(err));
	return track_new(limit, &ss, mem_store, &o);
}

static struct ct_flow mk(uint32_t id, uint64_t pkts, uint64_t bytes, uint64_t start_ns, int destroy)
{
	struct ct_flow f;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.kind = destroy ? CT_MSG_FLOW_DESTROY : CT_MSG_FLOW_NEW;
	f.id = id;
	f.has = CT_HAS_COUNTERS | (start_ns ? CT_HAS_START : 0u);
	f.start_ns = start_ns;
	for (int d = 0; d < 2; d++) {
		f.tuple[d].proto = 6;
		f.tuple[d].src.b[0] = 10;
		f.tuple[d].src.b[3] = (uint8_t)(1 + d);
		f.tuple[d].dst.b[0] = 10;
		f.tuple[d].dst.b[3] = (uint8_t)(2 - d);
		f.tuple[d].sport = d ? 80 : (uint16_t)(1000 + id % 50000);
		f.tuple[d].dport = d ? (uint16_t)(1000 + id % 50000) : 80;
	}
	f.pkts[0] = pkts;
	f.bytes[0] = bytes;
	f.pkts[1] = pkts / 2;
	f.bytes[1] = bytes / 2;
	return f;
}

static void row(struct track *tr, uint32_t id, uint64_t p, uint64_t b)
{
	struct ct_flow f = mk(id, p, b, 1000, 0);

	track_dump_row(tr, &f, 5);
}

static void destroy(struct track *tr, uint32_t id, uint64_t p, uint64_t b)
{
	struct ct_flow f = mk(id, p, b, 1000, 1);

	track_destroy(tr, &f, 5);
}

static void cycle_end(struct track *tr, int ok)
{
	track_dump_end(tr, ok);
	while (track_sweep(tr, 3, 9))
		;
}

static void untracked_destroy_accounts_whole_flow(void)
{
	struct track *tr = fresh(1024);

	destroy(tr, 1, 10, 1000);
	CHECK_EQ_U(nslices, 1);
	CHECK_EQ_U(tally[1].pkts[0], 10);
	CHECK_EQ_U(tally[1].bytes[1], 500);
	CHECK_EQ_U(tally[1].starts, 1);
	CHECK_EQ_U(tally[1].ends, 1);
	track_free(tr);
}

static void dumps_account_growth_and_destroy_the_remainder(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;

	track_dump_begin(tr);
	row(tr, 1, 10, 1000);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	row(tr, 1, 15, 1500);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	row(tr, 1, 15, 1500); /* no growth: no slice */
	cycle_end(tr, 1);
	destroy(tr, 1, 20, 2000);
	CHECK_EQ_U(nslices, 3);
	CHECK_EQ_U(tally[1].pkts[0], 20);
	CHECK_EQ_U(tally[1].bytes[0], 2000);
	CHECK_EQ_U(tally[1].bytes[1], 1000);
	CHECK_EQ_U(tally[1].starts, 1);
	CHECK_EQ_U(tally[1].ends, 1);
	CHECK_EQ_U(tally[1].reasons[SLICE_INTERIM], 2);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.tracked, 0);
	track_free(tr);
}

static void zeroed_counters_count_as_growth_from_zero(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;

	track_dump_begin(tr);
	row(tr, 1, 10, 1000);
	row(tr, 2, 10, 1000);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	row(tr, 1, 3, 300); /* someone zeroed it; 3 since then */
	row(tr, 2, 10, 1000);
	cycle_end(tr, 1);
	destroy(tr, 1, 5, 500);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.counter_resets, 1);
	CHECK_EQ_U(tally[1].pkts[0], 15);
	CHECK_EQ_U(tally[1].bytes[0], 1500);
	track_free(tr);
}

static void reused_id_with_new_start_time_is_a_new_flow(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;
	struct ct_flow a = mk(1, 10, 1000, 1000, 0), b = mk(1, 4, 400, 2000, 0);

	track_dump_begin(tr);
	track_dump_row(tr, &a, 5);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	track_dump_row(tr, &b, 5); /* a's DESTROY was lost: a is closed by the sweep */
	cycle_end(tr, 1);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.incarnations, 1);
	CHECK_EQ_U(st.ended_unobserved, 1);
	CHECK_EQ_U(tally[1].starts, 2);
	CHECK_EQ_U(tally[1].ends, 1);
	CHECK_EQ_U(tally[1].pkts[0], 14);
	b.kind = CT_MSG_FLOW_DESTROY;
	b.pkts[0] = 6;
	track_destroy(tr, &b, 5);
	CHECK_EQ_U(tally[1].pkts[0], 16);
	CHECK_EQ_U(tally[1].ends, 2);
	track_free(tr);
}

/* The race of the field report: a dump row of the new incarnation is applied
 * before the DESTROY of the old one, which is still queued.  The old one must
 * end by its DESTROY, with its last bytes, not "unobserved". */
static void new_incarnation_row_before_old_destroy_keeps_both(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;
	struct ct_flow a = mk(1, 10, 1000, 1000, 0), b = mk(1, 4, 400, 2000, 0);

	track_dump_begin(tr);
	track_dump_row(tr, &a, 5);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	track_dump_row(tr, &b, 5);
	a.kind = CT_MSG_FLOW_DESTROY;
	a.pkts[0] = 12;
	a.has |= CT_HAS_STOP;
	track_destroy(tr, &a, 5);
	cycle_end(tr, 1);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.ended_unobserved, 0);
	CHECK_EQ_U(tally[1].pkts[0], 16);
	CHECK_EQ_U(tally[1].reasons[SLICE_DESTROY], 1);
	CHECK_EQ_U(tally[1].ends, 1);
	CHECK_EQ_U(st.tracked, 1); /* b, live */
	track_free(tr);
}

/* The other race: a DESTROY during a dump leaves a tombstone, and a later
 * incarnation's DESTROY must not be taken for a duplicate of it. */
static void tombstone_swallows_only_its_own_incarnation(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;
	struct ct_flow a = mk(1, 10, 1000, 1000, 1), b = mk(1, 4, 400, 2000, 1);

	track_dump_begin(tr);
	track_destroy(tr, &a, 5); /* untracked, during a dump: a tombstone */
	track_destroy(tr, &b, 5); /* the next connection on that tuple */
	track_destroy(tr, &b, 5); /* a real duplicate (reliable-mode redelivery) */
	a.kind = CT_MSG_FLOW_NEW;
	track_dump_row(tr, &a, 5); /* the dump's stale copy of a */
	cycle_end(tr, 1);
	track_get_stats(tr, &st);
	CHECK_EQ_U(tally[1].pkts[0], 14);
	CHECK_EQ_U(tally[1].starts, 2);
	CHECK_EQ_U(tally[1].ends, 2);
	CHECK_EQ_U(st.duplicate_destroys, 1);
	CHECK_EQ_U(st.stale_rows, 1);
	CHECK_EQ_U(st.tracked, 0);
	track_free(tr);
}

/* A dump can copy an entry the kernel is destroying (its stop time is set):
 * without an entry of ours, its DESTROY accounts it, never the row. */
static void dying_row_is_left_to_its_destroy(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;
	struct ct_flow f = mk(1, 10, 1000, 1000, 0);

	f.has |= CT_HAS_STOP;
	f.stop_ns = 2000;
	track_dump_begin(tr);
	track_dump_row(tr, &f, 5); /* DESTROY still queued */
	cycle_end(tr, 1);
	f.kind = CT_MSG_FLOW_DESTROY;
	track_destroy(tr, &f, 5);
	track_dump_begin(tr);
	f.kind = CT_MSG_FLOW_NEW;
	track_dump_row(tr, &f, 5); /* DESTROY applied before the dump came by */
	cycle_end(tr, 1);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.dying_rows, 2);
	CHECK_EQ_U(tally[1].pkts[0], 10);
	CHECK_EQ_U(tally[1].starts, 1);
	CHECK_EQ_U(tally[1].ends, 1);
	CHECK_EQ_U(st.tracked, 0);
	track_free(tr);
}

static void vanished_flow_ends_unobserved_then_is_forgotten(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;

	track_dump_begin(tr);
	row(tr, 1, 10, 1000);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	cycle_end(tr, 1);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.ended_unobserved, 1);
	CHECK_EQ_U(tally[1].ends, 1);
	CHECK_EQ_U(tally[1].reasons[SLICE_UNOBSERVED], 1);
	CHECK_EQ_U(st.tracked, 1); /* kept one cycle for a late DESTROY */
	track_dump_begin(tr);
	cycle_end(tr, 1);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.tracked, 0);
	CHECK_EQ_U(st.ended_unobserved, 1);
	track_free(tr);
}

static void late_destroy_accounts_only_the_remainder(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;

	track_dump_begin(tr);
	row(tr, 1, 10, 1000);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	cycle_end(tr, 1);
	destroy(tr, 1, 12, 1200);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.late_destroys, 1);
	CHECK_EQ_U(tally[1].pkts[0], 12);
	CHECK_EQ_U(tally[1].bytes[0], 1200);
	CHECK_EQ_U(tally[1].starts, 1);
	CHECK_EQ_U(tally[1].ends, 1);
	track_free(tr);
}

static void stale_dump_row_after_destroy_is_ignored(void)
{
	struct track *tr = fresh(1024);

	/* untracked flow dies while a dump that already copied it runs */
	track_dump_begin(tr);
	destroy(tr, 1, 10, 1000);
	row(tr, 1, 8, 800);
	cycle_end(tr, 1);
	/* tracked flow, same race */
	track_dump_begin(tr);
	row(tr, 2, 5, 500);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	destroy(tr, 2, 9, 900);
	row(tr, 2, 7, 700);
	cycle_end(tr, 1);
	CHECK_EQ_U(tally[1].pkts[0], 10);
	CHECK_EQ_U(tally[1].starts, 1);
	CHECK_EQ_U(tally[2].pkts[0], 9);
	CHECK_EQ_U(tally[2].starts, 1);
	CHECK_EQ_U(tally[2].ends, 1);
	struct track_stats st;

	track_get_stats(tr, &st);
	CHECK_EQ_U(st.tracked, 0);
	CHECK_EQ_U(st.ended_unobserved, 0);
	track_free(tr);
}

static void full_table_refuses_tracking_but_stays_exact(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;

	track_dump_begin(tr);
	for (uint32_t id = 1; id <= 1100; id++)
		row(tr, id, 10, 1000);
	cycle_end(tr, 1);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.tracked, 1024);
	CHECK_EQ_U(st.full_refusals, 76);
	for (uint32_t id = 1; id <= 1100; id++)
		destroy(tr, id, 30, 3000);
	int exact = 1;

	for (uint32_t id = 1; id <= 1100; id++)
		if (tally[id].pkts[0] != 30 || tally[id].starts != 1 || tally[id].ends != 1)
			exact = 0;
	CHECK(exact);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.tracked, 0);
	track_free(tr);
}

static void failed_dump_closes_nothing(void)
{
	struct track *tr = fresh(1024);
	struct track_stats st;

	track_dump_begin(tr);
	row(tr, 1, 10, 1000);
	cycle_end(tr, 1);
	track_dump_begin(tr);
	cycle_end(tr, 0);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.ended_unobserved, 0);
	CHECK_EQ_U(st.tracked, 1);
	track_free(tr);
}

static void events_without_counters_still_count_flows(void)
{
	struct track *tr = fresh(1024);
	struct ct_flow f = mk(1, 0, 0, 0, 1);
	struct track_stats st;

	f.has = 0;
	track_destroy(tr, &f, 5);
	track_get_stats(tr, &st);
	CHECK_EQ_U(st.no_counters, 1);
	CHECK_EQ_U(tally[1].starts, 1);
	CHECK_EQ_U(tally[1].ends, 1);
	track_free(tr);
}

/* ---- randomized model of the kernel ---- */

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

#define NFLOWS 400
#define MAXINC 6   /* incarnations of one id and tuple */

/* One incarnation, as the kernel knows it. */
struct minc {
	int born, lost_event;
	uint64_t pkts, bytes;
};

/* One conntrack id and tuple: its incarnations come one after the other. */
struct mflow {
	int inc;        /* the current incarnation, 0 = none yet */
	int alive;      /* in the table, not destroyed */
	int dying;      /* destroyed, still in the table for this many steps */
	struct minc i[MAXINC + 1];
};

/* What the sink saw, per incarnation; kept in the store like the tables,
 * so that a rolled-back transaction takes back what it added. */
struct mtally {
	uint64_t pkts[2], bytes[2];
	int starts, ends;
};

enum { Q_ROW, Q_DONE, Q_DESTROY };

struct qmsg {
	int kind;
	uint32_t id, inc;
	int stop;
	uint64_t pkts, bytes;
};

struct queue {
	struct qmsg m[MAXF * 4];
	size_t head, tail;
};

struct pend {
	uint32_t id, inc;
};

static struct {
	struct mflow f[NFLOWS + 1];
	struct queue evq, dumpq;
	struct pend pending[NFLOWS * 2]; /* entries the running dump has not reached */
	size_t npending;
	/* dump_running: the kernel still produces rows; dump_open: DONE not yet
	 * read (ctflowd starts a dump only after the previous one's DONE) */
	int dump_running, dump_open, done_read, drained;
	int timestamps;
	int restarts, faults;
} M;

static struct store *mstore;
static struct mtally *mt;     /* [NFLOWS + 1][MAXINC + 1], a store region */
static struct track *mtr;
static jmp_buf crash;

static struct mtally *tally_of(uint32_t id, uint32_t inc)
{
	return &mt[id * (MAXINC + 1) + inc];
}

static void model_sink(void *arg, const struct slice *s)
{
	const struct ct_flow *f = s->flow;
	/* the incarnation is in the start time (see model_flow); without
	 * timestamps there is only one */
	uint32_t inc = M.timestamps ? (uint32_t)(f->start_ns >> 32) : 1;
	struct mtally *t = tally_of(f->id, inc);

	(void)arg;
	store_save(mstore, t, sizeof(*t));
	for (int d = 0; d < 2; d++) {
		t->pkts[d] += s->pkts[d];
		t->bytes[d] += s->bytes[d];
	}
	t->starts += !!(s->flags & SLICE_START);
	t->ends += !!(s->flags & SLICE_END);
}

static void qpush(struct queue *q, int kind, uint32_t id, int stop)
{
	struct qmsg m = { kind, id, 0, stop, 0, 0 };

	if (id) {
		m.inc = (uint32_t)M.f[id].inc;
		m.pkts = M.f[id].i[m.inc].pkts;
		m.bytes = M.f[id].i[m.inc].bytes;
	}
	q->m[q->tail++ % (MAXF * 4)] = m;
}

static void unpend(uint32_t id)
{
	for (size_t i = 0; i < M.npending; i++)
		if (M.pending[i].id == id)
			M.pending[i--] = M.pending[--M.npending];
}

static void kill_flow(uint32_t id, int lose_event)
{
	struct mflow *m = &M.f[id];

	m->alive = 0;
	m->dying = (int)rnd(4); /* the kernel unlinks it a little after the event */
	if (!m->dying)
		unpend(id);
	if (lose_event)
		m->i[m->inc].lost_event = 1;
	else
		qpush(&M.evq, Q_DESTROY, id, 1);
}

static void kernel_step(void)
{
	uint32_t id = 1 + rnd(NFLOWS);
	struct mflow *m = &M.f[id];
	uint32_t r = rnd(100);
	int max_inc = M.timestamps ? MAXINC : 1;

	if (m->dying) {
		if (--m->dying == 0)
			unpend(id);
	} else if (!m->alive && m->inc < max_inc && r < 30) {
		/* born, or born again: the same id and tuple, a new start time */
		m->inc++;
		m->alive = 1;
		m->i[m->inc].born = 1;
		m->i[m->inc].pkts = 1 + rnd(5);
		m->i[m->inc].bytes = m->i[m->inc].pkts * 100;
		if (M.dump_running && rnd(2))
			M.pending[M.npending++] = (struct pend){ id, (uint32_t)m->inc };
	} else if (m->alive && r < 85) {
		uint64_t p = rnd(4);

		m->i[m->inc].pkts += p;
		m->i[m->inc].bytes += p * 100 + rnd(50);
	} else if (m->alive) {
		kill_flow(id, rnd(20) == 0);
	}
}

static void dump_step(void)
{
	if (M.npending) {
		uint32_t i = rnd((uint32_t)M.npending);
		struct pend p = M.pending[i];
		const struct mflow *m = &M.f[p.id];

		M.pending[i] = M.pending[--M.npending];
		if ((uint32_t)m->inc == p.inc && (m->alive || m->dying))
			qpush(&M.dumpq, Q_ROW, p.id, !m->alive);
	} else {
		qpush(&M.dumpq, Q_DONE, 0, 0);
		M.dump_running = 0;
	}
}

static struct ct_flow model_flow(const struct qmsg *q)
{
	uint64_t start = M.timestamps ? (uint64_t)q->inc << 32 | q->id : 0;
	struct ct_flow f = mk(q->id, q->pkts, q->bytes, start, q->kind == Q_DESTROY);

	f.pkts[1] = q->pkts;
	f.bytes[1] = q->bytes;
	if (q->stop) {
		f.has |= CT_HAS_STOP;
		f.stop_ns = 1;
	}
	return f;
}

/* ---- ctflowd's side, with kills ---- */

static void on_fault(void *arg)
{
	(void)arg;
	longjmp(crash, 1);
}

static void model_open(void)
{
	const struct slice_sink ss = { model_sink, NULL };
	enum store_origin o;

	mtr = track_new(1 << 16, &ss, mstore, &o);
}

/*
 * A kill, then a start: the transaction cut short is rolled back, the
 * tracker maps its region again.  The kernel side: the event socket died
 * with the process, so what was queued in it is lost; the dump in flight
 * is gone too.  Like ctflowd, the new process dumps at once.
 */
static void restart(void)
{
	store_abort(mstore);
	track_free(mtr);
	model_open();
	M.restarts++;
	while (M.evq.head < M.evq.tail) {
		struct qmsg *q = &M.evq.m[M.evq.head++ % (MAXF * 4)];

		M.f[q->id].i[q->inc].lost_event = 1;
	}
	M.dumpq.head = M.dumpq.tail;
	M.dump_running = M.dump_open = M.done_read = M.drained = 0;
	M.npending = 0;
}

static void start_dump(void)
{
	track_dump_begin(mtr);
	M.dump_running = M.dump_open = 1;
	M.done_read = 0;
	M.npending = 0;
	for (uint32_t id = 1; id <= NFLOWS; id++)
		if (M.f[id].alive || M.f[id].dying)
			M.pending[M.npending++] = (struct pend){ id, (uint32_t)M.f[id].inc };
}

/* Read one message from either socket, as the loop would, in a transaction
 * that a kill may cut short at any save (faults on).  A DESTROY whose
 * transaction did not commit is applied again after the restart, as
 * kern_ctsock's receive area makes it. */
static void user_step(int faults)
{
	volatile int from_events = M.evq.head < M.evq.tail && (M.dumpq.head == M.dumpq.tail || rnd(2));
	struct qmsg *volatile redo = NULL;

	if (faults && rnd(40) == 0) {
		store_fault_at(mstore, 1 + rnd(12), on_fault, NULL);
		M.faults++;
	}
	if (setjmp(crash)) {
		store_fault_at(mstore, 0, NULL, NULL);
		restart();
		if (redo) {
			struct ct_flow f = model_flow(redo);

			store_begin(mstore);
			track_destroy(mtr, &f, 5);
			store_commit(mstore);
		}
		store_begin(mstore);
		start_dump();
		store_commit(mstore);
		return;
	}
	store_begin(mstore);
	if (from_events) {
		redo = &M.evq.m[M.evq.head++ % (MAXF * 4)];
		struct ct_flow f = model_flow(redo);

		track_destroy(mtr, &f, 5);
	} else if (M.dumpq.head < M.dumpq.tail) {
		struct qmsg *m = &M.dumpq.m[M.dumpq.head++ % (MAXF * 4)];

		if (m->kind == Q_DONE) {
			track_dump_end(mtr, 1);
			M.done_read = 1;
			M.dump_open = 0;
			M.drained = 0;
		} else {
			struct ct_flow f = model_flow(m);

			track_dump_row(mtr, &f, 5);
		}
	}
	if (M.evq.head == M.evq.tail && M.done_read)
		M.drained = 1;
	if (M.drained && track_sweep_pending(mtr))
		track_sweep(mtr, 1 + rnd(8), 9);
	store_commit(mstore);
	store_fault_at(mstore, 0, NULL, NULL);
}

static void run_model(int steps, int faults)
{
	for (int s = 0; s < steps; s++) {
		uint32_t r = rnd(100);

		if (r < 45) {
			kernel_step();
		} else if (r < 55 && M.dump_running) {
			dump_step();
		} else if (r < 57 && !M.dump_open) {
			store_begin(mstore);
			start_dump();
			store_commit(mstore);
		} else {
			user_step(faults);
		}
	}
}

static void settle(void)
{
	for (uint32_t id = 1; id <= NFLOWS; id++) {
		if (M.f[id].alive)
			kill_flow(id, 0);
		M.f[id].dying = 0;
	}
	M.npending = 0;
	for (int cycle = 0; cycle < 3; cycle++) {
		while (M.dump_open)
			M.dump_running ? dump_step() : user_step(0);
		store_begin(mstore);
		start_dump();
		store_commit(mstore);
		while (M.dump_running)
			dump_step();
		while (M.evq.head < M.evq.tail || M.dumpq.head < M.dumpq.tail ||
		       track_sweep_pending(mtr))
			user_step(0);
	}
}

/* Every incarnation: started and ended exactly once, its slices summing to
 * exactly its counters; one whose DESTROY was lost (dropped, or queued when
 * ctflowd was killed) lacks at most the growth after its last dump, and one
 * no dump saw is invisible.  Returns the number that were wrong. */
static int model_check(int round, int *lost)
{
	int bad = 0;

	for (uint32_t id = 1; id <= NFLOWS; id++) {
		for (int inc = 1; inc <= M.f[id].inc; inc++) {
			const struct minc *m = &M.f[id].i[inc];
			const struct mtally *t = tally_of(id, (uint32_t)inc);
			int unseen = m->lost_event && !t->starts && !t->ends && !t->bytes[0];
			int sums = m->lost_event ? t->bytes[0] <= m->bytes
						 : t->bytes[0] == m->bytes && t->pkts[0] == m->pkts &&
							   t->bytes[1] == m->bytes;

			*lost += m->lost_event;
			if (unseen || (sums && t->ends == 1 && t->starts == 1))
				continue;
			if (bad++ < 5)
				printf("  # round %d flow %u.%d: kernel %llu/%llu seen %llu/%llu "
				       "starts %d ends %d lost %d\n", round, id, inc,
				       (unsigned long long)m->pkts, (unsigned long long)m->bytes,
				       (unsigned long long)t->pkts[0], (unsigned long long)t->bytes[0],
				       t->starts, t->ends, m->lost_event);
		}
	}
	return bad;
}

/* One model run in a store of its own: a state directory for `faults`. */
static int model_round(int round, int timestamps, int faults, int *lost, int *reused)
{
	char dir[] = "/tmp/ctflowd-test-track.XXXXXX", err[256], cmd[128];
	enum store_origin o;
	int bad;

	memset(&M, 0, sizeof(M));
	M.timestamps = timestamps;
	if (faults && !mkdtemp(dir))
		return 1;
	mstore = store_open(faults ? dir : "", 8 << 20, 4096, err, sizeof(err));
	if (!mstore)
		return printf("  # %s\n", err), 1;
	mt = store_region(mstore, "tally", 1, sizeof(*mt) * (NFLOWS + 1) * (MAXINC + 1), &o);
	model_open();
	run_model(20000, faults);
	settle();
	bad = model_check(round, lost);
	for (uint32_t id = 1; id <= NFLOWS; id++)
		*reused += M.f[id].inc > 1;
	if (faults && M.restarts == 0)
		bad++, printf("  # round %d: no kill happened\n", round);
	track_free(mtr);
	store_close(mstore);
	if (faults) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			bad++;
	}
	return bad;
}

static void random_interleavings_account_every_byte_once(void)
{
	int bad = 0, lost = 0, reused = 0;

	for (int round = 0; round < 12; round++)
		bad += model_round(round, 1, 0, &lost, &reused);
	CHECK_EQ_U(bad, 0);
	CHECK(lost > 0);   /* the model did exercise lost events ... */
	CHECK(reused > 0); /* ... and ids reused by new incarnations */
}

static void without_timestamps_every_byte_once_still(void)
{
	int bad = 0, lost = 0, reused = 0;

	for (int round = 0; round < 4; round++)
		bad += model_round(round, 0, 0, &lost, &reused);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(reused, 0);
}

static void kills_at_any_save_lose_and_double_nothing(void)
{
	int bad = 0, lost = 0, reused = 0, restarts = 0, faults = 0;

	for (int round = 0; round < 6; round++) {
		bad += model_round(round, 1, 1, &lost, &reused);
		restarts += M.restarts;
		faults += M.faults;
	}
	printf("  # %d kills injected, %d hit a save mid-transaction\n", faults, restarts);
	CHECK_EQ_U(bad, 0);
	CHECK(restarts > 20);
}

int main(void)
{
	RUN(untracked_destroy_accounts_whole_flow);
	RUN(dumps_account_growth_and_destroy_the_remainder);
	RUN(zeroed_counters_count_as_growth_from_zero);
	RUN(reused_id_with_new_start_time_is_a_new_flow);
	RUN(vanished_flow_ends_unobserved_then_is_forgotten);
	RUN(late_destroy_accounts_only_the_remainder);
	RUN(stale_dump_row_after_destroy_is_ignored);
	RUN(full_table_refuses_tracking_but_stays_exact);
	RUN(failed_dump_closes_nothing);
	RUN(events_without_counters_still_count_flows);
	RUN(new_incarnation_row_before_old_destroy_keeps_both);
	RUN(tombstone_swallows_only_its_own_incarnation);
	RUN(dying_row_is_left_to_its_destroy);
	RUN(random_interleavings_account_every_byte_once);
	RUN(without_timestamps_every_byte_once_still);
	RUN(kills_at_any_save_lose_and_double_nothing);
	TAP_DONE();
}
