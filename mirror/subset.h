/* A minimal TiUP mirror cut from a verified one: the signed manifests byte for byte (never
 * re-signed), only the selected tarballs plus tiup-<os>-<arch>.tar.gz, never keys/ or
 * local_install.sh. The TiUP client accepts it unchanged. */
#ifndef TF_MIRROR_SUBSET_H
#define TF_MIRROR_SUBSET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "mirror/verify.h"

/* What to cut. Arrays may be NULL with a zero count: the defaults apply. */
struct tf_mirror_subset_opts {
	const char *source;        /* a mirror folder or an offline package .tar.gz */
	const char *root;          /* trust anchor root.json; NULL: the source's own root.json */
	const char *expect_sha256; /* lowercase hex sha256 the source file must have; NULL: none */
	const char *const *components; /* default: tiup, cluster, ctl */
	size_t ncomponents;
	const char *const *versions; /* "component=version", exact; others take the newest
	                              * version not yanked (nor nightly) on every platform */
	size_t nversions;
	const char *const *platforms; /* "os/arch"; default: linux/amd64, linux/arm64 */
	size_t nplatforms;
	time_t at; /* expiries are checked at this time; 0: now */
};

/* One tarball the subset carries. */
struct tf_mirror_pick {
	char *component;
	char *version;
	char *platform;
	char *file;
	uint64_t length;
};

struct tf_mirror_subset_report {
	struct tf_mirror_report verify; /* the source's verification, check by check */
	struct tf_mirror_pick *picks;
	size_t npicks;
	uint64_t full_size;   /* bytes of the whole source mirror */
	uint64_t subset_size; /* bytes written to out_dir */
	size_t nfiles;        /* files written to out_dir */
	/* JSON text for the bundle manifest's "tiup" section, for example
	 * {"versions":{"cluster":"v1.16.1","ctl":"v8.1.0","tiup":"v1.16.1"},
	 *  "platforms":["linux/amd64","linux/arm64"],"root_version":1,
	 *  "full_bytes":N,"subset_bytes":M,"files":[...]} */
	char *summary_json;
};

void tf_mirror_subset_report_init(struct tf_mirror_subset_report *rep);
void tf_mirror_subset_report_release(struct tf_mirror_subset_report *rep);

/* Verifies the source's chain (as tf_mirror_verify does), selects components, versions and
 * platforms (following each release's declared dependencies), and writes the subset into
 * out_dir, which must be absent or empty. Every tarball is hashed while it is copied and must
 * match its signed sha256 and length; the written subset is verified again before returning.
 * Also writes TF_MIRROR_SUBSET_MARKER (the summary) into out_dir.
 * Returns 0; TF_E_FAIL when the source fails verification or a copy does not match;
 * TF_E_NOTFOUND for a component, version or platform the mirror lacks; TF_E_INPUT for bad
 * options. rep is filled as far as the work went (release it in every case). */
int tf_mirror_subset_build(const struct tf_mirror_subset_opts *opts, const char *out_dir,
                           struct tf_mirror_subset_report *rep, struct tf_err *err) TF_MUST_CHECK;

#endif
