/* Lowercase hexadecimal encoding. */
#ifndef TF_COMMON_HEX_H
#define TF_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

#define TF_SHA256_HEX 65      /* a SHA-256 in hex: 64 digits and NUL */
#define TF_FINGERPRINT_LEN 72 /* "sha256:" + 64 hex digits + NUL */

/* Writes 2*len lowercase hex digits and a NUL to out (2*len+1 bytes). */
void tf_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly 2*outlen hex digits from in into out; 0 on success, -1 on a bad digit or
 * length. */
int tf_hex_decode(const char *in, uint8_t *out, size_t outlen);
/* 1 when s is exactly n lowercase hex digits. */
int tf_hex_is_lower(const char *s, size_t n);

#endif
