/* The runbook: a model of the change built from the manifest's typed sections (cJSON), printed as
 * JSON or handed to manifests/runbook_render.c for Markdown or one self-contained HTML page. The
 * steps come from the one step table, manifests/steps.h. */
#include "manifests/runbook.h"
#include "common/err.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "manifests/runbook_render.h"
#include "manifests/sections.h"
#include "manifests/steps.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define RUNBOOK_FORMAT "tiferry-runbook/1"

/* ---- reading the manifest ---- */

struct facts {
	const struct tf_manifest *m;
	int has_tiup, has_tls, has_plan; /* the sections present */
	struct tf_tiup_section tiup;
	struct tf_tls_section tls;
	struct tf_plan plan;
	const char *cluster_version; /* the tiup section's "cluster" version, or NULL */
	int enable_tls;
	int stop_dups;
	size_t npd;
};

static void facts_release(struct facts *f)
{
	tf_tiup_section_release(&f->tiup);
	tf_tls_section_release(&f->tls);
	tf_plan_release(&f->plan);
}

static int facts_load(const struct tf_manifest *m, struct facts *f, struct tf_err *err)
{
	const char *t = tf_manifest_section(m, TF_SECTION_TIUP),
	           *l = tf_manifest_section(m, TF_SECTION_TLS),
	           *p = tf_manifest_section(m, TF_SECTION_PLAN);
	int r = 0;

	memset(f, 0, sizeof(*f));
	f->m = m;
	tf_tiup_section_init(&f->tiup);
	tf_tls_section_init(&f->tls);
	tf_plan_init(&f->plan);
	f->has_tiup = t != NULL;
	f->has_tls = l != NULL;
	f->has_plan = p != NULL;
	if ((t && (r = tf_tiup_section_parse(t, &f->tiup, err)) != 0) ||
	    (l && (r = tf_tls_section_parse(l, &f->tls, err)) != 0) ||
	    (p && (r = tf_plan_parse(p, &f->plan, err)) != 0)) {
		facts_release(f);
		if (r == TF_E_REJECT)
			r = tf_err_set(err, TF_E_REJECT, "manifest: a section is not JSON");
		return r;
	}
	f->cluster_version = tf_tiup_section_version(&f->tiup, "cluster");
	f->enable_tls = f->has_plan && f->plan.enable_tls;
	f->stop_dups = f->has_plan && f->plan.stop_duplicate_exporters;
	f->npd = f->plan.npd_hosts;
	return 0;
}

/* ---- the commands ---- */

static void commands(const struct facts *f, size_t i, const struct tf_runbook_subst *s,
                     struct tf_strbuf *b)
{
	const char *tiup = s && s->tiup ? s->tiup : "tiup";
	const char *state = s && s->state ? s->state : "<state>";
	const char *staging = s && s->staging ? s->staging : "<staging>";
	const char *cl = f->m->cluster;
	char comp[160];
	size_t k;

	/* after the mirror is restored, `tiup cluster:<v>` fails when that mirror lacks <v> (TiUP
	 * #594): the upgraded component runs by its path (docs/tiup.md §2) */
	if (f->cluster_version != NULL)
		snprintf(comp, sizeof(comp),
		         "--binpath $TIUP_HOME/components/cluster/%s/tiup-cluster cluster",
		         f->cluster_version);
	else
		snprintf(comp, sizeof(comp), "cluster");
	if ((tf_step_get(i)->flags & TF_STEPS_CLUSTER) && !f->enable_tls)
		return; /* the cluster steps are skipped */
	switch ((enum tf_step_id)i) {
	case TF_STEP_ID_TIUP_PREFLIGHT:
		tf_strbuf_printf(b, "%s --version\n", tiup);
		break;
	case TF_STEP_ID_MIRROR_SET:
		tf_strbuf_printf(b, "%s mirror set %s/mirror\n", tiup, staging);
		break;
	case TF_STEP_ID_RESTORE_MIRROR:
		if (f->tiup.restore_mirror != NULL)
			tf_strbuf_printf(b, "%s mirror set %s\n", tiup, f->tiup.restore_mirror);
		break;
	case TF_STEP_ID_UPDATE_SELF:
		/* checkTiUPBinary: only TiUP's own binary updates itself */
		tf_strbuf_puts(b, "$TIUP_HOME/bin/tiup update --self\n");
		break;
	case TF_STEP_ID_UPDATE_COMPONENTS:
		for (k = 0; k < f->tiup.ncomponents; k++) {
			const char *n = f->tiup.components[k].name,
			           *v = tf_tiup_section_version(&f->tiup, n);

			if (strcmp(n, "tiup") != 0)
				tf_strbuf_printf(b, "%s update %s%s%s\n", tiup, n, v ? ":" : "",
				                 v ? v : "");
		}
		if (f->cluster_version != NULL)
			tf_strbuf_printf(b, "%s --binary cluster:%s\n", tiup, f->cluster_version);
		break;
	case TF_STEP_ID_VERIFY_VERSIONS:
		if (tf_tiup_section_version(&f->tiup, "tiup") != NULL)
			tf_strbuf_printf(b, "%s --version\n", tiup);
		if (f->cluster_version != NULL)
			tf_strbuf_printf(b, "%s %s --version\n%s cluster --version\n", tiup, comp,
			                 tiup);
		break;
	case TF_STEP_ID_PREFLIGHT:
		/* tls enable and scale-out resolve these from the restored mirror */
		tf_strbuf_printf(b, "%s list pd\n%s list tikv\n%s list tidb\n", tiup, tiup, tiup);
		if (f->stop_dups)
			tf_strbuf_puts(b, TF_SUDO " 'systemctl stop <unit> && systemctl disable "
			                          "<unit>'\n");
		break;
	case TF_STEP_ID_SCALE_IN_PD:
		if (f->npd > 1)
			tf_strbuf_printf(b, "%s %s scale-in %s -N <pd-but-leader> -y\n", tiup, comp,
			                 cl);
		break;
	case TF_STEP_ID_RESTRICT_CN:
		if (f->plan.nrestrict_cn > 0)
			tf_strbuf_printf(b,
			                 "%s %s edit-config %s --topology-file "
			                 "%s/restrict-cn-topology.yaml -y\n",
			                 tiup, comp, cl, state);
		break;
	case TF_STEP_ID_TLS_ENABLE:
		tf_strbuf_printf(b, "%s %s tls %s enable -y\n", tiup, comp, cl);
		break;
	case TF_STEP_ID_TIGHTEN_KEYS:
	case TF_STEP_ID_TIGHTEN_KEYS_PD:
		if (i == TF_STEP_ID_TIGHTEN_KEYS || f->npd > 1)
			tf_strbuf_puts(
			    b,
			    TF_SUDO " 'test ! -d <tls-dir> || find <tls-dir> -maxdepth 1 "
			            "-type f -name '\\''*.pem'\\'' -exec chown <user> {} + -exec "
			            "chmod 0600 {} +'\n");
		break;
	case TF_STEP_ID_SCALE_OUT_PD:
		/* --user/-i: TiUP logs in to the PD-only hosts again (issue 12 §2e); start -N: on
		 * --resume, a PD that a cut scale-out left in meta.yaml unstarted (§2f) */
		if (f->npd > 1)
			tf_strbuf_printf(
			    b,
			    "%s %s scale-out %s %s/scale-out-pd.yaml --user <deploy-user> "
			    "-i <cluster-key> -y\n%s %s start %s -N <pd-node>\n",
			    tiup, comp, cl, state, tiup, comp, cl);
		break;
	default:
		break; /* tiferry does the step itself */
	}
}

int tf_runbook_commands(const struct tf_manifest *m, size_t i, const struct tf_runbook_subst *s,
                        char **out, struct tf_err *err)
{
	struct facts f;
	struct tf_strbuf b = {.max = TF_RUNBOOK_MAX};
	int r;

	if (i >= TF_STEPS_N)
		return tf_err_set(err, TF_E_INPUT, "no install step %zu", i + 1);
	if ((r = facts_load(m, &f, err)) != 0)
		return r;
	tf_strbuf_puts(&b, "");
	commands(&f, i, s, &b);
	facts_release(&f);
	if (b.failed) {
		free(b.s);
		return tf_err_nomem(err);
	}
	*out = b.s;
	return 0;
}

/* ---- the model ---- */

/* Adds a string made with fmt to array arr. 0, or -1 when out of memory. */
static int add_line(cJSON *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_line(cJSON *arr, const char *fmt, ...)
{
	va_list ap;
	char *t = NULL;
	cJSON *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	s = cJSON_CreateString(t);
	free(t);
	return s != NULL && cJSON_AddItemToArray(arr, s) ? 0 : -1;
}

static const char *skip_reason(const struct facts *f, const struct tf_step *st)
{
	if ((st->flags & TF_STEPS_CLUSTER) && !f->enable_tls)
		return "skipped: the bundle's plan does not change the cluster";
	if ((st->flags & TF_STEPS_NEEDS_TLS) && !f->has_tls)
		return "skipped: the bundle carries no certificates";
	if ((st->flags & TF_STEPS_PD_SCALE) && f->npd <= 1)
		return "nothing to do: the cluster has one PD member";
	if ((st->flags & TF_STEPS_RESTRICT_CN) && f->plan.nrestrict_cn == 0)
		return "nothing to do: the plan leaves the CN options unset (plan.restrict_cn)";
	return NULL;
}

static int model_steps(const struct facts *f, cJSON *arr)
{
	size_t i;

	for (i = 0; i < TF_STEPS_N; i++) {
		const struct tf_step *st = tf_step_get(i);
		cJSON *o = cJSON_CreateObject(), *cmds;
		struct tf_strbuf b = {.max = TF_RUNBOOK_MAX};
		const char *skip = skip_reason(f, st);
		char *line, *save = NULL;

		if (o == NULL || !cJSON_AddItemToArray(arr, o))
			return -1;
		if (!cJSON_AddNumberToObject(o, "number", (double)(i + 1)) ||
		    !cJSON_AddStringToObject(o, "name", st->name) ||
		    !cJSON_AddStringToObject(o, "where", st->where) ||
		    !cJSON_AddStringToObject(o, "what", st->what) ||
		    (skip && !cJSON_AddStringToObject(o, "skipped", skip)) ||
		    (cmds = cJSON_AddArrayToObject(o, "commands")) == NULL)
			return -1;
		tf_strbuf_puts(&b, "");
		commands(f, i, NULL, &b);
		for (line = b.failed ? NULL : strtok_r(b.s, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			if (!cJSON_AddItemToArray(cmds, cJSON_CreateString(line)))
				b.failed = 1;
		free(b.s);
		if (b.failed)
			return -1;
	}
	return 0;
}

static int model_target(const struct facts *f, cJSON *root)
{
	cJSON *t = cJSON_AddObjectToObject(root, "target"), *hosts, *pd, *o, *roles;
	size_t i, k;

	if (t == NULL || !cJSON_AddStringToObject(t, "cluster", f->m->cluster) ||
	    !cJSON_AddStringToObject(t, "topology", f->m->topology) ||
	    (hosts = cJSON_AddArrayToObject(t, "hosts")) == NULL ||
	    (pd = cJSON_AddArrayToObject(t, "pd")) == NULL)
		return -1;
	for (i = 0; i < f->plan.nhosts; i++) {
		const struct tf_plan_host *h = &f->plan.hosts[i];

		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(hosts, o) ||
		    (h->host && !cJSON_AddStringToObject(o, "host", h->host)) ||
		    (roles = cJSON_AddArrayToObject(o, "roles")) == NULL)
			return -1;
		for (k = 0; k < h->nroles; k++)
			if (!cJSON_AddItemToArray(roles, cJSON_CreateString(h->roles[k])))
				return -1;
	}
	for (i = 0; i < f->plan.npd_nodes; i++) {
		const struct tf_plan_pd_node *n = &f->plan.pd_nodes[i];

		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(pd, o) ||
		    (n->id && !cJSON_AddStringToObject(o, "id", n->id)) ||
		    (n->name && !cJSON_AddStringToObject(o, "name", n->name)))
			return -1;
	}
	return 0;
}

static int model_bundle(const struct tf_manifest *m, cJSON *root)
{
	char c[TF_TIME_TEXT], nb[TF_TIME_TEXT], na[TF_TIME_TEXT];
	cJSON *b = cJSON_AddObjectToObject(root, "bundle");

	tf_time_format(m->created, c, sizeof(c));
	tf_time_format(m->not_before, nb, sizeof(nb));
	tf_time_format(m->not_after, na, sizeof(na));
	return b != NULL && cJSON_AddStringToObject(b, "id", m->bundle_id) &&
	               cJSON_AddNumberToObject(b, "sequence", (double)m->sequence) &&
	               cJSON_AddStringToObject(b, "created", c) &&
	               cJSON_AddStringToObject(b, "not_before", nb) &&
	               cJSON_AddStringToObject(b, "not_after", na)
	           ? 0
	           : -1;
}

static const char *or_q(const char *s)
{
	return s ? s : "?";
}

static int model_changes(const struct facts *f, cJSON *arr)
{
	const char *restore = f->tiup.restore_mirror;
	size_t i;
	int r = 0;

	for (i = 0; i < f->tiup.ncomponents; i++)
		r |= add_line(arr,
		              "TiUP component `%s` upgraded to `%s` from the bundle's "
		              "verified mirror subset.",
		              f->tiup.components[i].name, f->tiup.components[i].version);
	if (f->has_tiup)
		r |= add_line(arr,
		              restore ? "TiUP's mirror is switched back afterwards to the one "
		                        "recorded before the upgrade, then set to `%s`."
		                      : "TiUP's mirror is switched back afterwards to the one "
		                        "recorded before the upgrade%s.",
		              restore ? restore : "");
	if (f->tls.has_ca)
		r |= add_line(arr,
		              "CA (%s) `%s`, sha256 fingerprint `%s`, valid to `%s`: TiUP "
		              "issues the node certificates from it.",
		              or_q(f->tls.source), or_q(f->tls.ca.subject),
		              or_q(f->tls.ca.fingerprint), or_q(f->tls.ca.not_after));
	if (f->tls.has_client)
		r |= add_line(arr,
		              "Client certificate `%s`, sha256 fingerprint `%s`, for TiUP and the "
		              "operators' tools.",
		              or_q(f->tls.client.subject), or_q(f->tls.client.fingerprint));
	if (f->has_tls)
		r |= add_line(arr,
		              "The private keys travel encrypted (CMS) and are decrypted only on "
		              "the control host.");
	if (f->enable_tls)
		r |= add_line(arr,
		              "TLS enabled between all components of cluster `%s`: PD's client "
		              "port 2379 and peer port 2380 then require a client certificate "
		              "signed by the CA.",
		              f->m->cluster);
	if (f->stop_dups)
		r |= add_line(arr,
		              "Duplicate `node_exporter` units found by the preflight are stopped "
		              "and disabled.");
	return r;
}

static int model_impact(const struct facts *f, cJSON *arr)
{
	int r = 0;

	if (!f->enable_tls)
		return add_line(arr, "The cluster is not changed: only TiUP on the control host.");
	if (f->npd > 1)
		r |= add_line(arr,
		              "From `scale-in-pd` to `scale-out-pd`, PD runs as a single member: "
		              "the cluster has no PD fault tolerance in that window. Make no "
		              "other change meanwhile.");
	r |= add_line(arr, "`tls-enable` restarts the whole cluster (every PD, TiKV, TiDB and "
	                   "monitoring component): plan for a short interruption of service.");
	r |= add_line(arr, "Afterwards every client of PD and TiKV (`tiup ctl`, BR, Dumpling, "
	                   "monitoring, scripts calling port 2379) needs the CA and a client "
	                   "certificate. SQL clients on TiDB's port 4000 are not affected.");
	return r;
}

/* How success is verified: the TLS checks and the receipt only when the plan enables TLS (an
 * upgrade-only bundle skips the health step that makes them). */
static int model_verification(const struct facts *f, cJSON *ver)
{
	const char *cl = f->m->cluster;
	int r = 0;

	if (!f->enable_tls) {
		r |= add_line(
		    ver,
		    "The `verify-versions` step checks that TiUP reports the bundle's "
		    "versions under the restored mirror; `tiferry status --cluster %s` shows "
		    "every step done.",
		    cl);
		r |= add_line(
		    ver,
		    "`tiferry verify --cluster %s` reports TiUP's versions and the "
		    "restored mirror (control-host checks); the cluster's TLS checks apply "
		    "once TLS is enabled.",
		    cl);
		return r;
	}
	r |= add_line(ver,
	              "`tiferry verify --cluster %s` checks from the control host: mutual TLS "
	              "enforced on every PD, plain HTTP and connections without a client "
	              "certificate refused, every peer URL https, the certificates issued by the "
	              "bundle's CA, and PD membership restored.",
	              cl);
	r |= add_line(ver,
	              "The install runs the same checks in its `health` step and writes a "
	              "receipt (`<state>/receipt-%s.json`); carry it back and read it with "
	              "`tiferry-build inspect --receipt`.",
	              f->m->bundle_id);
	return r;
}

static int model_text(const struct facts *f, cJSON *root)
{
	cJSON *purpose = cJSON_AddArrayToObject(root, "purpose"),
	      *fail = cJSON_AddArrayToObject(root, "on_failure"),
	      *ver = cJSON_AddArrayToObject(root, "verification"),
	      *ph = cJSON_AddArrayToObject(root, "placeholders");
	const char *cl = f->m->cluster;
	int r = 0;

	if (purpose == NULL || fail == NULL || ver == NULL || ph == NULL)
		return -1;
	if (f->enable_tls)
		r |= add_line(purpose,
		              "Finding fixed: PD's etcd API on port 2379 of cluster `%s` "
		              "accepts connections without authentication. This change "
		              "turns on TLS between all components with `tiup cluster tls "
		              "%s enable` (TiUP v1.10 or later), so that PD requires a "
		              "client certificate signed by the cluster's CA.",
		              cl, cl);
	else
		r |= add_line(purpose,
		              "This change upgrades TiUP on the control host of cluster `%s` "
		              "and leaves the cluster itself as it is.",
		              cl);
	r |= add_line(purpose, "tiferry carries it out from one signed bundle: every step below is "
	                       "journaled, and a failed or interrupted run continues with "
	                       "`--resume`.");
	r |= add_line(fail, "TiUP's mirror is switched back whatever fails.");
	r |= add_line(fail,
	              "See where it stopped and the command that continues: `tiferry status "
	              "--cluster %s`.",
	              cl);
	r |= add_line(fail, "Fix the cause it names, then continue: `tiferry install BUNDLE "
	                    "--resume` (steps already done are not repeated).");
	r |=
	    add_line(fail, "Every command run and its exit code is in the audit log, "
	                   "`<state>/audit.log`; docs/troubleshooting.md lists every exit code and "
	                   "common failure.");
	r |= model_verification(f, ver);
	r |= add_line(ph,
	              "`<state>`: tiferry's state folder for the cluster, "
	              "`$TIFERRY_STATE_DIR/%s` (default `/var/lib/tiferry/%s`).",
	              cl, cl);
	r |= add_line(ph, "`<staging>`: the private staging folder the check extracts the bundle "
	                  "into, `<state>/staging-XXXXXX`.");
	if (f->enable_tls && f->npd > 1)
		r |= add_line(ph,
		              "`<pd-but-leader>`: every PD member but the leader, as the preflight "
		              "finds it (`host:client_port`, comma-separated).");
	if (f->enable_tls && f->stop_dups)
		r |= add_line(ph,
		              "`<unit>`: a duplicate `node_exporter` unit the preflight found on "
		              "that host (the command runs over SSH on that host).");
	return r;
}

static int build_model(const struct tf_manifest *m, cJSON **out, struct tf_err *err)
{
	struct facts f;
	cJSON *root = NULL, *a;
	char title[256];
	int r;

	if ((r = facts_load(m, &f, err)) != 0)
		return r;
	snprintf(title, sizeof(title), "%s on TiDB cluster '%s'",
	         f.enable_tls ? "Enable TLS" : "Upgrade TiUP", m->cluster);
	r = -1;
	if ((root = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(root, "format", RUNBOOK_FORMAT) ||
	    !cJSON_AddStringToObject(root, "title", title) || model_bundle(m, root) != 0 ||
	    model_target(&f, root) != 0 || model_text(&f, root) != 0 ||
	    (a = cJSON_AddArrayToObject(root, "changes")) == NULL || model_changes(&f, a) != 0 ||
	    (a = cJSON_AddArrayToObject(root, "impact")) == NULL || model_impact(&f, a) != 0 ||
	    (a = cJSON_AddArrayToObject(root, "steps")) == NULL || model_steps(&f, a) != 0)
		goto out;
	*out = root;
	root = NULL; /* transferred */
	r = 0;
out:
	facts_release(&f);
	cJSON_Delete(root);
	return r == 0 ? 0 : tf_err_set(err, TF_E_NOMEM, "out of memory writing the runbook");
}

int tf_runbook_render(const struct tf_manifest *m, enum tf_runbook_format f, char **out,
                      size_t *len, struct tf_err *err)
{
	cJSON *root = NULL;
	char *t;
	int r;

	if ((r = build_model(m, &root, err)) != 0)
		return r;
	t = f == TF_RUNBOOK_JSON ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (t == NULL)
		return tf_err_set(err, TF_E_NOMEM, "out of memory writing the runbook");
	if (f == TF_RUNBOOK_JSON) {
		*len = strlen(t);
		*out = t;
		return 0;
	}
	r = tf_runbook_render_model(t, f, out, len, err);
	free(t);
	return r;
}
