/* tiferry verify's insides, shared by verify.c (endpoints, the run), verify_checks.c (the
 * checks over the network and the table) and verify_hostchecks.c (the checks of the nodes'
 * tls/ folders and of the control host's TiUP). Not for other modules. */
#ifndef TF_INSTALLER_VERIFY_INT_H
#define TF_INSTALLER_VERIFY_INT_H

#include <stddef.h>
#include <time.h>

#include "cluster/pdapi.h"
#include "cluster/scan.h"
#include "cluster/tlsprobe.h"
#include "cluster/topology.h"
#include "common/err.h"
#include "installer/verify.h"
#include "installer/verify_host.h"

struct endpoint {
	enum tf_vkind kind;
	char *host;
	unsigned port;
	char *name;   /* PD member name, or NULL */
	char *target; /* "pd pd-127.0.0.11-2379 127.0.0.11:2379" */
	char *hostport;
	size_t first, n; /* its slots in rep->checks */
	/* TF_VK_NODE: the instance, and what its host reported (filled before the checks run) */
	const struct tf_topo_instance *in;
	int node_ran;
	struct tf_vhost_node node;
	char node_error[TF_ERR_MSG_MAX];
};

struct run {
	const struct tf_verify_opts *o;
	struct tf_verify_report *rep;
	struct endpoint *eps;
	size_t neps;
	struct tf_tls_client *mtls; /* the CA and the client certificate; NULL: see mtls_error */
	struct tf_tls_client *anon; /* no CA, no client certificate: the scanner's view */
	char mtls_error[TF_ERR_MSG_MAX];
	char *ca_file, *cert_file, *key_file;
	char *tls_dir; /* TiUP's tls/ folder (--cluster), else NULL */
	char ca_sha256[TF_SHA256_HEX];
	struct tf_topology *topo;
	int topo_enable_tls;
	size_t npd_expected; /* PD instances in meta.yaml; 0 without --cluster */
	time_t now;
	int timeout_ms, deadline_ms;
	/* host checks (o->host_checks): the cluster's SSH key, the install journal */
	char *identity;
	char *state_dir; /* <state>/<cluster> */
	int journal_found;
	char journal_error[TF_ERR_MSG_MAX];
	char *tiup_versions; /* the journal's "tiup_versions" (JSON), or NULL */
	char *bundle_id;
	char *cluster_binary; /* the journal's cluster_binary (`tiup --binary`), or NULL */
	char *restore_mirror; /* the journal's restore_mirror (the spec's tiup.restore), or NULL */
};

/* One endpoint's state while its checks run, in table order, on one thread. */
struct job {
	struct run *run;
	struct endpoint *ep;
	struct tf_probe_target t;
	int tls_tried, tls_ok;
	struct tf_cert_info cert;
	char tls_error[TF_ERR_MSG_MAX];
	int members_tried;
	int members_ok; /* members holds the member list */
	struct tf_pd_members members;
	char members_error[TF_ERR_MSG_MAX];
	enum tf_probe_verdict verdicts[TF_SCAN_NETCD_PROBES];
	const char *probe_ids[TF_SCAN_NETCD_PROBES];
	enum tf_probe_end probe_ends[TF_SCAN_NETCD_PROBES];
	size_t nprobes;
};

/* Sets a check's verdict, detail and evidence (taken, may be NULL). */

#define TF_VK_MASK(x) (1u << (x))

struct tf_vcheck_def {
	const char *id;
	unsigned kinds; /* TF_VK_MASK(kind) mask */
	void (*run)(struct job *j, struct tf_vcheck *c);
	void (*run_arg)(struct job *j, struct tf_vcheck *c, size_t arg);
	size_t arg;
};

/* Every check, in the order each endpoint runs them (verify_checks.c). */
extern const struct tf_vcheck_def tf_vcheck_table[];
extern const size_t tf_vcheck_count;

/* Runs the checks of ep's kind into its slots of rn->rep. */
void tf_vcheck_run_job(struct run *rn, struct endpoint *ep);

/* Sets a check's verdict, detail (printf) and evidence (a cJSON object, taken; may be NULL). */
void tf_vcheck_set(struct tf_vcheck *c, enum tf_vstatus s, void *evidence, const char *f, ...)
    TF_PRINTF(4, 5);

/* The host checks (verify_hostchecks.c). */
void tf_vcheck_node_dir(struct job *j, struct tf_vcheck *c);
void tf_vcheck_node_key_mode(struct job *j, struct tf_vcheck *c);
void tf_vcheck_node_cert(struct job *j, struct tf_vcheck *c);
void tf_vcheck_tiup_version(struct job *j, struct tf_vcheck *c, size_t which);
void tf_vcheck_mirror(struct job *j, struct tf_vcheck *c);
void tf_vcheck_config_cache(struct job *j, struct tf_vcheck *c);

#endif
