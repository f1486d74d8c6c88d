/* TiUP's manifest signatures (RSASSA-PSS, SHA-256, base64), verified over OpenSSL. */
#ifndef TF_MIRROR_TIUPSIG_H
#define TF_MIRROR_TIUPSIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Verifies one RSASSA-PSS-SHA256 signature (base64 sig, any salt length) by the PKIX PEM
 * public key pem over data. 0 when it verifies; TF_E_REJECT when not; TF_E_INPUT for a
 * malformed key (not RSA, under 2048 bits) or signature encoding. */
int tf_tiup_sig_verify(const char *pem, const uint8_t *data, size_t len, const char *sig,
                       struct tf_err *err) TF_MUST_CHECK;

#endif
