/* Fuzz target: the strict JSON reader (tf_json_strict), against cJSON. Whatever the strict
 * reader accepts, cJSON must read too, as one value with no repeated key in any object; and
 * the strict reader must never read past its input. */
#include "common/jsonstrict.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding) if an object under v names one key twice. Quadratic, on fuzz-sized input. */
static void no_repeats(const cJSON *v)
{
	const cJSON *a, *b;

	for (a = v->child; a != NULL; a = a->next) {
		if (cJSON_IsObject(v))
			for (b = a->next; b != NULL; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					abort();
		no_repeats(a);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_err err;
	char *copy;
	cJSON *v;

	/* an exact-size heap copy, so that ASan sees any read past the end */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (tf_json_strict(copy, size, &err) != 0) {
		if (err.code != TF_E_INPUT && err.code != TF_E_NOMEM)
			abort();
		free(copy);
		return 0;
	}
	free(copy);
	/* accepted: no NUL anywhere (a raw one is never valid JSON), so cJSON may read a copy */
	if (memchr(data, '\0', size) != NULL)
		abort();
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if ((v = cJSON_ParseWithLengthOpts(copy, size + 1, NULL, 1)) == NULL)
		abort();
	no_repeats(v);
	cJSON_Delete(v);
	free(copy);
	return 0;
}
