/* RFC 3339 times, and the clock that tests may pin. */
#ifndef TF_COMMON_TIMEUTIL_H
#define TF_COMMON_TIMEUTIL_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"

/* Parses an RFC 3339 time ("2026-11-27T20:00:00Z", "...+08:00", fractional seconds allowed)
 * into seconds since the epoch. */
int tf_time_parse(const char *s, time_t *out, struct tf_err *err) TF_MUST_CHECK;
/* A buffer for one time as tf_time_format writes it (21 bytes), with room to spare. */
#define TF_TIME_TEXT 32

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes: TF_TIME_TEXT). */
void tf_time_format(time_t t, char *buf, size_t len);
/* The current time; in a test build (TF_TEST_HOOKS) TIFERRY_NOW (RFC 3339) when the environment
 * sets it. Any other build ignores TIFERRY_NOW: it would let anyone install an expired bundle. */
time_t tf_time_now(void);
/* 1 in a test build, whose clock TIFERRY_NOW replaces; --version says so. */
int tf_time_test_clock(void);

#endif
