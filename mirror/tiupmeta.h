/* TiUP manifest envelopes parsed into our own types, keeping the raw bytes of "signed". */
#ifndef TF_MIRROR_TIUPMETA_H
#define TF_MIRROR_TIUPMETA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/hex.h"

#define TF_TIUP_SPEC_VERSION "0.1.0"
#define TF_TIUP_MANIFEST_MAX ((size_t)16 << 20) /* no real manifest comes near this */

/* One public key of a role or an owner. id is the keyid the manifest declares; computed_id
 * is the lowercase hex sha256 of the key object's canonical JSON (TiUP's keyid rule). */
struct tf_tiup_key {
	char *id;
	char computed_id[TF_SHA256_HEX];
	char *keytype;
	char *scheme;
	char *pem; /* keyval.public, a PKIX PEM public key */
};

/* A set of keys and its threshold: a root role (name = role, url) or an index owner. */
struct tf_tiup_keyset {
	char *name;
	char *url;          /* roles only */
	char *display;      /* owners only: the "name" field */
	uint64_t threshold; /* 0 when absent */
	int has_threshold;
	struct tf_tiup_key *keys;
	size_t nkeys;
};

struct tf_tiup_sig {
	char *keyid;
	char *sig; /* base64, standard alphabet */
};

/* index.components entry */
struct tf_tiup_item {
	char *name;
	char *owner;
	char *url;
	int yanked;
	int hidden;
	int standalone;
};

/* snapshot.meta or timestamp.meta entry */
struct tf_tiup_meta {
	char *path; /* "/index.json" */
	uint64_t version;
	uint64_t length;
	char *sha256; /* timestamp only; NULL when absent */
};

struct tf_tiup_dep {
	char *name;
	char *version;
};

/* One platform/version entry of a component manifest. */
struct tf_tiup_release {
	char *platform; /* "linux/amd64", "any/any" */
	char *version;  /* "v1.16.1" */
	char *url;      /* "/cluster-v1.16.1-linux-amd64.tar.gz" */
	char *sha256;   /* NULL when absent */
	char *entry;
	uint64_t length;
	int yanked;
	struct tf_tiup_dep *deps;
	size_t ndeps;
};

/* A parsed manifest. Fields of other types than `type` stay empty. */
struct tf_tiup_manifest {
	char *name;   /* the file name, for messages */
	uint8_t *raw; /* the whole file */
	size_t raw_len;
	size_t signed_off; /* raw[signed_off .. +signed_len] is the "signed" value as in the file */
	size_t signed_len;
	struct tf_tiup_sig *sigs;
	size_t nsigs;

	char *type;
	char *spec_version;
	char *expires;
	time_t expires_at;
	uint64_t version;

	struct tf_tiup_keyset *roles; /* root */
	size_t nroles;

	struct tf_tiup_item *items; /* index */
	size_t nitems;
	struct tf_tiup_keyset *owners;
	size_t nowners;
	char **defaults;
	size_t ndefaults;

	struct tf_tiup_meta *meta; /* snapshot, timestamp */
	size_t nmeta;

	char *id; /* component */
	char *nightly;
	struct tf_tiup_release *releases;
	size_t nreleases;
};

/* Parses a manifest file (len bytes at buf, copied) into *out (free with
 * tf_tiup_manifest_free). name is used in messages. The document must be one JSON object
 * holding exactly "signatures" and "signed"; duplicate keys anywhere are refused.
 * TF_E_INPUT on any malformed input. */
int tf_tiup_manifest_parse(const uint8_t *buf, size_t len, const char *name,
                           struct tf_tiup_manifest **out, struct tf_err *err) TF_MUST_CHECK;
void tf_tiup_manifest_free(struct tf_tiup_manifest *m);

/* The raw "signed" bytes of m. */
const uint8_t *tf_tiup_manifest_signed(const struct tf_tiup_manifest *m, size_t *len);
/* The root role named role (root, index, snapshot, timestamp); NULL when absent. */
const struct tf_tiup_keyset *tf_tiup_root_role(const struct tf_tiup_manifest *m, const char *role);
/* The index owner named owner; NULL when absent. */
const struct tf_tiup_keyset *tf_tiup_index_owner(const struct tf_tiup_manifest *m,
                                                 const char *owner);
/* The index entry of component name; NULL when absent. */
const struct tf_tiup_item *tf_tiup_index_item(const struct tf_tiup_manifest *m, const char *name);
/* The snapshot/timestamp meta entry for path ("/index.json"); NULL when absent. */
const struct tf_tiup_meta *tf_tiup_meta_get(const struct tf_tiup_manifest *m, const char *path);
/* The release of a component for platform and version, falling back to "any/any" as TiUP
 * does when the component lists nothing for platform; NULL when absent. */
const struct tf_tiup_release *tf_tiup_release_get(const struct tf_tiup_manifest *m,
                                                  const char *platform, const char *version);
/* 1 when the component lists any version for platform (or any/any). */
int tf_tiup_has_platform(const struct tf_tiup_manifest *m, const char *platform);

/* Compares two TiUP versions ("v1.16.1", "v8.1.0-beta.1") as semantic versions: <0, 0, >0.
 * Strings that are not versions sort before all versions, by strcmp among themselves. */
int tf_tiup_version_cmp(const char *a, const char *b);
/* 1 for "nightly" and versions with a "-nightly" pre-release, which "newest" never picks. */
int tf_tiup_version_is_nightly(const char *v);

#endif
