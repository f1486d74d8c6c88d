/* Fuzz target: what tiferry reads from `tiup --version` and `tiup cluster --version`
 * (installer/verify_host.c): the version found, and the verdict against the bundle's. */
#include "installer/verify_host.h"
#include "mirror/tiupmeta.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const wants[] = {"v1.16.1", "8.1.0", "v8.1.0-beta.1+build"};
	char *out, found[64], small[8], detail[600];
	size_t i;

	if ((out = malloc(size + 1)) == NULL)
		return 0;
	memcpy(out, data, size);
	out[size] = '\0';
	if (tf_vhost_find_version(out, found, sizeof(found)) == 0 &&
	    (found[0] != 'v' || strlen(found) >= sizeof(found)))
		abort();
	if (tf_vhost_find_version(out, small, sizeof(small)) == 0 && strlen(small) >= sizeof(small))
		abort();
	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		(void)tf_vhost_judge_version("tiup --version", out, 0, wants[i], found,
		                             sizeof(found), detail, sizeof(detail));
		if (strlen(detail) >= sizeof(detail))
			abort();
		(void)tf_vhost_judge_version("tiup --version", out, (int)(size % 3), wants[i],
		                             found, sizeof(found), detail, sizeof(detail));
	}
	free(out);
	return 0;
}
