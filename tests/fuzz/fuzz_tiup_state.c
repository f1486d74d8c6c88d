/* Fuzz target: the TiUP mirror state read back on resume (mirror/tiupstate.c): the saved
 * state.json (in a scratch folder under $TMPDIR, files it names absent or present) and the
 * tiup.toml text whose `mirror` value is read when the state is recorded. */
#include "mirror/tiupstate.h"
#include "tests/fuzz/scratch.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "tf-fuzz-state-"

/* What a saved state holds beside state.json, for the names a mutated input may keep. */
static const char *scratch(void)
{
	static const char *dir;
	static const char *const subdirs[] = {"caches", "manifests"};
	struct tf_err err;
	char *sub;
	size_t i;

	if (dir != NULL)
		return dir;
	dir = tf_fuzz_scratch(PREFIX);
	free(tf_fuzz_fixture(PREFIX, "tiup.toml", "mirror = \"/srv/mirror\"\n", 23));
	free(tf_fuzz_fixture(PREFIX, "root.json", "{}", 2));
	for (i = 0; i < 2; i++) {
		if ((sub = tf_path_join(dir, subdirs[i])) == NULL ||
		    tf_mkdir_p(sub, 0700, &err) != 0)
			abort();
		free(sub);
	}
	free(tf_fuzz_fixture(PREFIX, "caches/0123456789abcdef.root.json", "{}", 2));
	free(tf_fuzz_fixture(PREFIX, "manifests/timestamp.json", "{}", 2));
	return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_tiup_state st;
	struct tf_err err;
	const char *dir;
	char *m;

	m = tf_tiup_toml_mirror((const char *)data, size);
	if (m != NULL && strlen(m) > size)
		abort();
	free(m);
	dir = scratch();
	free(tf_fuzz_fixture(PREFIX, "state.json", data, size));
	if (tf_tiup_state_load(dir, &st, &err) == 0) {
		if (st.home == NULL)
			abort();
		(void)tf_tiup_state_mirror(&st);
		tf_tiup_state_release(&st);
	}
	return 0;
}
