/* What verify.c and verify_tarballs.c share, and nothing outside mirror/verify*.c includes: the
 * verified mirror's contents and the state of one verification. */
#ifndef TF_MIRROR_VERIFY_INT_H
#define TF_MIRROR_VERIFY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "crypto/digest.h"
#include "mirror/verify.h"

struct tf_mirror {
	struct tf_mirror_src *src;
	int home; /* a TIUP_HOME: bin/root.json and unversioned manifests/ */
	struct tf_tiup_manifest **roots;
	char **root_files;
	size_t nroots;
	struct tf_tiup_manifest *timestamp, *snapshot, *index;
	char *index_file;
	struct tf_tiup_manifest **comps;
	char **comp_files;
	size_t ncomps;
	char **carried; /* from the subset marker */
	size_t ncarried;
	int has_marker;
};

/* One verification under way. */
struct vctx {
	const struct tf_mirror_verify_opts *o;
	time_t at;
	struct tf_mirror_report *rep;
	struct tf_mirror *m;
	int nomem;
};

/* Appends a check to c's report (tf_mirror_report_add); when that runs out of memory, c->nomem
 * is set and the verification fails. */
void tf_mirror_add(struct vctx *c, enum tf_mirror_kind kind, enum tf_mirror_status st,
                   const char *file, const char *rule, const char *fmt, ...) TF_PRINTF(6, 7);
/* 1 when s is 64 lowercase hex digits. */
int tf_mirror_is_sha256_hex(const char *s);
/* 1 when the digest d is the one hex (lowercase) says. */
int tf_mirror_sha_matches(const uint8_t d[TF_SHA256_LEN], const char *hex);
/* 1 when the subset marker lists name among the files the subset carries. */
int tf_mirror_carried(const struct tf_mirror *m, const char *name);
/* Checks every tarball the verified component manifests name, once per url, then the tiup
 * copies (verify_tarballs.c). */
void tf_mirror_verify_tarballs(struct vctx *c);

#endif
