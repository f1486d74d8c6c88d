/* Fuzz target: the TiUP manifest parser, and the checks that walk what it produced. */
#include "mirror/tiupmeta.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_tiup_manifest *m = NULL;
	struct tf_err err;
	size_t i, len;

	if (tf_tiup_manifest_parse(data, size, "fuzz.json", &m, &err) != 0)
		return 0;
	/* the raw signed bytes lie inside the input */
	if (tf_tiup_manifest_signed(m, &len) + len > m->raw + m->raw_len)
		__builtin_trap();
	(void)tf_tiup_root_role(m, "root");
	(void)tf_tiup_index_owner(m, "pingcap");
	(void)tf_tiup_meta_get(m, "/snapshot.json");
	for (i = 0; i < m->nitems; i++)
		(void)tf_tiup_index_item(m, m->items[i].name);
	for (i = 0; i < m->nreleases; i++) {
		(void)tf_tiup_release_get(m, m->releases[i].platform, m->releases[i].version);
		(void)tf_tiup_version_cmp(m->releases[i].version,
		                          m->releases[i > 0 ? i - 1 : 0].version);
		(void)tf_tiup_version_is_nightly(m->releases[i].version);
	}
	(void)tf_tiup_has_platform(m, "linux/amd64");
	tf_tiup_manifest_free(m);
	return 0;
}
