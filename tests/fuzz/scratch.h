/* The private scratch folder a fuzz target writes its fixtures into: made once under $TMPDIR
 * (else /tmp) by tf_mkdtemp_private, removed with everything in it at exit. Header-only, so
 * scripts/fuzz.sh still builds each target from its one .c file. A fuzz target has no error to
 * return: a fixture that cannot be written aborts. */
#ifndef TF_TESTS_FUZZ_SCRATCH_H
#define TF_TESTS_FUZZ_SCRATCH_H

#include <stddef.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/fsutil.h"

static char *tf_fuzz_dir;

static void tf_fuzz_scratch_remove(void)
{
	struct tf_err err;

	if (tf_fuzz_dir != NULL && tf_rmtree(tf_fuzz_dir, &err) != 0)
		abort();
	free(tf_fuzz_dir);
	tf_fuzz_dir = NULL;
}

/* The folder ("<TMPDIR>/<prefix>XXXXXX", 0700), made on the first call. */
__attribute__((unused)) static const char *tf_fuzz_scratch(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	struct tf_err err;

	if (tf_fuzz_dir == NULL) {
		if (tmp == NULL || tmp[0] == '\0')
			tmp = "/tmp";
		if (tf_mkdtemp_private(tmp, prefix, &tf_fuzz_dir, &err) != 0)
			abort();
		atexit(tf_fuzz_scratch_remove);
	}
	return tf_fuzz_dir;
}

/* Writes len bytes to <scratch>/<name> (0600; its folder exists) and returns the path (caller
 * frees). */
__attribute__((unused)) static char *tf_fuzz_fixture(const char *prefix, const char *name,
                                                     const void *data, size_t len)
{
	struct tf_err err;
	char *p = tf_path_join(tf_fuzz_scratch(prefix), name);

	if (p == NULL || tf_write_file_atomic(p, data, len, 0600, &err) != 0)
		abort();
	return p;
}

#endif
