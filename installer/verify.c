/* tiferry verify: the endpoints, what the nodes and the journal say before the checks, and the
 * run over the thread pool. The checks and their table are in verify_checks.c and
 * verify_hostchecks.c, the renderers in verify_render.c; network and certificate work is in
 * cluster/tlsprobe.c, the HTTP wire format in cluster/http.c. */
#include "installer/verify_int.h"
#include "cluster/pdapi.h"
#include "cluster/scan.h"
#include "cluster/tlsprobe.h"
#include "common/paths.h"
#include "common/fsutil.h"
#include "common/pool.h"
#include "common/progress.h"
#include "common/timeutil.h"
#include "cluster/topology.h"
#include "installer/install_plan.h"
#include "installer/journal.h"
#include "common/proc.h"
#include "cluster/ssh.h"
#include "installer/verify_host.h"
#include "manifests/check.h"
#include "crypto/digest.h"
#include "mirror/tiupstate.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define NODE_COMMAND_TIMEOUT_S 60

/* ---- small helpers ---- */

static char *xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

static char *fmt(const char *f, ...) TF_PRINTF(1, 2);
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	s = vfmt(f, ap);
	va_end(ap);
	return s;
}

/* One line of text: an SSH error may span lines (the commands that pin a key). */
static void one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

const char *tf_vstatus_name(enum tf_vstatus s)
{
	static const char *const names[] = {"pass", "warn", "fail", "skip", "unknown"};

	return s < TF_V_NSTATUS ? names[s] : "?";
}

const char *tf_vkind_name(enum tf_vkind k)
{
	static const char *const names[] = {"pd",   "tikv",    "tidb", "tiflash",
	                                    "scan", "control", "node"};

	return k < TF_VK_NKINDS ? names[k] : "?";
}

static void endpoint_task(void *arg, size_t i)
{
	struct run *rn = arg;

	tf_vcheck_run_job(rn, &rn->eps[i]);
}

/* ---- collecting endpoints ---- */

static int add_endpoint(struct run *rn, enum tf_vkind kind, const char *host, unsigned port,
                        const char *name, struct tf_err *err)
{
	struct endpoint *n = realloc(rn->eps, (rn->neps + 1) * sizeof(*n)), *ep;

	if (n == NULL)
		return tf_err_nomem(err);
	rn->eps = n;
	ep = &rn->eps[rn->neps];
	memset(ep, 0, sizeof(*ep));
	ep->kind = kind;
	ep->host = xstrdup(host);
	ep->port = port;
	ep->name = xstrdup(name);
	if (kind == TF_VK_CONTROL || host == NULL)
		ep->hostport = strdup("control");
	else
		ep->hostport =
		    strchr(host, ':') ? fmt("[%s]:%u", host, port) : fmt("%s:%u", host, port);
	if (kind == TF_VK_CONTROL)
		ep->target = strdup("control host");
	else if (name != NULL)
		ep->target = fmt("%s %s %s", tf_vkind_name(kind), name, ep->hostport);
	else
		ep->target = fmt("%s %s", tf_vkind_name(kind), ep->hostport);
	rn->neps++;
	if ((host && ep->host == NULL) || (name && ep->name == NULL) || ep->hostport == NULL ||
	    ep->target == NULL)
		return tf_err_nomem(err);
	return 0;
}

static void free_endpoints(struct run *rn)
{
	size_t i;

	for (i = 0; i < rn->neps; i++) {
		free(rn->eps[i].host);
		free(rn->eps[i].name);
		free(rn->eps[i].target);
		free(rn->eps[i].hostport);
		tf_vhost_node_release(&rn->eps[i].node);
	}
	free(rn->eps);
	rn->eps = NULL;
	rn->neps = 0;
}

/* The status port of a non-PD instance, with TiUP's defaults (docs/tiup.md §4). */
static unsigned status_port(const struct tf_topo_instance *in, enum tf_vkind k)
{
	uint64_t p = tf_topo_port(in, "status_port");

	if (p != 0)
		return (unsigned)p;
	return k == TF_VK_TIKV ? 20180 : k == TF_VK_TIDB ? 10080 : 8234;
}

/* One TF_VK_NODE endpoint per instance: "node <role> <deploy_dir> <host>:<ssh_port>". */
static int node_endpoints(struct run *rn, struct tf_err *err)
{
	size_t i;
	int r;

	if ((r = tf_paths_cluster_file(rn->o->tiup_home, rn->o->cluster, TF_PATHS_SSH_KEY,
	                               &rn->identity, err)) != 0)
		return r;
	/* TiUP keeps the key of every cluster it deployed or imported; a cluster folder without
	 * one (a hand-made meta.yaml) has no way in to its hosts, so no node endpoints. */
	if (access(rn->identity, F_OK) != 0 && errno == ENOENT)
		return 0;
	for (i = 0; i < rn->topo->ninstances; i++) {
		const struct tf_topo_instance *in = &rn->topo->instances[i];
		char *name =
		    fmt("%s %s", in->role, in->deploy_dir ? in->deploy_dir : "(no deploy_dir)");

		if (name == NULL)
			return tf_err_nomem(err);
		r = add_endpoint(rn, TF_VK_NODE, in->host,
		                 in->ssh_port ? (unsigned)in->ssh_port : 22, name, err);
		free(name);
		if (r != 0)
			return r;
		rn->eps[rn->neps - 1].in = in;
	}
	return 0;
}

static int cluster_endpoints(struct run *rn, struct tf_err *err)
{
	const struct tf_verify_opts *o = rn->o;
	char *meta = NULL;
	size_t i;
	int r = 0;

	if ((r = tf_paths_cluster_file(o->tiup_home, o->cluster, TF_PATHS_META, &meta, err)) != 0 ||
	    (r = tf_paths_cluster_file(o->tiup_home, o->cluster, TF_PATHS_TLS, &rn->tls_dir,
	                               err)) != 0)
		goto out;
	if (strchr(o->cluster, '/') != NULL || o->cluster[0] == '.' || o->cluster[0] == '\0') {
		r = tf_err_set(err, TF_E_USAGE, "bad cluster name '%s'", o->cluster);
		goto out;
	}
	if (access(meta, F_OK) != 0) {
		r = tf_err_set(err, TF_E_NOTFOUND, "cluster '%s': no %s", o->cluster, meta);
		goto out;
	}
	if ((r = tf_topology_load(meta, &rn->topo, err)) != 0)
		goto out;
	rn->topo_enable_tls = rn->topo->enable_tls;
	rn->ca_file = o->ca_file ? strdup(o->ca_file) : tf_path_join(rn->tls_dir, "ca.crt");
	rn->cert_file =
	    o->cert_file ? strdup(o->cert_file) : tf_path_join(rn->tls_dir, "client.crt");
	rn->key_file = o->key_file ? strdup(o->key_file) : tf_path_join(rn->tls_dir, "client.pem");
	if (rn->ca_file == NULL || rn->cert_file == NULL || rn->key_file == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = add_endpoint(rn, TF_VK_CONTROL, NULL, 0, NULL, err)) != 0)
		goto out;
	for (i = 0; i < rn->topo->ninstances; i++) {
		const struct tf_topo_instance *in = &rn->topo->instances[i];
		enum tf_vkind k;

		if (strcmp(in->role, "pd") == 0) {
			uint64_t p = tf_topo_port(in, "client_port");

			rn->npd_expected++;
			r = add_endpoint(rn, TF_VK_PD, in->host, p ? (unsigned)p : 2379, in->name,
			                 err);
			if (r != 0)
				goto out;
			continue;
		}
		if (strcmp(in->role, "tikv") == 0)
			k = TF_VK_TIKV;
		else if (strcmp(in->role, "tidb") == 0)
			k = TF_VK_TIDB;
		else if (strcmp(in->role, "tiflash") == 0)
			k = TF_VK_TIFLASH;
		else
			continue;
		if ((r = add_endpoint(rn, k, in->host, status_port(in, k), NULL, err)) != 0)
			goto out;
	}
	if (o->host_checks && (r = node_endpoints(rn, err)) != 0)
		goto out;
out:
	free(meta);
	return r;
}

static int pd_endpoints(struct run *rn, struct tf_err *err)
{
	const struct tf_verify_opts *o = rn->o;
	size_t i;
	int r;

	if (o->ca_file == NULL || o->cert_file == NULL || o->key_file == NULL)
		return tf_err_set(err, TF_E_USAGE, "--pd needs --ca, --cert and --key");
	if ((rn->ca_file = strdup(o->ca_file)) == NULL ||
	    (rn->cert_file = strdup(o->cert_file)) == NULL ||
	    (rn->key_file = strdup(o->key_file)) == NULL)
		return tf_err_nomem(err);
	if ((r = add_endpoint(rn, TF_VK_CONTROL, NULL, 0, NULL, err)) != 0)
		return r;
	for (i = 0; i < o->npd; i++) {
		char *host = NULL;
		unsigned port = 0;

		if ((r = tf_scan_parse_endpoint(o->pd_urls[i], 2379, &host, &port, err)) != 0)
			return r;
		r = add_endpoint(rn, TF_VK_PD, host, port, NULL, err);
		free(host);
		if (r != 0)
			return r;
	}
	return 0;
}

static int scan_endpoints(struct run *rn, struct tf_err *err)
{
	size_t i;
	int r;

	for (i = 0; i < rn->o->nscan; i++) {
		char *host = NULL;
		unsigned port = 0;

		if ((r = tf_scan_parse_endpoint(rn->o->scan[i], 2379, &host, &port, err)) != 0)
			return r;
		r = add_endpoint(rn, TF_VK_SCAN, host, port, NULL, err);
		free(host);
		if (r != 0)
			return r;
	}
	return 0;
}

/* ---- the report ---- */

void tf_verify_report_init(struct tf_verify_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void tf_verify_report_release(struct tf_verify_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; rep->checks != NULL && i < rep->nchecks; i++) {
		free(rep->checks[i].id);
		free(rep->checks[i].target);
		free(rep->checks[i].endpoint);
		free(rep->checks[i].detail);
		free(rep->checks[i].evidence);
	}
	free(rep->checks);
	free(rep->cluster);
	memset(rep, 0, sizeof(*rep));
}

int tf_verify_exit_code(const struct tf_verify_report *rep)
{
	if (rep->counts[TF_V_FAIL] > 0)
		return TF_EXIT_FAIL;
	return rep->counts[TF_V_UNKNOWN] > 0 ? TF_EXIT_UNKNOWN : TF_EXIT_OK;
}

/* The install journal's facts the control-host checks compare with; none is not an error. */
static int load_journal(struct run *rn, struct tf_err *err)
{
	struct tf_journal jn;
	struct tf_err jerr = {0};
	const char *v;
	int r = 0;

	if ((rn->state_dir = tf_path_join(tf_paths_state_root(), rn->o->cluster)) == NULL)
		return tf_err_nomem(err);
	tf_journal_init(&jn);
	if ((r = tf_journal_load(rn->state_dir, &jn, &jerr)) == TF_E_NOTFOUND) {
		r = 0;
		goto out;
	}
	if (r != 0) {
		snprintf(rn->journal_error, sizeof(rn->journal_error), "%s", jerr.msg);
		r = 0;
		goto out;
	}
	rn->journal_found = 1;
	if (((v = tf_journal_get(&jn, "tiup_versions")) != NULL &&
	     (rn->tiup_versions = strdup(v)) == NULL) ||
	    ((v = tf_journal_get(&jn, TF_INSTALL_CLUSTER_BINARY)) != NULL &&
	     (rn->cluster_binary = strdup(v)) == NULL) ||
	    ((v = tf_journal_get(&jn, TF_INSTALL_RESTORE_MIRROR)) != NULL &&
	     (rn->restore_mirror = strdup(v)) == NULL) ||
	    (jn.bundle_id != NULL && (rn->bundle_id = strdup(jn.bundle_id)) == NULL))
		r = tf_err_nomem(err);
out:
	tf_journal_release(&jn);
	return r;
}

struct node_fan {
	struct run *rn;
	size_t *idx; /* the node endpoints' indexes in rn->eps */
};

/* One node: connect with strict host-key checking (never pinning), run the one command, keep
 * what it printed. Touches only its own endpoint. */
static int node_task(void *arg, size_t i, struct tf_err *err)
{
	struct node_fan *nf = arg;
	struct run *rn = nf->rn;
	struct endpoint *ep = &rn->eps[nf->idx[i]];
	struct tf_ssh_opts so;
	struct tf_ssh *s = NULL;
	struct tf_ssh_result res;
	char *cmd = NULL;
	unsigned secs = (unsigned)((rn->timeout_ms + 999) / 1000);
	int r;

	memset(&so, 0, sizeof(so));
	memset(&res, 0, sizeof(res));
	so.host = ep->host;
	so.port = ep->port;
	so.user = rn->topo->user;
	so.identity = rn->identity;
	so.known_hosts = rn->o->known_hosts;
	so.connect_timeout_s = secs > 0 ? secs : 1;
	so.command_timeout_s = NODE_COMMAND_TIMEOUT_S;
	if (so.user == NULL || so.user[0] == '\0')
		return tf_err_set(err, TF_E_INPUT, "meta.yaml names no SSH user");
	if (ep->in->deploy_dir == NULL)
		return tf_err_set(err, TF_E_INPUT, "meta.yaml gives no deploy_dir");
	if ((cmd = tf_vhost_node_command(ep->in->deploy_dir, ep->in->role)) == NULL)
		return tf_err_set(err, TF_E_INPUT, "cannot make the command for role '%s'",
		                  ep->in->role);
	if ((r = tf_ssh_connect(&so, &s, err)) != 0)
		goto out;
	if ((r = tf_ssh_run(s, cmd, 0, &res, err)) != 0)
		goto out;
	if (res.status != 0) {
		r = tf_err_set(err, TF_E_FAIL, "the check command exited with %d: %.200s",
		               res.status, res.errout ? res.errout : "");
		goto out;
	}
	if ((r = tf_vhost_node_parse(res.out ? res.out : "", ep->in->role, &ep->node, err)) == 0)
		ep->node_ran = 1;
out:
	tf_ssh_result_release(&res);
	tf_ssh_free(s);
	free(cmd);
	return r;
}

/* Asks every node at once (the verify's thread count) before the checks judge the answers. */
static int ask_nodes(struct run *rn, struct tf_err *err)
{
	struct node_fan nf = {rn, NULL};
	struct tf_err *results = NULL, ferr = {0};
	size_t i, n = 0;
	int r = 0;

	for (i = 0; i < rn->neps; i++)
		n += rn->eps[i].kind == TF_VK_NODE;
	if (n == 0 || !rn->topo_enable_tls)
		return 0;
	nf.idx = calloc(n, sizeof(*nf.idx));
	results = calloc(n, sizeof(*results));
	if (nf.idx == NULL || results == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0, n = 0; i < rn->neps; i++)
		if (rn->eps[i].kind == TF_VK_NODE)
			nf.idx[n++] = i;
	/* Each node's failure is its check's verdict, not the run's. */
	if (tf_ssh_fanout(n, (unsigned)(rn->o->threads > 0 ? rn->o->threads : TF_VERIFY_THREADS),
	                  node_task, &nf, results, &ferr) == TF_E_IO) {
		r = tf_err_set(err, TF_E_IO, "%s", ferr.msg);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct endpoint *ep = &rn->eps[nf.idx[i]];

		if (results[i].code != 0) {
			snprintf(ep->node_error, sizeof(ep->node_error), "%s", results[i].msg);
			one_line(ep->node_error);
		}
	}
out:
	free(nf.idx);
	free(results);
	return r;
}

int tf_verify_run(const struct tf_verify_opts *o, struct tf_verify_report *rep, struct tf_err *err)
{
	struct run rn;
	struct tf_verify_report out;
	struct tf_err cerr = {0};
	size_t i, k;
	double t0;
	int r = 0;

	memset(&rn, 0, sizeof(rn));
	tf_verify_report_init(&out);
	rn.o = o;
	rn.rep = &out;
	rn.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : TF_VERIFY_TIMEOUT_MS;
	rn.deadline_ms =
	    o->deadline_ms > 0 ? o->deadline_ms : TF_PROBE_DEADLINE_FACTOR * rn.timeout_ms;
	rn.now = o->now ? o->now : tf_time_now();
	if (o->cluster != NULL && o->npd > 0) {
		r = tf_err_set(err, TF_E_USAGE, "--cluster and --pd exclude each other");
		goto out;
	}
	if (o->cluster == NULL && o->npd == 0 && o->nscan == 0) {
		r = tf_err_set(err, TF_E_USAGE,
		               "nothing to verify: give --cluster, --pd or --scan");
		goto out;
	}
	if (o->cluster != NULL)
		r = cluster_endpoints(&rn, err);
	else if (o->npd > 0)
		r = pd_endpoints(&rn, err);
	if (r != 0 || (r = scan_endpoints(&rn, err)) != 0)
		goto out;
	if (rn.ca_file != NULL) {
		struct tf_tls_client *mtls = NULL;
		char ca_sha256[TF_SHA256_HEX] = "";

		/* In --cluster mode a missing tls/ folder is a finding (TLS not on yet), not a
		 * usage error; with explicit --ca/--cert/--key it is bad input. */
		if (tf_tls_client_new(rn.ca_file, rn.cert_file, rn.key_file, &mtls, &cerr) != 0) {
			if (o->cluster == NULL) {
				r = tf_err_set(err, cerr.code, "%s", cerr.msg);
				goto out;
			}
			snprintf(rn.mtls_error, sizeof(rn.mtls_error), "%s", cerr.msg);
		}
		rn.mtls = mtls;
		if (tf_cert_file_sha256(rn.ca_file, ca_sha256, &cerr) == 0)
			memcpy(rn.ca_sha256, ca_sha256, sizeof(ca_sha256));
	}
	{
		struct tf_tls_client *anon = NULL;

		if ((r = tf_tls_client_new(NULL, NULL, NULL, &anon, err)) != 0)
			goto out;
		rn.anon = anon;
	}
	t0 = tf_monotonic(); /* the nodes' SSH round trips count too */
	if (o->cluster != NULL && o->host_checks &&
	    ((r = load_journal(&rn, err)) != 0 || (r = ask_nodes(&rn, err)) != 0))
		goto out;
	/* The result slots: endpoint order, then table order. */
	for (i = 0; i < rn.neps; i++) {
		rn.eps[i].first = out.nchecks;
		for (k = 0; k < tf_vcheck_count; k++)
			if (tf_vcheck_table[k].kinds & TF_VK_MASK(rn.eps[i].kind))
				rn.eps[i].n++;
		out.nchecks += rn.eps[i].n;
	}
	if ((out.checks = calloc(out.nchecks ? out.nchecks : 1, sizeof(*out.checks))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < rn.neps; i++) {
		size_t s = rn.eps[i].first;

		for (k = 0; k < tf_vcheck_count; k++) {
			if (!(tf_vcheck_table[k].kinds & TF_VK_MASK(rn.eps[i].kind)))
				continue;
			out.checks[s].id = strdup(tf_vcheck_table[k].id);
			out.checks[s].target = strdup(rn.eps[i].target);
			out.checks[s].endpoint = strdup(rn.eps[i].hostport);
			out.checks[s].kind = rn.eps[i].kind;
			out.checks[s].status = TF_V_SKIP;
			if (!out.checks[s].id || !out.checks[s].target || !out.checks[s].endpoint) {
				r = tf_err_nomem(err);
				goto out;
			}
			s++;
		}
	}
	out.created = rn.now;
	if (tf_pool_run(rn.neps, (unsigned)(o->threads > 0 ? o->threads : TF_VERIFY_THREADS),
	                endpoint_task, &rn, &cerr) != 0) {
		for (i = 0; i < rn.neps; i++) /* no thread could start: run them here, one by one */
			endpoint_task(&rn, i);
	}
	out.seconds = tf_monotonic() - t0;
	out.nendpoints = rn.neps;
	for (i = 0; i < out.nchecks; i++)
		out.counts[out.checks[i].status]++;
	if (o->cluster != NULL && (out.cluster = strdup(o->cluster)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	*rep = out;
	tf_verify_report_init(&out); /* transferred */
out:
	tf_verify_report_release(&out);
	free_endpoints(&rn);
	tf_tls_client_free(rn.mtls);
	tf_tls_client_free(rn.anon);
	tf_topology_free(rn.topo);
	free(rn.ca_file);
	free(rn.cert_file);
	free(rn.key_file);
	free(rn.tls_dir);
	free(rn.identity);
	free(rn.state_dir);
	free(rn.tiup_versions);
	free(rn.cluster_binary);
	free(rn.restore_mirror);
	free(rn.bundle_id);
	return r;
}
