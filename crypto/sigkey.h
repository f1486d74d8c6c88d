/* Signing keys for bundles: Ed25519 (default), ECDSA P-256 with SHA-256, RSA-PSS 3072 with
 * SHA-256 (salt length 32). The algorithm follows from the key itself. Key id: lowercase hex
 * SHA-256 of the DER SubjectPublicKeyInfo in its canonical form (an EC key as a named curve and
 * an uncompressed point, whatever encoding it was read in), so one key has one id. */
#ifndef TF_CRYPTO_SIGKEY_H
#define TF_CRYPTO_SIGKEY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/digest.h"

enum tf_sigalg { TF_SIG_ED25519, TF_SIG_ECDSA_P256, TF_SIG_RSA_PSS_3072 };

struct tf_sigkey;

/* Parses "ed25519", "ecdsa-p256" or "rsa-pss-3072". */
int tf_sigalg_parse(const char *s, enum tf_sigalg *out, struct tf_err *err) TF_MUST_CHECK;
const char *tf_sigalg_name(enum tf_sigalg alg);

/* Generates a fresh private key. */
int tf_sigkey_generate(enum tf_sigalg alg, struct tf_sigkey **out,
                       struct tf_err *err) TF_MUST_CHECK;
/* Loads a public key (PEM SubjectPublicKeyInfo) from memory or a file. Refuses any key that is
 * not one of the three algorithms (e.g. RSA under 3072 bits, EC on another curve). */
int tf_sigkey_load_public(const char *pem, size_t len, const char *name, struct tf_sigkey **out,
                          struct tf_err *err) TF_MUST_CHECK;
int tf_sigkey_load_public_file(const char *path, struct tf_sigkey **out,
                               struct tf_err *err) TF_MUST_CHECK;
/* Loads a private key (PKCS#8 PEM, encrypted when passphrase is not NULL). */
int tf_sigkey_load_private_file(const char *path, const char *passphrase, struct tf_sigkey **out,
                                struct tf_err *err) TF_MUST_CHECK;
/* PEM of the private key as PKCS#8 (AES-256-CBC encrypted when passphrase is not NULL) and of
 * the public key. *out is NUL-terminated; caller frees (and wipes the private one). */
int tf_sigkey_private_pem(const struct tf_sigkey *k, const char *passphrase, char **out,
                          size_t *len, struct tf_err *err) TF_MUST_CHECK;
int tf_sigkey_public_pem(const struct tf_sigkey *k, char **out, size_t *len,
                         struct tf_err *err) TF_MUST_CHECK;
/* 1 when k holds a private key. */
int tf_sigkey_is_private(const struct tf_sigkey *k);
enum tf_sigalg tf_sigkey_alg(const struct tf_sigkey *k);
/* The key id (64 hex digits). */
const char *tf_sigkey_id(const struct tf_sigkey *k);

/* Signs data; *sig (caller frees) is the raw signature as `openssl` writes it. */
int tf_sigkey_sign(const struct tf_sigkey *k, const void *data, size_t len, uint8_t **sig,
                   size_t *siglen, struct tf_err *err) TF_MUST_CHECK;
/* 0 when sig is a valid signature of data by k; TF_E_REJECT when it is not. */
int tf_sigkey_verify(const struct tf_sigkey *k, const void *data, size_t len, const uint8_t *sig,
                     size_t siglen, struct tf_err *err) TF_MUST_CHECK;
void tf_sigkey_free(struct tf_sigkey *k);

#endif
