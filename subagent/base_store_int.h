/*
 * base_store_int.h: the store's own structures, shared by its two files
 * (base_store.c: regions; base_journal.c: transactions).  Nothing else
 * includes this.
 */
#ifndef CTFLOWD_BASE_STORE_INT_H
#define CTFLOWD_BASE_STORE_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base_store.h"

#define STORE_MAGIC "CTFLOWST"
#define STORE_FORMAT 1u
#define HDR_SIZE 4096u
#define MAX_REGIONS 64
#define UNDO_ALIGN 8u

/* Page 0 of every region file. */
struct region_hdr {
	char magic[8];
	uint32_t format;
	uint32_t hdr_size;
	uint64_t sig;
	uint64_t size;
	uint64_t netns_dev, netns_ino;
	char boot_id[40];
	char name[STORE_NAME_MAX];
	uint64_t check;   /* FNV-1a of everything above */
	uint32_t clean;   /* closed cleanly (store_seal) */
	uint32_t pad;
	uint64_t run;     /* the run that mapped it last (store_open's random id) */
};

/* The journal's payload starts with this; the undo area and the receive area
 * follow. */
struct journal_hdr {
	_Atomic uint64_t committed; /* done << 32 | epoch of the last commit */
	uint64_t undo_used;         /* bytes of undo records written */
	uint64_t undo_size, rx_size;
};

struct undo_rec {
	uint32_t epoch;
	uint32_t len;
	uint64_t region;            /* hash of the region's name */
	uint64_t off;
};

struct region {
	char name[STORE_NAME_MAX];
	uint64_t key;
	unsigned char *file;        /* the mapping: header page + payload */
	unsigned char *base;        /* payload */
	size_t size;
	int anon;
};

struct store {
	char dir[4096];
	int persistent;
	int lock_fd;                /* flock on dir/lock: one ctflowd per state */
	struct region r[MAX_REGIONS];
	size_t n;
	int journal_kept;
	uint64_t run_id;            /* stamped into the regions this run maps */
	struct journal_hdr *jh;
	unsigned char *undo, *rx;
	uint32_t open_epoch;        /* the transaction in progress, 0 = none */
	/* the undo records of the transaction cut short, kept until each region
	 * they touch has been mapped */
	unsigned char *pending;
	size_t pending_len;
	uint32_t pending_epoch;
	char notes[MAX_REGIONS][STORE_NOTE_MAX];
	size_t nnotes;
	char asked[MAX_REGIONS][STORE_NAME_MAX];
	size_t nasked;
	struct store_stats stats;
	uint64_t fault_in;          /* saves until the fault hook runs; 0 = off */
	void (*fault)(void *arg);
	void *fault_arg;
};

/* Stores made before this are seen before any store made after it (by
 * whoever maps the file next, even after a kill). */
static inline void store_barrier(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}

/* base_journal.c */
void journal_roll_back(struct store *st, const struct region *r);

#endif
