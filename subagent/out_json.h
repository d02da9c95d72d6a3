/*
 * out_json: the tables and collector health as one JSON document, written
 * atomically (temp file + rename) so a reader never sees half a file.
 * Operators and tests read it; the SNMP layer serves the same numbers.
 */
#ifndef CTFLOWD_OUT_JSON_H
#define CTFLOWD_OUT_JSON_H

#include <stdio.h>

#include "ctflowd.h"

int json_write(FILE *f, struct ctflowd *d);
/* -1 with errno on failure. */
int json_write_file(const char *path, struct ctflowd *d);

#endif
