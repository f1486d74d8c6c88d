/* Secrets in the bundle (the CA key, the client key, client.pfx): CMS EnvelopedData (RFC 5652),
 * PEM ("-----BEGIN CMS-----"), content AES-256-CBC, to a recipient certificate (RSA-OAEP with
 * SHA-256, KeyTransRecipientInfo) and/or a passphrase (PasswordRecipientInfo, PBKDF2 then
 * AES-256 key wrap, RFC 3211). Stock `openssl cms -decrypt` opens them: docs/certificates.md.
 * Integrity comes from the bundle's signatures, which cover every encrypted file's sha256.
 * The recipient key pair itself comes from tf_certs_recipient_keygen (crypto/certs.h); the tls/
 * folder's secrets are opened from files by tf_certs_unseal. */
#ifndef TF_CRYPTO_SECRETS_H
#define TF_CRYPTO_SECRETS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TF_SECRETS_SUFFIX ".cms"             /* "ca.pem" travels as "ca.pem.cms" */
#define TF_SECRETS_MAX (1u << 20)            /* bytes of one encrypted secret */
#define TF_SECRETS_PBKDF2_ITER 600000u       /* PBKDF2 iterations by default */
#define TF_SECRETS_PBKDF2_ITER_MAX 10000000u /* more is refused when decrypting (no stalls) */
#define TF_SECRETS_PASS_MIN 8                /* bytes of the shortest passphrase accepted */
#define TF_SECRETS_RSA_MIN 2048              /* bits of the smallest recipient key accepted */

/* Whom a secret is encrypted to: at least one of the two. */
struct tf_secrets_recipients {
	const char *cert_pem; /* one or more recipient certificates (PEM, RSA keys), or NULL */
	size_t cert_len;
	const char *passphrase; /* NUL-terminated, at least TF_SECRETS_PASS_MIN bytes, or NULL */
	unsigned iterations;    /* PBKDF2 iterations; 0: TF_SECRETS_PBKDF2_ITER */
};

/* What opens a secret: the recipient key with its certificate, and/or a passphrase. The key is
 * tried first; the passphrase when the key is absent or the secret is not encrypted to it. */
struct tf_secrets_key {
	const char *key_pem; /* recipient private key (PEM, PKCS#8 or PKCS#1), or NULL */
	size_t key_len;
	const char *key_pass; /* passphrase of an encrypted key_pem, or NULL */
	const char *cert_pem; /* its certificate (PEM); required with key_pem */
	size_t cert_len;
	const char *passphrase; /* NUL-terminated, or NULL */
};

/* Encrypts len bytes of data to r. *out is the PEM text (NUL-terminated, caller frees). */
int tf_secrets_encrypt(const void *data, size_t len, const struct tf_secrets_recipients *r,
                       char **out, size_t *outlen, struct tf_err *err) TF_MUST_CHECK;
/* Decrypts a secret made by tf_secrets_encrypt (PEM, or the same DER) with k. *out (caller
 * wipes with tf_wipe and frees; NUL-terminated for convenience) holds the plaintext.
 * Clear refusals: TF_E_INPUT for a wrong passphrase, a secret not encrypted to this recipient,
 * a key that does not match its certificate; TF_E_REJECT for corrupted or oversized data or a
 * PBKDF2 count over TF_SECRETS_PBKDF2_ITER_MAX. */
int tf_secrets_decrypt(const void *in, size_t len, const struct tf_secrets_key *k, uint8_t **out,
                       size_t *outlen, struct tf_err *err) TF_MUST_CHECK;
/* Describes the recipients of a secret as JSON text (caller frees), for inspect:
 * {"cipher":"aes-256-cbc","recipients":[{"type":"certificate","issuer":"...","serial":"..."},
 * {"type":"passphrase","kdf":"pbkdf2","iterations":600000}]}. */
int tf_secrets_describe(const void *in, size_t len, char **json, struct tf_err *err) TF_MUST_CHECK;

#endif
