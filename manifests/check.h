/* Every rule a bundle must pass before anything trusts it (docs/bundle-format.md):
 * structure, signatures against the trust policy, validity window, target cluster, anti-rollback,
 * payload hashes. Shared by check, plan and install. */
#ifndef TF_MANIFESTS_CHECK_H
#define TF_MANIFESTS_CHECK_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/paths.h"
#include "common/progress.h"
#include "manifests/manifest.h"

/* Reads the topology of the cluster at meta_path and writes its fingerprint ("sha256:<hex>").
 * The cluster library provides it (tf_topology_file_fingerprint); the bundle's rules do not
 * parse meta.yaml themselves. TF_E_NOTFOUND when the file does not exist. */
typedef int (*tf_check_fingerprint_fn)(const char *meta_path, char out[TF_FINGERPRINT_LEN],
                                       struct tf_err *err);

struct tf_check_opts {
	tf_check_fingerprint_fn topology_fingerprint; /* required */
	const char *trust_dir;                        /* NULL: TF_TRUST_DIR_DEFAULT */
	const char *cluster_meta; /* NULL: $TIUP_HOME/storage/cluster/clusters/<name>/meta.yaml */
	const char *state_dir;    /* NULL: tf_paths_state_root() */
	const char *staging;      /* NULL: verify only; else extract below this 0700 folder */
	time_t now;               /* 0: tf_time_now() */
	struct tf_progress *progress;
};

struct tf_check_signer {
	char keyid[TF_SHA256_HEX];
	char *holder; /* NULL when the key is not in the policy */
	char *role;
	int valid; /* 1 verified, 0 unknown key (not counted) */
};

struct tf_check_result {
	struct tf_manifest manifest;
	char *manifest_bytes;
	size_t manifest_len;
	size_t nsigners;
	struct tf_check_signer *signers;
	char *meta_path; /* the meta.yaml the target was checked against */
};

void tf_check_result_init(struct tf_check_result *r);
void tf_check_result_release(struct tf_check_result *r);

/* Runs every rule on the bundle at path. 0 when it passes; TF_E_REJECT with one line naming the
 * entry, key or rule otherwise; other codes for I/O or input problems (e.g. the policy). */
int tf_bundle_check(const char *path, const struct tf_check_opts *o, struct tf_check_result *r,
                    struct tf_err *err) TF_MUST_CHECK;

/* The highest sequence installed for cluster (0 when none) from <dir>/<cluster>/sequence. */
int tf_rollback_read(const char *dir, const char *cluster, uint64_t *seq,
                     struct tf_err *err) TF_MUST_CHECK;
/* Records seq for cluster (atomically; refuses to lower it). */
int tf_rollback_write(const char *dir, const char *cluster, uint64_t seq,
                      struct tf_err *err) TF_MUST_CHECK;

#endif
