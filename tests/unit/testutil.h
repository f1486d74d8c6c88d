/* Helpers shared by the unit tests: a private temporary folder per test, file writing. */
#ifndef TF_TESTS_TESTUTIL_H
#define TF_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Creates a fresh temporary folder, chdirs into it and returns its path (static buffer). */
const char *tt_tmpdir(void);
/* Removes the folder made by tt_tmpdir and chdirs back. */
void tt_cleanup(void);
/* Writes len bytes to path (relative to the temporary folder), failing the test on error. */
void tt_write(const char *path, const void *data, size_t len);
void tt_write_str(const char *path, const char *s);
/* Runs a shell command; returns its exit status. */
int tt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The source tree ($TF_SRC). */
const char *tt_src(void);
/* TiUP's own signed test data, vendored in the source tree (its README says where from). */
const char *tt_tiup_testdata(void);

#endif
