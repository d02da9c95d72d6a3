/*
 * fuzz_state: libFuzzer target for the state files ctflowd reads at start.
 *
 * The input is written over a region file (header or payload, as its first
 * byte says) of the tracking table, an aggregation table or the journal, in
 * a state directory on tmpfs; then ctflowd's start-up code opens it.  Any
 * file must be used or refused, never crash, and what was accepted must
 * work: the tables are then driven with events, dump rows and a sweep, and
 * the aggregation rows' usage periods (whatever their buckets hold) with
 * updates across period boundaries.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acct_track.h"
#include "agg_table.h"
#include "agg_usage.h"
#include "base_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 4096
#define USAGE_BYTES (2 * 4 * sizeof(struct usage_bucket)) /* two kinds, keep 3 */

static char dir[64];

static void on_slice(void *arg, const struct slice *s)
{
	(void)arg, (void)s;
}

static struct store *open_store(void)
{
	char err[256];

	return store_open(dir, 1 << 16, 4096, err, sizeof(err));
}

/* A valid state directory: a track table, an aggregation table, a journal. */
static void make_state(void)
{
	const struct slice_sink ss = { on_slice, NULL };
	struct store *st = open_store();
	enum store_origin o;
	struct track *tr = track_new(64, &ss, st, &o);
	struct agg_table *t = agg_table_new(8, USAGE_BYTES, 16, st, "agg", 1, &o);
	struct agg_key k = { 8, { 10, 0, 0, 1, 0, 0, 0, 80 } };
	struct ct_flow f;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.has = CT_HAS_COUNTERS | CT_HAS_START;
	f.start_ns = 5;
	f.tuple[0].proto = f.tuple[1].proto = 6;
	store_begin(st);
	track_dump_begin(tr);
	track_dump_row(tr, &f, 1);
	agg_table_upsert(t, &k, 1)->bytes[0] = 1;
	store_commit(st);
	track_free(tr);
	agg_table_free(t);
	store_close(st);
}

static void overwrite(const char *name, long off, const uint8_t *b, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.region", dir, name);
	f = fopen(path, "r+");
	if (!f)
		return;
	if (fseek(f, off, SEEK_SET) == 0)
		fwrite(b, 1, len, f);
	fclose(f);
}

/* Start as ctflowd does, then use what was kept. */
static void start_and_use(void)
{
	const struct slice_sink ss = { on_slice, NULL };
	struct store *st = open_store();
	enum store_origin o;
	struct track *tr;
	struct agg_table *t;
	struct agg_key k = { 8, { 10, 0, 0, 2, 0, 0, 0, 80 } };
	struct ct_flow f;

	if (!st)
		abort();
	tr = track_new(64, &ss, st, &o);
	t = agg_table_new(8, USAGE_BYTES, 16, st, "agg", 1, &o);
	if (!tr || !t)
		abort();
	struct usage_def ud = { 0 };
	struct usage_clock uc = { 0 };
	const struct usage_bucket *cur[USAGE_KINDS_MAX];
	const uint64_t one[2] = { 1, 1 };
	char err[128];

	if (usage_parse("10s, 3s", &ud, err, sizeof(err)) < 0)
		abort();
	ud.keep = 3;
	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.has = CT_HAS_COUNTERS | CT_HAS_START;
	f.start_ns = 5;
	f.tuple[0].proto = f.tuple[1].proto = 6;
	store_begin(st);
	for (uint32_t i = 0; i < 40; i++) {
		k.b[3] = (uint8_t)i;
		struct agg_counters *c = agg_table_upsert(t, &k, i);
		struct usage_bucket b;
		int64_t from, to;

		c->pkts[0]++;
		usage_add(&uc, &ud, agg_table_extra_of(t, c), (int64_t)i * 2, (int64_t)i * 3, one, one,
			  1, cur);
		usage_get(&ud, agg_table_extra(t, agg_table_lookup(t, &k)), i % 2, i % 4,
			  (int64_t)i * 3, &b, &from, &to);
	}
	agg_table_first_ordered(t);
	track_dump_begin(tr);
	track_dump_row(tr, &f, 2);
	f.id = 1;
	track_destroy(tr, &f, 3);
	track_dump_end(tr, 1);
	while (track_sweep(tr, 16, 4))
		;
	store_commit(st);
	track_free(tr);
	agg_table_free(t);
	store_close(st);
}

static void empty_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
}

static void remove_dir(void)
{
	empty_dir();
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const regions[] = { "track", "agg", "journal" };

	if (size < 2)
		return 0;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/dev/shm/ctflowd-fuzz-state-%d", (int)getpid());
		atexit(remove_dir);
	}
	empty_dir();
	make_state();
	/* first byte: which file, and the header or the payload */
	overwrite(regions[data[0] % 3], (data[0] & 0x80) ? 0 : HDR + (data[0] >> 2 & 0x1f) * 8,
		  data + 1, size - 1);
	start_and_use();
	return 0;
}
