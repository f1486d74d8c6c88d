/* Fuzz target: the build spec (builder side, docs/spec.md), YAML from the staging host's
 * operator: parsed and validated as `tiferry-build build` reads it. */
#include "builder/spec.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_spec s;
	struct tf_err err;
	size_t i;

	if (tf_spec_parse((const char *)data, size, "/fuzz/spec.yaml", 1700000000, &s, &err) != 0)
		return 0;
	if (s.cluster == NULL || s.meta == NULL || s.sequence == 0 || s.not_after <= s.not_before)
		abort(); /* what a valid spec promises its readers */
	for (i = 0; i < s.npayload; i++) {
		char *p = tf_spec_path(&s, s.payload[i].path);

		if (s.payload[i].source == NULL ||
		    strstr(s.payload[i].path, "..") == s.payload[i].path)
			abort();
		free(p);
	}
	tf_spec_release(&s);
	return 0;
}
