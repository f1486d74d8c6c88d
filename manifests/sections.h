/* The manifest's typed sections: "tiup" (the TiUP upgrade), "tls" (the certificates the bundle
 * carries) and "plan" (the change to the cluster). Each is parsed from the section's JSON text in
 * one place; the builder emits "plan" and the tiup section's own keys here too. Parsing is lenient
 * about members of the wrong type (they read as absent, as the runbook always did); only text
 * that is not JSON is refused. */
#ifndef TF_MANIFESTS_SECTIONS_H
#define TF_MANIFESTS_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* The sections the builder adds to a manifest, in the order it adds them. */
#define TF_SECTION_TIUP "tiup"
#define TF_SECTION_TLS "tls"
#define TF_SECTION_PLAN "plan"
#define TF_SECTION_NAMES                                                                           \
	{                                                                                          \
		TF_SECTION_TIUP, TF_SECTION_TLS, TF_SECTION_PLAN                                   \
	}

/* ---- "tiup" ---- */

struct tf_tiup_component {
	char *name;
	char *version;
};

struct tf_tiup_section {
	int has_versions; /* the section has a "versions" object */
	size_t ncomponents;
	struct tf_tiup_component *components; /* "versions", in the section's order */
	size_t nplatforms;
	char **platforms;     /* "linux/amd64", ... */
	char *restore_mode;   /* "mirror", "as-recorded"; NULL when absent */
	char *restore_mirror; /* the mirror to point TiUP at afterwards; NULL when absent */
};

void tf_tiup_section_init(struct tf_tiup_section *s);
void tf_tiup_section_release(struct tf_tiup_section *s);
/* json (the section's text) -> *s (released by the caller, also on failure). TF_E_REJECT
 * "manifest: 'tiup' section is not JSON". */
int tf_tiup_section_parse(const char *json, struct tf_tiup_section *s,
                          struct tf_err *err) TF_MUST_CHECK;
/* The version of component name the bundle carries, or NULL. */
const char *tf_tiup_section_version(const struct tf_tiup_section *s, const char *name);
/* 1 when the bundle's mirror has packages for platform ("linux/amd64"). */
int tf_tiup_section_has_platform(const struct tf_tiup_section *s, const char *platform);
/* "versions" as compact JSON ({"cluster":"v1.16.1",...}) in *out (caller frees). */
int tf_tiup_section_versions_json(const struct tf_tiup_section *s, char **out,
                                  struct tf_err *err) TF_MUST_CHECK;
/* The section's text: the mirror subset's summary (mirror/subset.h) with "restore" added: mode
 * "mirror" and restore_mirror, or mode "as-recorded" when restore_mirror is NULL. */
int tf_tiup_section_emit(const char *subset_summary, const char *restore_mirror, char **out,
                         struct tf_err *err) TF_MUST_CHECK;

/* ---- "tls" (written by crypto/certs.h tf_certs_summary_json) ---- */

struct tf_tls_cert_summary {
	char *subject;
	char *fingerprint;
	char *not_after;
};

struct tf_tls_section {
	char *source; /* "generated", "imported" */
	int has_ca, has_client;
	struct tf_tls_cert_summary ca, client;
};

void tf_tls_section_init(struct tf_tls_section *s);
void tf_tls_section_release(struct tf_tls_section *s);
/* TF_E_REJECT "manifest: 'tls' section is not JSON". */
int tf_tls_section_parse(const char *json, struct tf_tls_section *s,
                         struct tf_err *err) TF_MUST_CHECK;

/* ---- "plan" ---- */

struct tf_plan_host {
	char *host;
	size_t nroles;
	char **roles; /* "pd", "tikv", ... once each */
};

struct tf_plan_pd_node {
	char *id;   /* host:client_port, as TiUP names it in `scale-in -N` */
	char *name; /* NULL when meta.yaml gives none */
};

struct tf_plan {
	int enable_tls;               /* the plan changes the cluster (default 1) */
	int stop_duplicate_exporters; /* stop duplicate node_exporter units the preflight finds */
	uint64_t min_free_mb;         /* free disk the preflight requires; 0: not checked */
	char *pd_topology;            /* payload path of the PD scale-out topology; NULL: none */
	size_t npd_hosts;
	char **pd_hosts; /* every PD member's host, as meta.yaml lists them */
	size_t nhosts;
	struct tf_plan_host *hosts; /* every host with its roles (for the runbook) */
	size_t npd_nodes;
	struct tf_plan_pd_node *pd_nodes;
	/* opt-in: before `tls enable`, set TiKV's security.cert-allowed-cn and TiDB's
	 * security.cluster-verify-cn to these CNs (those TiUP issues to the nodes and the client
	 * certificate's); none: leave them unset, as TiUP does */
	size_t nrestrict_cn;
	char **restrict_cn;
};

void tf_plan_init(struct tf_plan *p);
void tf_plan_release(struct tf_plan *p);
/* TF_E_REJECT "manifest: 'plan' section is not JSON". */
int tf_plan_parse(const char *json, struct tf_plan *p, struct tf_err *err) TF_MUST_CHECK;
/* The section's text in *out (caller frees). */
int tf_plan_emit(const struct tf_plan *p, char **out, struct tf_err *err) TF_MUST_CHECK;
/* pd_topology when it is a relative path inside the payload, in *out (not a copy); TF_E_REJECT
 * "manifest: 'plan' has no usable pd_topology" otherwise. */
int tf_plan_pd_topology(const struct tf_plan *p, const char **out,
                        struct tf_err *err) TF_MUST_CHECK;
/* Builder helpers: append (copies). role is added to host once; a host is listed once. */
int tf_plan_add_pd_host(struct tf_plan *p, const char *host, struct tf_err *err) TF_MUST_CHECK;
int tf_plan_add_host_role(struct tf_plan *p, const char *host, const char *role,
                          struct tf_err *err) TF_MUST_CHECK;
int tf_plan_add_pd_node(struct tf_plan *p, const char *id, const char *name,
                        struct tf_err *err) TF_MUST_CHECK;
/* Adds cn to restrict_cn once (copies). */
int tf_plan_add_restrict_cn(struct tf_plan *p, const char *cn, struct tf_err *err) TF_MUST_CHECK;

#endif
