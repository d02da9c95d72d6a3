/*
 * test_mibtree: mib_tree_find, the GET/GETNEXT row lookup of the IPFIX-MIB
 * tables, against a brute-force answer over the same rows.  The tree has an
 * empty branch (a session with no templates), values at the edges of
 * Unsigned32, and requests of every length with sub-ids below, between,
 * on and above the rows, up to 64-bit values AgentX can carry.
 */
#include <string.h>

#include "mib_table.h"
#include "tap.h"

#define TAP_NAME "test_mibtree"

#define DEPTH 3
#define U32MAX 4294967295UL

/* level 0: sessions 1, 2, 3 (2 has nothing under it); level 1: domain 0 or
 * U32MAX; level 2: template ids */
static const oid sessions[] = { 1, 2, 3 };
static const oid domains[] = { 0, U32MAX };
static const oid tids[] = { 256, 300, 65535 };

static int has(oid session)
{
	return session != 2;
}

static int ge_list(const oid *v, size_t n, oid start, oid *out)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] >= start) {
			*out = v[i];
			return 1;
		}
	}
	return 0;
}

static int ge(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start, oid *out)
{
	(void)t;
	switch (lvl) {
	case 0: return ge_list(sessions, 3, start, out);
	case 1: return has(prefix[0]) && ge_list(domains, 2, start, out);
	default: return has(prefix[0]) && ge_list(tids, 3, start, out);
	}
}

static const struct mib_tree tree = { DEPTH, ge };

/* Every row, in order. */
static size_t all_rows(oid rows[][DEPTH])
{
	size_t n = 0;

	for (size_t s = 0; s < 3; s++)
		for (size_t d = 0; d < 2 && has(sessions[s]); d++)
			for (size_t k = 0; k < 3; k++) {
				rows[n][0] = sessions[s];
				rows[n][1] = domains[d];
				rows[n][2] = tids[k];
				n++;
			}
	return n;
}

static int cmp(const oid *a, size_t al, const oid *b, size_t bl)
{
	for (size_t i = 0; i < al && i < bl; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

static const oid probes[] = { 0, 1, 2, 3, 4, 255, 256, 257, 299, 300, 301, 65534, 65535, 65536,
			      U32MAX - 1, U32MAX, U32MAX + 1, (oid)-1 };
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* Compare one request with brute force; 1 if they agree. */
static int agrees(const oid *idx, size_t len, oid rows[][DEPTH], size_t nrows)
{
	struct mib_table t;
	struct mib_row row;
	int exact = 0, want_next = -1;

	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < nrows; i++) {
		int c = cmp(rows[i], DEPTH, idx, len);

		if (c == 0)
			exact = 1;
		if (c > 0 && want_next < 0)
			want_next = (int)i;
	}
	int got = mib_tree_find(&t, &tree, idx, len, 0, &row);

	if (got != exact)
		return 0;
	got = mib_tree_find(&t, &tree, idx, len, 1, &row);
	if (got != (want_next >= 0))
		return 0;
	return !got || (row.idxlen == DEPTH && cmp(row.idx, DEPTH, rows[want_next], DEPTH) == 0);
}

static void every_request_gets_the_brute_force_answer(void)
{
	oid rows[32][DEPTH], idx[5];
	size_t nrows = all_rows(rows), bad = 0, n = 0;

	CHECK_EQ_U(nrows, 12);
	for (size_t len = 0; len <= 4; len++) {
		size_t combos = 1;

		for (size_t i = 0; i < len; i++)
			combos *= NPROBES;
		for (size_t c = 0; c < combos; c++) {
			size_t x = c;

			for (size_t i = 0; i < len; i++, x /= NPROBES)
				idx[i] = probes[x % NPROBES];
			n++;
			if (!agrees(idx, len, rows, nrows)) {
				if (bad++ < 5)
					printf("  # disagree at length %zu: %lu.%lu.%lu.%lu\n", len,
					       len > 0 ? (unsigned long)idx[0] : 0UL,
					       len > 1 ? (unsigned long)idx[1] : 0UL,
					       len > 2 ? (unsigned long)idx[2] : 0UL,
					       len > 3 ? (unsigned long)idx[3] : 0UL);
			}
		}
	}
	CHECK_EQ_U(bad, 0);
	CHECK(n > 100000);
}

static void walk_visits_every_row_once_in_order(void)
{
	oid rows[32][DEPTH];
	size_t nrows = all_rows(rows), i = 0;
	struct mib_table t;
	struct mib_row row, prev;

	memset(&t, 0, sizeof(t));
	int found = mib_tree_find(&t, &tree, NULL, 0, 1, &row);

	while (found && i < nrows) {
		CHECK(cmp(row.idx, row.idxlen, rows[i], DEPTH) == 0);
		prev = row;
		i++;
		found = mib_tree_find(&t, &tree, prev.idx, prev.idxlen, 1, &row);
	}
	CHECK_EQ_U(i, nrows);
	CHECK(!found);
}

int main(void)
{
	RUN(every_request_gets_the_brute_force_answer);
	RUN(walk_visits_every_row_once_in_order);
	TAP_DONE();
}
