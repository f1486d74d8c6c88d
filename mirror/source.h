/* Where a mirror is read from: a folder, or an offline-package tarball read with libarchive
 * without unpacking it (one top folder holding the mirror). */
#ifndef TF_MIRROR_SOURCE_H
#define TF_MIRROR_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/digest.h"

struct tf_mirror_src;

/* One file to copy out of a source: its name in the mirror and what it must hash to. */
struct tf_mirror_copy {
	const char *name;
	const char *dest; /* the name to write it as; NULL: name */
	uint8_t sha256[TF_SHA256_LEN];
	uint64_t length;
};

/* Opens path: a folder, or a (gzip-, xz- or un-compressed) tar file. For a tar file, every
 * member is read once here: small top-level files are kept in memory, all are hashed. */
int tf_mirror_src_open(const char *path, struct tf_mirror_src **out,
                       struct tf_err *err) TF_MUST_CHECK;
void tf_mirror_src_free(struct tf_mirror_src *s);
/* 1 when the source is a tar file. */
int tf_mirror_src_is_archive(const struct tf_mirror_src *s);

/* Reads file name (relative to the mirror) into *out (NUL-terminated, caller frees), at most
 * max bytes: TF_E_NOTFOUND when absent, TF_E_INPUT when larger (message names the limit). */
int tf_mirror_src_read(struct tf_mirror_src *s, const char *name, size_t max, uint8_t **out,
                       size_t *len, struct tf_err *err) TF_MUST_CHECK;
/* sha256 and length of file name: TF_E_NOTFOUND when absent. */
int tf_mirror_src_digest(struct tf_mirror_src *s, const char *name, uint8_t sha[TF_SHA256_LEN],
                         uint64_t *len, struct tf_err *err) TF_MUST_CHECK;
/* 1 when file or folder name exists in the mirror. */
int tf_mirror_src_exists(struct tf_mirror_src *s, const char *name);
/* Total bytes of all regular files in the mirror. */
uint64_t tf_mirror_src_total_size(const struct tf_mirror_src *s);
/* Copies n files into folder dir (which must exist), hashing while writing; a file whose
 * bytes differ from its sha256 or length is removed and the copy fails with TF_E_FAIL. */
int tf_mirror_src_copy(struct tf_mirror_src *s, const struct tf_mirror_copy *files, size_t n,
                       const char *dir, struct tf_err *err) TF_MUST_CHECK;

#endif
