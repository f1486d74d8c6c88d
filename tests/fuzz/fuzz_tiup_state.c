/* Fuzz target: the TiUP mirror state read back on resume (mirror/tiupstate.c): the saved
 * state.json (in a scratch folder under $TMPDIR, files it names absent or present) and the
 * tiup.toml text whose `mirror` value is read when the state is recorded. */
#include "mirror/tiupstate.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];

static void cleanup(void)
{
	static const char *const files[] = {"state.json",
	                                    "tiup.toml",
	                                    "root.json",
	                                    "caches/0123456789abcdef.root.json",
	                                    "manifests/timestamp.json",
	                                    "caches",
	                                    "manifests",
	                                    ""};
	char path[4200];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)remove(path);
	}
}

static int scratch(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[4200];
	FILE *f;

	if (dir[0] != '\0')
		return 0;
	snprintf(dir, sizeof(dir), "%s/tf-fuzz-state-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	atexit(cleanup);
	/* what a saved state holds beside state.json, for the names a mutated input may keep */
	snprintf(path, sizeof(path), "%s/tiup.toml", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("mirror = \"/srv/mirror\"\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/root.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("{}", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/caches", dir);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/caches/0123456789abcdef.root.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("{}", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/manifests", dir);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/manifests/timestamp.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("{}", f);
	fclose(f);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_tiup_state st;
	struct tf_err err;
	char path[4200], *m;
	FILE *f;

	m = tf_tiup_toml_mirror((const char *)data, size);
	if (m != NULL && strlen(m) > size)
		abort();
	free(m);
	if (scratch() != 0)
		abort();
	snprintf(path, sizeof(path), "%s/state.json", dir);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (tf_tiup_state_load(dir, &st, &err) == 0) {
		if (st.home == NULL)
			abort();
		(void)tf_tiup_state_mirror(&st);
		tf_tiup_state_release(&st);
	}
	return 0;
}
