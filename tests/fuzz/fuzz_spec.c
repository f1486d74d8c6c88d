/* Fuzz target: the build spec (builder side, docs/spec.md), YAML from the staging host's
 * operator: parsed and validated as `tiferry-build build` reads it. */
#include "builder/spec.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A payload path the spec accepted stays inside the bundle: relative, and no component is "..".
 * A name that only begins with two dots ("..x", "...") is an ordinary file name. */
static int inside(const char *p)
{
	const char *c = p;

	if (p[0] == '/')
		return 0;
	for (;;) {
		size_t n = strcspn(c, "/");

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return 0;
		if (c[n] == '\0')
			return 1;
		c += n + 1;
	}
}

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

		if (s.payload[i].source == NULL || !inside(s.payload[i].path))
			abort();
		free(p);
	}
	tf_spec_release(&s);
	return 0;
}
