/* Every rule a bundle must pass before anything trusts it (docs/bundle-format.md):
 * structure, signatures against the trust policy, validity window, target cluster, anti-rollback,
 * payload hashes. Shared by check, plan and install. */
#ifndef TF_MANIFESTS_CHECK_H
#define TF_MANIFESTS_CHECK_H

#include <stddef.h>
#include <stdint.h>
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
	/* The meta.yaml whose folder holds the cluster's anti-rollback record when it is not
	 * cluster_meta (a resume checks against a saved copy); NULL: cluster_meta. */
	const char *cluster_record_meta;
	uint64_t last_sequence; /* the operator's --last-sequence; 0: not stated */
	const char *staging;    /* NULL: verify only; else extract below this 0700 folder */
	time_t now;             /* 0: tf_time_now() */
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

/* The file beside meta.yaml in TiUP's cluster folder that holds the second anti-rollback record. */
#define TF_ROLLBACK_CLUSTER_RECORD "tiferry-sequence"

/* The sequence recorded in <dir>/<cluster>/sequence (0 when there is none). */
int tf_rollback_read(const char *dir, const char *cluster, uint64_t *seq,
                     struct tf_err *err) TF_MUST_CHECK;
/* The second record's path: beside cluster_meta, or (NULL) beside TiUP's meta.yaml of cluster. */
int tf_rollback_cluster_record(const char *cluster_meta, const char *cluster, char **out,
                               struct tf_err *err) TF_MUST_CHECK;
/* The last sequence installed on cluster: the highest of the state record, the record beside
 * meta.yaml and a finished journal. With the state record missing but the others showing an
 * install, TF_E_INPUT unless the operator states it (stated, non-zero, not below them). */
int tf_rollback_last(const char *dir, const char *cluster, const char *cluster_meta,
                     uint64_t stated, uint64_t *last, struct tf_err *err) TF_MUST_CHECK;
/* Records seq for cluster in both records (atomically; refuses to lower the state record). */
int tf_rollback_write(const char *dir, const char *cluster, const char *cluster_meta, uint64_t seq,
                      struct tf_err *err) TF_MUST_CHECK;

#endif
