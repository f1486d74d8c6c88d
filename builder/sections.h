/* The spec's optional sections, each turned into payload files and a manifest section:
 * "tiup" (a verified minimal mirror subset, docs/mirror.md) and "tls" (the cluster's CA and
 * client certificate with the keys encrypted, docs/certificates.md). */
#ifndef TF_BUILDER_SECTIONS_H
#define TF_BUILDER_SECTIONS_H

#include <time.h>

#include "builder/spec.h"
#include "common/err.h"
#include "cluster/topology.h"
#include "manifests/sections.h" /* TF_SECTION_NAMES: the manifest names of the sections made here */

struct tf_section {
	char *dir;    /* files to pack, below payload/<prefix>/ (inside the build's work folder) */
	char *prefix; /* "mirror", "tls" */
	char *json;   /* the manifest section */
};

void tf_section_release(struct tf_section *s);
/* spec "tiup:" -> <work>/mirror and the "tiup" section. Nothing when the spec has none. */
int tf_section_tiup(const struct tf_spec *spec, const char *work, time_t now,
                    struct tf_section *out, struct tf_err *err) TF_MUST_CHECK;
/* spec "tls:" -> <work>/tls (certificates in clear, keys as CMS) and the "tls" section. */
int tf_section_tls(const struct tf_spec *spec, const struct tf_topology *topo, const char *work,
                   time_t now, struct tf_section *out, struct tf_err *err) TF_MUST_CHECK;

/* The change plan: <work>/topology/pd.yaml (every PD instance of meta.yaml in TiUP's scale-out
 * schema, so the installer can scale out whichever it scaled in) and the "plan" section
 * (spec "plan:": stop_duplicate_exporters, min_free_mb; and the hosts and PD members of topo, for
 * the runbook). */
int tf_section_plan(const struct tf_spec *spec, const struct tf_topology *topo, const char *work,
                    struct tf_section *out, struct tf_err *err) TF_MUST_CHECK;

#endif
