/*
 * base_conf: the configuration file engine.  It knows lines, "key = value",
 * '#' comments, "[kind NAME]" sections and typed keys; it knows nothing of
 * what the keys mean.  Each owner of a section (the daemon's globals,
 * profiles, collectors, thresholds) describes it: its key table (name, type,
 * bounds, where the value goes in the owner's struct), how a new section
 * starts (defaults) and the checks once the whole file is read.  Every error
 * is "file:line: reason": a value's at its line, a section's own checks at
 * the line of the key they are about (else the section header's).
 */
#ifndef CTFLOWD_BASE_CONF_H
#define CTFLOWD_BASE_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_NAME_MAX 32  /* section names: 1-32 letters, digits, '_', '-' */
#define CONF_KEYS_MAX 32  /* keys per kind of section */
#define CONF_LINE_MAX 1024

enum conf_type {
	CONF_SIZE,        /* bytes, suffix k/K/M/G (binary): uint64_t */
	CONF_COUNT,       /* a whole number, suffix k/M: uint64_t, or uint32_t by size */
	CONF_DURATION_MS, /* seconds, or with ms/s/m/h: uint32_t milliseconds */
	CONF_BOOL,        /* yes/no, true/false, on/off, 1/0: int */
	CONF_PATH,        /* an absolute path or "none" (empty): char[size] */
	CONF_STRING,      /* up to size - 1 characters: char[size] */
	CONF_WORD,        /* one of words[] (or, if max > 0, a number min..max): uint64_t */
	CONF_CUSTOM,      /* parse(): the owner's own syntax */
};

struct conf_word {
	const char *word;
	uint64_t n;
};

struct conf_key {
	const char *name;
	enum conf_type type;
	uint64_t min, max;
	size_t offset, size;             /* the value's place in the section's object */
	const struct conf_word *words;   /* CONF_WORD: ends with { NULL, 0 } */
	/* CONF_CUSTOM: store val into obj; -1 with the reason (without the key's
	 * name, which the engine adds) */
	int (*parse)(void *obj, const char *val, char *why, size_t len);
};

#define CONF_FIELD(type, f) offsetof(type, f), sizeof(((type *)0)->f)

/* A kind of section, as its owner describes it.  kind NULL: the global keys,
 * before the first section (one object, always there). */
struct conf_kind {
	const char *kind;
	const struct conf_key *keys;
	size_t nkeys;
	void *objs;                      /* room for max objects of obj_size */
	size_t obj_size, max;
	size_t *n;                       /* how many sections were read */
	/* a new section: its defaults and name (NULL for the globals) */
	void (*init)(void *obj, const char *name);
	/* once the whole file is read, each object in order: 0, or -1 with the
	 * reason and the key it is about (*key NULL: the section itself) */
	int (*finish)(void *obj, size_t i, void *ctx, const char **key, char *why, size_t len);
	/* then once for the kind (e.g. defaults when there was no section) */
	void (*after)(void *ctx);
	void *ctx;
};

/* A tolerant parse (the state file) skips a section with an error, calling
 * skipped with the error, and goes on; a strict one stops at the first. */
struct conf_source {
	const char *name;                /* for errors: the file's path */
	const char *text;
	size_t len;
	void (*skipped)(void *arg, const char *err);
	void *arg;
};

/* Parse the source into the kinds' objects (the global kind first, if any).
 * -1 with "name:line: reason" in err. */
int conf_parse(const struct conf_kind *kinds, size_t nkinds, const struct conf_source *src,
	       char *err, size_t errlen);

/* A whole file into memory (at most 16 MiB).  -1 with "path: reason". */
int conf_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);

/* The unit tables, for owners that check numbers of their own. */
int conf_parse_number(const char *s, enum conf_type type, uint64_t *out);

#endif
