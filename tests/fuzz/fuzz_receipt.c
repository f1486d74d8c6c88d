/* Fuzz target: a verify receipt as `tiferry-build inspect --receipt` and `tiferry verify` read
 * it back (manifests/receipt.c): the JSON, the embedded public key, the summary. The target signs
 * each input with the fixture key below so that mutated receipts reach past the signature; the
 * seeds in tests/fuzz/corpus/receipt/ embed that key's public half and id. */
#include "crypto/sigkey.h"
#include "manifests/receipt.h"
#include "tests/fuzz/scratch.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fixture only: never a real key */
static const char fixture_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIM2GB2PEA/r0H4u+0FnXq/HX/4ubUtDvoAXm3EcN5oNa\n"
    "-----END PRIVATE KEY-----\n";

static struct tf_sigkey *key_once(void)
{
	static struct tf_sigkey *k;
	struct tf_err err;
	char *path;

	if (k != NULL)
		return k;
	path = tf_fuzz_fixture("tf-fuzz-receipt-", "key.pem", fixture_key, strlen(fixture_key));
	if (tf_sigkey_load_private_file(path, NULL, &k, &err) != 0)
		abort();
	free(path);
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_sigkey *k = key_once();
	uint8_t *sig = NULL;
	size_t siglen = 0;
	char *summary = NULL;
	struct tf_err err;

	if (tf_sigkey_sign(k, data, size, &sig, &siglen, &err) != 0)
		abort();
	/* embedded key, then the key pinned: both verify the signature over these bytes */
	if (tf_receipt_check("fuzz.json", (const char *)data, size, sig, siglen, NULL, &summary,
	                     &err) == 0) {
		if (summary == NULL || strstr(summary, "signature verifies") == NULL)
			abort();
		free(summary);
		summary = NULL;
	}
	if (tf_receipt_check("fuzz.json", (const char *)data, size, sig, siglen, k, &summary,
	                     &err) == 0)
		free(summary);
	/* a signature of other bytes never verifies */
	if (size > 0 && tf_receipt_check("fuzz.json", (const char *)data, size - 1, sig, siglen, k,
	                                 NULL, &err) == 0)
		abort();
	free(sig);
	return 0;
}
