/*
 * acct_track_int.h: the tracking table as its two files see it
 * (acct_table.c: the entries, their index and the region; acct_track.c:
 * what events and dump rows do to them).  Nothing else includes this.
 */
#ifndef CTFLOWD_ACCT_TRACK_INT_H
#define CTFLOWD_ACCT_TRACK_INT_H

#include "acct_track.h"
#include "base_hash.h"

enum ent_state { ENT_FREE = 0, ENT_LIVE, ENT_TOMB, ENT_ZOMBIE };

/* Hashed and compared as bytes: no padding (44 bytes, 4-byte aligned). */
struct flow_ident {
	union ct_addr src, dst;
	uint32_t id;
	uint16_t sport, dport; /* ICMP: echo id, type << 8 | code */
	uint16_t zone;
	uint8_t family, proto;
};

struct track_ent {
	struct flow_ident key;
	uint32_t next;          /* hash chain or free list (rebuilt at start) */
	uint64_t start_ns;      /* part of the identity; 0 when timestamps are off */
	uint64_t pkts[2], bytes[2];
	union ct_addr rsrc, rdst; /* reply tuple, kept for NAT in unobserved slices */
	uint16_t rsport, rdport;
	uint32_t mark;
	uint32_t gen;           /* LIVE/ZOMBIE: last dump generation that saw it */
	uint8_t state;
};

/* The persistent part besides the entries. */
struct track_hdr {
	uint32_t fresh;         /* slots handed out so far */
	uint32_t gen;           /* current dump generation */
	uint32_t epoch;         /* store epoch this header was last saved in */
	uint32_t pad;
	struct track_stats st;
};

#define HDR_BYTES ((sizeof(struct track_hdr) + 63) & ~(size_t)63)
#define TRACK_LAYOUT 2u /* bump when struct track_ent or track_hdr change */

struct track {
	struct slice_sink sink;
	struct store *store;
	struct hash_key hk;
	uint32_t *buckets;
	uint32_t nbuckets;     /* power of two */
	struct track_hdr *h;
	struct track_ent *ents;
	size_t limit;
	uint32_t free_head;
	uint32_t recovered_gen; /* entries seen by no dump after this were tracked before the start */
	int dumping;
	int sweep_pending;
	int sweep_closes;      /* the dump completed, so absence means gone */
	uint32_t sweep_pos;
};

static inline struct track_ent *ent_at(const struct track *tr, uint32_t idx)
{
	return &tr->ents[idx - 1];
}

static inline uint32_t bucket_of(const struct track *tr, const struct flow_ident *k)
{
	return (uint32_t)hash_bytes(&tr->hk, k, sizeof(*k)) & (tr->nbuckets - 1);
}

/* ---- journal: save before change ---- */

static inline struct track_stats *stats_w(struct track *tr)
{
	uint32_t epoch = store_epoch(tr->store);

	if (tr->h->epoch != epoch) {
		store_save(tr->store, tr->h, sizeof(*tr->h));
		tr->h->epoch = epoch;
	}
	return &tr->h->st;
}

static inline void ent_w(struct track *tr, struct track_ent *e)
{
	store_save(tr->store, e, sizeof(*e));
}

/* acct_table.c */
#define MIN_BUCKETS 1024u
/* A new entry for this incarnation (NULL: the table is full, counted). */
struct track_ent *ent_insert(struct track *tr, const struct flow_ident *k, uint64_t start,
			     uint8_t state);
/* The entry of this incarnation; *sibling says whether another incarnation
 * of the same id and tuple is tracked. */
struct track_ent *ent_find(const struct track *tr, const struct flow_ident *k, uint64_t start,
			   int *sibling);
void ent_remove(struct track *tr, struct track_ent *e);
/* The bucket array halves again when a quarter full. */
void ent_shrink(struct track *tr);

#endif
