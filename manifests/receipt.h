/* Verify receipts (docs/verify.md): a JSON file written by `tiferry verify --receipt FILE` and
 * its detached signature FILE.sig over the file's exact bytes, made with a signing key of the
 * control host (crypto/sigkey.h), checkable with stock openssl like a bundle's manifest. */
#ifndef TF_MANIFESTS_RECEIPT_H
#define TF_MANIFESTS_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/sigkey.h"

#define TF_RECEIPT_FORMAT "tiferry-receipt/1"
#define TF_RECEIPT_KEY_NAME "receipt" /* <state>/receipt.key and <state>/receipt.pub */
#define TF_RECEIPT_MAX ((size_t)16 * 1024 * 1024)

/* The receipt signing key: the private key at key_path (PKCS#8 PEM from `tiferry-build keygen`;
 * passphrase NULL when it is not encrypted) or, when key_path is NULL, the control host's own
 * key <state_dir>/receipt.key, made (Ed25519, 0600, with receipt.pub beside it) on first use;
 * *created is then 1. Caller frees *out. */
int tf_receipt_key_open(const char *key_path, const char *passphrase, const char *state_dir,
                        struct tf_sigkey **out, int *created, struct tf_err *err) TF_MUST_CHECK;

/* Writes data to path and the signature of exactly those bytes by k to "<path>.sig" (raw, as
 * `openssl pkeyutl`/`dgst` write it), each atomically, mode 0644. */
int tf_receipt_write(const char *path, const void *data, size_t len, const struct tf_sigkey *k,
                     struct tf_err *err) TF_MUST_CHECK;

/* Checks the receipt at path against "<path>.sig". With pubkey_path the key is pinned: the
 * receipt must name that key's id and its signature must verify with it. Without it the public
 * key embedded in the receipt is used, which proves integrity only, and *summary says so.
 * 0 when the signature verifies (whatever the checks' verdicts), with a one-paragraph *summary
 * (caller frees) naming cluster, bundle, time, result, counts and key; TF_E_REJECT when it does
 * not; TF_E_INPUT when the file is not a receipt. */
int tf_receipt_verify(const char *path, const char *pubkey_path, char **summary,
                      struct tf_err *err) TF_MUST_CHECK;

/* The same over a receipt's bytes and signature in memory (path names it in messages); the
 * pinned key, or NULL to use the embedded one. */
int tf_receipt_check(const char *path, const char *data, size_t len, const uint8_t *sig,
                     size_t siglen, const struct tf_sigkey *pinned_key, char **summary,
                     struct tf_err *err) TF_MUST_CHECK;

#endif
