/* What the modules wrapping OpenSSL share (OpenSSL's types stay out of this header): turning
 * OpenSSL's error queue into our error, and a passphrase callback that never prompts. */
#ifndef TF_CRYPTO_OSSL_H
#define TF_CRYPTO_OSSL_H

#include "common/err.h"

/* Sets err to code and the formatted message followed by OpenSSL's first queued reason
 * ("... (openssl: reason)"), empties OpenSSL's error queue, and returns code. */
int tf_ossl_fail(struct tf_err *err, int code, const char *fmt, ...) TF_PRINTF(3, 4);
/* An OpenSSL pem_password_cb: copies the NUL-terminated passphrase u, or fails (-1) when u is
 * NULL, so OpenSSL never prompts on the terminal by itself. */
int tf_ossl_pass_cb(char *buf, int size, int rwflag, void *u);

#endif
