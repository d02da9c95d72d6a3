/*
 * agg_order: treap with split and merge.  Expected depth is about
 * 2.5 log2(n) (some 50 at a million rows), so the recursion is shallow.
 */
#include "agg_order.h"

#include <stdlib.h>

#include "base_hash.h"

struct agg_order {
	uint32_t root;
	uint32_t *left, *right; /* indexed by row, 0 = none */
	uint64_t seed;
};

static uint32_t prio(const struct agg_order *o, uint32_t row)
{
	uint64_t x = (row ^ o->seed) * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(x >> 32);
}

struct agg_order *agg_order_new(uint32_t limit)
{
	struct agg_order *o = calloc(1, sizeof(*o));
	struct hash_key hk;

	if (!o)
		return NULL;
	o->left = calloc((size_t)limit + 1, sizeof(*o->left));
	o->right = calloc((size_t)limit + 1, sizeof(*o->right));
	if (!o->left || !o->right) {
		agg_order_free(o);
		return NULL;
	}
	hash_key_random(&hk);
	o->seed = hk.k0;
	return o;
}

void agg_order_free(struct agg_order *o)
{
	if (!o)
		return;
	free(o->left);
	free(o->right);
	free(o);
}

/* Split t into rows before `row` (*l) and rows after it (*r). */
static void split(struct agg_order *o, uint32_t t, uint32_t row, uint32_t *l, uint32_t *r,
		  agg_order_cmp cmp, void *ctx)
{
	if (!t) {
		*l = *r = 0;
	} else if (cmp(ctx, t, row) < 0) {
		split(o, o->right[t], row, &o->right[t], r, cmp, ctx);
		*l = t;
	} else {
		split(o, o->left[t], row, l, &o->left[t], cmp, ctx);
		*r = t;
	}
}

/* Join a and b, every row of a sorting before every row of b. */
static uint32_t merge(struct agg_order *o, uint32_t a, uint32_t b)
{
	if (!a || !b)
		return a ? a : b;
	if (prio(o, a) > prio(o, b)) {
		o->right[a] = merge(o, o->right[a], b);
		return a;
	}
	o->left[b] = merge(o, a, o->left[b]);
	return b;
}

static uint32_t insert(struct agg_order *o, uint32_t t, uint32_t row, agg_order_cmp cmp,
		       void *ctx)
{
	if (!t)
		return row;
	if (prio(o, row) > prio(o, t)) {
		split(o, t, row, &o->left[row], &o->right[row], cmp, ctx);
		return row;
	}
	if (cmp(ctx, row, t) < 0)
		o->left[t] = insert(o, o->left[t], row, cmp, ctx);
	else
		o->right[t] = insert(o, o->right[t], row, cmp, ctx);
	return t;
}

void agg_order_insert(struct agg_order *o, uint32_t row, agg_order_cmp cmp, void *ctx)
{
	o->left[row] = o->right[row] = 0;
	o->root = insert(o, o->root, row, cmp, ctx);
}

static uint32_t remove_row(struct agg_order *o, uint32_t t, uint32_t row, agg_order_cmp cmp,
			   void *ctx)
{
	if (!t)
		return 0;
	if (t == row)
		return merge(o, o->left[t], o->right[t]);
	if (cmp(ctx, row, t) < 0)
		o->left[t] = remove_row(o, o->left[t], row, cmp, ctx);
	else
		o->right[t] = remove_row(o, o->right[t], row, cmp, ctx);
	return t;
}

void agg_order_remove(struct agg_order *o, uint32_t row, agg_order_cmp cmp, void *ctx)
{
	o->root = remove_row(o, o->root, row, cmp, ctx);
	o->left[row] = o->right[row] = 0;
}

uint32_t agg_order_first(const struct agg_order *o)
{
	uint32_t t = o->root;

	while (t && o->left[t])
		t = o->left[t];
	return t;
}

uint32_t agg_order_seek(const struct agg_order *o, agg_order_probe probe, void *ctx)
{
	uint32_t t = o->root, best = 0;

	while (t) {
		if (probe(ctx, t) > 0) {
			best = t;
			t = o->left[t];
		} else {
			t = o->right[t];
		}
	}
	return best;
}

uint64_t agg_order_bytes(const struct agg_order *o, uint32_t rows)
{
	(void)o;
	return (uint64_t)rows * 2 * sizeof(uint32_t);
}
