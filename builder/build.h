/* The build engine: a spec becomes a bundle. The payload is walked, the sections made, the
 * runbook rendered, everything packed with the manifest, and the bundle signed by the builder's
 * key when the spec names one. tiferry-build build is a thin front-end over it. */
#ifndef TF_BUILDER_BUILD_H
#define TF_BUILDER_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/hex.h"

#define TF_BUILD_ID_LEN 16                        /* random bytes of a bundle id */
#define TF_BUILD_ID_HEX (2 * TF_BUILD_ID_LEN + 1) /* its hex text, NUL included */

struct tf_build_opts {
	const char *spec;   /* the build spec (docs/spec.md); required */
	const char *out;    /* the bundle to create (never overwritten); required */
	const char *passin; /* the signing key's passphrase (file:, env:, fd:, tty); NULL: none */
	const char *tmpdir; /* parent of the private work folder; NULL: $TMPDIR, else /tmp */
	time_t now;         /* 0: tf_time_now() */
};

struct tf_build_result {
	char bundle_id[TF_BUILD_ID_HEX];
	char signer[TF_SHA256_HEX]; /* the builder key's id; "" when the spec names no key */
	uint64_t sequence;
	size_t nfiles;
	char *cluster;
};

void tf_build_result_init(struct tf_build_result *res);
void tf_build_result_release(struct tf_build_result *res);

/* Builds o->out from o->spec. On success fills res (release with tf_build_result_release); on
 * failure no bundle is left at o->out. The work folder is always removed (a warning when it
 * cannot be). */
int tf_build(const struct tf_build_opts *o, struct tf_build_result *res,
             struct tf_err *err) TF_MUST_CHECK;

#endif
