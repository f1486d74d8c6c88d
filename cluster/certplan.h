/* The node certificates TiUP will issue at `tiup cluster tls <name> enable`, one per instance of
 * meta.yaml: CN, SANs, files, and the warnings an approver should read (hosts named by DNS).
 * The plan's type and its JSON live with the rest of the manifest's "tls" section in
 * crypto/certs.h; reading it out of meta.yaml is cluster knowledge, here. */
#ifndef TF_CLUSTER_CERTPLAN_H
#define TF_CLUSTER_CERTPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/topology.h"
#include "common/err.h"
#include "crypto/certs.h" /* struct tf_certplan, tf_certplan_free, tf_certplan_json */

/* The certificate plan for every instance of t. */
int tf_certplan_make(const struct tf_topology *t, struct tf_certplan **out,
                     struct tf_err *err) TF_MUST_CHECK;

#endif
