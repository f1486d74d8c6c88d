/* SHA-256, one-shot and streaming, and secure random bytes (OpenSSL stays inside digest.c). */
#ifndef TF_CRYPTO_DIGEST_H
#define TF_CRYPTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hex.h"

#define TF_SHA256_LEN 32

struct tf_sha256;

/* A new streaming context; NULL when out of memory. */
struct tf_sha256 *tf_sha256_new(void);
int tf_sha256_update(struct tf_sha256 *c, const void *data, size_t len) TF_MUST_CHECK;
/* Writes the digest to out and resets c for reuse. */
int tf_sha256_final(struct tf_sha256 *c, uint8_t out[TF_SHA256_LEN]) TF_MUST_CHECK;
void tf_sha256_free(struct tf_sha256 *c);
/* One-shot digest of data. */
int tf_sha256(const void *data, size_t len, uint8_t out[TF_SHA256_LEN]) TF_MUST_CHECK;
/* One-shot digest of data as lowercase hex. */
int tf_sha256_hex(const void *data, size_t len, char out[TF_SHA256_HEX]) TF_MUST_CHECK;
/* Digest of the file at path, streamed; size in *size when not NULL. */
int tf_sha256_file(const char *path, uint8_t out[TF_SHA256_LEN], uint64_t *size,
                   struct tf_err *err) TF_MUST_CHECK;

/* Fills out with len bytes from the system's secure random generator. */
int tf_random_bytes(uint8_t *out, size_t len) TF_MUST_CHECK;

#endif
