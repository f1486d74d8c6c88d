/* Strict JSON: the subset of RFC 8259 on which every reader (cJSON, Python's json, jq) sees the
 * same document. A signed document must mean one thing to the installer and to an auditor's
 * tools, so anything on which they could disagree is refused before cJSON reads it. */
#ifndef TF_COMMON_JSONSTRICT_H
#define TF_COMMON_JSONSTRICT_H

#include "common/err.h"

#include <stddef.h>

#define TF_JSON_MAX_INT 9007199254740992ull /* 2^53: the largest integer a double keeps exactly */
#define TF_JSON_MAX_DEPTH 32u               /* objects and arrays nested deeper are refused */

/* Checks that buf[0..len) is one strict JSON value, in one pass (time linear in len):
 * - RFC 8259's grammar exactly: whitespace is space, tab, LF and CR only; no byte-order mark,
 *   no leading zeros, nothing after the value;
 * - strings are valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), hold no
 *   raw control character, no \u0000 and no unpaired surrogate escape;
 * - numbers are whole: no fraction, no exponent, magnitude at most TF_JSON_MAX_INT;
 * - no object repeats a key (compared after unescaping, so "a" and "\u0061" are one key);
 * - nesting at most TF_JSON_MAX_DEPTH.
 * 0, or TF_E_INPUT with "byte N: <why>" (N counted from 0), or TF_E_NOMEM. */
int tf_json_strict(const char *buf, size_t len, struct tf_err *err);

#endif
