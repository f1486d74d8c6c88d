/* SHA-256 over OpenSSL's EVP interface. */
#include "crypto/digest.h"
#include "common/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

struct tf_sha256 {
	EVP_MD_CTX *md;
};

struct tf_sha256 *tf_sha256_new(void)
{
	struct tf_sha256 *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if ((c->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		tf_sha256_free(c);
		return NULL;
	}
	return c;
}

int tf_sha256_update(struct tf_sha256 *c, const void *data, size_t len)
{
	return EVP_DigestUpdate(c->md, data, len) == 1 ? 0 : TF_E_CRYPTO;
}

int tf_sha256_final(struct tf_sha256 *c, uint8_t out[TF_SHA256_LEN])
{
	unsigned n = 0;

	if (EVP_DigestFinal_ex(c->md, out, &n) != 1 || n != TF_SHA256_LEN)
		return TF_E_CRYPTO;
	return EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) == 1 ? 0 : TF_E_CRYPTO;
}

void tf_sha256_free(struct tf_sha256 *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

int tf_sha256(const void *data, size_t len, uint8_t out[TF_SHA256_LEN])
{
	unsigned n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != TF_SHA256_LEN)
		return TF_E_CRYPTO;
	return 0;
}

int tf_sha256_hex(const void *data, size_t len, char out[TF_SHA256_HEX])
{
	uint8_t d[TF_SHA256_LEN];
	int r;

	if ((r = tf_sha256(data, len, d)) != 0)
		return r;
	tf_hex_encode(d, sizeof(d), out);
	return 0;
}

int tf_sha256_file(const char *path, uint8_t out[TF_SHA256_LEN], uint64_t *size, struct tf_err *err)
{
	struct tf_sha256 *c = NULL;
	uint8_t *buf = NULL;
	uint64_t total = 0;
	int fd = -1, r;
	const size_t bufsz = 1u << 20;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_IO, "open '%s'", path);
		goto out;
	}
	if ((c = tf_sha256_new()) == NULL || (buf = malloc(bufsz)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, bufsz);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = tf_err_sys(err, TF_E_IO, "read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		if (tf_sha256_update(c, buf, (size_t)n) != 0) {
			r = tf_err_set(err, TF_E_CRYPTO, "sha256 '%s' failed", path);
			goto out;
		}
		total += (uint64_t)n;
	}
	if (tf_sha256_final(c, out) != 0) {
		r = tf_err_set(err, TF_E_CRYPTO, "sha256 '%s' failed", path);
		goto out;
	}
	if (size != NULL)
		*size = total;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	tf_sha256_free(c);
	return r;
}

int tf_random_bytes(uint8_t *out, size_t len)
{
	return len <= INT32_MAX && RAND_bytes(out, (int)len) == 1 ? 0 : TF_E_CRYPTO;
}
