/* The bundle's manifest: the signed contract. JSON via cJSON inside manifest.c; the exact bytes
 * are what the signatures cover. Format described in docs/bundle-format.md. */
#ifndef TF_MANIFESTS_MANIFEST_H
#define TF_MANIFESTS_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "crypto/digest.h"

#define TF_MANIFEST_FORMAT "tiferry-bundle/1"
#define TF_MANIFEST_NAME "manifest.json"
#define TF_MANIFEST_MAX (4u << 20) /* bytes */
#define TF_MANIFEST_MAX_FILES 100000u
#define TF_PAYLOAD_PREFIX "payload/"
#define TF_PATH_MAX_LEN 1024u
#define TF_MANIFEST_MAX_INT 9007199254740992ull /* 2^53: the largest integer JSON keeps exactly */
/* The largest sequence: far below 2^53, so that a signed bundle cannot take the last number a
 * reader keeps exactly and block every later install; room for dates (2026120501) and Unix
 * seconds. */
#define TF_MANIFEST_MAX_SEQUENCE 4294967295ull

struct tf_manifest_file {
	char *path; /* bundle path, "payload/..." */
	uint64_t size;
	unsigned mode; /* permission bits only (no setuid, setgid, sticky) */
	uint8_t sha256[TF_SHA256_LEN];
};

struct tf_manifest {
	char *bundle_id;   /* 32 lowercase hex digits */
	uint64_t sequence; /* > 0 */
	time_t created;
	time_t not_before;
	time_t not_after;
	char *cluster;  /* target cluster name */
	char *topology; /* "sha256:<hex>" (docs/bundle-format.md, "Topology fingerprint") */
	size_t nfiles;
	struct tf_manifest_file *files;
	/* Sections added by later parts ("tiup", "tls", "plan", "runbook"): name and JSON text. */
	size_t nsections;
	char **section_names;
	char **section_json;
};

void tf_manifest_init(struct tf_manifest *m);
void tf_manifest_release(struct tf_manifest *m);

/* Appends a file entry (path copied). */
int tf_manifest_add_file(struct tf_manifest *m, const char *path, uint64_t size, unsigned mode,
                         const uint8_t sha256[TF_SHA256_LEN], struct tf_err *err) TF_MUST_CHECK;
/* Sets section name to the JSON text json (validated, copied; replaces an earlier one). */
int tf_manifest_set_section(struct tf_manifest *m, const char *name, const char *json,
                            struct tf_err *err) TF_MUST_CHECK;
/* The JSON text of section name, or NULL. */
const char *tf_manifest_section(const struct tf_manifest *m, const char *name);
/* The entry for path, or NULL. Binary search: call tf_manifest_sort first (parse does). */
const struct tf_manifest_file *tf_manifest_find(const struct tf_manifest *m, const char *path);
/* Sorts the files by path; refuses duplicates. */
int tf_manifest_sort(struct tf_manifest *m, struct tf_err *err) TF_MUST_CHECK;

/* Serialises m (pretty-printed JSON ending in a newline) into *out (caller frees). */
int tf_manifest_serialize(const struct tf_manifest *m, char **out, size_t *len,
                          struct tf_err *err) TF_MUST_CHECK;
/* Parses and validates manifest bytes. Every rule failure is TF_E_REJECT naming the field. */
int tf_manifest_parse(const char *buf, size_t len, struct tf_manifest *m,
                      struct tf_err *err) TF_MUST_CHECK;

/* 1 when path is an acceptable bundle path: relative, no empty, "." or ".." component, no
 * component over 255 bytes, no backslash or control character, at most TF_PATH_MAX_LEN bytes. */
int tf_bundle_path_ok(const char *path);

#endif
