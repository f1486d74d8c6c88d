/* Fuzz target: the trust policy YAML (tf_policy_parse) against a temporary trust folder holding
 * two real public keys, b.pub and a.pub, and one P-256 key in three encodings (e.pub as usual,
 * ec.pub compressed, eh.pub hybrid), which must be one key. */
#include "common/fsutil.h"
#include "common/hex.h"
#include "manifests/policy.h"
#include "crypto/sigkey.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir;
static char ids[2][TF_SHA256_HEX];

/* One P-256 key as `openssl ec -pubin -conv_form uncompressed|compressed|hybrid` writes it. */
static const char *const ec_files[] = {"e.pub", "ec.pub", "eh.pub"};
static const char *const ec_pems[] = {
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE41is2gAI6wGkdv95EwMKA8TOoPgx\n"
    "MUgeBzFa82FV7ZFrW4qgYSRhMUPkFP4NcCdot6MBOvOKSS6vb9MXNRRGKw==\n"
    "-----END PUBLIC KEY-----\n",
    "-----BEGIN PUBLIC KEY-----\n"
    "MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgAD41is2gAI6wGkdv95EwMKA8TOoPgx\n"
    "MUgeBzFa82FV7ZE=\n"
    "-----END PUBLIC KEY-----\n",
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAH41is2gAI6wGkdv95EwMKA8TOoPgx\n"
    "MUgeBzFa82FV7ZFrW4qgYSRhMUPkFP4NcCdot6MBOvOKSS6vb9MXNRRGKw==\n"
    "-----END PUBLIC KEY-----\n",
};

static void remove_dir(void)
{
	struct tf_err err;

	if (dir != NULL && tf_rmtree(dir, &err) != 0)
		fprintf(stderr, "fuzz_policy: %s\n", err.msg);
	free(dir);
}

static void setup(void)
{
	static const char *const names[] = {"b.pub", "a.pub"};
	struct tf_err err;
	size_t i;
	const char *tmp = getenv("TMPDIR");

	if (tf_mkdtemp_private(tmp ? tmp : "/tmp", "tf-fuzz-policy-", &dir, &err) != 0)
		abort();
	atexit(remove_dir);
	for (i = 0; i < 2; i++) {
		struct tf_sigkey *k = NULL;
		char *pem = NULL, *path = tf_path_join(dir, names[i]);
		size_t len = 0;

		if (path == NULL || tf_sigkey_generate(TF_SIG_ED25519, &k, &err) != 0 ||
		    tf_sigkey_public_pem(k, &pem, &len, &err) != 0 ||
		    tf_write_file_atomic(path, pem, len, 0644, &err) != 0)
			abort();
		snprintf(ids[i], sizeof(ids[i]), "%s", tf_sigkey_id(k));
		free(pem);
		free(path);
		tf_sigkey_free(k);
	}
	for (i = 0; i < 3; i++) {
		char *path = tf_path_join(dir, ec_files[i]);

		if (path == NULL ||
		    tf_write_file_atomic(path, ec_pems[i], strlen(ec_pems[i]), 0644, &err) != 0)
			abort();
		free(path);
	}
}

/* A policy that loaded never names one key twice, in any encoding. */
static void check_distinct(const struct tf_policy *p)
{
	struct tf_sigkey *k = NULL;
	struct tf_err err;
	size_t i, n = 0;

	for (i = 0; i < 3; i++) {
		if (tf_sigkey_load_public(ec_pems[i], strlen(ec_pems[i]), ec_files[i], &k, &err) !=
		    0)
			abort();
		if (tf_policy_lookup(p, tf_sigkey_id(k)) != NULL)
			n++;
		tf_sigkey_free(k);
		k = NULL;
	}
	if (n != 0 && n != 3)
		abort(); /* the three encodings are one id: all found or none */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_policy *p = NULL;
	struct tf_err err;
	const char *both[] = {ids[0], ids[1]};
	size_t i;

	if (dir == NULL)
		setup();
	if (tf_policy_parse((const char *)data, size, dir, &p, &err) != 0) {
		if (p != NULL || err.msg[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < tf_policy_nroles(p); i++) {
		const char *role;
		unsigned n;

		tf_policy_role(p, i, &role, &n);
		if (role == NULL || n == 0)
			abort();
	}
	check_distinct(p);
	(void)tf_policy_lookup(p, ids[0]);
	(void)tf_policy_lookup(p, "not a key id");
	if (tf_policy_satisfied(p, both, 2, &err) != 0 && err.code != TF_E_REJECT)
		abort();
	if (tf_policy_satisfied(p, NULL, 0, &err) == 0)
		abort(); /* every role needs at least one signature */
	tf_policy_free(p);
	return 0;
}
