/* Fuzz target: what the verify command run on a node prints about its <deploy_dir>/tls folder
 * (installer/verify_host.c: stat lines, the CA and certificate PEM, the key digests), parsed
 * and judged: folder, key mode, certificate against the fixture CA below. */
#include "installer/verify_host.h"
#include "tests/fuzz/scratch.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fixture only: the CA of the seeds in tests/fuzz/corpus/node_tls/ */
static const char fixture_ca[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBijCCATGgAwIBAgIUQde+5g4lGT3qhPVNUNxb8pe0yH0wCgYIKoZIzj0EAwIw\n"
    "GjEYMBYGA1UEAwwPdGlmZXJyeSBmdXp6IENBMCAXDTI2MTIwNTE1MTkxOFoYDzIx\n"
    "MjYxMTExMTUxOTE4WjAaMRgwFgYDVQQDDA90aWZlcnJ5IGZ1enogQ0EwWTATBgcq\n"
    "hkjOPQIBBggqhkjOPQMBBwNCAAStbjBccjqBTAusp5YX7H/VBQq9+SwoRKiYCUzA\n"
    "eNBmjohBY5Pe6LY3pUghoEpcutpf+c+SEXc8twc3KXjzgCJCo1MwUTAdBgNVHQ4E\n"
    "FgQUQ3xIROsC5cJZ9UemjZL35ScoeAIwHwYDVR0jBBgwFoAUQ3xIROsC5cJZ9Uem\n"
    "jZL35ScoeAIwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBxpOaH\n"
    "Eis0zl+kpILcmf/UMlc0fxSclThRRzwLjtCaQgIgPERew9zWNXr2aAWyjfTJlMK/\n"
    "T4Dk6bBbqkc7LjwwpgU=\n"
    "-----END CERTIFICATE-----\n";

static const char *ca_file(void)
{
	static char *path;

	if (path == NULL)
		path = tf_fuzz_fixture("tf-fuzz-ca-", "ca.crt", fixture_ca, strlen(fixture_ca));
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_vhost_node n;
	struct tf_vhost_cert facts;
	struct tf_err err;
	char *out, detail[600];

	if ((out = malloc(size + 1)) == NULL)
		return 0;
	memcpy(out, data, size);
	out[size] = '\0';
	tf_vhost_node_init(&n);
	if (tf_vhost_node_parse(out, "pd", &n, &err) == 0) {
		(void)tf_vhost_judge_dir(&n, detail, sizeof(detail));
		(void)tf_vhost_judge_key_mode(&n, "tidb", detail, sizeof(detail));
		(void)tf_vhost_judge_key_mode(&n, NULL, detail, sizeof(detail));
		(void)tf_vhost_judge_cert(&n, ca_file(), "", &facts, detail, sizeof(detail));
		if (strlen(detail) >= sizeof(detail))
			abort();
	}
	tf_vhost_node_release(&n);
	free(out);
	return 0;
}
