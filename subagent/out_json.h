/*
 * out_json: the tables and collector health as one JSON document, written
 * atomically (temp file + rename) so a reader never sees half a file.
 * Operators and tests read it; the SNMP layer serves the same numbers.
 */
#ifndef CTFLOWD_OUT_JSON_H
#define CTFLOWD_OUT_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "out_view.h"

/* generation: counts the writes, so a reader sees a new file is new. */
int json_write(FILE *f, const struct out_view *v, uint64_t generation);
/* -1 with errno on failure. */
int json_write_file(const char *path, const struct out_view *v, uint64_t generation);

#endif
