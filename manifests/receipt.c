/* Verify receipts: the control host's signing key, writing a receipt with its detached
 * signature, and checking one (for the auditor and `tiferry-build inspect --receipt`). */
#include "manifests/receipt.h"
#include "common/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#define SIG_MAX 8192

int tf_receipt_key_open(const char *key_path, const char *passphrase, const char *state_dir,
                        struct tf_sigkey **out, int *created, struct tf_err *err)
{
	struct tf_sigkey *k = NULL;
	char *keyfile = NULL, *pubfile = NULL, *priv = NULL, *pub = NULL;
	size_t privlen = 0, publen = 0;
	struct stat st;
	int r = 0, made = 0;

	if (key_path != NULL) {
		if ((r = tf_sigkey_load_private_file(key_path, passphrase, &k, err)) != 0)
			goto out;
		goto done;
	}
	if ((keyfile = tf_path_join(state_dir, TF_RECEIPT_KEY_NAME ".key")) == NULL ||
	    (pubfile = tf_path_join(state_dir, TF_RECEIPT_KEY_NAME ".pub")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (stat(keyfile, &st) == 0) {
		if ((r = tf_sigkey_load_private_file(keyfile, passphrase, &k, err)) != 0)
			goto out;
		goto done;
	}
	if (errno != ENOENT) {
		r = tf_err_sys(err, TF_E_IO, "stat '%s'", keyfile);
		goto out;
	}
	if ((r = tf_mkdir_p(state_dir, 0700, err)) != 0 ||
	    (r = tf_sigkey_generate(TF_SIG_ED25519, &k, err)) != 0 ||
	    (r = tf_sigkey_private_pem(k, passphrase, &priv, &privlen, err)) != 0 ||
	    (r = tf_sigkey_public_pem(k, &pub, &publen, err)) != 0)
		goto out;
	/* The public half first: a key without its .pub would be unusable to the auditor. */
	if ((r = tf_write_file_atomic(pubfile, pub, publen, 0644, err)) != 0 ||
	    (r = tf_write_file_atomic(keyfile, priv, privlen, 0600, err)) != 0)
		goto out;
	made = 1;
done:
	*out = k;
	k = NULL; /* transferred */
	if (created != NULL)
		*created = made;
out:
	if (priv != NULL) {
		tf_wipe(priv, privlen);
		free(priv);
	}
	free(pub);
	free(keyfile);
	free(pubfile);
	tf_sigkey_free(k);
	return r;
}

int tf_receipt_write(const char *path, const void *data, size_t len, const struct tf_sigkey *k,
                     struct tf_err *err)
{
	uint8_t *sig = NULL;
	size_t siglen = 0;
	char *sigpath = NULL;
	int r;

	if (!tf_sigkey_is_private(k))
		return tf_err_set(err, TF_E_USAGE, "the receipt key is not a private key");
	if ((sigpath = malloc(strlen(path) + 5)) == NULL)
		return tf_err_nomem(err);
	sprintf(sigpath, "%s.sig", path);
	if ((r = tf_sigkey_sign(k, data, len, &sig, &siglen, err)) != 0)
		goto out;
	/* The receipt first: a signature never stands beside bytes it does not cover for long,
	 * and a crash between the two leaves a receipt whose old signature fails, loudly. */
	if ((r = tf_write_file_atomic(path, data, len, 0644, err)) != 0 ||
	    (r = tf_write_file_atomic(sigpath, sig, siglen, 0644, err)) != 0)
		goto out;
out:
	free(sig);
	free(sigpath);
	return r;
}

static const char *str_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long count_field(const cJSON *counts, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(counts, name);

	/* in range before the conversion (a double beyond long's is undefined behaviour) */
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 2147483647.0
	           ? (long)v->valuedouble
	           : -1;
}

int tf_receipt_verify(const char *path, const char *pubkey_path, char **summary, struct tf_err *err)
{
	char *data = NULL, *sigpath = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	struct tf_sigkey *k = NULL;
	int r;

	if ((r = tf_read_file(path, TF_RECEIPT_MAX, &data, &len, err)) != 0)
		goto out;
	if ((sigpath = malloc(strlen(path) + 5)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	sprintf(sigpath, "%s.sig", path);
	if ((r = tf_read_file(sigpath, SIG_MAX, &sig, &siglen, err)) != 0)
		goto out;
	if (pubkey_path != NULL && (r = tf_sigkey_load_public_file(pubkey_path, &k, err)) != 0)
		goto out;
	r = tf_receipt_check(path, data, len, (const uint8_t *)sig, siglen, k, summary, err);
out:
	tf_sigkey_free(k);
	free(data);
	free(sig);
	free(sigpath);
	return r;
}

int tf_receipt_check(const char *path, const char *data, size_t len, const uint8_t *sig,
                     size_t siglen, const struct tf_sigkey *pinned_key, char **summary,
                     struct tf_err *err)
{
	char *text = NULL;
	cJSON *root = NULL;
	const cJSON *signer, *counts, *checks;
	const char *keyid, *alg, *pem, *cluster, *bundle, *created, *result;
	struct tf_sigkey *own = NULL;
	const struct tf_sigkey *k = pinned_key;
	int r, pinned = pinned_key != NULL;

	/* A pinned key checks the exact bytes before anything reads them. */
	if (pinned && (r = tf_sigkey_verify(k, data, len, sig, siglen, err)) != 0) {
		tf_err_prefix(err, "receipt '%s'", path);
		goto out;
	}
	root = cJSON_ParseWithLength(data, len);
	if (!cJSON_IsObject(root) || str_field(root, "format") == NULL ||
	    strcmp(str_field(root, "format"), TF_RECEIPT_FORMAT) != 0) {
		r = tf_err_set(err, TF_E_INPUT, "'%s' is not a %s file", path, TF_RECEIPT_FORMAT);
		goto out;
	}
	signer = cJSON_GetObjectItemCaseSensitive(root, "signer");
	counts = cJSON_GetObjectItemCaseSensitive(root, "counts");
	checks = cJSON_GetObjectItemCaseSensitive(root, "checks");
	keyid = str_field(signer, "keyid");
	alg = str_field(signer, "alg");
	pem = str_field(signer, "public_key");
	cluster = str_field(root, "cluster");
	bundle = str_field(root, "bundle_id");
	created = str_field(root, "created");
	result = str_field(root, "result");
	if (keyid == NULL || created == NULL || result == NULL || !cJSON_IsObject(counts) ||
	    !cJSON_IsArray(checks)) {
		r = tf_err_set(
		    err, TF_E_INPUT,
		    "'%s': a receipt needs signer.keyid, created, result, counts, checks", path);
		goto out;
	}
	if (!pinned) {
		if (pem == NULL) {
			r = tf_err_set(err, TF_E_INPUT,
			               "'%s' carries no public key: give the signer's key", path);
			goto out;
		}
		if ((r = tf_sigkey_load_public(pem, strlen(pem), "signer.public_key", &own, err)) !=
		    0)
			goto out;
		k = own;
	}
	if (strcmp(tf_sigkey_id(k), keyid) != 0) {
		r = tf_err_set(err, TF_E_REJECT, "'%s' names key %.16s..., not %.16s...%s", path,
		               keyid, tf_sigkey_id(k), pinned ? "" : " (its embedded public key)");
		goto out;
	}
	if (!pinned && (r = tf_sigkey_verify(k, data, len, sig, siglen, err)) != 0) {
		tf_err_prefix(err, "receipt '%s'", path);
		goto out;
	}
	if (summary != NULL) {
		size_t cap = 1024;
		char unknown[48] = "";

		/* receipts from before the "unknown" status have no such count */
		if (cJSON_GetObjectItemCaseSensitive(counts, "unknown") != NULL)
			snprintf(unknown, sizeof(unknown), ", %ld unknown",
			         count_field(counts, "unknown"));

		if ((text = malloc(cap)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		snprintf(
		    text, cap,
		    "receipt '%s': cluster %s, bundle %s, created %s\n"
		    "result %s: %ld pass, %ld warn, %ld fail, %ld skip%s (%d checks)\n"
		    "signed by key %s (%s): signature verifies%s",
		    path, cluster ? cluster : "(none)", bundle ? bundle : "(none)", created, result,
		    count_field(counts, "pass"), count_field(counts, "warn"),
		    count_field(counts, "fail"), count_field(counts, "skip"), unknown,
		    cJSON_GetArraySize(checks), keyid, alg ? alg : tf_sigalg_name(tf_sigkey_alg(k)),
		    pinned
		        ? " with the given key"
		        : "\nkey NOT pinned: the embedded public key proves integrity only; give "
		          "the control host's receipt.pub to prove origin");
		*summary = text;
		text = NULL; /* transferred */
	}
out:
	free(text);
	cJSON_Delete(root);
	tf_sigkey_free(own);
	return r;
}
