/* The bundle file: a POSIX tar archive (libarchive stays inside bundle.c) holding the payload
 * under "payload/", then "manifest.json", then one "signatures/<keyid>.sig" per signature.
 * Layout and rules: docs/bundle-format.md. */
#ifndef TF_MANIFESTS_BUNDLE_H
#define TF_MANIFESTS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/progress.h"
#include "manifests/manifest.h"

#define TF_SIG_DIR "signatures/"
#define TF_SIG_SUFFIX ".sig"
#define TF_SIG_MAX 8192u /* bytes of one signature */
#define TF_SIGS_MAX 64u  /* signatures in one bundle */

/* ---- writing (tiferry-build build) ---- */
struct tf_bundle_writer;

/* Creates path (refuses to overwrite an existing file); entries get mtime. */
int tf_bundle_writer_open(const char *path, time_t mtime, struct tf_bundle_writer **out,
                          struct tf_err *err) TF_MUST_CHECK;
/* Streams the regular file src into the bundle as path with mode, hashing while writing;
 * reads src once. Records the entry (size, sha256) in m. */
int tf_bundle_writer_add_file(struct tf_bundle_writer *w, const char *path, const char *src,
                              unsigned mode, struct tf_manifest *m, struct tf_progress *pr,
                              struct tf_err *err) TF_MUST_CHECK;
/* Adds bytes as a payload file path with mode and records it in m. */
int tf_bundle_writer_add_bytes(struct tf_bundle_writer *w, const char *path, const void *data,
                               size_t len, unsigned mode, struct tf_manifest *m,
                               struct tf_err *err) TF_MUST_CHECK;
/* Writes manifest.json (the exact bytes given), closes the archive and fsyncs it. */
int tf_bundle_writer_finish(struct tf_bundle_writer *w, const char *manifest, size_t len,
                            struct tf_err *err) TF_MUST_CHECK;
/* Frees w; when not finished, removes the partial file. */
void tf_bundle_writer_free(struct tf_bundle_writer *w);

/* ---- reading ---- */
struct tf_bundle_sig {
	char keyid[TF_SHA256_HEX];
	uint8_t *sig;
	size_t len;
};

/* What one pass over the headers finds, seeking over payload data (cost independent of the
 * payload's size). Every structural rule is checked here: entry types, names, duplicates, the
 * order payload < manifest < signatures. */
struct tf_bundle_scan {
	char *manifest; /* exact bytes, NUL-terminated */
	size_t manifest_len;
	size_t nsigs;
	struct tf_bundle_sig *sigs;
	size_t npayload; /* payload entries seen */
	uint64_t end;    /* offset of the end-of-archive marker */
};

void tf_bundle_scan_release(struct tf_bundle_scan *s);
/* Scans the bundle at path. TF_E_REJECT naming the entry and the rule on any violation. */
int tf_bundle_scan(const char *path, struct tf_bundle_scan *s, struct tf_err *err) TF_MUST_CHECK;

/* Streams every entry of the bundle again, checking each payload entry's size, mode and sha256
 * against m while hashing, that every file m lists is present once, and that manifest.json is
 * byte for byte `manifest` (the bytes whose signatures were verified). When staging is not
 * NULL, payload files are written below it (created 0700 beforehand by the caller) as they are
 * verified; on any mismatch everything written is removed before returning TF_E_REJECT. */
int tf_bundle_verify_payload(const char *path, const struct tf_manifest *m, const char *manifest,
                             size_t manifest_len, const char *staging, struct tf_progress *pr,
                             struct tf_err *err) TF_MUST_CHECK;

/* Reads payload entry name of the bundle at path (at most max bytes) into *out, *len
 * (NUL-terminated, caller frees) after checking its size and sha256 against m's entry for it.
 * TF_E_REJECT when m does not list it, it is missing, or it differs. */
int tf_bundle_read_payload(const char *path, const struct tf_manifest *m, const char *name,
                           size_t max, char **out, size_t *len, struct tf_err *err) TF_MUST_CHECK;

/* Appends "signatures/<keyid>.sig" holding sig in place: overwrites the end-of-archive marker
 * found by a scan, writes the new entry and a new marker, fsyncs. Refuses a key that signed
 * already. */
int tf_bundle_append_signature(const char *path, const char *keyid, const uint8_t *sig, size_t len,
                               struct tf_err *err) TF_MUST_CHECK;

#endif
