/*
 * agg_order: rows in key order, for ordered walks (SNMP GETNEXT) in
 * O(log n) per step while rows come and go.
 *
 * A treap over row numbers.  Each node's priority is a keyed hash of its row
 * number, not of its key, so whoever picks addresses and ports cannot make
 * the tree degenerate, and no priority needs storing: a row costs two 4-byte
 * links.  The tree knows nothing of keys; every operation takes a comparison
 * callback.
 */
#ifndef CTFLOWD_AGG_ORDER_H
#define CTFLOWD_AGG_ORDER_H

#include <stdint.h>

/* <0, 0, >0 as row a sorts before, with, after row b. */
typedef int (*agg_order_cmp)(void *ctx, uint32_t a, uint32_t b);
/* <0, 0, >0 as row sorts before, at, after the point being searched for. */
typedef int (*agg_order_probe)(void *ctx, uint32_t row);

struct agg_order;

/* Rows are numbered 1..limit. */
struct agg_order *agg_order_new(uint32_t limit);
void agg_order_free(struct agg_order *o);

void agg_order_insert(struct agg_order *o, uint32_t row, agg_order_cmp cmp, void *ctx);
void agg_order_remove(struct agg_order *o, uint32_t row, agg_order_cmp cmp, void *ctx);

/* The smallest row, or 0 when empty. */
uint32_t agg_order_first(const struct agg_order *o);
/* The smallest row for which probe() > 0, or 0. */
uint32_t agg_order_seek(const struct agg_order *o, agg_order_probe probe, void *ctx);

uint64_t agg_order_bytes(const struct agg_order *o, uint32_t rows);

#endif
