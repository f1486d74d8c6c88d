/* tiferry install's PD steps: scale PD in to the leader, `tiup cluster tls enable`, repair of
 * http:// peer URLs through etcd's API, and scale PD back out from the bundle's topology. */
#include "installer/enable_int.h"
#include "crypto/sigkey.h"
#include "manifests/check.h"
#include "manifests/receipt.h"
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

static const char *component(const struct tf_enable *e)
{
	return e->cluster_component ? e->cluster_component : "cluster";
}

/* 1 when the comma-separated list holds item. */
static int in_list(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (p != NULL && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, item, n) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static size_t meta_pd_count(const struct tf_topology *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->ninstances; i++)
		n += strcmp(t->instances[i].role, "pd") == 0;
	return n;
}

static const struct pd_node *pd_find(const struct pd_topo *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->nodes[i].id, id) == 0)
			return &p->nodes[i];
	return NULL;
}

/* ---- TCP ports, seen from the control host ---- */

/* 1 when something accepts a TCP connection on host:port, 0 when refused or silent. */
static int port_open(const char *host, unsigned port)
{
	struct addrinfo hints, *ai = NULL, *a;
	char svc[16];
	int open_ = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(svc, sizeof(svc), "%u", port);
	if (getaddrinfo(host, svc, &hints, &ai) != 0)
		return 0;
	for (a = ai; a != NULL && !open_; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		struct pollfd pfd;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			open_ = 1;
		} else if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 1000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				open_ = 1;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return open_;
}

/* ---- scale-in ---- */

static const char *removed_list(const struct tf_enable *e, struct tf_err *err)
{
	const char *v = tf_journal_get(e->journal, KEY_REMOVED);

	if (v == NULL)
		tf_err_set(err, TF_E_FAIL,
		           "the journal does not name the PD members to scale in (the preflight "
		           "records them); "
		           "run 'tiferry status' and resume the install");
	return v;
}

/* Waits until neither the client nor the peer port of nd accepts connections. */
static int wait_ports_free(const struct tf_enable *e, const struct pd_node *nd, struct tf_err *err)
{
	double deadline = tf_monotonic() + tf_enable_wait_s(e);

	for (;;) {
		int c = port_open(nd->host, nd->client_port),
		    p = port_open(nd->host, nd->peer_port);

		if (!c && !p)
			return 0;
		if (tf_monotonic() >= deadline)
			return tf_err_set(err, TF_E_FAIL,
			                  "PD %s on %s: %s%s%s still open %us after scale-in; stop "
			                  "the member there "
			                  "(systemctl stop pd-%u) and resume",
			                  nd->name, nd->host, c ? "client port" : "",
			                  c && p ? " and " : "", p ? "peer port" : "",
			                  tf_enable_wait_s(e), nd->client_port);
		tf_enable_nap_ms(POLL_MS);
	}
}

int tf_enable_scale_in(struct tf_enable *e, struct tf_err *err)
{
	struct tf_topology *t = NULL;
	struct pd_topo pt;
	struct endpoints ep = {0};
	struct api api = {0};
	struct tf_pd_members members = {0};
	const char *removed;
	char nodes[MAX_PD * 300] = "";
	char *copy = NULL, *tok, *save = NULL;
	int r;

	memset(&pt, 0, sizeof(pt));
	if ((removed = removed_list(e, err)) == NULL)
		return err->code;
	if ((r = tf_enable_pd_topo_load(e, &pt, err)) != 0 ||
	    (r = tf_enable_load_meta(e, &t, err)) != 0)
		goto out;
	if ((copy = strdup(removed)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(nodes);

		if (pd_find(&pt, tok) == NULL) {
			r = tf_err_set(err, TF_E_INPUT,
			               "PD %s is not in the bundle's PD topology: it could not be "
			               "scaled out again; "
			               "refusing to scale it in",
			               tok);
			goto out;
		}
		if (tf_enable_meta_pd(t, tok) !=
		    NULL) { /* else already gone: nothing to do for it */
			snprintf(nodes + n, sizeof(nodes) - n, "%s%s", n ? "," : "", tok);
			tf_view_host(e->view, tok, TF_VIEW_RUNNING, "scaling in");
		} else {
			tf_view_host(e->view, tok, TF_VIEW_RUNNING, "scaled in already");
		}
	}
	if (nodes[0] != '\0') {
		const char *args[] = {component(e), "scale-in", e->cluster, "-N",
		                      nodes,        "-y",       NULL};

		tf_log_info("scaling PD in to the leader %s: removing %s",
		            tf_journal_get(e->journal, KEY_LEADER)
		                ? tf_journal_get(e->journal, KEY_LEADER)
		                : "?",
		            nodes);
		if ((r = e->run_tiup(e->run_arg, "scale-in-pd", args, NULL, err)) != 0) {
			tf_err_prefix(err, "scale-in of PD %s", nodes);
			goto out;
		}
	} else if (removed[0] != '\0') {
		tf_log_info("PD %s already scaled in", removed);
	}
	/* The nodes are gone from meta.yaml; wait for their ports, then make sure etcd agrees. */
	free(copy);
	if ((copy = strdup(removed)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	save = NULL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tf_view_host(e->view, tok, TF_VIEW_RUNNING, "waiting for its ports to be free");
		if ((r = wait_ports_free(e, pd_find(&pt, tok), err)) != 0) {
			tf_view_host(e->view, tok, TF_VIEW_FAILED, "%s", err->msg);
			goto out;
		}
	}
	tf_topology_free(t);
	t = NULL;
	if ((r = tf_enable_load_meta(e, &t, err)) != 0 ||
	    (r = tf_enable_api_open(e, t->enable_tls, &api, err)) != 0)
		goto out;
	tf_enable_meta_endpoints(t, &ep);
	if ((r = tf_pd_member_list(&api.pd, ep.host, ep.port, ep.n, &members, err)) != 0) {
		tf_err_prefix(err, "after scale-in, the PD member list");
		goto out;
	}
	free(copy);
	if ((copy = strdup(removed)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	save = NULL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct pd_node *nd = pd_find(&pt, tok);

		const struct tf_pd_member *m =
		    tf_pd_member_by_peer(&members, nd->host, nd->peer_port);

		if (m != NULL) {
			char hex[24];

			tf_pd_member_id_hex(m, hex, sizeof(hex));
			r = tf_err_set(
			    err, TF_E_FAIL,
			    "PD %s was scaled in but etcd still lists it as member %s; "
			    "remove it with 'tiup ctl:<cluster version> etcd member remove "
			    "%s' and resume",
			    nd->name, hex, hex);
			tf_view_host(e->view, tok, TF_VIEW_FAILED, "etcd still lists it");
			goto out;
		}
		tf_view_host(e->view, tok, TF_VIEW_OK, "removed: ports free, not an etcd member");
	}
	if (removed[0] != '\0') {
		char d[MAX_PD * 300 + 64];

		snprintf(d, sizeof(d), "PD scaled in, ports free: %s", removed);
		tf_enable_audit_note(e, "scale-in-pd", NULL, d);
	}
	r = 0;
out:
	tf_pd_members_release(&members);
	tf_enable_api_close(&api);
	free(copy);
	tf_topology_free(t);
	tf_enable_pd_topo_release(&pt);
	return r;
}

/* ---- tls enable ---- */

/* 0 when some PD of meta.yaml lists members over mutual TLS (waiting up to secs). */
static int pd_mtls_answers(const struct tf_enable *e, const struct tf_topology *t, unsigned secs,
                           struct tf_err *err)
{
	struct api api = {0};
	struct endpoints ep = {0};
	struct tf_pd_members members = {0};
	double deadline = tf_monotonic() + secs;
	int r;

	if ((r = tf_enable_api_open(e, 1, &api, err)) != 0)
		return r;
	tf_enable_meta_endpoints(t, &ep);
	for (;;) {
		if ((r = tf_pd_member_list(&api.pd, ep.host, ep.port, ep.n, &members, err)) == 0 ||
		    tf_monotonic() >= deadline)
			break;
		tf_enable_nap_ms(POLL_MS);
	}
	tf_pd_members_release(&members);
	tf_enable_api_close(&api);
	return r;
}

int tf_enable_tls(struct tf_enable *e, struct tf_err *err)
{
	const char *args[] = {component(e), "tls", e->cluster, "enable", "-y", NULL};
	struct tf_topology *t = NULL;
	struct tf_err probe, tiup_err;
	int r;

	tf_err_clear(&probe);
	tf_err_clear(&tiup_err);
	if ((r = tf_enable_load_meta(e, &t, err)) != 0)
		goto out;
	if (t->enable_tls && pd_mtls_answers(e, t, 0, &probe) == 0) {
		tf_log_info(
		    "TLS is already enabled on '%s' and PD answers with the client certificate",
		    e->cluster);
		goto out;
	}
	if (meta_pd_count(t) != 1)
		tf_log_warn("meta.yaml lists %zu PD; tiup tls enable needs exactly one",
		            meta_pd_count(t));
	tf_log_info("enabling TLS on '%s' (the whole cluster restarts)", e->cluster);
	r = e->run_tiup(e->run_arg, "tls-enable", args, NULL, &tiup_err);
	tf_topology_free(t);
	t = NULL;
	if (r == 0) {
		if ((r = tf_enable_load_meta(e, &t, err)) != 0)
			goto out;
		if (!t->enable_tls) {
			r = tf_err_set(err, TF_E_FAIL,
			               "'tiup %s tls %s enable' succeeded but meta.yaml does not "
			               "say enable_tls",
			               component(e), e->cluster);
			goto out;
		}
		if ((r = pd_mtls_answers(e, t, tf_enable_wait_s(e), err)) != 0) {
			tf_err_prefix(
			    err, "TLS enabled but PD does not answer with the client certificate");
			goto out;
		}
		goto out;
	}
	/* TiUP saves meta.yaml before the restart; if PD answers over mutual TLS, the restart
	 * happened and what may be left is the peer-URL update (tikv/pd#2996): repair-peers. */
	if (tf_enable_load_meta(e, &t, &probe) == 0 && t->enable_tls &&
	    pd_mtls_answers(e, t, 10, &probe) == 0) {
		char d[TF_ERR_MSG_MAX + 160];

		snprintf(d, sizeof(d),
		         "tiup tls enable failed after the restart (%s); PD serves TLS: the peer "
		         "URLs are "
		         "repaired through etcd next",
		         tiup_err.msg);
		tf_log_warn("%s", d);
		tf_enable_audit_note(e, "tls-enable", NULL, d);
		r = 0;
		goto out;
	}
	*err = tiup_err;
	r = tf_err_prefix(err,
	                  "TLS enable failed and PD does not serve TLS yet (%s); after fixing the "
	                  "cause, resume",
	                  probe.msg[0] ? probe.msg : "meta.yaml does not say enable_tls");
out:
	tf_topology_free(t);
	return r;
}

/* ---- peer URLs ---- */

static char *https_of(const char *url)
{
	char *s = NULL;

	if (strncmp(url, "http://", 7) == 0) {
		if (asprintf(&s, "https://%s", url + 7) < 0)
			s = NULL;
	} else {
		s = strdup(url);
	}
	return s;
}

static int update_peers(const struct api *a, const struct endpoints *ep,
                        const struct tf_pd_member *m, const struct tf_enable *e, struct tf_err *err)
{
	const char *id = m->id;
	char **urls = NULL, d[1200] = "";
	size_t i, nurls = 0;
	int r = TF_E_NOMEM;

	if (id == NULL)
		return tf_err_set(err, TF_E_FAIL, "member %s has no ID in the member list",
		                  m->name ? m->name : "(unnamed)");
	if (m->npeer > 0 && (urls = calloc(m->npeer, sizeof(*urls))) == NULL)
		goto out;
	for (nurls = 0; nurls < m->npeer; nurls++) {
		const char *u = m->peer_urls[nurls];
		size_t n = strlen(d);

		if (u == NULL || (urls[nurls] = https_of(u)) == NULL)
			goto out;
		snprintf(d + n, sizeof(d) - n, "%s%s -> %s", n ? ", " : "", u, urls[nurls]);
	}
	if ((r = tf_pd_update_peers(&a->pd, ep->host, ep->port, ep->n, id,
	                            (const char *const *)urls, nurls, err)) != 0) {
		if (r != TF_E_NOMEM)
			tf_err_prefix(err, "update the peer URLs of PD member %s",
			              m->name ? m->name : id);
		goto out;
	}
	{
		char note[1400];

		snprintf(note, sizeof(note), "member %s peerURLs updated: %s",
		         m->name ? m->name : id, d);
		tf_log_info("%s", note);
		tf_enable_audit_note(e, "repair-peers", NULL, note);
	}
out:
	if (r == TF_E_NOMEM)
		tf_err_nomem(err);
	for (i = 0; i < nurls && urls != NULL; i++)
		free(urls[i]);
	free(urls);
	return r;
}

int tf_enable_repair_peers(struct tf_enable *e, struct tf_err *err)
{
	struct tf_topology *t = NULL;
	struct api api = {0};
	struct endpoints ep = {0};
	struct tf_pd_members members = {0};
	const struct tf_pd_member *m;
	double deadline;
	size_t fixed = 0;
	int r;

	if ((r = tf_enable_load_meta(e, &t, err)) != 0 ||
	    (r = tf_enable_api_open(e, 1, &api, err)) != 0)
		goto out;
	tf_enable_meta_endpoints(t, &ep);
	deadline = tf_monotonic() + tf_enable_wait_s(e);
	while ((r = tf_pd_member_list(&api.pd, ep.host, ep.port, ep.n, &members, err)) != 0) {
		if (tf_monotonic() >= deadline) {
			tf_err_prefix(err, "PD member list over mutual TLS with '%s/client.crt'",
			              e->tls_dir);
			goto out;
		}
		tf_enable_nap_ms(POLL_MS);
	}
	for (m = members.m; m < members.m + members.n; m++) {
		if (tf_pd_plain_url(m->peer_urls, m->npeer) == NULL)
			continue;
		if ((r = update_peers(&api, &ep, m, e, err)) != 0)
			goto out;
		fixed++;
	}
	if (fixed == 0) {
		tf_log_info("every PD peer URL is https already");
		goto out;
	}
	tf_pd_members_release(&members);
	if ((r = tf_pd_member_list(&api.pd, ep.host, ep.port, ep.n, &members, err)) != 0) {
		tf_err_prefix(err, "re-reading the member list after the peer-URL update");
		goto out;
	}
	for (m = members.m; m < members.m + members.n; m++) {
		const char *bad = tf_pd_plain_url(m->peer_urls, m->npeer);

		if (bad != NULL) {
			r = tf_err_set(
			    err, TF_E_FAIL,
			    "PD member %s still has peer URL %s after the update; run "
			    "'tiup ctl:<cluster version> etcd member update' with https:// and "
			    "resume",
			    m->name ? m->name : "(unnamed)", bad);
			goto out;
		}
	}
out:
	tf_pd_members_release(&members);
	tf_enable_api_close(&api);
	tf_topology_free(t);
	return r;
}

/* ---- scale-out ---- */

/* Writes the scale-out topology holding only the nodes in add (indexes into pt). */
static int write_scale_out(const struct tf_enable *e, const struct pd_topo *pt, const size_t *add,
                           size_t nadd, char *path, size_t plen, struct tf_err *err)
{
	struct tf_yaml doc, seq, *items[1], *list[MAX_PD];
	char *key = "pd_servers", *text = NULL;
	size_t len = 0, i;
	int r;

	for (i = 0; i < nadd; i++)
		list[i] = pt->nodes[add[i]].spec;
	memset(&seq, 0, sizeof(seq));
	seq.kind = TF_YAML_SEQ;
	seq.n = nadd;
	seq.items = list;
	items[0] = &seq;
	memset(&doc, 0, sizeof(doc));
	doc.kind = TF_YAML_MAP;
	doc.n = 1;
	doc.keys = &key;
	doc.items = items;
	if ((r = tf_yaml_emit(&doc, &text, &len, err)) != 0)
		return r;
	snprintf(path, plen, "%s/%s", e->state_dir, SCALE_OUT_FILE);
	r = tf_write_file_atomic(path, text, len, 0600, err);
	free(text);
	return r;
}

/* Waits until etcd lists every node of pt, started, and each answers /health. */
static int wait_members(const struct tf_enable *e, const struct pd_topo *pt, int tls,
                        struct tf_err *err)
{
	struct api api = {0};
	const char *hosts[MAX_PD] = {NULL};
	unsigned ports[MAX_PD] = {0};
	double deadline = tf_monotonic() + tf_enable_wait_s(e);
	size_t i;
	int r;

	if ((r = tf_enable_api_open(e, tls, &api, err)) != 0)
		return r;
	for (i = 0; i < pt->n; i++) {
		hosts[i] = pt->nodes[i].host;
		ports[i] = pt->nodes[i].client_port;
	}
	for (;;) {
		struct tf_pd_members members = {0};

		r = tf_pd_member_list(&api.pd, hosts, ports, pt->n, &members, err);
		if (r == 0 && members.n != pt->n)
			r = tf_err_set(err, TF_E_FAIL,
			               "etcd lists %d PD members, the bundle's topology %zu",
			               (int)members.n, pt->n);
		for (i = 0; r == 0 && i < pt->n; i++) {
			const struct tf_pd_member *m = tf_pd_member_by_peer(
			    &members, pt->nodes[i].host, pt->nodes[i].peer_port);

			if (m == NULL || !tf_pd_member_started(m))
				r = tf_err_set(err, TF_E_FAIL, "PD %s is %s", pt->nodes[i].name,
				               m ? "added but not started" : "not a member");
			else
				r = tf_pd_health(&api.pd, pt->nodes[i].host,
				                 pt->nodes[i].client_port, err);
		}
		tf_pd_members_release(&members);
		if (r == 0 || tf_monotonic() >= deadline)
			break;
		tf_enable_nap_ms(POLL_MS);
	}
	tf_enable_api_close(&api);
	if (r != 0)
		tf_err_prefix(err, "PD not healthy with %zu members after %us", pt->n,
		              tf_enable_wait_s(e));
	return r;
}

/* Removes member m of node nd: added to etcd by a join that never finished, it has no name.
 * PD v8.5's join refuses to start while any such member is listed ("there is a member <id>
 * that has not joined successfully", tikv/pd server/join/join.go PrepareJoinCluster; only
 * tikv/pd#9199, v9.0.0-beta.2.pre on, starts it as that member). Removing it lets the PD join
 * afresh on every version; it needs quorum. Audited, the ID in hex as etcdctl takes it. */
static int remove_stale(const struct tf_enable *e, const struct api *a, const struct endpoints *ep,
                        const struct pd_node *nd, const struct tf_pd_member *m, struct tf_err *err)
{
	char hex[24], note[800];

	tf_pd_member_id_hex(m, hex, sizeof(hex));
	if (m->id_kind != TF_PD_ID_TEXT || m->id == NULL)
		return tf_err_set(
		    err, TF_E_FAIL,
		    "PD %s: etcd lists a member for peer %s:%u that never started, "
		    "without an ID tiferry can use; remove it with 'tiup ctl:<cluster "
		    "version> etcd member remove <hex id>' and resume",
		    nd->name, nd->host, nd->peer_port);
	snprintf(note, sizeof(note),
	         "PD %s: removing etcd member %s (peer %s:%u), added by a join that never "
	         "started; PD v8.5 refuses to join while it is listed",
	         nd->name, hex, nd->host, nd->peer_port);
	tf_log_warn("%s", note);
	tf_view_host(e->view, nd->id, TF_VIEW_RUNNING, "removing stale etcd member %s", hex);
	if (tf_pd_member_remove(&a->pd, ep->host, ep->port, ep->n, m->id, err) != 0)
		return tf_err_prefix(
		    err,
		    "remove etcd member %s of PD %s (added, never started): etcd "
		    "needs quorum for it; once the other members are up, run "
		    "'tiup ctl:<cluster version> etcd member remove %s' and resume",
		    hex, nd->name, hex);
	snprintf(note, sizeof(note),
	         "removed etcd member %s (peer %s:%u) of PD %s: added, never started", hex,
	         nd->host, nd->peer_port, nd->name);
	tf_enable_audit_note(e, "scale-out-pd", nd->id, note);
	return 0;
}

int tf_enable_scale_out(struct tf_enable *e, struct tf_err *err)
{
	struct tf_topology *t = NULL;
	struct pd_topo pt;
	struct endpoints ep = {0};
	struct api api = {0};
	struct tf_pd_members members = {0};
	const char *removed;
	size_t add[MAX_PD], nadd = 0, start[MAX_PD], nstart = 0, i;
	char path[PATH_MAX], names[MAX_PD * 300] = "", started[MAX_PD * 300] = "";
	int r;

	memset(&pt, 0, sizeof(pt));
	if ((removed = removed_list(e, err)) == NULL)
		return err->code;
	if ((r = tf_enable_pd_topo_load(e, &pt, err)) != 0 ||
	    (r = tf_enable_load_meta(e, &t, err)) != 0)
		goto out;
	/* Ours to bring back: not in meta.yaml (scale-out), or in it but not a started member:
	 * TiUP saves meta before "Start new instances" (buildScaleOutTask), so a cut scale-out
	 * leaves PDs listed that never started (issue 12 §2f). */
	if ((r = tf_enable_api_open(e, t->enable_tls, &api, err)) != 0)
		goto out;
	tf_enable_meta_endpoints(t, &ep);
	if ((r = tf_pd_member_list(&api.pd, ep.host, ep.port, ep.n, &members, err)) != 0) {
		tf_err_prefix(err, "before scale-out, the PD member list");
		goto out;
	}
	for (i = 0; i < pt.n; i++) {
		const struct pd_node *nd = &pt.nodes[i];
		const struct tf_pd_member *m =
		    tf_pd_member_by_peer(&members, nd->host, nd->peer_port);
		int in_meta = tf_enable_meta_pd(t, nd->id) != NULL;

		if (!in_list(removed, nd->id) || (in_meta && m != NULL && tf_pd_member_started(m)))
			continue; /* not ours to add, or back and started */
		if (m != NULL && !tf_pd_member_started(m) &&
		    (r = remove_stale(e, &api, &ep, nd, m, err)) != 0) {
			tf_view_host(e->view, nd->id, TF_VIEW_FAILED, "stale etcd member");
			goto out;
		}
		if (in_meta)
			start[nstart++] = i;
		else
			add[nadd++] = i;
	}
	/* One PD at a time, as TiUP's scale-out starts them (serialStartInstances). */
	for (i = 0; i < nstart; i++) {
		const struct pd_node *nd = &pt.nodes[start[i]];
		const char *args[] = {component(e), "start", e->cluster, "-N", nd->id, NULL};
		size_t n = strlen(started);

		tf_view_host(e->view, nd->id, TF_VIEW_RUNNING,
		             "in meta.yaml, not started: starting");
		tf_log_info("PD %s is in meta.yaml but was never started (a scale-out cut after "
		            "TiUP saved meta): starting it",
		            nd->id);
		if ((r = e->run_tiup(e->run_arg, "scale-out-pd", args, NULL, err)) != 0) {
			tf_err_prefix(err, "start of PD %s", nd->id);
			goto out;
		}
		snprintf(started + n, sizeof(started) - n, "%s%s", n ? "," : "", nd->id);
	}
	for (i = 0; i < nadd; i++) {
		size_t n = strlen(names);

		snprintf(names + n, sizeof(names) - n, "%s%s", n ? "," : "", pt.nodes[add[i]].id);
	}
	if (nadd > 0) {
		/* Hosts that held only PD left the topology at scale-in: TiUP logs in to them again
		 * as --user with -i (RootSSH, EnvInit) and refuses without credentials
		 * (tui.ReadIdentityFileOrPassword): the deploy user and the cluster's key. */
		const char *key = e->ssh_key ? e->ssh_key : "";
		const char *args[] = {component(e), "scale-out", e->cluster, path, "--user",
		                      t->user,      "-i",        key,        "-y", NULL};

		if ((r = write_scale_out(e, &pt, add, nadd, path, sizeof(path), err)) != 0)
			goto out;
		for (i = 0; i < nadd; i++)
			tf_view_host(e->view, pt.nodes[add[i]].id, TF_VIEW_RUNNING, "scaling out");
		tf_log_info("scaling PD out again: %s (topology %s)", names, path);
		if ((r = e->run_tiup(e->run_arg, "scale-out-pd", args, NULL, err)) != 0) {
			tf_err_prefix(err, "scale-out of PD %s", names);
			goto out;
		}
	}
	if (nadd + nstart > 0) {
		tf_topology_free(t);
		t = NULL;
		if ((r = tf_enable_load_meta(e, &t, err)) != 0)
			goto out;
		for (i = 0; i < pt.n; i++)
			if (in_list(names, pt.nodes[i].id) || in_list(started, pt.nodes[i].id))
				tf_view_host(e->view, pt.nodes[i].id, TF_VIEW_RUNNING,
				             "waiting for it to start and be healthy");
	} else {
		tf_log_info(
		    "every PD of the bundle's topology is in meta.yaml and started already");
	}
	if ((r = wait_members(e, &pt, t->enable_tls, err)) != 0)
		goto out;
	for (i = 0; i < pt.n; i++)
		if (in_list(names, pt.nodes[i].id) || in_list(started, pt.nodes[i].id))
			tf_view_host(e->view, pt.nodes[i].id, TF_VIEW_OK,
			             "member %s started, healthy", pt.nodes[i].name);
	if (nadd + nstart > 0) {
		char d[sizeof(names) + sizeof(started) + 96];

		snprintf(d, sizeof(d), "PD %s%s%s%s%s; %zu members healthy",
		         nadd ? "scaled out: " : "", names, nadd && nstart ? "; " : "",
		         nstart ? "started (in meta, never started): " : "", started, pt.n);
		tf_enable_audit_note(e, "scale-out-pd", NULL, d);
	}
out:
	tf_pd_members_release(&members);
	tf_enable_api_close(&api);
	tf_topology_free(t);
	tf_enable_pd_topo_release(&pt);
	return r;
}
