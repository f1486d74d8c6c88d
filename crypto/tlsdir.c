/* TiUP's tls/ folder as the bundle carries it: the five files, sealed for the bundle (builder),
 * opened, checked and placed on the control host (installer); and the manifest's "tls" section
 * (the certificates and the node certificate plan) as JSON. */
#include "crypto/certs.h"
#include "common/fsutil.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "crypto/ossl.h"
#include "crypto/x509.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>

void tf_certs_files(const struct tf_certs *c, struct tf_certs_file out[TF_CERTS_NFILES])
{
	out[0] = (struct tf_certs_file){TF_CERTS_CA_CRT, c->ca_crt, c->ca_crt_len, 0644, 0};
	out[1] = (struct tf_certs_file){TF_CERTS_CA_KEY, c->ca_pem, c->ca_pem_len, 0600, 1};
	out[2] =
	    (struct tf_certs_file){TF_CERTS_CLIENT_CRT, c->client_crt, c->client_crt_len, 0644, 0};
	out[3] =
	    (struct tf_certs_file){TF_CERTS_CLIENT_KEY, c->client_pem, c->client_pem_len, 0600, 1};
	out[4] =
	    (struct tf_certs_file){TF_CERTS_CLIENT_PFX, c->client_pfx, c->client_pfx_len, 0600, 1};
}

int tf_certs_check_pair(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                        struct tf_err *err)
{
	static const char head[] = "-----BEGIN RSA PRIVATE KEY-----";

	if (key_len < sizeof(head) - 1 || memcmp(key_pem, head, sizeof(head) - 1) != 0)
		return tf_err_set(err, TF_E_INPUT,
		                  "the key is not PEM \"RSA PRIVATE KEY\" (PKCS#1), "
		                  "the only form TiUP reads");
	return tf_x509_check_key(cert_pem, cert_len, key_pem, key_len, err);
}

/* ---- sealing for the bundle, unsealing on the control host ---- */

static const char *const tls_names[TF_CERTS_NFILES] = {TF_CERTS_CA_CRT, TF_CERTS_CA_KEY,
                                                       TF_CERTS_CLIENT_CRT, TF_CERTS_CLIENT_KEY,
                                                       TF_CERTS_CLIENT_PFX};
static const int tls_secret[TF_CERTS_NFILES] = {0, 1, 0, 1, 1};

void tf_certs_sealed_release(struct tf_certs_sealed *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < TF_CERTS_NFILES; i++)
		free(s->files[i].data);
	memset(s, 0, sizeof(*s));
}

int tf_certs_seal(const struct tf_certs *c, const struct tf_secrets_recipients *r,
                  struct tf_certs_sealed *out, struct tf_err *err)
{
	struct tf_certs_file f[TF_CERTS_NFILES];
	struct tf_certs_sealed s;
	size_t i;
	int rc;

	memset(&s, 0, sizeof(s));
	tf_certs_files(c, f);
	for (i = 0; i < TF_CERTS_NFILES; i++) {
		struct tf_certs_sealed_file *o = &s.files[i];

		if (f[i].data == NULL) {
			rc = tf_err_set(err, TF_E_USAGE, "no %s to seal", f[i].name);
			goto out;
		}
		if (f[i].secret) {
			snprintf(o->name, sizeof(o->name), "%s%s", f[i].name, TF_SECRETS_SUFFIX);
			o->mode = 0600;
			if ((rc = tf_secrets_encrypt(f[i].data, f[i].len, r, &o->data, &o->len,
			                             err)) != 0) {
				tf_err_prefix(err, "encrypt %s", f[i].name);
				goto out;
			}
		} else {
			snprintf(o->name, sizeof(o->name), "%s", f[i].name);
			o->mode = 0644;
			if ((o->data = malloc(f[i].len + 1)) == NULL) {
				rc = tf_err_nomem(err);
				goto out;
			}
			memcpy(o->data, f[i].data, f[i].len);
			o->data[f[i].len] = '\0';
			o->len = f[i].len;
		}
	}
	*out = s;
	memset(&s, 0, sizeof(s)); /* transferred */
	rc = 0;
out:
	tf_certs_sealed_release(&s);
	return rc;
}

/* client.crt must verify against the certificates of ca.crt (the first one is the issuer TiUP
 * uses; the rest its chain). */
static int check_client_issued(const char *ca, size_t ca_len, const char *client, size_t client_len,
                               struct tf_err *err)
{
	struct tf_x509_anchor a = {ca, ca_len, NULL, 1, 0};
	char why[TF_X509_REASON_MAX];
	int r, ok = 0;

	if ((r = tf_x509_verify_pem(client, client_len, &a, &ok, why, err)) != 0)
		return r;
	if (!ok)
		return tf_err_set(err, TF_E_INPUT, "client.crt does not verify against ca.crt: %s",
		                  why);
	return 0;
}

static int check_pfx(const char *pfx, size_t len, struct tf_err *err)
{
	BIO *b = len <= TF_SECRETS_MAX ? BIO_new_mem_buf(pfx, (int)len) : NULL;
	PKCS12 *p12 = NULL;
	int r;

	if (b == NULL || (p12 = d2i_PKCS12_bio(b, NULL)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "client.pfx is not PKCS#12");
		goto out;
	}
	if (PKCS12_verify_mac(p12, TF_CERTS_PFX_PASSWORD, -1) != 1) {
		r = tf_ossl_fail(err, TF_E_INPUT, "client.pfx does not open with TiUP's password");
		goto out;
	}
	r = 0;
out:
	PKCS12_free(p12);
	BIO_free(b);
	return r;
}

/* The sealed file of TiUP's file i: "ca.pem.cms" for a secret, "ca.crt" for a certificate. */
static void sealed_name(size_t i, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", tls_names[i], tls_secret[i] ? TF_SECRETS_SUFFIX : "");
}

/* Opens the five sealed files of s (in tls_names' order) with k into plain[] (secrets
 * decrypted; the caller wipes and frees) and checks them as a set: each key is PKCS#1 and matches
 * its certificate, client.crt verifies against ca.crt, client.pfx opens with TiUP's password.
 * A check that fails after every secret opened returns set_code (the set itself is wrong);
 * a secret that does not open is named "<dir>/<file>". */
static int open_sealed(const struct tf_certs_sealed *s, const struct tf_secrets_key *k,
                       const char *dir, int set_code, char *plain[TF_CERTS_NFILES],
                       size_t len[TF_CERTS_NFILES], struct tf_err *err)
{
	size_t i;
	int r;

	for (i = 0; i < TF_CERTS_NFILES; i++) {
		const struct tf_certs_sealed_file *f = &s->files[i];
		char name[64];

		sealed_name(i, name, sizeof(name));
		if (f->data == NULL || strcmp(f->name, name) != 0)
			return tf_err_set(err, TF_E_USAGE, "sealed tls/ file %zu is not '%s'", i,
			                  name);
		if (tls_secret[i]) {
			uint8_t *p = NULL;

			if (tf_secrets_decrypt(f->data, f->len, k, &p, &len[i], err) != 0)
				return tf_err_prefix(err, "'%s%s%s'", dir, *dir ? "/" : "", name);
			plain[i] = (char *)p;
		} else {
			if ((plain[i] = malloc(f->len + 1)) == NULL)
				return tf_err_nomem(err);
			memcpy(plain[i], f->data, f->len);
			plain[i][f->len] = '\0';
			len[i] = f->len;
		}
	}
	if (tf_certs_check_pair(plain[0], len[0], plain[1], len[1], err) != 0)
		r = tf_err_prefix(err, "ca.pem");
	else if (tf_certs_check_pair(plain[2], len[2], plain[3], len[3], err) != 0)
		r = tf_err_prefix(err, "client.pem");
	else if ((r = check_client_issued(plain[0], len[0], plain[2], len[2], err)) == 0)
		r = check_pfx(plain[4], len[4], err);
	if (r != 0 && set_code != 0 && r != TF_E_NOMEM)
		err->code = r = set_code;
	return r;
}

static void wipe_plain(char *plain[TF_CERTS_NFILES], size_t len[TF_CERTS_NFILES])
{
	size_t i;

	for (i = 0; i < TF_CERTS_NFILES; i++) {
		if (tls_secret[i] && plain[i] != NULL)
			tf_wipe(plain[i], len[i]);
		free(plain[i]);
		plain[i] = NULL;
	}
}

int tf_certs_unseal_check(const struct tf_certs_sealed *s, const struct tf_secrets_key *k,
                          struct tf_err *err)
{
	char *plain[TF_CERTS_NFILES] = {NULL};
	size_t len[TF_CERTS_NFILES] = {0};
	int r = open_sealed(s, k, "tls", TF_E_REJECT, plain, len, err);

	wipe_plain(plain, len);
	return r;
}

int tf_certs_unseal(const char *src_dir, const char *tls_dir, const struct tf_secrets_key *k,
                    int replace, struct tf_err *err)
{
	/* the files TiUP looks for to reuse a CA (ca.crt, client.pem, client.crt) come last, so an
	 * interrupted unseal never leaves a set TiUP would take as complete */
	static const size_t order[TF_CERTS_NFILES] = {1, 4, 3, 0, 2};
	struct tf_certs_sealed s;
	char *plain[TF_CERTS_NFILES] = {NULL};
	size_t len[TF_CERTS_NFILES] = {0};
	char *path = NULL;
	size_t i;
	int r;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < TF_CERTS_NFILES; i++) {
		struct tf_certs_sealed_file *f = &s.files[i];

		sealed_name(i, f->name, sizeof(f->name));
		if ((path = tf_path_join(src_dir, f->name)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		if ((r = tf_read_file(path, TF_SECRETS_MAX, &f->data, &f->len, err)) != 0)
			goto out;
		free(path);
		path = NULL;
	}
	if ((r = open_sealed(&s, k, src_dir, 0, plain, len, err)) != 0)
		goto out;
	for (i = 0; i < TF_CERTS_NFILES && !replace; i++) {
		if ((path = tf_path_join(tls_dir, tls_names[i])) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		if (access(path, F_OK) == 0) {
			r = tf_err_set(err, TF_E_IO, "'%s' exists already", path);
			goto out;
		}
		free(path);
		path = NULL;
	}
	if ((r = tf_mkdir_p(tls_dir, 0700, err)) != 0)
		goto out;
	for (i = 0; i < TF_CERTS_NFILES; i++) {
		size_t j = order[i];

		if ((path = tf_path_join(tls_dir, tls_names[j])) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		if ((r = tf_write_file_atomic(path, plain[j], len[j], tls_secret[j] ? 0600 : 0644,
		                              err)) != 0)
			goto out;
		free(path);
		path = NULL;
	}
	r = 0;
out:
	wipe_plain(plain, len);
	tf_certs_sealed_release(&s);
	free(path);
	return r;
}

/* ---- JSON ---- */

/* Adds item to parent (under key, or appended when key is NULL); on failure deletes item.
 * 1 on success, 0 on failure (item NULL included). */
static int put(cJSON *parent, const char *key, cJSON *item)
{
	int ok;

	if (item == NULL)
		return 0;
	ok = key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
	if (!ok)
		cJSON_Delete(item);
	return ok != 0;
}

static cJSON *info_json(const struct tf_x509_info *i)
{
	cJSON *o = cJSON_CreateObject();
	char nb[TF_TIME_TEXT], na[TF_TIME_TEXT], key[32];

	tf_time_format(i->not_before, nb, sizeof(nb));
	tf_time_format(i->not_after, na, sizeof(na));
	snprintf(key, sizeof(key), "RSA %u", i->key_bits);
	if (o == NULL || !put(o, "subject", cJSON_CreateString(i->subject)) ||
	    !put(o, "issuer", cJSON_CreateString(i->issuer)) ||
	    !put(o, "serial", cJSON_CreateString(i->serial)) ||
	    !put(o, "fingerprint", cJSON_CreateString(i->fingerprint)) ||
	    !put(o, "not_before", cJSON_CreateString(nb)) ||
	    !put(o, "not_after", cJSON_CreateString(na)) ||
	    !put(o, "key", cJSON_CreateString(i->key_bits ? key : "other"))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *strings_json(char *const *s, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (!put(a, NULL, cJSON_CreateString(s[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static int print_json(cJSON *o, char **out, struct tf_err *err)
{
	char *s = o ? cJSON_Print(o) : NULL;

	cJSON_Delete(o);
	if (s == NULL)
		return tf_err_set(err, TF_E_NOMEM, "out of memory writing JSON");
	*out = s;
	return 0;
}

int tf_certs_summary_json(const struct tf_certs *c, const char *plan_json, char **out,
                          struct tf_err *err)
{
	struct tf_certs_file f[TF_CERTS_NFILES];
	cJSON *o = cJSON_CreateObject(), *chain, *files;
	size_t i;

	tf_certs_files(c, f);
	if (o == NULL ||
	    !put(o, "source",
	         cJSON_CreateString(c->source == TF_CERTS_IMPORT ? "imported" : "generated")) ||
	    !put(o, "ca", info_json(&c->ca)) ||
	    (chain = cJSON_AddArrayToObject(o, "chain")) == NULL ||
	    !put(o, "client", info_json(&c->client)) ||
	    (files = cJSON_AddArrayToObject(o, "files")) == NULL ||
	    !put(o, "node_days", cJSON_CreateNumber(TF_CERTS_NODE_DAYS)) ||
	    !put(o, "warnings", strings_json(c->warnings, c->nwarnings)) ||
	    (plan_json != NULL && !put(o, "plan", cJSON_Parse(plan_json))))
		goto fail;
	for (i = 0; i < c->nchain; i++)
		if (!put(chain, NULL, info_json(&c->chain[i])))
			goto fail;
	for (i = 0; i < TF_CERTS_NFILES; i++) {
		cJSON *x = cJSON_CreateObject();

		if (!put(files, NULL, x) || !put(x, "name", cJSON_CreateString(f[i].name)) ||
		    !put(x, "secret", cJSON_CreateBool(f[i].secret)))
			goto fail;
	}
	return print_json(o, out, err);
fail:
	cJSON_Delete(o);
	return tf_err_set(err, TF_E_NOMEM, "out of memory writing JSON");
}

/* ---- the node certificate plan ---- */

void tf_certplan_free(struct tf_certplan *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		struct tf_certplan_entry *e = &p->entries[i];

		free(e->component);
		free(e->host);
		free(e->deploy_dir);
		for (j = 0; j < e->nsans; j++)
			free(e->sans[j]);
	}
	free(p->entries);
	for (i = 0; i < p->nwarnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	free(p);
}

static cJSON *entry_json(const struct tf_certplan_entry *e)
{
	cJSON *c = cJSON_CreateObject();
	char files[3][1100];
	char *fl[3] = {files[0], files[1], files[2]};

	if (c == NULL || !put(c, "component", cJSON_CreateString(e->component)) ||
	    !put(c, "host", cJSON_CreateString(e->host)) ||
	    !put(c, "port", cJSON_CreateNumber((double)e->port)) ||
	    !put(c, "cn", cJSON_CreateString(e->component)) ||
	    !put(c, "sans", strings_json(e->sans, e->nsans)) ||
	    !put(c, "host_is_ip", cJSON_CreateBool(e->host_is_ip)))
		goto fail;
	if (e->deploy_dir != NULL) {
		snprintf(files[0], sizeof(files[0]), "%s/tls/ca.crt", e->deploy_dir);
		snprintf(files[1], sizeof(files[1]), "%s/tls/%s.crt", e->deploy_dir, e->component);
		snprintf(files[2], sizeof(files[2]), "%s/tls/%s.pem", e->deploy_dir, e->component);
		if (!put(c, "files", strings_json(fl, 3)))
			goto fail;
	}
	return c;
fail:
	cJSON_Delete(c);
	return NULL;
}

static cJSON *plan_json(const struct tf_certplan *p)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr != NULL && i < p->n; i++)
		if (!put(arr, NULL, entry_json(&p->entries[i]))) {
			cJSON_Delete(arr);
			arr = NULL;
		}
	if (o == NULL || !put(o, "node_days", cJSON_CreateNumber(TF_CERTS_NODE_DAYS)) ||
	    !put(o, "certificates", arr) ||
	    !put(o, "warnings", strings_json(p->warnings, p->nwarnings))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int tf_certplan_json(const struct tf_certplan *p, char **out, struct tf_err *err)
{
	return print_json(plan_json(p), out, err);
}
