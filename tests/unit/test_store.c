/*
 * test_store: regions and the journal.  A region keeps its bytes across a
 * close and a reopen; a transaction a real SIGKILL cut short (a child
 * process, killed at a random instant) is rolled back, so invariants that
 * hold at every commit hold after the start; the receive area says what was
 * applied; a region that is truncated, corrupt, of another layout or another
 * owner is refused and kept aside; a second ctflowd on the same state is
 * refused; saves outside a transaction are counted.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base_store.h"
#include "tap.h"

#define TAP_NAME "test_store"
#define JOURNAL (64 << 10)

static char dir[64];

static void fresh_dir(void)
{
	char cmd[128];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("  # %s failed\n", cmd);
	}
	snprintf(dir, sizeof(dir), "/tmp/ctflowd-test-store.XXXXXX");
	if (!mkdtemp(dir))
		printf("  # mkdtemp failed\n");
}

static struct store *open_dir(void)
{
	char err[256];
	struct store *st = store_open(dir, JOURNAL, 4096, err, sizeof(err));

	if (!st)
		printf("  # %s\n", err);
	return st;
}

/* Files in the state directory whose name contains s. */
static int files_with(const char *s)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += strstr(e->d_name, s) != NULL;
	if (d)
		closedir(d);
	return n;
}

static void region_keeps_its_bytes(void)
{
	struct store *st;
	enum store_origin o;
	uint64_t *p;

	fresh_dir();
	st = open_dir();
	p = store_region(st, "counters", 42, 8192, &o);
	CHECK(p && o == STORE_FRESH);
	if (!p)
		return;
	store_begin(st);
	store_save(st, p, 16);
	p[0] = 7, p[1] = 9;
	store_commit(st);
	store_seal(st);
	store_close(st);
	st = open_dir();
	p = store_region(st, "counters", 42, 8192, &o);
	CHECK(p && o == STORE_KEPT);
	CHECK(p && p[0] == 7 && p[1] == 9);
	CHECK(store_region(st, "counters", 42, 8192, &o) == NULL); /* one owner at a time */
	store_close(st);
}

/*
 * A child moves amounts between two counters in transactions, as fast as it
 * can; the sum is constant at every commit.  It is killed at a random instant;
 * the next start must find the sum intact and the last committed transfer in.
 * At least 12 kills, more (at most 200) until 3 landed inside a transaction:
 * on a loaded machine the child may not have run at all before a kill.
 */
static void sigkill_mid_transaction_is_rolled_back(void)
{
	int bad = 0, runs = 0, rolled = 0, round;

	fresh_dir();
	for (round = 0; round < 200 && (round < 12 || rolled < 3); round++) {
		int ready[2];
		char b;

		if (pipe(ready) < 0)
			break;
		pid_t pid = fork();

		if (pid == 0) {
			struct store *st = open_dir();
			enum store_origin o;
			uint64_t *c = st ? store_region(st, "bank", 1, 4096, &o) : NULL;

			if (!c)
				_exit(2);
			if (o == STORE_FRESH)
				c[0] = 1000000, c[1] = 0, c[2] = 0;
			if (write(ready[1], "r", 1) != 1)
				_exit(2);
			for (uint64_t i = 0;; i++) {
				store_begin(st);
				store_save(st, c, 24);
				c[0] -= i % 7;
				c[1] += i % 7;
				c[2]++; /* transfers committed */
				store_commit(st);
			}
		}
		struct timespec ts = { 0, (long)(1 + rand() % 50) * 1000000L };

		if (read(ready[0], &b, 1) != 1)
			bad++;
		close(ready[0]);
		close(ready[1]);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		struct store *st = open_dir();
		enum store_origin o;
		uint64_t *c = st ? store_region(st, "bank", 1, 4096, &o) : NULL;

		struct store_stats ss;

		if (!c || o != STORE_KEPT || c[0] + c[1] != 1000000)
			bad++;
		runs += c && c[2] > 0;
		store_get_stats(st, &ss);
		rolled += ss.rolled_back > 0;
		store_close(st);
	}
	printf("  # %d kills, %d of them inside a transaction\n", round, rolled);
	CHECK_EQ_U(bad, 0);
	CHECK(runs > 0);
	CHECK(rolled > 0);
}

static void receive_area_says_what_was_applied(void)
{
	struct store *st;

	fresh_dir();
	st = open_dir();
	CHECK(store_rx(st) != NULL);
	store_rx_reset(st);
	CHECK_EQ_U(store_rx_done(st), 0);
	store_begin(st);
	store_commit_rx(st, 5);
	CHECK_EQ_U(store_rx_done(st), 5);
	store_begin(st);
	store_commit(st); /* another transaction keeps the count */
	CHECK_EQ_U(store_rx_done(st), 5);
	store_close(st);
	st = open_dir();
	CHECK_EQ_U(store_rx_done(st), 5);
	store_rx_reset(st);
	CHECK_EQ_U(store_rx_done(st), 0);
	store_close(st);
}

/* Overwrite `len` bytes at `off` of a region file. */
static void poke_file(const char *name, off_t off, const void *b, size_t len)
{
	char path[200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.region", dir, name);
	fd = open(path, O_WRONLY);
	if (fd < 0 || pwrite(fd, b, len, off) != (ssize_t)len)
		printf("  # poke %s failed\n", path);
	if (fd >= 0)
		close(fd);
}

static void truncate_file(const char *name)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/%s.region", dir, name);
	if (truncate(path, 6000) < 0)
		printf("  # truncate failed\n");
}

static void bad_regions_are_refused_and_kept_aside(void)
{
	static const struct {
		const char *what, *why;
	} cases[] = {
		{ "garbage", "not a ctflowd state file" },
		{ "checksum", "header is corrupt" },
		{ "truncated", "truncated" },
		{ "layout", "layout differs" },
	};
	char notes[8][STORE_NOTE_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store *st;
		enum store_origin o;
		uint64_t *p;

		fresh_dir();
		st = open_dir();
		p = store_region(st, "r", 1, 8192, &o);
		if (!p)
			break;
		store_begin(st);
		store_save(st, p, 8);
		p[0] = 99;
		store_commit(st);
		store_seal(st);
		store_close(st);
		if (i == 0)
			poke_file("r", 0, "junkjunk", 8);
		else if (i == 1)
			poke_file("r", 20, "\x01", 1);
		else if (i == 2)
			truncate_file("r");
		st = open_dir();
		p = store_region(st, "r", i == 3 ? 2 : 1, 8192, &o);
		CHECK(p && o == STORE_FRESH && p[0] == 0);
		CHECK_EQ_U(store_notes(st, notes, 8), 1);
		CHECK(strstr(notes[0], cases[i].why) != NULL);
		if (!strstr(notes[0], cases[i].why))
			printf("  # %s: %s\n", cases[i].what, notes[0]);
		CHECK_EQ_U(files_with(".refused-"), 1);
		store_close(st);
	}
}

static void a_second_ctflowd_is_refused(void)
{
	char err[256];
	struct store *a, *b;

	fresh_dir();
	a = open_dir();
	b = store_open(dir, JOURNAL, 4096, err, sizeof(err));
	CHECK(a != NULL);
	CHECK(b == NULL);
	CHECK(strstr(err, "in use by another ctflowd") != NULL);
	store_close(a);
	b = open_dir();
	CHECK(b != NULL);
	store_close(b);
}

static void saves_outside_a_transaction_are_counted(void)
{
	struct store *st;
	struct store_stats ss;
	enum store_origin o;
	uint64_t *p;

	fresh_dir();
	st = open_dir();
	p = store_region(st, "r", 1, 4096, &o);
	store_save(st, p, 8);
	store_get_stats(st, &ss);
	CHECK_EQ_U(ss.unguarded, 1);
	store_close(st);
}

/* Regions nobody asked for in a run (a profile no longer configured) go. */
static void unused_regions_are_swept(void)
{
	struct store *st;
	enum store_origin o;

	fresh_dir();
	st = open_dir();
	CHECK(store_region(st, "old", 1, 4096, &o) != NULL);
	CHECK(store_region(st, "kept", 1, 4096, &o) != NULL);
	store_seal(st);
	store_close(st);
	st = open_dir();
	CHECK(store_region(st, "kept", 1, 4096, &o) != NULL);
	store_sweep_unused(st);
	CHECK_EQ_U(files_with("old.region"), 0);
	CHECK_EQ_U(files_with("kept.region"), 1);
	store_close(st);
}

int main(void)
{
	srand((unsigned)time(NULL));
	RUN(region_keeps_its_bytes);
	RUN(sigkill_mid_transaction_is_rolled_back);
	RUN(receive_area_says_what_was_applied);
	RUN(bad_regions_are_refused_and_kept_aside);
	RUN(a_second_ctflowd_is_refused);
	RUN(saves_outside_a_transaction_are_counted);
	RUN(unused_regions_are_swept);
	fresh_dir(); /* removes the last one */
	rmdir(dir);
	TAP_DONE();
}
