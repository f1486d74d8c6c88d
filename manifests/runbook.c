/* The runbook: a model of the change built from the manifest (cJSON), printed as JSON or
 * rendered as Markdown or one self-contained HTML page. Texts use `backticks` for commands,
 * paths and values; the HTML renderer turns them into <code> and escapes everything else. */
#include "manifests/runbook.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "manifests/bundle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define RUNBOOK_FORMAT "tiferry-runbook/1"

static const struct tf_runbook_step steps[] = {
    {"check", "control host",
     "Verify the bundle: structure, signatures against the trust policy, validity window, target "
     "cluster, anti-rollback sequence and every payload file's sha256; extract it into a private "
     "staging folder."},
    {"record-mirror", "control host",
     "Record TiUP's current mirror (`$TIUP_HOME/tiup.toml`, `bin/root.json`, `manifests/`) so that "
     "it can be put back."},
    {"tiup-preflight", "control host",
     "Check that the installed TiUP runs and that the bundle has packages for this host's "
     "platform."},
    {"mirror-set", "control host", "Point TiUP at the bundle's verified mirror."},
    {"update-self", "control host", "Upgrade TiUP itself from the bundle's mirror."},
    {"update-components", "control host", "Upgrade the TiUP components the bundle carries."},
    {"restore-mirror", "control host",
     "Switch TiUP's mirror back to the one recorded before: tiferry writes the recorded files "
     "back (this also happens after any failure, and first thing on `--resume`); then, when the "
     "bundle names a mirror to restore, point TiUP at it."},
    {"verify-versions", "control host",
     "Check that the upgraded versions still resolve under the restored mirror."},
    {"place-certificates", "control host",
     "Decrypt the CA and the client certificate and place them in TiUP's `tls/` folder "
     "(`$TIUP_HOME/storage/cluster/clusters/<cluster>/tls/`, keys 0600) so that `tiup cluster "
     "tls enable` reuses them; files already there are moved to a backup folder first."},
    {"preflight", "every host (SSH)",
     "Read-only checks on every host in parallel: SSH reachability with the pinned host keys, "
     "duplicate `node_exporter` units, free disk in the deploy folders, the ports of the PD "
     "members to be removed; PD health and leader (from the control host)."},
    {"scale-in-pd", "control host (TiUP)",
     "Scale PD in to one member, keeping the leader (TiUP enables TLS only on a single-PD "
     "cluster); wait until the removed members' ports are free."},
    {"tls-enable", "control host (TiUP)",
     "Enable TLS between all components. TiUP issues node certificates from the bundle's CA and "
     "restarts the whole cluster."},
    {"repair-peers", "control host (etcd API of PD)",
     "Only when PD serves https but etcd still lists `http://` peer URLs: update them through "
     "etcd's member API with the client certificate (as `etcdctl member update` would)."},
    {"scale-out-pd", "control host (TiUP)",
     "Scale the removed PD members back out from the bundle's PD topology; wait until they are "
     "healthy."},
    {"health", "control host (PD over https)",
     "Every PD member answers over https with the client certificate, is healthy, and there is "
     "one leader: the checks of `tiferry verify`. The verify receipt is written."},
    {"record-sequence", "control host",
     "Record the bundle's sequence number: an older bundle is refused from now on."},
    {"wipe-staging", "control host", "Remove the staging folder."},
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

size_t tf_runbook_nsteps(void)
{
	return NSTEPS;
}

const struct tf_runbook_step *tf_runbook_step(size_t i)
{
	return i < NSTEPS ? &steps[i] : NULL;
}

/* ---- reading the manifest ---- */

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

struct facts {
	const struct tf_manifest *m;
	cJSON *tiup, *tls, *plan;    /* parsed sections (NULL when absent) */
	const char *cluster_version; /* the tiup section's "cluster" version, or NULL */
	int enable_tls;
	int stop_dups;
	size_t npd;
};

static void facts_release(struct facts *f)
{
	cJSON_Delete(f->tiup);
	cJSON_Delete(f->tls);
	cJSON_Delete(f->plan);
}

static int facts_load(const struct tf_manifest *m, struct facts *f, struct tf_err *err)
{
	const char *t = tf_manifest_section(m, "tiup"), *l = tf_manifest_section(m, "tls"),
	           *p = tf_manifest_section(m, "plan");

	memset(f, 0, sizeof(*f));
	f->m = m;
	if ((t && (f->tiup = cJSON_Parse(t)) == NULL) || (l && (f->tls = cJSON_Parse(l)) == NULL) ||
	    (p && (f->plan = cJSON_Parse(p)) == NULL)) {
		facts_release(f);
		return tf_err_set(err, TF_E_REJECT, "manifest: a section is not JSON");
	}
	f->cluster_version = jstr(cJSON_GetObjectItemCaseSensitive(f->tiup, "versions"), "cluster");
	f->enable_tls = f->plan != NULL &&
	                !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(f->plan, "enable_tls"));
	f->stop_dups =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->plan, "stop_duplicate_exporters"));
	f->npd = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f->plan, "pd_hosts"));
	return 0;
}

/* ---- the commands ---- */

static void commands(const struct facts *f, size_t i, const struct tf_runbook_subst *s,
                     struct tf_strbuf *b)
{
	const char *name = steps[i].name, *tiup = s && s->tiup ? s->tiup : "tiup";
	const char *state = s && s->state ? s->state : "<state>";
	const char *staging = s && s->staging ? s->staging : "<staging>";
	const char *cl = f->m->cluster;
	char comp[96];
	const cJSON *v;

	if (f->cluster_version != NULL)
		snprintf(comp, sizeof(comp), "cluster:%s", f->cluster_version);
	else
		snprintf(comp, sizeof(comp), "cluster");
	if (strcmp(name, "tiup-preflight") == 0) {
		tf_strbuf_printf(b, "%s --version\n", tiup);
	} else if (strcmp(name, "mirror-set") == 0) {
		tf_strbuf_printf(b, "%s mirror set %s/mirror\n", tiup, staging);
	} else if (strcmp(name, "restore-mirror") == 0) {
		const char *to =
		    jstr(cJSON_GetObjectItemCaseSensitive(f->tiup, "restore"), "mirror");

		if (to != NULL)
			tf_strbuf_printf(b, "%s mirror set %s\n", tiup, to);
	} else if (strcmp(name, "update-self") == 0) {
		tf_strbuf_printf(b, "%s update --self\n", tiup);
	} else if (strcmp(name, "update-components") == 0) {
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f->tiup, "versions"))
		{
			if (v->string != NULL && strcmp(v->string, "tiup") != 0)
				tf_strbuf_printf(b, "%s update %s\n", tiup, v->string);
		}
	} else if (strcmp(name, "verify-versions") == 0) {
		if (jstr(cJSON_GetObjectItemCaseSensitive(f->tiup, "versions"), "tiup") != NULL)
			tf_strbuf_printf(b, "%s --version\n", tiup);
		if (f->cluster_version != NULL)
			tf_strbuf_printf(b, "%s %s --version\n%s cluster --version\n", tiup, comp,
			                 tiup);
	} else if (!f->enable_tls) {
		return; /* the cluster steps are skipped */
	} else if (strcmp(name, "preflight") == 0) {
		if (f->stop_dups)
			tf_strbuf_puts(b, "systemctl stop <unit> && systemctl disable <unit>\n");
	} else if (strcmp(name, "scale-in-pd") == 0) {
		if (f->npd > 1)
			tf_strbuf_printf(b, "%s %s scale-in %s -N <pd-but-leader> -y\n", tiup, comp,
			                 cl);
	} else if (strcmp(name, "tls-enable") == 0) {
		tf_strbuf_printf(b, "%s %s tls %s enable -y\n", tiup, comp, cl);
	} else if (strcmp(name, "scale-out-pd") == 0) {
		if (f->npd > 1)
			tf_strbuf_printf(b, "%s %s scale-out %s %s/scale-out-pd.yaml -y\n", tiup,
			                 comp, cl, state);
	}
}

int tf_runbook_commands(const struct tf_manifest *m, size_t i, const struct tf_runbook_subst *s,
                        char **out, struct tf_err *err)
{
	struct facts f;
	struct tf_strbuf b = {.max = TF_RUNBOOK_MAX};
	int r;

	if (i >= NSTEPS)
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

static const char *skip_reason(const struct facts *f, const char *name)
{
	static const char *const cluster[] = {"preflight",    "scale-in-pd",  "tls-enable",
	                                      "repair-peers", "scale-out-pd", "health"};
	size_t i;

	for (i = 0; i < sizeof(cluster) / sizeof(cluster[0]); i++)
		if (strcmp(cluster[i], name) == 0 && !f->enable_tls)
			return "skipped: the bundle's plan does not change the cluster";
	if (strcmp(name, "place-certificates") == 0 && f->tls == NULL)
		return "skipped: the bundle carries no certificates";
	if ((strcmp(name, "scale-in-pd") == 0 || strcmp(name, "scale-out-pd") == 0) && f->npd <= 1)
		return "nothing to do: the cluster has one PD member";
	return NULL;
}

static int model_steps(const struct facts *f, cJSON *arr)
{
	size_t i;

	for (i = 0; i < NSTEPS; i++) {
		cJSON *o = cJSON_CreateObject(), *cmds;
		struct tf_strbuf b = {.max = TF_RUNBOOK_MAX};
		const char *skip = skip_reason(f, steps[i].name);
		char *line, *save = NULL;

		if (o == NULL || !cJSON_AddItemToArray(arr, o))
			return -1;
		if (!cJSON_AddNumberToObject(o, "number", (double)(i + 1)) ||
		    !cJSON_AddStringToObject(o, "name", steps[i].name) ||
		    !cJSON_AddStringToObject(o, "where", steps[i].where) ||
		    !cJSON_AddStringToObject(o, "what", steps[i].what) ||
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
	const cJSON *v;
	cJSON *t = cJSON_AddObjectToObject(root, "target"), *hosts, *pd;

	if (t == NULL || !cJSON_AddStringToObject(t, "cluster", f->m->cluster) ||
	    !cJSON_AddStringToObject(t, "topology", f->m->topology) ||
	    (hosts = cJSON_AddArrayToObject(t, "hosts")) == NULL ||
	    (pd = cJSON_AddArrayToObject(t, "pd")) == NULL)
		return -1;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f->plan, "hosts"))
	{
		if (!cJSON_AddItemToArray(hosts, cJSON_Duplicate(v, 1)))
			return -1;
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f->plan, "pd_nodes"))
	{
		if (!cJSON_AddItemToArray(pd, cJSON_Duplicate(v, 1)))
			return -1;
	}
	return 0;
}

static int model_bundle(const struct tf_manifest *m, cJSON *root)
{
	char c[32], nb[32], na[32];
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

static int model_changes(const struct facts *f, cJSON *arr)
{
	const cJSON *v, *ca = cJSON_GetObjectItemCaseSensitive(f->tls, "ca"),
	                *cl = cJSON_GetObjectItemCaseSensitive(f->tls, "client");
	const char *restore = jstr(cJSON_GetObjectItemCaseSensitive(f->tiup, "restore"), "mirror");
	int r = 0;

	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f->tiup, "versions"))
	{
		if (cJSON_IsString(v))
			r |= add_line(arr,
			              "TiUP component `%s` upgraded to `%s` from the bundle's "
			              "verified mirror subset.",
			              v->string, v->valuestring);
	}
	if (f->tiup != NULL)
		r |= add_line(arr,
		              restore ? "TiUP's mirror is switched back afterwards to the one "
		                        "recorded before the upgrade, then set to `%s`."
		                      : "TiUP's mirror is switched back afterwards to the one "
		                        "recorded before the upgrade%s.",
		              restore ? restore : "");
	if (ca != NULL)
		r |= add_line(arr,
		              "CA (%s) `%s`, sha256 fingerprint `%s`, valid to `%s`: TiUP "
		              "issues the node certificates from it.",
		              jstr(f->tls, "source") ? jstr(f->tls, "source") : "?",
		              jstr(ca, "subject") ? jstr(ca, "subject") : "?",
		              jstr(ca, "fingerprint") ? jstr(ca, "fingerprint") : "?",
		              jstr(ca, "not_after") ? jstr(ca, "not_after") : "?");
	if (cl != NULL)
		r |= add_line(arr,
		              "Client certificate `%s`, sha256 fingerprint `%s`, for TiUP and the "
		              "operators' tools.",
		              jstr(cl, "subject") ? jstr(cl, "subject") : "?",
		              jstr(cl, "fingerprint") ? jstr(cl, "fingerprint") : "?");
	if (f->tls != NULL)
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

/* ---- rendering ---- */

struct doc {
	struct tf_strbuf b;
	enum tf_runbook_format f;
};

static void html_escape(struct tf_strbuf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			tf_strbuf_puts(b, "&amp;");
			break;
		case '<':
			tf_strbuf_puts(b, "&lt;");
			break;
		case '>':
			tf_strbuf_puts(b, "&gt;");
			break;
		case '"':
			tf_strbuf_puts(b, "&quot;");
			break;
		case '\'':
			tf_strbuf_puts(b, "&#39;");
			break;
		default:
			tf_strbuf_putn(b, s + i, 1);
		}
	}
}

/* Text with `code` spans. Markdown: as it is (a '|' escaped inside tables); HTML: escaped, the
 * spans as <code>. */
static void text(struct doc *d, const char *s, int in_table)
{
	const char *p;

	if (d->f == TF_RUNBOOK_MD) {
		for (p = s; *p; p++) {
			if (*p == '|' && in_table)
				tf_strbuf_puts(&d->b, "\\|");
			else if (*p == '\n')
				tf_strbuf_puts(&d->b, " ");
			else
				tf_strbuf_putn(&d->b, p, 1);
		}
		return;
	}
	while (*s) {
		const char *open = strchr(s, '`'), *close = open ? strchr(open + 1, '`') : NULL;

		if (close == NULL) {
			html_escape(&d->b, s, strlen(s));
			return;
		}
		html_escape(&d->b, s, (size_t)(open - s));
		tf_strbuf_puts(&d->b, "<code>");
		html_escape(&d->b, open + 1, (size_t)(close - open - 1));
		tf_strbuf_puts(&d->b, "</code>");
		s = close + 1;
	}
}

static void heading(struct doc *d, int level, const char *id, const char *s)
{
	if (d->f == TF_RUNBOOK_MD) {
		tf_strbuf_printf(&d->b, "%.*s ", level, "####");
		text(d, s, 0);
		tf_strbuf_puts(&d->b, "\n\n");
		return;
	}
	tf_strbuf_printf(&d->b, "<h%d%s%s%s>", level, id ? " id=\"" : "", id ? id : "",
	                 id ? "\"" : "");
	text(d, s, 0);
	tf_strbuf_printf(&d->b, "</h%d>\n", level);
}

static void para(struct doc *d, const char *s)
{
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "" : "<p>");
	text(d, s, 0);
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "\n\n" : "</p>\n");
}

static void list(struct doc *d, const cJSON *arr)
{
	const cJSON *v;

	if (cJSON_GetArraySize(arr) == 0)
		return;
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "" : "<ul>\n");
	cJSON_ArrayForEach(v, arr)
	{
		if (!cJSON_IsString(v))
			continue;
		tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "- " : "<li>");
		text(d, v->valuestring, 0);
		tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "\n" : "</li>\n");
	}
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "\n" : "</ul>\n");
}

/* A table of n columns; cells is rows * n texts. */
static void table(struct doc *d, const char *const *head, size_t n, const char *const *cells,
                  size_t rows)
{
	size_t r, c;

	if (d->f == TF_RUNBOOK_MD) {
		for (c = 0; c < n; c++) {
			tf_strbuf_puts(&d->b, "| ");
			text(d, head[c], 1);
			tf_strbuf_puts(&d->b, " ");
		}
		tf_strbuf_puts(&d->b, "|\n");
		for (c = 0; c < n; c++)
			tf_strbuf_puts(&d->b, "| --- ");
		tf_strbuf_puts(&d->b, "|\n");
		for (r = 0; r < rows; r++) {
			for (c = 0; c < n; c++) {
				tf_strbuf_puts(&d->b, "| ");
				text(d, cells[r * n + c], 1);
				tf_strbuf_puts(&d->b, " ");
			}
			tf_strbuf_puts(&d->b, "|\n");
		}
		tf_strbuf_puts(&d->b, "\n");
		return;
	}
	tf_strbuf_puts(&d->b, "<table>\n<thead><tr>");
	for (c = 0; c < n; c++) {
		tf_strbuf_puts(&d->b, "<th>");
		text(d, head[c], 1);
		tf_strbuf_puts(&d->b, "</th>");
	}
	tf_strbuf_puts(&d->b, "</tr></thead>\n<tbody>\n");
	for (r = 0; r < rows; r++) {
		tf_strbuf_puts(&d->b, "<tr>");
		for (c = 0; c < n; c++) {
			tf_strbuf_puts(&d->b, "<td>");
			text(d, cells[r * n + c], 1);
			tf_strbuf_puts(&d->b, "</td>");
		}
		tf_strbuf_puts(&d->b, "</tr>\n");
	}
	tf_strbuf_puts(&d->b, "</tbody>\n</table>\n");
}

/* Commands, one per line: a ```sh block, or <pre class="commands">. */
static void code(struct doc *d, const cJSON *cmds)
{
	const cJSON *v;

	if (cJSON_GetArraySize(cmds) == 0)
		return;
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "```sh\n" : "<pre class=\"commands\"><code>");
	cJSON_ArrayForEach(v, cmds)
	{
		if (!cJSON_IsString(v))
			continue;
		if (d->f == TF_RUNBOOK_MD)
			tf_strbuf_puts(&d->b, v->valuestring);
		else
			html_escape(&d->b, v->valuestring, strlen(v->valuestring));
		tf_strbuf_puts(&d->b, "\n");
	}
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "```\n\n" : "</code></pre>\n");
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>";

static const char html_head2[] =
    "</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
    "max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f23;line-height:1.45}\n"
    "h1{border-bottom:2px solid #1b1f23;padding-bottom:.3rem}\n"
    "h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}\n"
    "h3{margin-bottom:.3rem}\n"
    "code{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:.9em;"
    "background:#f3f4f6;padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}\n"
    "pre.commands{background:#0d1117;color:#e6edf3;padding:.6rem .8rem;border-radius:6px;"
    "overflow-x:auto}\n"
    "pre.commands code{background:none;color:inherit;padding:0}\n"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}\n"
    "th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}\n"
    "th{background:#f6f8fa}\n"
    ".step{border-left:4px solid #0969da;padding-left:.8rem;margin:1rem 0}\n"
    ".skipped{color:#57606a;font-style:italic}\n"
    ".impact{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.2rem 1rem}\n"
    "@media print{body{margin:0;max-width:none}pre.commands{white-space:pre-wrap}}\n"
    "</style>\n</head>\n<body>\n";

static void render_steps(struct doc *d, const cJSON *arr)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, arr)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "number");
		char h[160];

		snprintf(h, sizeof(h), "%d. %s — %s", cJSON_IsNumber(n) ? n->valueint : 0,
		         jstr(s, "name") ? jstr(s, "name") : "?",
		         jstr(s, "where") ? jstr(s, "where") : "?");
		if (d->f == TF_RUNBOOK_HTML)
			tf_strbuf_printf(&d->b, "<div class=\"step\" id=\"step-%s\">\n",
			                 jstr(s, "name") ? jstr(s, "name") : "");
		heading(d, 3, NULL, h);
		para(d, jstr(s, "what") ? jstr(s, "what") : "");
		if (jstr(s, "skipped") != NULL) {
			char t[200];

			snprintf(t, sizeof(t), "For this bundle: %s.", jstr(s, "skipped"));
			if (d->f == TF_RUNBOOK_HTML)
				tf_strbuf_puts(&d->b, "<div class=\"skipped\">");
			para(d, t);
			if (d->f == TF_RUNBOOK_HTML)
				tf_strbuf_puts(&d->b, "</div>");
		} else {
			code(d, cJSON_GetObjectItemCaseSensitive(s, "commands"));
		}
		if (d->f == TF_RUNBOOK_HTML)
			tf_strbuf_puts(&d->b, "</div>\n");
	}
}

static void render_target(struct doc *d, const cJSON *root)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "target"),
	            *b = cJSON_GetObjectItemCaseSensitive(root, "bundle"), *v;
	const char *head[] = {"Field", "Value"};
	const char *cells[14];
	char seq[32], cl[300], topo[100], id[64], nb[40], na[40], cr[40];
	const cJSON *sq = cJSON_GetObjectItemCaseSensitive(b, "sequence");

	snprintf(cl, sizeof(cl), "`%s`", jstr(t, "cluster") ? jstr(t, "cluster") : "?");
	snprintf(topo, sizeof(topo), "`%s`", jstr(t, "topology") ? jstr(t, "topology") : "?");
	snprintf(id, sizeof(id), "`%s`", jstr(b, "id") ? jstr(b, "id") : "?");
	snprintf(seq, sizeof(seq), "%.0f", cJSON_IsNumber(sq) ? sq->valuedouble : 0.0);
	snprintf(cr, sizeof(cr), "`%s`", jstr(b, "created") ? jstr(b, "created") : "?");
	snprintf(nb, sizeof(nb), "`%s`", jstr(b, "not_before") ? jstr(b, "not_before") : "?");
	snprintf(na, sizeof(na), "`%s`", jstr(b, "not_after") ? jstr(b, "not_after") : "?");
	cells[0] = "Cluster";
	cells[1] = cl;
	cells[2] = "Topology fingerprint";
	cells[3] = topo;
	cells[4] = "Bundle id";
	cells[5] = id;
	cells[6] = "Sequence (anti-rollback)";
	cells[7] = seq;
	cells[8] = "Created";
	cells[9] = cr;
	cells[10] = "Valid from";
	cells[11] = nb;
	cells[12] = "Valid until";
	cells[13] = na;
	heading(d, 2, "target", "Target and validity");
	table(d, head, 2, cells, 7);
	para(d, "tiferry refuses the bundle outside this window, on a cluster whose topology "
	        "fingerprint differs, and after a bundle with an equal or higher sequence.");
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "hosts")) > 0) {
		const char *hh[] = {"Host", "Roles"};
		size_t n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "hosts")),
		       i = 0;
		const char **hc = calloc(2 * n, sizeof(*hc));
		char **own = calloc(2 * n, sizeof(*own));

		if (hc == NULL || own == NULL) {
			d->b.failed = 1;
		} else {
			cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(t, "hosts"))
			{
				const cJSON *roles = cJSON_GetObjectItemCaseSensitive(v, "roles"),
				            *x;
				struct tf_strbuf rs = {0};

				if (i >= n)
					break;
				tf_strbuf_puts(&rs, "");
				cJSON_ArrayForEach(x, roles)
				{
					if (cJSON_IsString(x))
						tf_strbuf_printf(&rs, "%s%s", rs.len ? ", " : "",
						                 x->valuestring);
				}
				if (asprintf(&own[2 * i], "`%s`",
				             jstr(v, "host") ? jstr(v, "host") : "?") < 0)
					own[2 * i] = NULL;
				own[2 * i + 1] = rs.s;
				hc[2 * i] = own[2 * i] ? own[2 * i] : "?";
				hc[2 * i + 1] = rs.s ? rs.s : "?";
				i++;
			}
			heading(d, 3, NULL, "Hosts");
			table(d, hh, 2, hc, i);
			for (i = 0; i < 2 * n; i++)
				free(own[i]);
		}
		free(hc);
		free(own);
	}
}

static void render_approvals_text(struct doc *d)
{
	heading(d, 2, "approvals", "Approvals");
	para(d, "The control host's trust policy (`/etc/tiferry/trust/policy.yaml`) says how many "
	        "signatures of each role a bundle needs, for example one `builder` and one "
	        "`approver`; roles come from the policy, never from the signature. tiferry refuses "
	        "to install the bundle until they are there.");
	para(d,
	     "Each signature covers the manifest, and the manifest holds the sha256 of this "
	     "runbook: an approval covers the text you are reading. The signatures are added after "
	     "the text is signed, so they are shown below as they stand now, not as part of it.");
	tf_strbuf_puts(&d->b, TF_RUNBOOK_MARK "\n\n");
}

static int render_doc(const cJSON *root, enum tf_runbook_format f, char **out, size_t *len)
{
	struct doc d = {.b = {.max = 2 * (size_t)TF_RUNBOOK_MAX}, .f = f};
	const char *title = jstr(root, "title") ? jstr(root, "title") : "runbook";

	if (f == TF_RUNBOOK_HTML) {
		tf_strbuf_puts(&d.b, html_head);
		html_escape(&d.b, title, strlen(title));
		tf_strbuf_puts(&d.b, html_head2);
	}
	heading(&d, 1, NULL, title);
	para(&d, "Runbook of a tiferry bundle: what it changes, what it costs, every step with the "
	         "exact commands, what to do when a step fails, and how success is verified.");
	heading(&d, 2, "purpose", "Purpose");
	{
		const cJSON *v;

		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "purpose"))
		{
			if (cJSON_IsString(v))
				para(&d, v->valuestring);
		}
	}
	render_target(&d, root);
	heading(&d, 2, "changes", "What the bundle changes");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "changes"));
	heading(&d, 2, "impact", "Expected impact");
	if (f == TF_RUNBOOK_HTML)
		tf_strbuf_puts(&d.b, "<div class=\"impact\">\n");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "impact"));
	if (f == TF_RUNBOOK_HTML)
		tf_strbuf_puts(&d.b, "</div>\n");
	render_approvals_text(&d);
	heading(&d, 2, "steps", "Steps");
	para(&d, "`tiferry install BUNDLE` runs these steps in order on the control host, each "
	         "journaled. The commands are exactly those it runs; words in angle brackets are "
	         "known only during the run:");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "placeholders"));
	render_steps(&d, cJSON_GetObjectItemCaseSensitive(root, "steps"));
	heading(&d, 2, "on-failure", "If a step fails");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "on_failure"));
	heading(&d, 2, "verification", "How success is verified");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "verification"));
	if (f == TF_RUNBOOK_HTML)
		tf_strbuf_puts(&d.b, "</body>\n</html>\n");
	if (d.b.failed || d.b.s == NULL) {
		free(d.b.s);
		return -1;
	}
	*out = d.b.s;
	*len = d.b.len;
	return 0;
}

int tf_runbook_render(const struct tf_manifest *m, enum tf_runbook_format f, char **out,
                      size_t *len, struct tf_err *err)
{
	cJSON *root = NULL;
	int r;

	if ((r = build_model(m, &root, err)) != 0)
		return r;
	if (f == TF_RUNBOOK_JSON) {
		char *t = cJSON_Print(root);

		cJSON_Delete(root);
		if (t == NULL)
			return tf_err_set(err, TF_E_NOMEM, "out of memory writing the runbook");
		*len = strlen(t);
		*out = t;
		return 0;
	}
	r = render_doc(root, f, out, len);
	cJSON_Delete(root);
	if (r != 0)
		return tf_err_set(err, TF_E_NOMEM, "out of memory writing the runbook");
	return 0;
}

/* ---- the signatures as they stand ---- */

static void approvals(struct doc *d, const struct tf_runbook_approvals *a)
{
	const char *head[] = {"Key", "Holder", "Role", "Signature"};
	const char **cells = calloc(4 * (a->nsigners + 1), sizeof(*cells));
	char **keys = calloc(a->nsigners + 1, sizeof(*keys));
	char line[600];
	size_t i;

	if (cells == NULL || keys == NULL) {
		d->b.failed = 1;
		goto out;
	}
	if (a->required != NULL && a->problem != NULL)
		snprintf(line, sizeof(line), "Required by the trust policy: %s. Not met yet: %s.",
		         a->required,
		         strncmp(a->problem, "policy: ", 8) == 0 ? a->problem + 8 : a->problem);
	else if (a->required != NULL)
		snprintf(line, sizeof(line), "Required by the trust policy: %s. The policy is met.",
		         a->required);
	else
		snprintf(line, sizeof(line),
		         "No trust policy was given: the signatures below are "
		         "not checked (pass `--trust DIR`).");
	if (d->f == TF_RUNBOOK_HTML)
		tf_strbuf_printf(&d->b, "<div class=\"%s\" id=\"signatures\">\n",
		                 a->required && !a->problem ? "approved" : "not-approved");
	para(d, line);
	for (i = 0; i < a->nsigners; i++) {
		if (asprintf(&keys[i], "`%.16s`", a->signers[i].keyid) < 0) {
			keys[i] = NULL;
			d->b.failed = 1;
			goto out;
		}
		cells[4 * i] = keys[i];
		cells[4 * i + 1] = a->signers[i].holder ? a->signers[i].holder : "-";
		cells[4 * i + 2] = a->signers[i].role ? a->signers[i].role : "-";
		cells[4 * i + 3] = a->signers[i].status ? a->signers[i].status : "?";
	}
	if (a->nsigners == 0)
		para(d, "The bundle has no signature yet.");
	else
		table(d, head, 4, cells, a->nsigners);
	if (d->f == TF_RUNBOOK_HTML)
		tf_strbuf_puts(&d->b, "</div>\n");
out:
	if (keys != NULL)
		for (i = 0; i < a->nsigners; i++)
			free(keys[i]);
	free(keys);
	free(cells);
}

static int approvals_json(const char *doc, size_t len, const struct tf_runbook_approvals *a,
                          char **out, size_t *outlen, struct tf_err *err)
{
	cJSON *root = cJSON_ParseWithLength(doc, len), *o, *arr;
	char *t = NULL;
	size_t i;

	if (root == NULL)
		return tf_err_set(err, TF_E_INPUT, "the runbook is not JSON");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "approvals");
	if ((o = cJSON_AddObjectToObject(root, "approvals")) == NULL ||
	    (a->required && !cJSON_AddStringToObject(o, "required", a->required)) ||
	    !cJSON_AddBoolToObject(o, "checked", a->required != NULL) ||
	    !cJSON_AddBoolToObject(o, "satisfied", a->required != NULL && a->problem == NULL) ||
	    (a->problem && !cJSON_AddStringToObject(o, "problem", a->problem)) ||
	    (arr = cJSON_AddArrayToObject(o, "signatures")) == NULL)
		goto nomem;
	for (i = 0; i < a->nsigners; i++) {
		cJSON *s = cJSON_CreateObject();

		if (s == NULL || !cJSON_AddItemToArray(arr, s) ||
		    !cJSON_AddStringToObject(s, "keyid", a->signers[i].keyid) ||
		    (a->signers[i].holder &&
		     !cJSON_AddStringToObject(s, "holder", a->signers[i].holder)) ||
		    (a->signers[i].role &&
		     !cJSON_AddStringToObject(s, "role", a->signers[i].role)) ||
		    !cJSON_AddStringToObject(s, "status",
		                             a->signers[i].status ? a->signers[i].status : "?"))
			goto nomem;
	}
	if ((t = cJSON_Print(root)) == NULL)
		goto nomem;
	cJSON_Delete(root);
	*outlen = strlen(t);
	*out = t;
	return 0;
nomem:
	cJSON_Delete(root);
	return tf_err_nomem(err);
}

int tf_runbook_with_approvals(const char *doc, size_t len, enum tf_runbook_format f,
                              const struct tf_runbook_approvals *a, char **out, size_t *outlen,
                              struct tf_err *err)
{
	struct doc d = {.b = {.max = 2 * (size_t)TF_RUNBOOK_MAX}, .f = f};
	const char *mark;
	size_t at;

	if (doc == NULL)
		return tf_err_set(err, TF_E_INPUT, "no runbook");
	if (f == TF_RUNBOOK_JSON)
		return approvals_json(doc, len, a, out, outlen, err);
	if (memchr(doc, '\0', len) != NULL || (mark = strstr(doc, TF_RUNBOOK_MARK)) == NULL)
		return tf_err_set(err, TF_E_INPUT, "the runbook has no place for the approvals");
	at = (size_t)(mark - doc);
	tf_strbuf_putn(&d.b, doc, at);
	approvals(&d, a);
	at += strlen(TF_RUNBOOK_MARK);
	if (at < len && doc[at] == '\n')
		at++; /* the inserted block ends its own paragraph */
	tf_strbuf_putn(&d.b, doc + at, len - at);
	if (d.b.failed) {
		free(d.b.s);
		return tf_err_nomem(err);
	}
	*out = d.b.s;
	*outlen = d.b.len;
	return 0;
}

int tf_runbook_show(const char *path, const struct tf_manifest *m, enum tf_runbook_format f,
                    const struct tf_runbook_approvals *a, char **out, size_t *len, int *rendered,
                    struct tf_err *err)
{
	const char *entry = f == TF_RUNBOOK_MD ? TF_RUNBOOK_MD_PATH : TF_RUNBOOK_HTML_PATH;
	char *doc = NULL;
	size_t n = 0;
	int r;

	*rendered = f == TF_RUNBOOK_JSON || tf_manifest_section(m, "runbook") == NULL;
	if (*rendered)
		r = tf_runbook_render(m, f, &doc, &n, err);
	else
		r = tf_bundle_read_payload(path, m, entry, TF_RUNBOOK_MAX, &doc, &n, err);
	if (r == 0)
		r = tf_runbook_with_approvals(doc, n, f, a, out, len, err);
	free(doc);
	return r;
}

int tf_runbook_format_parse(const char *s, enum tf_runbook_format *f, struct tf_err *err)
{
	if (strcmp(s, "md") == 0)
		*f = TF_RUNBOOK_MD;
	else if (strcmp(s, "html") == 0)
		*f = TF_RUNBOOK_HTML;
	else if (strcmp(s, "json") == 0)
		*f = TF_RUNBOOK_JSON;
	else
		return tf_err_set(err, TF_E_USAGE, "--format: '%s' is not md, html or json", s);
	return 0;
}
