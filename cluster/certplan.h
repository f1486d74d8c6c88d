/* The node certificates TiUP will issue at `tiup cluster tls <name> enable`, one per instance of
 * meta.yaml: CN, SANs, files, and the warnings an approver should read (hosts named by DNS). */
#ifndef TF_CLUSTER_CERTPLAN_H
#define TF_CLUSTER_CERTPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/topology.h"
#include "common/err.h"

struct tf_certplan_entry {
	char *component; /* the certificate's CN and file name: "pd", "tikv", "prometheus", ... */
	char *host;
	uint64_t port;    /* the instance's main port, for display (0 when none) */
	char *deploy_dir; /* NULL when meta.yaml has none */
	size_t nsans;
	char *sans[3];  /* "localhost", "127.0.0.1", host (once) */
	int host_is_ip; /* 0: host is a DNS name (see the plan's warnings) */
};

struct tf_certplan {
	size_t n;
	struct tf_certplan_entry *entries;
	size_t nwarnings;
	char **warnings; /* one per distinct host that is a DNS name */
};

/* The certificate plan for every instance of t. */
int tf_certplan_make(const struct tf_topology *t, struct tf_certplan **out,
                       struct tf_err *err) TF_MUST_CHECK;
void tf_certplan_free(struct tf_certplan *p);
/* The plan as JSON text (caller frees): {"node_days":3650,"certificates":[...],"warnings":[...]}.
 */
int tf_certplan_json(const struct tf_certplan *p, char **out, struct tf_err *err) TF_MUST_CHECK;

#endif
