/* Helpers shared by the unit tests. */
#include "tests/unit/testutil.h"
#include "common/fsutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[PATH_MAX];
static char prev[PATH_MAX];

const char *tt_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	/* a known umask: the trust policy refuses group-writable files (manifests/policy.c) */
	umask(022);
	snprintf(tmp, sizeof(tmp), "%s/tiferry-unit-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(tmp));
	assert_non_null(getcwd(prev, sizeof(prev)));
	assert_int_equal(chdir(tmp), 0);
	return tmp;
}

void tt_cleanup(void)
{
	struct tf_err err;

	if (tmp[0] == '\0')
		return;
	assert_int_equal(chdir(prev), 0);
	assert_int_equal(tf_rmtree(tmp, &err), 0);
	tmp[0] = '\0';
}

void tt_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void tt_write_str(const char *path, const char *s)
{
	tt_write(path, s, strlen(s));
}

int tt_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

const char *tt_src(void)
{
	const char *s = getenv("TF_SRC");

	return s ? s : ".";
}

const char *tt_tiup_testdata(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/tests/fixtures/tiup-testdata", tt_src());
	return path;
}
