/*
 * base_store: region files: mapping, checking, putting aside, the lock on
 * the directory.  The journal (transactions, recovery) is base_journal.c.
 *
 * A region file is a 4 KiB header page and the payload.  The journal is a
 * region like the others ("journal"): its header holds the commit word, the
 * undo area's fill and the receive area.
 */
#include "base_store.h"
#include "base_store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t fnv(const void *p, size_t len, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t name_key(const char *name)
{
	return fnv(name, strlen(name), 14695981039346656037ull);
}

static uint64_t hdr_check(const struct region_hdr *h)
{
	return fnv(h, offsetof(struct region_hdr, check), 14695981039346656037ull);
}

/* The running kernel's boot id and our network namespace: a region written
 * under another is refused or (another boot) checked for a clean close. */
static void identity(char boot_id[40], uint64_t *dev, uint64_t *ino)
{
	struct stat sb;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	memset(boot_id, 0, 40);
	if (f) {
		if (!fgets(boot_id, 40, f))
			boot_id[0] = 0;
		fclose(f);
		boot_id[strcspn(boot_id, "\n")] = 0;
	}
	*dev = *ino = 0;
	if (stat("/proc/self/ns/net", &sb) == 0) {
		*dev = (uint64_t)sb.st_dev;
		*ino = (uint64_t)sb.st_ino;
	}
}

static int valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= STORE_NAME_MAX - 24 || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

static void note(struct store *st, const char *line)
{
	if (st->nnotes < MAX_REGIONS)
		snprintf(st->notes[st->nnotes++], STORE_NOTE_MAX, "%s", line);
	st->stats.refused++;
}

/* ---- validation of a region file's header (also the fuzz target's) ---- */

/* NULL when hdr (of a file of file_size bytes) may be used for this region;
 * else why not. */
static const char *check_header(const struct region_hdr *h, size_t file_size, const char *name,
				uint64_t sig, size_t size, const char *boot_id, uint64_t dev,
				uint64_t ino)
{
	if (file_size < sizeof(*h) || memcmp(h->magic, STORE_MAGIC, 8) != 0)
		return "not a ctflowd state file";
	if (h->format != STORE_FORMAT || h->hdr_size != HDR_SIZE)
		return "written by another version of ctflowd (format)";
	if (h->check != hdr_check(h))
		return "its header is corrupt";
	if (strncmp(h->name, name, STORE_NAME_MAX) != 0)
		return "it belongs to another region";
	if (file_size != (size_t)HDR_SIZE + h->size)
		return "truncated or extended";
	if (h->netns_dev != dev || h->netns_ino != ino)
		return "written in another network namespace";
	if (h->sig != sig || h->size != size)
		return "its layout differs (another version or configuration)";
	if (!h->clean && strncmp(h->boot_id, boot_id, sizeof(h->boot_id)) != 0)
		return "not closed cleanly before the machine restarted (it may be torn)";
	return NULL;
}

/* ---- mapping ---- */

static int region_path(const struct store *st, const char *name, char *out, size_t len)
{
	return (size_t)snprintf(out, len, "%s/%s.region", st->dir, name) < len ? 0 : -1;
}

static void put_aside(struct store *st, const char *path, const char *why)
{
	char aside[4200], line[STORE_NOTE_MAX];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	long long now = (long long)time(NULL);

	snprintf(aside, sizeof(aside), "%s.refused-%lld", path, now);
	if (rename(path, aside) == 0)
		snprintf(line, sizeof(line), "%s; kept aside as %s.refused-%lld, starting afresh",
			 why, base, now);
	else
		snprintf(line, sizeof(line), "%s; cannot keep it aside (%s), starting afresh", why,
			 strerror(errno));
	note(st, line);
}

static unsigned char *map_file(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Open the existing file if it can be used; else NULL (*why set if refused). */
static unsigned char *map_existing(struct store *st, const char *path, const char *name,
				   uint64_t sig, size_t size, const char **why)
{
	struct region_hdr h;
	struct stat sb;
	char boot_id[40];
	uint64_t dev, ino;
	unsigned char *p;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	*why = NULL;
	if (fd < 0)
		return NULL;
	memset(&h, 0, sizeof(h));
	identity(boot_id, &dev, &ino);
	if (fstat(fd, &sb) < 0 || pread(fd, &h, sizeof(h), 0) < 0) {
		close(fd);
		*why = "unreadable";
		return NULL;
	}
	*why = check_header(&h, (size_t)sb.st_size, name, sig, size, boot_id, dev, ino);
	if (!*why && !h.clean && !st->journal_kept && h.run != st->run_id &&
	    strcmp(name, "journal") != 0)
		*why = "not closed cleanly and the journal is gone (it may be half-written)";
	if (*why) {
		close(fd);
		return NULL;
	}
	p = map_file(fd, HDR_SIZE + size);
	close(fd);
	return p;
}

static unsigned char *map_fresh(const char *path, const char *name, uint64_t sig, size_t size)
{
	struct region_hdr *h;
	unsigned char *p;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)(HDR_SIZE + size)) < 0) {
		close(fd);
		return NULL;
	}
	p = map_file(fd, HDR_SIZE + size);
	close(fd);
	if (!p)
		return NULL;
	h = (struct region_hdr *)(void *)p;
	memcpy(h->magic, STORE_MAGIC, 8);
	h->format = STORE_FORMAT;
	h->hdr_size = HDR_SIZE;
	h->sig = sig;
	h->size = size;
	snprintf(h->name, sizeof(h->name), "%s", name);
	return p;
}

/* Stamp the header as in use by this run, boot and namespace, not clean. */
static void stamp(const struct store *st, unsigned char *file)
{
	struct region_hdr *h = (struct region_hdr *)(void *)file;

	identity(h->boot_id, &h->netns_dev, &h->netns_ino);
	h->check = hdr_check(h);
	h->clean = 0;
	h->run = st->run_id;
	msync(file, HDR_SIZE, MS_SYNC);
}

static struct region *add_region(struct store *st, const char *name, unsigned char *file,
				 size_t size, int anon)
{
	struct region *r = &st->r[st->n++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->key = name_key(name);
	r->file = file;
	r->base = anon ? file : file + HDR_SIZE;
	r->size = size;
	r->anon = anon;
	return r;
}

void *store_region(struct store *st, const char *name, uint64_t sig, size_t size,
		   enum store_origin *origin)
{
	char path[4200];
	const char *why = NULL;
	unsigned char *p;
	struct region *r;

	*origin = STORE_FRESH;
	if (!valid_name(name) || st->n == MAX_REGIONS || size == 0) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->r[i].name, name) == 0) {
			errno = EBUSY; /* two owners would corrupt it */
			return NULL;
		}
	}
	int again = 0; /* mapped before in this run: rolled back then already */

	for (size_t i = 0; i < st->nasked && !again; i++)
		again = strcmp(st->asked[i], name) == 0;
	if (!again && st->nasked < MAX_REGIONS)
		snprintf(st->asked[st->nasked++], STORE_NAME_MAX, "%s", name);
	if (!st->persistent) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? NULL : add_region(st, name, p, size, 1)->base;
	}
	if (region_path(st, name, path, sizeof(path)) < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	p = map_existing(st, path, name, sig, size, &why);
	if (p) {
		*origin = STORE_KEPT;
	} else {
		if (why) {
			char what[300];

			snprintf(what, sizeof(what), "state %s: %s", name, why);
			put_aside(st, path, what);
		}
		p = map_fresh(path, name, sig, size);
		if (!p)
			return NULL;
	}
	stamp(st, p);
	r = add_region(st, name, p, size, 0);
	if (*origin == STORE_KEPT && st->pending_len && !again)
		journal_roll_back(st, r);
	st->stats.regions++;
	return r->base;
}

void *store_region_reset(struct store *st, void *base, const char *why)
{
	char path[4200], what[300], name[STORE_NAME_MAX];
	struct region *r = NULL;
	unsigned char *p;
	uint64_t sig;

	for (size_t i = 0; i < st->n && !r; i++)
		if (st->r[i].base == base)
			r = &st->r[i];
	if (!r)
		return NULL;
	if (r->anon) {
		memset(r->base, 0, r->size);
		return r->base;
	}
	snprintf(name, sizeof(name), "%s", r->name);
	sig = ((struct region_hdr *)(void *)r->file)->sig;
	munmap(r->file, HDR_SIZE + r->size);
	if (region_path(st, name, path, sizeof(path)) < 0)
		return NULL;
	snprintf(what, sizeof(what), "state %s: %s", name, why);
	put_aside(st, path, what);
	p = map_fresh(path, name, sig, r->size);
	if (!p) {
		*r = st->r[--st->n];
		return NULL;
	}
	stamp(st, p);
	r->file = p;
	r->base = p + HDR_SIZE;
	return r->base;
}

void store_region_release(struct store *st, void *base)
{
	for (size_t i = 0; i < st->n; i++) {
		struct region *r = &st->r[i];

		if (r->base != base)
			continue;
		munmap(r->file, r->anon ? r->size : HDR_SIZE + r->size);
		st->r[i] = st->r[--st->n];
		return;
	}
}

void store_region_drop(struct store *st, void *base)
{
	char path[4200];

	for (size_t i = 0; i < st->n; i++) {
		struct region *r = &st->r[i];

		if (r->base != base)
			continue;
		munmap(r->file, r->anon ? r->size : HDR_SIZE + r->size);
		if (!r->anon && region_path(st, r->name, path, sizeof(path)) == 0)
			unlink(path);
		st->r[i] = st->r[--st->n];
		return;
	}
}

size_t store_notes(const struct store *st, char notes[][STORE_NOTE_MAX], size_t max)
{
	size_t n = st->nnotes < max ? st->nnotes : max;

	for (size_t i = 0; i < n; i++)
		memcpy(notes[i], st->notes[i], STORE_NOTE_MAX);
	return n;
}

void store_sweep_unused(struct store *st)
{
	DIR *d;
	struct dirent *e;
	char path[4200];

	if (!st->persistent || !(d = opendir(st->dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		int asked = 0;

		if (len < 8 || strcmp(e->d_name + len - 7, ".region") != 0)
			continue;
		for (size_t i = 0; i < st->nasked && !asked; i++)
			asked = strlen(st->asked[i]) == len - 7 &&
				strncmp(st->asked[i], e->d_name, len - 7) == 0;
		if (!asked && (size_t)snprintf(path, sizeof(path), "%s/%s", st->dir, e->d_name) <
				      sizeof(path))
			unlink(path);
	}
	closedir(d);
	/* what was pending for regions nobody mapped is moot now */
	free(st->pending);
	st->pending = NULL;
	st->pending_len = 0;
}

/* ---- open and close ---- */

static int journal_open(struct store *st, size_t undo_bytes, size_t rx_bytes)
{
	enum store_origin o;
	size_t size = sizeof(struct journal_hdr) + undo_bytes + rx_bytes;
	uint64_t sig = (uint64_t)undo_bytes << 32 ^ rx_bytes ^ sizeof(struct journal_hdr);
	unsigned char *p;

	st->journal_kept = 1; /* the journal itself is judged on its own */
	p = store_region(st, "journal", sig, size, &o);
	if (!p)
		return -1;
	st->jh = (struct journal_hdr *)(void *)p;
	st->undo = p + sizeof(struct journal_hdr);
	st->rx = st->undo + undo_bytes;
	st->journal_kept = o == STORE_KEPT || !st->persistent;
	/* the sizes are the layout's (its signature), whatever the file says */
	st->jh->undo_size = undo_bytes;
	st->jh->rx_size = rx_bytes;
	if (o == STORE_FRESH)
		return 0;
	/* keep the records of a transaction that did not commit */
	uint32_t epoch = (uint32_t)atomic_load(&st->jh->committed) + 1;
	size_t used = st->jh->undo_used <= undo_bytes ? st->jh->undo_used : undo_bytes;

	if (used) {
		st->pending = malloc(used);
		if (!st->pending)
			return -1;
		memcpy(st->pending, st->undo, used);
		st->pending_len = used;
		st->pending_epoch = epoch;
	}
	return 0;
}

/* Two ctflowd on one state would corrupt it: the second one is refused. */
static int lock_dir(struct store *st, char *err, size_t errlen)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/lock", st->dir);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0) {
		snprintf(err, errlen, "state_dir %s: %s", st->dir, strerror(errno));
		return -1;
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "state_dir %s is in use by another ctflowd%s", st->dir,
			 errno == EWOULDBLOCK ? "" : strerror(errno));
		close(st->lock_fd);
		return -1;
	}
	return 0;
}

struct store *store_open(const char *dir, size_t journal_bytes, size_t rx_bytes, char *err,
			 size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st) {
		snprintf(err, errlen, "no memory");
		return NULL;
	}
	st->persistent = dir && dir[0];
	st->lock_fd = -1;
	if (getrandom(&st->run_id, sizeof(st->run_id), 0) != sizeof(st->run_id))
		st->run_id = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	if (st->persistent) {
		snprintf(st->dir, sizeof(st->dir), "%s", dir);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
			free(st);
			return NULL;
		}
		if (lock_dir(st, err, errlen) < 0) {
			free(st);
			return NULL;
		}
	}
	journal_bytes = (journal_bytes + UNDO_ALIGN - 1) & ~(size_t)(UNDO_ALIGN - 1);
	if (journal_open(st, journal_bytes, rx_bytes) < 0) {
		snprintf(err, errlen, "state_dir %s: journal: %s", dir ? dir : "", strerror(errno));
		store_close(st);
		return NULL;
	}
	return st;
}

void store_seal(struct store *st)
{
	for (size_t i = 0; st && i < st->n; i++) {
		struct region *r = &st->r[i];

		if (r->anon)
			continue;
		msync(r->file, HDR_SIZE + r->size, MS_SYNC);
		((struct region_hdr *)(void *)r->file)->clean = 1;
		msync(r->file, HDR_SIZE, MS_SYNC);
	}
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++) {
		struct region *r = &st->r[i];

		munmap(r->file, r->anon ? r->size : HDR_SIZE + r->size);
	}
	free(st->pending);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
}

int store_persistent(const struct store *st)
{
	return st->persistent;
}
