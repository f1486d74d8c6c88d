/* tiferry install, cluster half (the TF_STEPS_CLUSTER steps of manifests/steps.c): the helpers the
 * steps share, the preflight and the final health; the PD steps (scale-in, tls enable, peer repair,
 * scale-out) are in enable_pd.c. Each step finds what is done and continues. */
#include "installer/enable_int.h"
#include "crypto/sigkey.h"
#include "manifests/check.h"
#include "manifests/receipt.h"
#include "common/paths.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/progress.h"
#include "installer/audit.h"
#include "cluster/pdapi.h"
#include "cluster/preflight.h"
#include "cluster/ssh.h"
#include "cluster/tlsprobe.h"
#include "installer/verify.h"
#include "installer/view.h"
#include "cluster/topology.h"
#include "manifests/yamldoc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers ---- */

void tf_enable_nap_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

unsigned tf_enable_wait_s(const struct tf_enable *e)
{
	return e->wait_s ? e->wait_s : WAIT_DEFAULT_S;
}

void tf_enable_audit_note(const struct tf_enable *e, const char *step, const char *host,
                          const char *detail)
{
	struct tf_audit_entry ae = {.step = step, .event = "note", .host = host, .detail = detail};
	struct tf_err aerr;

	if (e->state_dir != NULL && tf_audit_append(e->state_dir, &ae, &aerr) != 0)
		tf_log_warn("audit log: %s", aerr.msg);
}

int tf_enable_load_meta(const struct tf_enable *e, struct tf_topology **t, struct tf_err *err)
{
	int r = tf_topology_load(e->meta_path, t, err);

	if (r != 0)
		tf_err_prefix(err, "cluster '%s': meta.yaml", e->cluster);
	return r;
}

/* The PD instance of meta.yaml whose node id is id, or NULL. */
const struct tf_topo_instance *tf_enable_meta_pd(const struct tf_topology *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];
		uint64_t cp = tf_topo_port(in, "client_port");
		char nid[TF_TOPO_ID_MAX];

		if (strcmp(in->role, "pd") != 0)
			continue;
		snprintf(nid, sizeof(nid), "%s:%llu", in->host,
		         (unsigned long long)(cp ? cp : 2379));
		if (strcmp(nid, id) == 0)
			return in;
	}
	return NULL;
}

void tf_enable_pd_topo_release(struct pd_topo *p)
{
	tf_yaml_free(p->doc);
	memset(p, 0, sizeof(*p));
}

/* Reads the bundle's PD topology: "pd_servers:" with every PD instance in scale-out schema. */
int tf_enable_pd_topo_load(const struct tf_enable *e, struct pd_topo *p, struct tf_err *err)
{
	const struct tf_yaml *list;
	size_t i;
	int r;

	memset(p, 0, sizeof(*p));
	if (e->pd_topology == NULL)
		return tf_err_set(err, TF_E_INPUT,
		                  "the bundle carries no PD topology (plan.pd_topology)");
	if (tf_yaml_load_file(e->pd_topology, &p->doc, err) != 0)
		return tf_err_prefix(err, "the bundle's PD topology");
	list = tf_yaml_get(p->doc, "pd_servers");
	if (list == NULL || list->kind != TF_YAML_SEQ || list->n == 0 || list->n > MAX_PD) {
		tf_enable_pd_topo_release(p);
		return tf_err_set(err, TF_E_INPUT,
		                  "%s: 'pd_servers' must list 1 to %d PD instances", e->pd_topology,
		                  MAX_PD);
	}
	for (i = 0; i < list->n; i++) {
		struct pd_node *nd = &p->nodes[i];
		struct tf_yaml *y = list->items[i];
		uint64_t cp = 0, pp = 0;
		const char *name;

		nd->spec = y;
		nd->host = tf_yaml_get_str(y, "host");
		if (nd->host == NULL || nd->host[0] == '\0') {
			r = tf_err_set(err, TF_E_INPUT, "%s: line %d: a PD instance without host",
			               e->pd_topology, y->line);
			tf_enable_pd_topo_release(p);
			return r;
		}
		if ((r = tf_yaml_get_u64(y, "client_port", 2379, &cp, e->pd_topology, err)) != 0 ||
		    (r = tf_yaml_get_u64(y, "peer_port", 2380, &pp, e->pd_topology, err)) != 0) {
			tf_enable_pd_topo_release(p);
			return r;
		}
		if (cp == 0 || cp > 65535 || pp == 0 || pp > 65535) {
			r = tf_err_set(err, TF_E_INPUT, "%s: line %d: bad PD ports", e->pd_topology,
			               y->line);
			tf_enable_pd_topo_release(p);
			return r;
		}
		nd->client_port = (unsigned)cp;
		nd->peer_port = (unsigned)pp;
		name = tf_yaml_get_str(y, "name");
		if (name != NULL && name[0] != '\0')
			snprintf(nd->name, sizeof(nd->name), "%s", name);
		else
			snprintf(nd->name, sizeof(nd->name), "pd-%s-%u", nd->host, nd->client_port);
		snprintf(nd->id, sizeof(nd->id), "%s:%u", nd->host, nd->client_port);
		p->n++;
	}
	return 0;
}

/* ---- etcd's API (PD's client port) ---- */

int tf_enable_api_open(const struct tf_enable *e, int tls, struct api *a, struct tf_err *err)
{
	char ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];

	a->tls = NULL;
	a->pd.tls = NULL;
	a->pd.send = e->pd_send;
	a->pd.send_arg = e->pd_send_arg;
	if (!tls)
		return 0;
	snprintf(ca, sizeof(ca), "%s/ca.crt", e->tls_dir);
	snprintf(crt, sizeof(crt), "%s/client.crt", e->tls_dir);
	snprintf(key, sizeof(key), "%s/client.pem", e->tls_dir);
	if (tf_tls_client_new(ca, crt, key, &a->tls, err) != 0)
		return tf_err_prefix(err, "the cluster's client certificate in '%s'", e->tls_dir);
	a->pd.tls = a->tls;
	return 0;
}

void tf_enable_api_close(struct api *a)
{
	tf_tls_client_free(a->tls);
	a->tls = NULL;
	a->pd.tls = NULL;
}

void tf_enable_meta_endpoints(const struct tf_topology *t, struct endpoints *ep)
{
	size_t i;

	ep->n = 0;
	for (i = 0; i < t->ninstances && ep->n < MAX_PD; i++) {
		const struct tf_topo_instance *in = &t->instances[i];
		uint64_t cp = tf_topo_port(in, "client_port");

		if (strcmp(in->role, "pd") != 0)
			continue;
		ep->host[ep->n] = in->host;
		ep->port[ep->n] = cp ? (unsigned)cp : 2379;
		ep->name[ep->n] = in->name ? in->name : in->host;
		ep->n++;
	}
}

/* ---- preflight ---- */

struct pd_hook {
	struct api api;
};

static int pd_check(void *arg, const struct tf_topo_instance *pd, int *is_leader,
                    struct tf_err *err)
{
	const struct pd_hook *h = arg;
	uint64_t cp = tf_topo_port(pd, "client_port");
	unsigned port = cp ? (unsigned)cp : 2379;
	int r;

	if ((r = tf_pd_health(&h->api.pd, pd->host, port, err)) != 0)
		return r;
	return tf_pd_status(&h->api.pd, pd->host, port, is_leader, NULL, 0, err);
}

/* The preflight's hosts in the install's view. */
static void preflight_host(void *arg, const char *host, int running, enum tf_check_status st,
                           const char *detail)
{
	static const enum tf_view_state as_view[] = {[TF_CHECK_OK] = TF_VIEW_OK,
	                                             [TF_CHECK_WARN] = TF_VIEW_WARN,
	                                             [TF_CHECK_FIXED] = TF_VIEW_FIXED,
	                                             [TF_CHECK_SKIPPED] = TF_VIEW_OK,
	                                             [TF_CHECK_FAIL] = TF_VIEW_FAILED};
	const struct tf_enable *e = arg;

	tf_view_host(e->view, host, running ? TF_VIEW_RUNNING : as_view[st], "%s", detail);
}

/* The commands the preflight ran to change a host, in the audit log. */
static void preflight_command(void *arg, const char *host, const char *command, int exit_code)
{
	const struct tf_enable *e = arg;
	struct tf_audit_entry ae = {.step = "preflight", .event = "command", .host = host};
	struct tf_err aerr;

	ae.command = command;
	ae.exit_code = exit_code;
	if (e->state_dir != NULL && tf_audit_append(e->state_dir, &ae, &aerr) != 0)
		tf_log_warn("audit log: %s", aerr.msg);
}

/* meta.yaml's monitored.node_exporter_port (0 when absent). */
static uint64_t node_exporter_port(const struct tf_enable *e)
{
	struct tf_yaml *y = NULL;
	struct tf_err ignore;
	uint64_t port = 0;

	if (tf_yaml_load_file(e->meta_path, &y, &ignore) != 0)
		return 0;
	if (tf_yaml_get_u64(tf_yaml_get(tf_yaml_get(y, "topology"), "monitored"),
	                    "node_exporter_port", 0, &port, "meta.yaml", &ignore) != 0)
		port = 0;
	tf_yaml_free(y);
	return port;
}

/* Asks every PD of meta.yaml which member leads; fills leader ("host:port") and the others. */
static int find_leader(const struct api *a, const struct endpoints *ep, char *leader, size_t llen,
                       char *removed, size_t rlen, struct tf_err *err)
{
	size_t i, nlead = 0;

	removed[0] = '\0';
	leader[0] = '\0';
	for (i = 0; i < ep->n; i++) {
		int is_leader = 0;
		char id[TF_TOPO_ID_MAX];

		if (tf_pd_status(&a->pd, ep->host[i], ep->port[i], &is_leader, NULL, 0, err) != 0)
			return tf_err_prefix(err, "PD %s is not healthy", ep->name[i]);
		snprintf(id, sizeof(id), "%s:%u", ep->host[i], ep->port[i]);
		if (is_leader) {
			nlead++;
			snprintf(leader, llen, "%s", id);
		} else {
			size_t n = strlen(removed);

			snprintf(removed + n, rlen - n, "%s%s", n ? "," : "", id);
		}
	}
	if (nlead != 1)
		return tf_err_set(err, TF_E_FAIL,
		                  "%zu PD leaders among the %zu members of meta.yaml", nlead,
		                  ep->n);
	return 0;
}

static void report_items(const struct tf_enable *e, const struct tf_preflight_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nitems; i++) {
		const struct tf_preflight_item *it = &rep->items[i];
		char d[1200];

		if (it->status == TF_CHECK_OK)
			continue;
		snprintf(d, sizeof(d), "%s: %s: %s", it->check, tf_check_status_name(it->status),
		         it->detail);
		tf_log_info("preflight %s: %s", it->host, d);
		if (it->status != TF_CHECK_SKIPPED)
			tf_enable_audit_note(e, "preflight", it->host, d);
	}
}

static int save_report(const struct tf_enable *e, const struct tf_preflight_report *rep)
{
	char *json = NULL, path[PATH_MAX];
	struct tf_err werr;
	int r;

	if (e->state_dir == NULL)
		return 0;
	if ((r = tf_preflight_report_json(rep, &json, &werr)) == 0) {
		snprintf(path, sizeof(path), "%s/%s", e->state_dir, PREFLIGHT_FILE);
		r = tf_write_file_atomic(path, json, strlen(json), 0600, &werr);
	}
	if (r != 0)
		tf_log_warn("preflight report not saved: %s", werr.msg);
	free(json);
	return 0;
}

/* 1 when every failed check of the report is about reaching a host (a retry may help). */
static int only_unreachable(const struct tf_preflight_report *rep)
{
	size_t i, nfail = 0;

	for (i = 0; i < rep->nitems; i++) {
		if (rep->items[i].status != TF_CHECK_FAIL)
			continue;
		nfail++;
		if (strcmp(rep->items[i].check, "reachable") != 0 ||
		    strstr(rep->items[i].detail, "refused") != NULL)
			return 0;
	}
	return nfail > 0;
}

/* The topology fingerprint of a resumed install must be taken from meta.yaml as it was before
 * PD was scaled in (--cluster-meta <state>/<cluster>/meta-before.yaml): keep that copy. */
static int save_meta_before(const struct tf_enable *e, struct tf_err *err)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int r;

	if (e->state_dir == NULL)
		return 0;
	if ((r = tf_read_file(e->meta_path, 4u << 20, &buf, &len, err)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", e->state_dir, META_BEFORE_FILE);
	r = tf_write_file_atomic(path, buf, len, 0600, err);
	free(buf);
	return r;
}

int tf_enable_list_has_version(const char *out, const char *version)
{
	size_t n = strlen(version);
	const char *p;

	if (n == 0)
		return 0;
	for (p = out; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, version, n) == 0 &&
		    (p[n] == ' ' || p[n] == '\t' || p[n] == '\n' || p[n] == '\r' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* The mirror TiUP has now (the restored one) must list pd, tikv and tidb at the cluster's
 * version: `tls enable` resolves their binaries' entries there for its config check (checkConfig,
 * pkg/cluster/spec/server_config.go, not skippable for tls) and fails only after it copied the
 * certificates; scale-out downloads pd from it (operation.Download). Checked with `tiup list`
 * before anything changes. */
static int check_mirror_lists(struct tf_enable *e, const struct tf_topology *t, struct tf_err *err)
{
	static const char *const comps[] = {"pd", "tikv", "tidb"};
	char missing[256] = "";
	size_t i, k, m = 0;
	int r;

	if (t->version == NULL || t->version[0] == '\0' || strstr(t->version, "nightly") != NULL) {
		tf_log_warn(
		    "meta.yaml names no released cluster version: the TiUP mirror's pd, tikv "
		    "and tidb were not checked");
		return 0;
	}
	for (k = 0; k < sizeof(comps) / sizeof(comps[0]); k++) {
		const char *args[] = {"list", comps[k], NULL};
		char *out = NULL;
		struct tf_err lerr;
		int found = 0;

		for (i = 0; i < t->ninstances; i++)
			found |= strcmp(t->instances[i].role, comps[k]) == 0;
		if (!found)
			continue;
		tf_err_clear(&lerr);
		r = e->run_tiup(e->run_arg, "preflight", args, &out, &lerr);
		if (r == 0 && tf_enable_list_has_version(out, t->version)) {
			free(out);
			continue;
		}
		free(out);
		if (r != 0 && r != TF_E_FAIL)
			return tf_err_set(err, r, "%s", lerr.msg);
		snprintf(missing + m, sizeof(missing) - m, "%s%s", m ? ", " : "", comps[k]);
		m = strlen(missing);
	}
	if (m == 0)
		return 0;
	return tf_err_set(
	    err, TF_E_FAIL,
	    "TiUP's current mirror (the restored one) does not list %s %s: 'tiup cluster tls "
	    "enable' "
	    "resolves them at the cluster's version from that mirror (checkConfig) and "
	    "would fail after copying certificates, and scale-out downloads pd from it; "
	    "add %s %s to the production mirror (e.g. 'tiup mirror merge' of an "
	    "offline package that has them), check with 'tiup list pd', then resume",
	    missing, t->version, missing, t->version);
}

int tf_enable_preflight(struct tf_enable *e, struct tf_err *err)
{
	struct tf_topology *t = NULL;
	struct tf_preflight_report *rep = NULL;
	struct pd_hook hook;
	struct endpoints ep = {0};
	struct tf_ssh_opts so;
	struct tf_preflight_params pp;
	char leader[TF_TOPO_ID_MAX], removed[MAX_PD * TF_TOPO_ID_MAX];
	const char *remove[MAX_PD + 1];
	char *copy = NULL, *tok, *save = NULL;
	size_t n = 0;
	int r, attempt;

	memset(&hook, 0, sizeof(hook));
	if ((r = tf_enable_load_meta(e, &t, err)) != 0)
		goto out;
	tf_enable_meta_endpoints(t, &ep);
	if (ep.n == 0) {
		r = tf_err_set(err, TF_E_INPUT, "cluster '%s': meta.yaml lists no PD", e->cluster);
		goto out;
	}
	if ((r = check_mirror_lists(e, t, err)) != 0) {
		tf_err_prefix(err, "preflight refused before any change");
		goto out;
	}
	/* Before TLS, etcd's API is plain http; on a cluster that has TLS already (a second
	 * bundle, or a resume) it takes the cluster's client certificate. */
	if ((r = tf_enable_api_open(e, t->enable_tls, &hook.api, err)) != 0)
		goto out;
	if ((r = find_leader(&hook.api, &ep, leader, sizeof(leader), removed, sizeof(removed),
	                     err)) != 0) {
		tf_err_prefix(err, "preflight refused before any change");
		goto out;
	}
	/* A rerun keeps what an earlier run chose (the leader may have moved since). */
	if (tf_journal_get(e->journal, KEY_REMOVED) != NULL &&
	    tf_journal_get(e->journal, KEY_LEADER) != NULL &&
	    tf_enable_meta_pd(t, tf_journal_get(e->journal, KEY_LEADER)) != NULL) {
		snprintf(leader, sizeof(leader), "%s", tf_journal_get(e->journal, KEY_LEADER));
		snprintf(removed, sizeof(removed), "%s", tf_journal_get(e->journal, KEY_REMOVED));
	}
	if ((copy = strdup(removed)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok && n < MAX_PD; tok = strtok_r(NULL, ",", &save))
		if (tf_enable_meta_pd(t, tok) !=
		    NULL) /* only members still there have ports to check */
			remove[n++] = tok;
	remove[n] = NULL;
	memset(&so, 0, sizeof(so));
	so.user = t->user;
	so.identity = e->ssh_key;
	so.known_hosts = e->known_hosts;
	so.pin_unknown = e->pin_unknown_hosts;
	memset(&pp, 0, sizeof(pp));
	pp.topo = t;
	pp.ssh = &so;
	pp.parallel = e->parallel;
	pp.node_exporter_port = node_exporter_port(e);
	pp.stop_duplicates = e->stop_duplicate_exporters;
	pp.min_free_kb = e->min_free_kb;
	pp.pd_remove = remove;
	pp.pd_check = pd_check;
	pp.pd_check_arg = &hook;
	pp.hooks.host = preflight_host;
	pp.hooks.command = preflight_command;
	pp.hooks.arg = e;
	tf_log_info("preflight: %zu instances; PD leader %s is kept, %s to be scaled in",
	            t->ninstances, leader, removed[0] ? removed : "no other PD");
	for (attempt = 0; attempt < 2; attempt++) {
		tf_preflight_report_free(rep);
		rep = NULL;
		r = tf_preflight_run(&pp, &rep, err);
		/* A connection that dropped (TF_E_SSH_LOST) or timed out gets one more try. */
		if (r == 0 || rep == NULL || !only_unreachable(rep) || attempt == 1)
			break;
		tf_log_info("preflight: a host could not be reached (%s); trying once more",
		            err->msg);
		tf_enable_nap_ms(1000);
	}
	if (rep != NULL) {
		report_items(e, rep);
		(void)save_report(e, rep);
	}
	if (r != 0)
		goto out;
	if (rep == NULL) {
		r = tf_err_set(err, TF_E_FAIL, "preflight gave no report");
		goto out;
	}
	if ((r = tf_journal_set(e->journal, KEY_LEADER, leader, err)) != 0 ||
	    (r = tf_journal_set(e->journal, KEY_REMOVED, removed, err)) != 0 ||
	    (r = save_meta_before(e, err)) != 0)
		goto out;
	{
		char d[sizeof(removed) + 400];

		snprintf(d, sizeof(d),
		         "%zu hosts passed in %.1fs%s; leader %s kept; to scale in: %s",
		         rep->nhosts, rep->seconds,
		         rep->nfixed ? "; duplicate node_exporter units stopped" : "", leader,
		         removed[0] ? removed : "none");
		tf_enable_audit_note(e, "preflight", NULL, d);
	}
out:
	free(copy);
	tf_enable_api_close(&hook.api);
	tf_preflight_report_free(rep);
	tf_topology_free(t);
	return r;
}

/* ---- health ---- */

/* Every member https, healthy, one leader. healthy[i]: node i answered /health; *leader: the
 * leader's index in pt (or pt->n when not known). */
static int pd_health(const struct tf_enable *e, const struct pd_topo *pt, int *healthy,
                     size_t *leader, struct tf_err *err)
{
	struct api api = {0};
	const char *hosts[MAX_PD] = {NULL};
	unsigned ports[MAX_PD] = {0};
	struct tf_pd_members members = {0};
	const struct tf_pd_member *m;
	char lead[64] = "";
	size_t i;
	int r, leader_listed = 0, is_leader = 0;

	if ((r = tf_enable_api_open(e, 1, &api, err)) != 0)
		return r;
	for (i = 0; i < pt->n; i++) {
		hosts[i] = pt->nodes[i].host;
		ports[i] = pt->nodes[i].client_port;
	}
	if ((r = tf_pd_member_list(&api.pd, hosts, ports, pt->n, &members, err)) != 0)
		goto out;
	if (members.n != pt->n) {
		r = tf_err_set(err, TF_E_FAIL,
		               "etcd lists %d PD members, the bundle's topology %zu",
		               (int)members.n, pt->n);
		goto out;
	}
	for (m = members.m; m < members.m + members.n; m++) {
		const char *bad = tf_pd_plain_url(m->peer_urls, m->npeer);

		if (bad == NULL)
			bad = tf_pd_plain_url(m->client_urls, m->nclient);
		if (bad != NULL) {
			char hex[24];

			tf_pd_member_id_hex(m, hex, sizeof(hex));
			r = tf_err_set(err, TF_E_FAIL, "PD member %s (id %s) has URL %s, not https",
			               m->name ? m->name : "(unnamed)", hex, bad);
			goto out;
		}
	}
	for (i = 0; i < pt->n; i++) {
		if ((r = tf_pd_health(&api.pd, hosts[i], ports[i], err)) != 0) {
			tf_err_prefix(err, "PD %s", pt->nodes[i].name);
			goto out;
		}
		healthy[i] = 1;
	}
	if ((r = tf_pd_status(&api.pd, hosts[0], ports[0], &is_leader, lead, sizeof(lead), err)) !=
	    0)
		goto out;
	for (m = members.m; m < members.m + members.n; m++) {
		const char *id = m->id;

		leader_listed |= id != NULL && strcmp(id, lead) == 0;
	}
	for (i = 0; i < pt->n; i++) {
		const struct tf_pd_member *lm =
		    tf_pd_member_by_peer(&members, pt->nodes[i].host, pt->nodes[i].peer_port);

		if (lm != NULL && lm->id != NULL && strcmp(lm->id, lead) == 0)
			*leader = i;
	}
	if (!leader_listed)
		r = tf_err_set(err, TF_E_FAIL, "the PD leader %s is not among the members", lead);
out:
	tf_pd_members_release(&members);
	tf_enable_api_close(&api);
	return r;
}

static int run_verify(const struct tf_enable *e, struct tf_err *err)
{
	struct tf_verify_opts vo;
	struct tf_verify_report rep;
	char *json = NULL, path[PATH_MAX];
	size_t len = 0, i;
	struct tf_err werr;
	int r;

	memset(&vo, 0, sizeof(vo));
	vo.cluster = e->cluster;
	vo.tiup_home = e->tiup_home;
	/* the receipt covers the nodes' tls/ folders and TiUP on this host too */
	vo.host_checks = 1;
	vo.known_hosts = e->known_hosts;
	tf_verify_report_init(&rep);
	if ((r = tf_verify_run(&vo, &rep, err)) != 0) {
		tf_err_prefix(err, "verify");
		goto out;
	}
	if (e->state_dir != NULL &&
	    tf_verify_render_json(&rep, NULL, NULL, &json, &len, &werr) == 0) {
		snprintf(path, sizeof(path), "%s/%s", e->state_dir, VERIFY_FILE);
		if (tf_write_file_atomic(path, json, len, 0600, &werr) != 0)
			tf_log_warn("verify report not saved: %s", werr.msg);
	}
	/* The health step ends with the change ticket's receipt, signed by this host's key. */
	if (e->state_dir != NULL && tf_verify_exit_code(&rep) == 0) {
		struct tf_sigkey *key = NULL;
		int created = 0;

		snprintf(path, sizeof(path), "%s/receipt-%s.json", e->state_dir,
		         e->journal && e->journal->bundle_id ? e->journal->bundle_id : "install");
		if ((r = tf_receipt_key_open(NULL, NULL, tf_paths_state_root(), &key, &created,
		                             err)) != 0 ||
		    (r = tf_verify_write_receipt(&rep, e->journal ? e->journal->bundle_id : NULL,
		                                 key, path, err)) != 0) {
			tf_sigkey_free(key);
			tf_err_prefix(err, "receipt");
			goto out;
		}
		tf_sigkey_free(key);
		tf_log_info("receipt for the change ticket: %s (and .sig; check it with "
		            "tiferry-build inspect --receipt FILE --key %s/%s.pub)",
		            path, tf_paths_state_root(), TF_RECEIPT_KEY_NAME);
	}
	for (i = 0; i < rep.nchecks; i++)
		if (rep.checks[i].status == TF_V_WARN)
			tf_log_info("verify: warning: %s %s: %s", rep.checks[i].id,
			            rep.checks[i].target,
			            rep.checks[i].detail ? rep.checks[i].detail : "");
	if (tf_verify_exit_code(&rep) != 0) {
		const struct tf_vcheck *f = NULL;

		/* a check that could not decide stops the install as a failure does */
		enum tf_vstatus bad = rep.counts[TF_V_FAIL] ? TF_V_FAIL : TF_V_UNKNOWN;

		for (i = 0; i < rep.nchecks && f == NULL; i++)
			if (rep.checks[i].status == bad)
				f = &rep.checks[i];
		r = tf_err_set(err, TF_E_FAIL,
		               "verify: %zu check%s %s, first %s on %s: %s (run 'tiferry "
		               "verify --cluster %s')",
		               rep.counts[bad], rep.counts[bad] == 1 ? "" : "s",
		               bad == TF_V_FAIL ? "failed" : "could not decide", f ? f->id : "?",
		               f ? f->target : "?", f && f->detail ? f->detail : "", e->cluster);
		goto out;
	}
	{
		char d[200];

		snprintf(d, sizeof(d), "verify: %zu checks passed, %zu warnings, %zu skipped",
		         rep.counts[TF_V_PASS], rep.counts[TF_V_WARN], rep.counts[TF_V_SKIP]);
		tf_log_info("%s", d);
		tf_enable_audit_note(e, "health", NULL, d);
	}
out:
	free(json);
	tf_verify_report_release(&rep);
	return r;
}

int tf_enable_health(struct tf_enable *e, struct tf_err *err)
{
	struct tf_topology *t = NULL;
	struct pd_topo pt;
	double deadline;
	int healthy[MAX_PD], r;
	size_t i, leader;

	memset(&pt, 0, sizeof(pt));
	if ((r = tf_enable_pd_topo_load(e, &pt, err)) != 0 ||
	    (r = tf_enable_load_meta(e, &t, err)) != 0)
		goto out;
	if (!t->enable_tls) {
		r = tf_err_set(err, TF_E_FAIL, "cluster '%s': meta.yaml does not say enable_tls",
		               e->cluster);
		goto out;
	}
	for (i = 0; i < pt.n; i++)
		tf_view_host(e->view, pt.nodes[i].id, TF_VIEW_RUNNING,
		             "checking https, health, leader");
	/* A leader election after the scale-out can take a moment. */
	deadline = tf_monotonic() + tf_enable_wait_s(e);
	for (;;) {
		memset(healthy, 0, sizeof(healthy));
		leader = pt.n;
		if ((r = pd_health(e, &pt, healthy, &leader, err)) == 0 ||
		    tf_monotonic() >= deadline)
			break;
		tf_enable_nap_ms(POLL_MS);
	}
	for (i = 0; i < pt.n; i++)
		if (healthy[i])
			tf_view_host(e->view, pt.nodes[i].id, TF_VIEW_OK,
			             "member %s https, healthy%s", pt.nodes[i].name,
			             i == leader ? ", leader" : "");
	if (r != 0)
		goto out;
	r = run_verify(e, err);
out:
	tf_topology_free(t);
	tf_enable_pd_topo_release(&pt);
	return r;
}
