/* Verification of a TiUP mirror's signature chain as the TiUP client does it: root (and its
 * N+1.root.json rotations), timestamp, snapshot, index, component manifests by their owners'
 * keys, and tarballs by sha256 and length. See docs/mirror.md for every rule. */
#ifndef TF_MIRROR_VERIFY_H
#define TF_MIRROR_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "mirror/source.h"
#include "mirror/tiupmeta.h"

/* The file a tiferry subset adds to the mirror it writes (TiUP ignores it): which files the
 * subset carries, so that verify treats the others as "not carried" rather than missing. */
#define TF_MIRROR_SUBSET_MARKER "tiferry-subset.json"

enum tf_mirror_kind { TF_MIRROR_MANIFEST, TF_MIRROR_TARBALL, TF_MIRROR_OTHER };
enum tf_mirror_status { TF_MIRROR_OK, TF_MIRROR_FAIL, TF_MIRROR_SKIP, TF_MIRROR_NOTE };

/* One line of the report: a file and what held or failed. */
struct tf_mirror_check {
	enum tf_mirror_kind kind;
	enum tf_mirror_status status;
	char *file;   /* name inside the mirror, or the --root path */
	char *rule;   /* "signature", "threshold", "expiry", "sha256", "length", ... */
	char *detail; /* lowercase, no trailing period */
};

struct tf_mirror_report {
	struct tf_mirror_check *checks;
	size_t n, cap;
	size_t failures;
	size_t manifests_ok, tarballs_ok, skipped;
	uint64_t tarball_bytes; /* bytes of tarballs whose digest was checked */
	uint64_t full_size;     /* bytes of all regular files in the mirror */
	time_t at;              /* the time expiries were checked at */
};

void tf_mirror_report_init(struct tf_mirror_report *rep);
void tf_mirror_report_release(struct tf_mirror_report *rep);
/* Appends one check to rep (the counts follow). An ok manifest or tarball check after a failure
 * is recorded as skipped ("untrusted"): what hangs below a failed link is not trusted. 0, or
 * TF_E_NOMEM when the check could not be recorded (the verification must then fail). */
int tf_mirror_report_add(struct tf_mirror_report *rep, enum tf_mirror_kind kind,
                         enum tf_mirror_status st, const char *file, const char *rule,
                         const char *fmt, ...) TF_PRINTF(6, 7) TF_MUST_CHECK;
/* The report as a JSON document (caller frees); NULL when out of memory. */
char *tf_mirror_report_json(const struct tf_mirror_report *rep, const char *path);

struct tf_mirror_verify_opts {
	const char *root;   /* trust anchor file (as `tiup mirror set --root`); NULL: the
	                     * mirror's own root.json (bin/root.json for a TIUP_HOME) */
	time_t at;          /* expiries are checked at this time; 0: tf_time_now() */
	int manifests_only; /* absent tarballs are skipped (and said so), present ones checked */
	int no_tarballs;    /* tarballs are not looked at (the subset checks its own) */
};

/* A verified mirror: its source and parsed manifests, for the subset writer. */
struct tf_mirror;

/* Verifies the mirror at path (a folder, an offline-package tar file, or a TIUP_HOME folder
 * holding bin/root.json and manifests/). Every check is appended to rep. Returns 0 when all
 * hold; TF_E_FAIL when any failed (err names the first: "file: rule: detail"); another code
 * when the mirror cannot be read at all. On success and when out is not NULL, *out is the
 * verified mirror (free with tf_mirror_free). */
int tf_mirror_verify(const char *path, const struct tf_mirror_verify_opts *opts,
                     struct tf_mirror_report *rep, struct tf_mirror **out,
                     struct tf_err *err) TF_MUST_CHECK;
void tf_mirror_free(struct tf_mirror *m);

/* Accessors of a verified mirror (pointers stay owned by m). */
struct tf_mirror_src *tf_mirror_source(struct tf_mirror *m);
/* The root chain, oldest (the anchor) first; file is the name in the mirror or NULL for an
 * anchor given from outside that the mirror does not hold as <version>.root.json. */
size_t tf_mirror_nroots(const struct tf_mirror *m);
const struct tf_tiup_manifest *tf_mirror_root(const struct tf_mirror *m, size_t i,
                                              const char **file);
const struct tf_tiup_manifest *tf_mirror_timestamp(const struct tf_mirror *m);
const struct tf_tiup_manifest *tf_mirror_snapshot(const struct tf_mirror *m);
const struct tf_tiup_manifest *tf_mirror_index(const struct tf_mirror *m, const char **file);
/* The verified manifest of component name and its file name; NULL when the mirror does not
 * carry it. */
const struct tf_tiup_manifest *tf_mirror_component(const struct tf_mirror *m, const char *name,
                                                   const char **file);

#endif
