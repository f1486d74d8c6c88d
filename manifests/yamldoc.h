/* A YAML document read into a small tree of our own (libyaml stays inside yamldoc.c).
 * Aliases are refused (no billion laughs); duplicate mapping keys are refused. */
#ifndef TF_MANIFESTS_YAMLDOC_H
#define TF_MANIFESTS_YAMLDOC_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum tf_yaml_kind { TF_YAML_SCALAR, TF_YAML_MAP, TF_YAML_SEQ };

struct tf_yaml {
	enum tf_yaml_kind kind;
	int line;               /* 1-based line of the node in the source */
	char *scalar;           /* TF_YAML_SCALAR: the value (never NULL) */
	size_t n;               /* MAP: pairs, SEQ: items */
	char **keys;            /* MAP: keys[i] (scalar keys only) */
	struct tf_yaml **items; /* MAP: values, SEQ: items */
};

/* Parses buf (len bytes) into *out (free with tf_yaml_free). name is used in messages. */
int tf_yaml_parse(const char *buf, size_t len, const char *name, struct tf_yaml **out,
                  struct tf_err *err) TF_MUST_CHECK;
/* Reads and parses the file at path (at most 4 MiB). */
int tf_yaml_load_file(const char *path, struct tf_yaml **out, struct tf_err *err) TF_MUST_CHECK;
void tf_yaml_free(struct tf_yaml *y);

/* Writes y as a YAML document (block style; scalars plain where YAML allows, so numbers and
 * booleans keep their type) into *out (NUL-terminated, caller frees). */
int tf_yaml_emit(const struct tf_yaml *y, char **out, size_t *len,
                 struct tf_err *err) TF_MUST_CHECK;

/* The value under key in a mapping; NULL when y is not a mapping or has no such key. */
const struct tf_yaml *tf_yaml_get(const struct tf_yaml *y, const char *key);
/* The scalar under key, or NULL when absent or not a scalar. */
const char *tf_yaml_get_str(const struct tf_yaml *y, const char *key);
/* Reads the scalar under key as an unsigned integer. Absent: *out = def, 0. Not a number:
 * TF_E_INPUT naming name, key and line. */
int tf_yaml_get_u64(const struct tf_yaml *y, const char *key, uint64_t def, uint64_t *out,
                    const char *name, struct tf_err *err) TF_MUST_CHECK;
/* Reads the scalar under key as a boolean (true/false/yes/no). Absent: *out = def. */
int tf_yaml_get_bool(const struct tf_yaml *y, const char *key, int def, int *out, const char *name,
                     struct tf_err *err) TF_MUST_CHECK;

/* The key among keys[0..n) nearest to word within two edits (insert, delete, substitute, swap
 * two neighbours; letters compared without case) and fewer edits than half its length, for a
 * "did you mean"; NULL when none is that near or either is over 64 bytes. */
const char *tf_yaml_nearest(const char *word, const char *const *keys, size_t n);
/* Refuses a field of the mapping y that is not among keys[0..n): TF_E_INPUT
 * "<name>: line L: unknown field 'F' in '<where>' (did you mean 'K'?)" (no " in ..." when where
 * is NULL, no suggestion when none is near). 0 when y is not a mapping. */
int tf_yaml_only_keys(const struct tf_yaml *y, const char *const *keys, size_t n, const char *name,
                      const char *where, struct tf_err *err) TF_MUST_CHECK;

#endif
