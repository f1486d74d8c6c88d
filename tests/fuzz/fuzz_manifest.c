/* Fuzz target: the manifest JSON parser (tf_manifest_parse). Whatever parses must serialise and
 * parse again to the same manifest. */
#include "manifests/manifest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding) unless a and b hold the same manifest. */
static void same(const struct tf_manifest *a, const struct tf_manifest *b)
{
	size_t i;

	if (strcmp(a->bundle_id, b->bundle_id) != 0 || a->sequence != b->sequence ||
	    a->created != b->created || a->not_before != b->not_before ||
	    a->not_after != b->not_after || strcmp(a->cluster, b->cluster) != 0 ||
	    strcmp(a->topology, b->topology) != 0 || a->nfiles != b->nfiles ||
	    a->nsections != b->nsections)
		abort();
	for (i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].path, b->files[i].path) != 0 ||
		    a->files[i].size != b->files[i].size || a->files[i].mode != b->files[i].mode ||
		    memcmp(a->files[i].sha256, b->files[i].sha256, TF_SHA256_LEN) != 0)
			abort();
	for (i = 0; i < a->nsections; i++) {
		const char *s = tf_manifest_section(b, a->section_names[i]);

		if (s == NULL || strcmp(s, a->section_json[i]) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_manifest m, m2;
	struct tf_err err;
	char *text = NULL;
	size_t len = 0, i;

	if (tf_manifest_parse((const char *)data, size, &m, &err) != 0)
		return 0;
	for (i = 0; i < m.nfiles; i++)
		if (tf_manifest_find(&m, m.files[i].path) != &m.files[i])
			abort();
	if (tf_manifest_serialize(&m, &text, &len, &err) == 0) {
		if (tf_manifest_parse(text, len, &m2, &err) != 0)
			abort();
		same(&m, &m2);
		tf_manifest_release(&m2);
		free(text);
	}
	tf_manifest_release(&m);
	return 0;
}
