/*
 * tap.h: the unit tests' harness.  Each TEST is one reported result line,
 * "PASS: file: name" or "FAIL: file: name", counted by tests/run.sh; a failed
 * CHECK prints where and what.
 */
#ifndef CTFLOWD_TAP_H
#define CTFLOWD_TAP_H

#include <stdio.h>
#include <stdlib.h>

static int tap_checks_failed;
static int tap_tests_failed;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			tap_checks_failed++;                                          \
			fprintf(stdout, "  # %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                     \
	} while (0)

#define CHECK_EQ_U(a, b)                                                              \
	do {                                                                          \
		unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
		if (va_ != vb_) {                                                     \
			tap_checks_failed++;                                          \
			fprintf(stdout, "  # %s:%d: %s == %s: %llu != %llu\n", __FILE__, __LINE__, \
				#a, #b, va_, vb_);                                    \
		}                                                                     \
	} while (0)

#define RUN(fn)                                                                       \
	do {                                                                          \
		int before_ = tap_checks_failed;                                      \
		fn();                                                                 \
		int ok_ = tap_checks_failed == before_;                               \
		if (!ok_)                                                             \
			tap_tests_failed++;                                           \
		printf("%s: %s: %s\n", ok_ ? "PASS" : "FAIL", TAP_NAME, #fn);         \
		fflush(stdout);                                                       \
	} while (0)

#define TAP_DONE() return tap_tests_failed ? 1 : 0

#endif
