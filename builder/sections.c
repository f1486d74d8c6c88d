/* Building the spec's "tiup", "tls" and "plan" sections (emitted through manifests/sections.h). */
#include "builder/sections.h"
#include "cluster/topology.h"
#include "common/fsutil.h"
#include "common/secret.h"
#include "cluster/certplan.h"
#include "crypto/certs.h"
#include "crypto/secrets.h"
#include "crypto/x509.h"
#include "manifests/sections.h"
#include "mirror/subset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 32

void tf_section_release(struct tf_section *s)
{
	free(s->dir);
	free(s->prefix);
	free(s->json);
	memset(s, 0, sizeof(*s));
}

/* A YAML list of scalars (or one scalar) into at most MAX_LIST pointers into the tree. */
static int str_list(const struct tf_yaml *y, const char *key, const char **out, size_t *n,
                    struct tf_err *err)
{
	const struct tf_yaml *v = tf_yaml_get(y, key);
	size_t i;

	*n = 0;
	if (v == NULL)
		return 0;
	if (v->kind == TF_YAML_SCALAR) {
		out[(*n)++] = v->scalar;
		return 0;
	}
	if (v->kind != TF_YAML_SEQ || v->n > MAX_LIST)
		return tf_err_set(err, TF_E_INPUT,
		                  "spec: line %d: '%s' must be a list (at most %d)", v->line, key,
		                  MAX_LIST);
	for (i = 0; i < v->n; i++) {
		if (v->items[i]->kind != TF_YAML_SCALAR)
			return tf_err_set(err, TF_E_INPUT,
			                  "spec: line %d: '%s' items must be plain values",
			                  v->items[i]->line, key);
		out[(*n)++] = v->items[i]->scalar;
	}
	return 0;
}

/* ---- tiup ---- */

int tf_section_tiup(const struct tf_spec *spec, const char *work, time_t now,
                    struct tf_section *out, struct tf_err *err)
{
	const struct tf_yaml *t = tf_yaml_get(spec->doc, "tiup"), *vers;
	struct tf_mirror_subset_opts o;
	struct tf_mirror_subset_report rep;
	const char *comps[MAX_LIST], *plats[MAX_LIST], *restore;
	char *versions[MAX_LIST] = {0};
	char *source = NULL, *root = NULL, *dir = NULL;
	size_t i, nv = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	tf_mirror_subset_report_init(&rep);
	if (t == NULL)
		return 0;
	/* the spec's fields and the section's kind were checked by tf_spec_load */
	if (t->kind != TF_YAML_MAP || tf_yaml_get_str(t, "source") == NULL)
		return tf_err_set(
		    err, TF_E_INPUT,
		    "spec: line %d: 'tiup' needs 'source' (an offline package or a mirror folder)",
		    t->line);
	if ((r = str_list(t, "components", comps, &o.ncomponents, err)) != 0 ||
	    (r = str_list(t, "platforms", plats, &o.nplatforms, err)) != 0)
		return r;
	if ((vers = tf_yaml_get(t, "versions")) != NULL) {
		if (vers->kind != TF_YAML_MAP || vers->n > MAX_LIST)
			return tf_err_set(
			    err, TF_E_INPUT,
			    "spec: line %d: 'tiup.versions' maps a component to a version",
			    vers->line);
		for (i = 0; i < vers->n; i++) {
			size_t len;

			if (vers->items[i]->kind != TF_YAML_SCALAR) {
				r = tf_err_set(err, TF_E_INPUT, "spec: line %d: bad version",
				               vers->items[i]->line);
				goto out;
			}
			len = strlen(vers->keys[i]) + strlen(vers->items[i]->scalar) + 2;
			if ((versions[nv] = malloc(len)) == NULL) {
				r = tf_err_nomem(err);
				goto out;
			}
			snprintf(versions[nv++], len, "%s=%s", vers->keys[i],
			         vers->items[i]->scalar);
		}
	}
	restore = tf_yaml_get_str(t, "restore");
	if (restore != NULL && strcmp(restore, "as-recorded") == 0)
		restore = NULL;
	if ((source = tf_spec_path(spec, tf_yaml_get_str(t, "source"))) == NULL ||
	    (tf_yaml_get_str(t, "root") &&
	     (root = tf_spec_path(spec, tf_yaml_get_str(t, "root"))) == NULL) ||
	    (dir = tf_path_join(work, "mirror")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	o.source = source;
	o.root = root;
	o.expect_sha256 = tf_yaml_get_str(t, "sha256");
	o.components = o.ncomponents ? comps : NULL;
	o.platforms = o.nplatforms ? plats : NULL;
	o.versions = (const char *const *)versions;
	o.nversions = nv;
	o.at = now;
	if ((r = tf_mirror_subset_build(&o, dir, &rep, err)) != 0) {
		tf_err_prefix(err, "spec: line %d: tiup: mirror '%s'", t->line, source);
		goto out;
	}
	if ((r = tf_tiup_section_emit(rep.summary_json, restore, &out->json, err)) != 0)
		goto out;
	out->dir = dir;
	dir = NULL; /* transferred */
	if ((out->prefix = strdup("mirror")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = 0;
out:
	for (i = 0; i < nv; i++)
		free(versions[i]);
	free(source);
	free(root);
	free(dir);
	tf_mirror_subset_report_release(&rep);
	if (r != 0)
		tf_section_release(out);
	return r;
}

/* ---- tls ---- */

/* Reads a passphrase named in the spec; a relative "file:" path is relative to the spec. */
static int spec_secret(const struct tf_spec *spec, const char *src, const char *prompt, int confirm,
                       char **out, struct tf_err *err)
{
	char *path = NULL, *full = NULL;
	int r;

	if (strncmp(src, "file:", 5) != 0 || src[5] == '/')
		return tf_secret_read(src, prompt, confirm, out, err);
	if ((path = tf_spec_path(spec, src + 5)) == NULL ||
	    (full = malloc(strlen(path) + 6)) == NULL) {
		free(path);
		return tf_err_nomem(err);
	}
	snprintf(full, strlen(path) + 6, "file:%s", path);
	r = tf_secret_read(full, prompt, confirm, out, err);
	free(full);
	free(path);
	return r;
}

static int read_recipients(const struct tf_spec *spec, const struct tf_yaml *t, char **pem,
                           size_t *len, struct tf_err *err)
{
	const char *files[MAX_LIST];
	size_t n = 0, i;
	int r;

	*pem = NULL;
	*len = 0;
	if ((r = str_list(t, "recipients", files, &n, err)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		char *path = tf_spec_path(spec, files[i]), *buf = NULL, *grown;
		size_t blen = 0;

		if (path == NULL)
			return tf_err_nomem(err);
		r = tf_read_file(path, 1 << 20, &buf, &blen, err);
		free(path);
		if (r != 0)
			return tf_err_prefix(err, "spec: line %d: tls.recipients",
			                     tf_yaml_get(t, "recipients")->line);
		if ((grown = realloc(*pem, *len + blen + 2)) == NULL) {
			free(buf);
			return tf_err_nomem(err);
		}
		*pem = grown;
		memcpy(*pem + *len, buf, blen);
		*len += blen;
		(*pem)[(*len)++] = '\n';
		(*pem)[*len] = '\0';
		free(buf);
	}
	return 0;
}

int tf_section_tls(const struct tf_spec *spec, const struct tf_topology *topo, const char *work,
                   time_t now, struct tf_section *out, struct tf_err *err)
{
	const struct tf_yaml *t = tf_yaml_get(spec->doc, "tls"), *imp;
	struct tf_certs_config cfg;
	struct tf_certs certs;
	struct tf_certplan *plan = NULL;
	char *plan_json = NULL;
	struct tf_certs_sealed sealed;
	struct tf_secrets_recipients rcp;
	const char *ca;
	char *dir = NULL, *rpem = NULL, *pass = NULL, *kpass = NULL;
	char *cacert = NULL, *cakey = NULL, *chain = NULL;
	size_t rlen = 0, i;
	uint64_t bits = 0, days = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&cfg, 0, sizeof(cfg));
	memset(&rcp, 0, sizeof(rcp));
	memset(&sealed, 0, sizeof(sealed));
	tf_certs_init(&certs);
	if (t == NULL)
		return 0;
	if (t->kind != TF_YAML_MAP)
		return tf_err_set(err, TF_E_INPUT, "spec: line %d: 'tls' must be a mapping",
		                  t->line);
	ca = tf_yaml_get_str(t, "ca");
	if (ca == NULL || (strcmp(ca, "generate") != 0 && strcmp(ca, "import") != 0))
		return tf_err_set(err, TF_E_INPUT,
		                  "spec: line %d: 'tls.ca' must be 'generate' or 'import'",
		                  tf_yaml_get(t, "ca") ? tf_yaml_get(t, "ca")->line : t->line);
	if ((r = tf_yaml_get_u64(t, "bits", 0, &bits, "spec", err)) != 0 ||
	    (r = tf_yaml_get_u64(t, "days", 0, &days, "spec", err)) != 0)
		return r;
	cfg.source = strcmp(ca, "import") == 0 ? TF_CERTS_IMPORT : TF_CERTS_GENERATE;
	cfg.cluster = spec->cluster;
	cfg.client_cn = tf_yaml_get_str(t, "client_cn");
	cfg.rsa_bits = (unsigned)bits;
	cfg.subject = tf_yaml_get_str(t, "subject");
	cfg.validity_days = (unsigned)days;
	cfg.now = now;
	cfg.window_end = spec->not_after;
	if (cfg.source == TF_CERTS_IMPORT) {
		imp = tf_yaml_get(t, "import");
		if (imp == NULL || tf_yaml_get_str(imp, "cert") == NULL ||
		    tf_yaml_get_str(imp, "key") == NULL)
			return tf_err_set(err, TF_E_INPUT,
			                  "spec: line %d: 'tls.import' needs 'cert' and 'key' (and "
			                  "'chain' for an intermediate)",
			                  imp ? imp->line : t->line);
		cacert = tf_spec_path(spec, tf_yaml_get_str(imp, "cert"));
		cakey = tf_spec_path(spec, tf_yaml_get_str(imp, "key"));
		if (tf_yaml_get_str(imp, "chain"))
			chain = tf_spec_path(spec, tf_yaml_get_str(imp, "chain"));
		if (cacert == NULL || cakey == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		cfg.ca_cert_file = cacert;
		cfg.ca_key_file = cakey;
		cfg.chain_file = chain;
		if (tf_yaml_get_str(imp, "key_passin") != NULL) {
			if ((r = spec_secret(spec, tf_yaml_get_str(imp, "key_passin"),
			                     "CA key passphrase: ", 0, &kpass, err)) != 0)
				goto out;
			cfg.ca_key_pass = kpass;
		}
	}
	if ((r = read_recipients(spec, t, &rpem, &rlen, err)) != 0)
		goto out;
	if (tf_yaml_get_str(t, "passin") != NULL &&
	    (r = spec_secret(spec, tf_yaml_get_str(t, "passin"),
	                     "passphrase for the bundle's keys: ", 1, &pass, err)) != 0)
		goto out;
	if (rpem == NULL && pass == NULL) {
		r = tf_err_set(
		    err, TF_E_INPUT,
		    "spec: line %d: 'tls' needs 'recipients' (certificates from "
		    "'tiferry keygen --recipient') and/or 'passin': keys never travel in "
		    "clear",
		    t->line);
		goto out;
	}
	rcp.cert_pem = rpem;
	rcp.cert_len = rlen;
	rcp.passphrase = pass;
	if ((r = tf_certs_make(&cfg, &certs, err)) != 0) {
		tf_err_prefix(err, "spec: line %d: tls", t->line);
		goto out;
	}
	if ((r = tf_certplan_make(topo, &plan, err)) != 0 ||
	    (r = tf_certplan_json(plan, &plan_json, err)) != 0)
		goto out;
	if ((dir = tf_path_join(work, "tls")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_mkdir_p(dir, 0700, err)) != 0)
		goto out;
	if ((r = tf_certs_seal(&certs, &rcp, &sealed, err)) != 0)
		goto out;
	for (i = 0; i < TF_CERTS_NFILES; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, sealed.files[i].name);
		/* in the bundle every tls/ file is 0644: the secrets are CMS, readable only with
		 * the recipient key or the passphrase */
		if ((r = tf_write_file_atomic(path, sealed.files[i].data, sealed.files[i].len, 0644,
		                              err)) != 0)
			goto out;
	}
	if ((r = tf_certs_summary_json(&certs, plan_json, &out->json, err)) != 0)
		goto out;
	out->dir = dir;
	dir = NULL; /* transferred */
	if ((out->prefix = strdup("tls")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = 0;
out:
	tf_certs_sealed_release(&sealed);
	tf_certs_release(&certs);
	tf_certplan_free(plan);
	free(plan_json);
	tf_secret_free(pass);
	tf_secret_free(kpass);
	free(rpem);
	free(dir);
	free(cacert);
	free(cakey);
	free(chain);
	if (r != 0)
		tf_section_release(out);
	return r;
}

/* ---- plan ---- */

/* "hosts": every host with its roles, and "pd_nodes": each PD member as TiUP names it in
 * `scale-in -N` (host:client_port), for the runbook. */
static int plan_hosts(const struct tf_topology *topo, struct tf_plan *p, struct tf_err *err)
{
	size_t i;
	int r;

	for (i = 0; i < topo->ninstances; i++) {
		const struct tf_topo_instance *in = &topo->instances[i];

		if ((r = tf_plan_add_host_role(p, in->host, in->role, err)) != 0)
			return r;
		if (strcmp(in->role, "pd") == 0) {
			char id[TF_TOPO_ID_MAX];

			snprintf(id, sizeof(id), "%s:%llu", in->host,
			         (unsigned long long)tf_topo_port(in, "client_port"));
			if ((r = tf_plan_add_pd_node(p, id, in->name, err)) != 0)
				return r;
		}
	}
	return 0;
}

/* The CN TiUP puts in a node certificate: the instance's ComponentName (TLSCert.Execute,
 * pkg/cluster/task/tls.go, TiUP v1.16.1), which differs from the list name for a few roles. */
static const char *component_cn(const char *role)
{
	static const char *const map[][2] = {{"monitoring", "prometheus"},
	                                     {"kvcdc", "tikv-cdc"},
	                                     {"tidb_dashboard", "tidb-dashboard"}};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(role, map[i][0]) == 0)
			return map[i][1];
	return role;
}

/* plan.restrict_cn: the CNs TiUP issues to the nodes (each component in the topology, and
 * blackbox_exporter, which `tls enable` gives a certificate on every host:
 * buildMonitoredCertificateTasks) and the client certificate's CN. Refused with an intermediate
 * CA: with a CN option TiKV's status port requires a client certificate and verifies it without
 * partial chains (tls_acceptor), against the one CA certificate TiUP copies to the nodes, so no
 * client would get through. */
static int plan_restrict_cn(const struct tf_spec *spec, const struct tf_topology *topo,
                            struct tf_plan *p, struct tf_err *err)
{
	const struct tf_yaml *t = tf_yaml_get(spec->doc, "tls"), *imp = tf_yaml_get(t, "import");
	const char *client_cn = tf_yaml_get_str(t, "client_cn"), *ca = tf_yaml_get_str(t, "ca");
	char *path = NULL, *pem = NULL, defcn[300];
	size_t len = 0, i;
	struct tf_x509_info ci;
	int r;

	if (ca != NULL && strcmp(ca, "import") == 0 && tf_yaml_get_str(imp, "cert") != NULL) {
		if ((path = tf_spec_path(spec, tf_yaml_get_str(imp, "cert"))) == NULL)
			return tf_err_nomem(err);
		r = tf_read_file(path, 1u << 20, &pem, &len, err);
		if (r == 0)
			r = tf_x509_info_pem(pem, len, &ci, err);
		if (r == 0 &&
		    (strcmp(ci.subject, ci.issuer) != 0 || tf_yaml_get_str(imp, "chain") != NULL))
			r = tf_err_set(
			    err, TF_E_INPUT,
			    "spec: line %d: 'plan.restrict_cn' needs a self-signed CA: '%s' (%s) "
			    "is "
			    "issued by '%s'. With cert-allowed-cn set, TiKV's status port "
			    "requires a client certificate and checks it without partial "
			    "chains against the one CA certificate TiUP copies to the nodes, "
			    "so every client would be refused. Remedy: import the root CA "
			    "(tls.import.cert), let tiferry-build generate one (tls.ca: "
			    "generate), or build without plan.restrict_cn",
			    tf_yaml_get(imp, "cert")->line, path, ci.subject, ci.issuer);
		free(pem);
		free(path);
		if (r != 0)
			return r;
	}
	for (i = 0; i < topo->ninstances; i++)
		if ((r = tf_plan_add_restrict_cn(p, component_cn(topo->instances[i].role), err)) !=
		    0)
			return r;
	if ((r = tf_plan_add_restrict_cn(p, "blackbox_exporter", err)) != 0)
		return r;
	if (client_cn == NULL) { /* TiUP's and tiferry-build's default (crypto/certs.h) */
		snprintf(defcn, sizeof(defcn), "%s-client", spec->cluster);
		client_cn = defcn;
	}
	return tf_plan_add_restrict_cn(p, client_cn, err);
}

int tf_section_plan(const struct tf_spec *spec, const struct tf_topology *topo, const char *work,
                    struct tf_section *out, struct tf_err *err)
{
	const struct tf_yaml *p = tf_yaml_get(spec->doc, "plan"), *pd;
	struct tf_yaml *meta = NULL;
	struct tf_yaml doc;
	char *keyname = "pd_servers", *yaml = NULL, *dir = NULL, *path = NULL;
	struct tf_yaml *items[1];
	struct tf_plan plan;
	uint64_t free_mb = 1024;
	int stop = 0, enable = 1, restrict_cn = 0, r;
	size_t len = 0, i;

	memset(out, 0, sizeof(*out));
	tf_plan_init(&plan);
	if (p != NULL) {
		if (p->kind != TF_YAML_MAP)
			return tf_err_set(err, TF_E_INPUT,
			                  "spec: line %d: 'plan' must be a mapping", p->line);
		if ((r = tf_yaml_get_bool(p, "restrict_cn", 0, &restrict_cn, "spec", err)) != 0 ||
		    (r = tf_yaml_get_bool(p, "enable_tls", 1, &enable, "spec", err)) != 0 ||
		    (r = tf_yaml_get_bool(p, "stop_duplicate_exporters", 0, &stop, "spec", err)) !=
		        0 ||
		    (r = tf_yaml_get_u64(p, "min_free_mb", 1024, &free_mb, "spec", err)) != 0)
			goto out;
	}
	if (restrict_cn && !enable) {
		r = tf_err_set(err, TF_E_INPUT,
		               "spec: line %d: 'plan.restrict_cn' sets TLS options before `tls "
		               "enable`: it needs plan.enable_tls: true",
		               tf_yaml_get(p, "restrict_cn")->line);
		goto out;
	}
	if (restrict_cn && (r = plan_restrict_cn(spec, topo, &plan, err)) != 0)
		goto out;
	if ((r = tf_yaml_load_file(spec->meta, &meta, err)) != 0)
		goto out;
	pd = tf_yaml_get(tf_yaml_get(meta, "topology"), "pd_servers");
	if (pd == NULL || pd->kind != TF_YAML_SEQ || pd->n == 0) {
		r = tf_err_set(err, TF_E_INPUT, "%s: no pd_servers: not a TiDB cluster's meta.yaml",
		               spec->meta);
		goto out;
	}
	items[0] = (struct tf_yaml *)(uintptr_t)pd;
	memset(&doc, 0, sizeof(doc));
	doc.kind = TF_YAML_MAP;
	doc.n = 1;
	doc.keys = &keyname;
	doc.items = items;
	if ((r = tf_yaml_emit(&doc, &yaml, &len, err)) != 0)
		goto out;
	if ((dir = tf_path_join(work, "topology")) == NULL ||
	    (path = tf_path_join(dir, "pd.yaml")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_mkdir_p(dir, 0700, err)) != 0 ||
	    (r = tf_write_file_atomic(path, yaml, len, 0644, err)) != 0)
		goto out;
	plan.enable_tls = enable;
	plan.stop_duplicate_exporters = stop;
	plan.min_free_mb = free_mb;
	if ((plan.pd_topology = strdup("topology/pd.yaml")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < pd->n; i++) {
		const char *h = tf_yaml_get_str(pd->items[i], "host");

		if (h != NULL && (r = tf_plan_add_pd_host(&plan, h, err)) != 0)
			goto out;
	}
	if ((r = plan_hosts(topo, &plan, err)) != 0 ||
	    (r = tf_plan_emit(&plan, &out->json, err)) != 0)
		goto out;
	if ((out->prefix = strdup("topology")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	out->dir = dir;
	dir = NULL; /* transferred */
	r = 0;
out:
	tf_plan_release(&plan);
	free(yaml);
	free(dir);
	free(path);
	tf_yaml_free(meta);
	if (r != 0)
		tf_section_release(out);
	return r;
}
