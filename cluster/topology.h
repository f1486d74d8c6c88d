/* TiUP's meta.yaml (docs/tiup.md §4): the instances of a cluster and the topology
 * fingerprint that binds a bundle to one cluster (docs/bundle-format.md). */
#ifndef TF_CLUSTER_TOPOLOGY_H
#define TF_CLUSTER_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hex.h"

#define TF_TOPO_MAX_PORTS 8
/* A node id ("host:port"), a PD member name ("pd-<host>-<port>") or a host: a DNS name (at most
 * 255 bytes), a port and a few letters. */
#define TF_TOPO_ID_MAX 300

struct tf_topo_port {
	char *name; /* "client_port", "peer_port", "port", "status_port", ... */
	uint64_t value;
};

struct tf_topo_instance {
	char *role; /* "pd", "tikv", "tidb", ... (the list name without "_servers") */
	char *host;
	char *name; /* PD member name (default "pd-<host>-<client_port>"), else NULL */
	uint64_t ssh_port;
	char *deploy_dir;
	char *data_dir;
	size_t nports;
	struct tf_topo_port ports[TF_TOPO_MAX_PORTS];
};

struct tf_topology {
	char *user;     /* SSH user (topology.global.user or top-level user) */
	int enable_tls; /* topology.global.enable_tls */
	char *version;  /* meta.yaml's tidb_version (the cluster's version), or NULL */
	size_t ninstances;
	struct tf_topo_instance *instances;
};

/* Reads meta.yaml from memory or a file. */
int tf_topology_parse(const char *buf, size_t len, const char *name, struct tf_topology **out,
                      struct tf_err *err) TF_MUST_CHECK;
int tf_topology_load(const char *path, struct tf_topology **out, struct tf_err *err) TF_MUST_CHECK;
void tf_topology_free(struct tf_topology *t);
/* The port named name of instance in, or 0 when it has none. */
uint64_t tf_topo_port(const struct tf_topo_instance *in, const char *name);
/* The fingerprint "sha256:<64 hex>" over the set of (role, host, ports). */
int tf_topology_fingerprint(const struct tf_topology *t, char out[TF_FINGERPRINT_LEN],
                            struct tf_err *err) TF_MUST_CHECK;

/* Loads the meta.yaml at path and writes its fingerprint (tf_check_opts.topology_fingerprint). */
int tf_topology_file_fingerprint(const char *path, char out[TF_FINGERPRINT_LEN],
                                 struct tf_err *err) TF_MUST_CHECK;

#endif
