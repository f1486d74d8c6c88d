/* Where tiferry and TiUP keep things on this host, each resolved one way: TiUP's home, the state
 * root, and a cluster's folder in TiUP's storage. */
#ifndef TF_COMMON_PATHS_H
#define TF_COMMON_PATHS_H

#include <limits.h>

#include "common/err.h"

/* The one size for a path held in a fixed buffer; longer paths are refused, never cut. */
#define TF_PATH_BUF PATH_MAX

/* The state root when TIFERRY_STATE_DIR is unset or empty. */
#define TF_PATHS_STATE_ROOT_DEFAULT "/var/lib/tiferry"

/* Names inside a cluster's folder (TiUP's storage/cluster/clusters/<name>/). */
#define TF_PATHS_META "meta.yaml"
#define TF_PATHS_TLS "tls"
#define TF_PATHS_SSH_KEY "ssh/id_rsa"

/* TiUP's home: $TIUP_HOME, else $HOME/.tiup (caller frees). TF_E_INPUT when neither is set (or
 * both are empty), and when the result is not shorter than PATH_MAX. */
int tf_paths_tiup_home(char **out, struct tf_err *err) TF_MUST_CHECK;

/* The folder holding per-cluster install state: $TIFERRY_STATE_DIR, else
 * TF_PATHS_STATE_ROOT_DEFAULT. Never NULL; points into the environment or a literal. */
const char *tf_paths_state_root(void);

/* <tiup_home>/storage/cluster/clusters/<cluster> (caller frees); tiup_home NULL: resolved with
 * tf_paths_tiup_home. TF_E_INPUT when the path would not be shorter than PATH_MAX. */
int tf_paths_cluster_dir(const char *tiup_home, const char *cluster, char **out,
                         struct tf_err *err) TF_MUST_CHECK;
/* <cluster folder>/<name>, name one of TF_PATHS_META, TF_PATHS_TLS, TF_PATHS_SSH_KEY (caller
 * frees); the same rules as tf_paths_cluster_dir. */
int tf_paths_cluster_file(const char *tiup_home, const char *cluster, const char *name, char **out,
                          struct tf_err *err) TF_MUST_CHECK;

#endif
