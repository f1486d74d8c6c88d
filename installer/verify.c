/* tiferry verify: endpoints, the table of checks, and the run over the thread pool; the
 * renderers are in verify_render.c. Network and certificate work is in tlsprobe.c, the HTTP
 * wire format in http.c. */
#include "installer/verify.h"
#include "cluster/pdapi.h"
#include "cluster/scan.h"
#include "cluster/tlsprobe.h"
#include "common/fsutil.h"
#include "common/pool.h"
#include "common/progress.h"
#include "common/timeutil.h"
#include "cluster/topology.h"
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

#define PROBE_BODY_MAX ((size_t)64 * 1024)
#define MEMBERS_BODY_MAX ((size_t)1024 * 1024)
#define DAY 86400
#define TIUP_VERSION_TIMEOUT_S 120
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

const char *tf_vstatus_name(enum tf_vstatus s)
{
	static const char *const names[] = {"pass", "warn", "fail", "skip"};

	return s < TF_V_NSTATUS ? names[s] : "?";
}

const char *tf_vkind_name(enum tf_vkind k)
{
	static const char *const names[] = {"pd",   "tikv",    "tidb", "tiflash",
	                                    "scan", "control", "node"};

	return k < TF_VK_NKINDS ? names[k] : "?";
}

/* ---- endpoints and the run ---- */

struct endpoint {
	enum tf_vkind kind;
	char *host;
	unsigned port;
	char *name;   /* PD member name, or NULL */
	char *target; /* "pd pd-127.0.0.11-2379 127.0.0.11:2379" */
	char *hostport;
	size_t first, n; /* its slots in rep->checks */
	/* TF_VK_NODE: the instance, and what its host reported (filled before the checks run) */
	const struct tf_topo_instance *in;
	int node_ran;
	struct tf_vhost_node node;
	char node_error[TF_ERR_MSG_MAX];
};

struct run {
	const struct tf_verify_opts *o;
	struct tf_verify_report *rep;
	struct endpoint *eps;
	size_t neps;
	struct tf_tls_client *mtls; /* the CA and the client certificate; NULL: see mtls_error */
	struct tf_tls_client *anon; /* no CA, no client certificate: the scanner's view */
	char mtls_error[TF_ERR_MSG_MAX];
	char *ca_file, *cert_file, *key_file;
	char *tls_dir; /* TiUP's tls/ folder (--cluster), else NULL */
	char ca_sha256[TF_SHA256_HEX];
	struct tf_topology *topo;
	int topo_enable_tls;
	size_t npd_expected; /* PD instances in meta.yaml; 0 without --cluster */
	time_t now;
	int timeout_ms;
	/* host checks (o->host_checks): the cluster's SSH key, the install journal */
	char *identity;
	char *state_dir; /* <state>/<cluster> */
	int journal_found;
	char journal_error[TF_ERR_MSG_MAX];
	char *tiup_versions; /* the journal's "tiup_versions" (JSON), or NULL */
	char *bundle_id;
};

/* One endpoint's state while its checks run, in table order, on one thread. */
struct job {
	struct run *run;
	struct endpoint *ep;
	struct tf_probe_target t;
	int tls_tried, tls_ok;
	struct tf_cert_info cert;
	char tls_error[TF_ERR_MSG_MAX];
	int members_tried;
	int members_ok;                /* members holds the member list */
	struct tf_pd_members members;
	char members_error[TF_ERR_MSG_MAX];
	enum tf_probe_verdict verdicts[TF_SCAN_NETCD_PROBES];
	const char *probe_ids[TF_SCAN_NETCD_PROBES];
	int probe_refused_connect[TF_SCAN_NETCD_PROBES];
	size_t nprobes;
};

/* Sets a check's verdict, detail and evidence (taken, may be NULL). */
static void set(struct tf_vcheck *c, enum tf_vstatus s, cJSON *evidence, const char *f, ...)
    TF_PRINTF(4, 5);
static void set(struct tf_vcheck *c, enum tf_vstatus s, cJSON *evidence, const char *f, ...)
{
	va_list ap;

	c->status = s;
	free(c->detail);
	va_start(ap, f);
	c->detail = vfmt(f, ap);
	va_end(ap);
	free(c->evidence);
	c->evidence = evidence ? cJSON_PrintUnformatted(evidence) : NULL;
	cJSON_Delete(evidence);
}

static cJSON *cert_evidence(const struct tf_cert_info *ci, const char *ca_sha256)
{
	cJSON *e = cJSON_CreateObject();
	char nb[32], na[32];

	tf_time_format(ci->not_before, nb, sizeof(nb));
	tf_time_format(ci->not_after, na, sizeof(na));
	cJSON_AddStringToObject(e, "sha256", ci->sha256);
	cJSON_AddStringToObject(e, "subject", ci->subject);
	cJSON_AddStringToObject(e, "issuer", ci->issuer);
	cJSON_AddStringToObject(e, "sans", ci->sans);
	cJSON_AddStringToObject(e, "not_before", nb);
	cJSON_AddStringToObject(e, "not_after", na);
	if (ca_sha256 != NULL && ca_sha256[0] != '\0')
		cJSON_AddStringToObject(e, "ca_sha256", ca_sha256);
	if (ci->protocol[0] != '\0') {
		cJSON_AddStringToObject(e, "protocol", ci->protocol);
		cJSON_AddStringToObject(e, "cipher", ci->cipher);
	}
	return e;
}

/* The handshake with the CA and client certificate, done once per endpoint. */
static void ensure_tls(struct job *j)
{
	struct tf_err err = {0};

	if (j->tls_tried)
		return;
	j->tls_tried = 1;
	if (j->run->mtls == NULL) {
		snprintf(j->tls_error, sizeof(j->tls_error), "no client TLS set-up: %s",
		         j->run->mtls_error);
		return;
	}
	if (tf_probe_tls(&j->t, j->run->mtls, &j->cert, &err) == 0)
		j->tls_ok = 1;
	else
		snprintf(j->tls_error, sizeof(j->tls_error), "%s", err.msg);
}

/* ---- the checks ---- */

static void chk_handshake(struct job *j, struct tf_vcheck *c)
{
	cJSON *e;

	ensure_tls(j);
	if (!j->tls_ok) {
		set(c, TF_V_FAIL, NULL, "no TLS session with the CA and client certificate: %s",
		    j->tls_error);
		return;
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "protocol", j->cert.protocol);
	cJSON_AddStringToObject(e, "cipher", j->cert.cipher);
	cJSON_AddStringToObject(e, "server_sha256", j->cert.sha256);
	set(c, TF_V_PASS, e, "%s %s with the client certificate", j->cert.protocol, j->cert.cipher);
}

static void chk_chain(struct job *j, struct tf_vcheck *c)
{
	ensure_tls(j);
	if (!j->tls_ok) {
		set(c, TF_V_SKIP, NULL, "no server certificate: the handshake failed");
		return;
	}
	if (!j->cert.chain_ok)
		set(c, TF_V_FAIL, cert_evidence(&j->cert, j->run->ca_sha256),
		    "server certificate %.16s... (issuer %s) does not chain to the CA: %s",
		    j->cert.sha256, j->cert.issuer, j->cert.chain_error);
	else
		set(c, TF_V_PASS, cert_evidence(&j->cert, j->run->ca_sha256),
		    "server certificate %.16s... chains to the CA %.16s... (issuer %s)",
		    j->cert.sha256, j->run->ca_sha256, j->cert.issuer);
}

static void chk_san(struct job *j, struct tf_vcheck *c)
{
	cJSON *e;

	ensure_tls(j);
	if (!j->tls_ok) {
		set(c, TF_V_SKIP, NULL, "no server certificate: the handshake failed");
		return;
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "host", j->ep->host);
	cJSON_AddStringToObject(e, "sans", j->cert.sans);
	if (j->cert.host_ok)
		set(c, TF_V_PASS, e, "SANs cover %s (%s)", j->ep->host, j->cert.sans);
	else
		set(c, TF_V_FAIL, e, "SANs do not cover %s (%s)", j->ep->host,
		    j->cert.sans[0] ? j->cert.sans : "no SANs");
}

static void expiry_verdict(const struct tf_cert_info *ci, time_t now, const char *what,
                           struct tf_vcheck *c, cJSON *e)
{
	long days = (long)((ci->not_after - now) / DAY);
	char na[32];

	tf_time_format(ci->not_after, na, sizeof(na));
	cJSON_AddNumberToObject(e, "days_left", (double)days);
	if (now < ci->not_before)
		set(c, TF_V_FAIL, e, "%s is not valid before %s", what, na);
	else if (now >= ci->not_after)
		set(c, TF_V_FAIL, e, "%s expired on %s", what, na);
	else if (days < TF_VERIFY_CERT_WARN_DAYS)
		set(c, TF_V_WARN, e, "%s expires in %ld days (%s)", what, days, na);
	else
		set(c, TF_V_PASS, e, "%s valid for %ld more days (until %s)", what, days, na);
}

static void chk_expiry(struct job *j, struct tf_vcheck *c)
{
	ensure_tls(j);
	if (!j->tls_ok) {
		set(c, TF_V_SKIP, NULL, "no server certificate: the handshake failed");
		return;
	}
	expiry_verdict(&j->cert, j->run->now, "server certificate", c,
	               cert_evidence(&j->cert, j->run->ca_sha256));
}

/* Names of a JSON body's top-level keys: evidence of what answered without copying data. */
static cJSON *json_keys(const struct tf_http_response *r)
{
	cJSON *doc = cJSON_ParseWithLength(r->body, r->body_len), *keys = NULL, *it;

	if (cJSON_IsObject(doc)) {
		keys = cJSON_CreateArray();
		cJSON_ArrayForEach(it, doc)
		{
			if (it->string != NULL)
				cJSON_AddItemToArray(keys, cJSON_CreateString(it->string));
		}
	}
	cJSON_Delete(doc);
	return keys;
}

/* Runs one probe; returns its verdict and adds its evidence to arr. */
static enum tf_probe_verdict run_probe(struct job *j, const struct tf_scan_probe *p, cJSON *arr,
                                       int *connect_refused)
{
	struct tf_http_response resp;
	struct tf_err err = {0};
	enum tf_probe_verdict v;
	cJSON *e = cJSON_CreateObject(), *keys;
	char what[300];
	int answered;

	tf_http_response_init(&resp);
	answered = tf_probe_http(&j->t, p->tls ? j->run->anon : NULL, p->method, p->path, p->body,
	                         PROBE_BODY_MAX, &resp, &err) == 0;
	v = tf_scan_classify(answered, &resp);
	snprintf(what, sizeof(what), "%s %s %s%s", p->tls ? "TLS (no client certificate)" : "plain",
	         p->method, p->path, p->body ? " " : "");
	if (p->body != NULL)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s", p->body);
	cJSON_AddStringToObject(e, "probe", p->id);
	cJSON_AddStringToObject(e, "request", what);
	cJSON_AddStringToObject(e, "verdict", v == TF_PROBE_EXPOSED ? "EXPOSED" : "REFUSED");
	if (answered) {
		cJSON_AddNumberToObject(e, "status", resp.status);
		cJSON_AddStringToObject(e, "content_type", resp.content_type);
		cJSON_AddNumberToObject(e, "body_bytes", (double)resp.body_len);
		if ((keys = json_keys(&resp)) != NULL)
			cJSON_AddItemToObject(e, "json_keys", keys);
	} else {
		cJSON_AddStringToObject(e, "error", err.msg);
	}
	*connect_refused = !answered && strstr(err.msg, "connect ") != NULL;
	cJSON_AddItemToArray(arr, e);
	tf_http_response_release(&resp);
	return v;
}

static const char *probe_detail(const cJSON *e, char *buf, size_t len)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "status");
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(e, "error");
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(e, "content_type");
	const cJSON *bb = cJSON_GetObjectItemCaseSensitive(e, "body_bytes");

	if (cJSON_IsNumber(st))
		snprintf(buf, len, "HTTP %d%s%s, %d bytes", st->valueint,
		         cJSON_IsString(ct) && ct->valuestring[0] ? " " : "",
		         cJSON_IsString(ct) ? ct->valuestring : "", bb ? bb->valueint : 0);
	else
		snprintf(buf, len, "%s", cJSON_IsString(er) ? er->valuestring : "no answer");
	return buf;
}

/* A group of probes that must all be REFUSED (plain HTTP, or TLS without a client cert). */
static void probe_group(struct job *j, struct tf_vcheck *c, int tls, const char *what)
{
	const struct tf_scan_probe *set_p = j->ep->kind == TF_VK_PD ? tf_scan_etcd_probes : tf_scan_status_probes;
	size_t n =
	    j->ep->kind == TF_VK_PD ? TF_SCAN_NETCD_PROBES : TF_SCAN_NSTATUS_PROBES;
	cJSON *arr = cJSON_CreateArray(), *e = cJSON_CreateObject();
	char exposed[512] = "", buf[300];
	size_t i, nexp = 0, nrun = 0;
	const cJSON *last = NULL;

	for (i = 0; i < n; i++) {
		int cr;

		if (set_p[i].tls != tls)
			continue;
		nrun++;
		if (run_probe(j, &set_p[i], arr, &cr) == TF_PROBE_EXPOSED) {
			nexp++;
			snprintf(
			    exposed + strlen(exposed), sizeof(exposed) - strlen(exposed),
			    "%s%s %s (%s)", exposed[0] ? ", " : "", set_p[i].method, set_p[i].path,
			    probe_detail(cJSON_GetArrayItem(arr, (int)nrun - 1), buf, sizeof(buf)));
		}
		last = cJSON_GetArrayItem(arr, (int)nrun - 1);
	}
	cJSON_AddItemToObject(e, "probes", arr);
	if (nexp > 0)
		set(c, TF_V_FAIL, e, "%s answered %zu of %zu unauthenticated requests: EXPOSED %s",
		    what, nexp, nrun, exposed);
	else
		set(c, TF_V_PASS, e, "%s refused (%s)", what,
		    last ? probe_detail(last, buf, sizeof(buf)) : "no probe");
}

static void chk_plain(struct job *j, struct tf_vcheck *c)
{
	probe_group(j, c, 0, "plain HTTP");
}

static void chk_client_cert(struct job *j, struct tf_vcheck *c)
{
	probe_group(j, c, 1, "TLS without a client certificate");
}

/* The member list over mutual TLS, fetched once per PD. */
static void ensure_members(struct job *j)
{
	struct tf_http_response resp;
	struct tf_err err = {0};

	if (j->members_tried)
		return;
	j->members_tried = 1;
	tf_http_response_init(&resp);
	if (tf_probe_http(&j->t, j->run->mtls, "POST", "/v3/cluster/member/list", "{}",
	                  MEMBERS_BODY_MAX, &resp, &err) != 0) {
		snprintf(j->members_error, sizeof(j->members_error), "%s", err.msg);
		return;
	}
	if (resp.status != 200 || resp.truncated) {
		snprintf(j->members_error, sizeof(j->members_error),
		         "POST /v3/cluster/member/list: HTTP %d%s", resp.status,
		         resp.truncated ? " (body cut)" : "");
		goto out;
	}
	if (tf_pd_members_parse(resp.body, resp.body_len, &j->members, &err) != 0) {
		snprintf(j->members_error, sizeof(j->members_error),
		         "POST /v3/cluster/member/list: %s", err.msg);
		goto out;
	}
	j->members_ok = 1;
out:
	tf_http_response_release(&resp);
}

/* API checks run only over a session whose server proved itself with the CA. */
static int api_ready(struct job *j, struct tf_vcheck *c)
{
	ensure_tls(j);
	if (!j->tls_ok) {
		set(c, TF_V_SKIP, NULL, "not asked: no TLS session (see tls.handshake)");
		return 0;
	}
	if (!j->cert.chain_ok) {
		set(c, TF_V_SKIP, NULL,
		    "not asked: the server's certificate does not chain to the CA (see "
		    "cert.chain)");
		return 0;
	}
	return 1;
}

static const char *member_name(const struct tf_pd_member *m)
{
	return m->name ? m->name : "(unnamed)";
}

static cJSON *url_array(char *const *urls, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, urls[i] ? cJSON_CreateString(urls[i]) : cJSON_CreateNull());
	return a;
}

static cJSON *members_evidence(const struct tf_pd_members *ms)
{
	cJSON *e = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	const struct tf_pd_member *m;

	for (m = ms->m; m < ms->m + ms->n; m++) {
		cJSON *o = cJSON_CreateObject();

		if (m->id_kind == TF_PD_ID_TEXT)
			cJSON_AddStringToObject(o, "id", m->id);
		else if (m->id_kind == TF_PD_ID_NUMBER)
			cJSON_AddNumberToObject(o, "id", m->id_number);
		cJSON_AddStringToObject(o, "name", member_name(m));
		cJSON_AddItemToObject(o, "peer_urls", url_array(m->peer_urls, m->npeer));
		cJSON_AddItemToObject(o, "client_urls", url_array(m->client_urls, m->nclient));
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddItemToObject(e, "members", arr);
	return e;
}

static void chk_members(struct job *j, struct tf_vcheck *c)
{
	char bad[600] = "", unstarted[300] = "";
	const struct tf_pd_member *m;
	size_t nbad = 0, nun = 0, n;

	if (!api_ready(j, c))
		return;
	ensure_members(j);
	if (!j->members_ok) {
		set(c, TF_V_FAIL, NULL, "member list: %s", j->members_error);
		return;
	}
	n = j->members.n;
	for (m = j->members.m; m < j->members.m + n; m++) {
		const char *bp = m->has_peer_urls ? tf_pd_plain_url(m->peer_urls, m->npeer)
		                                  : "(no peerURLs)";
		const char *bc =
		    m->has_client_urls ? tf_pd_plain_url(m->client_urls, m->nclient) : NULL;

		if (bp != NULL || bc != NULL) {
			nbad++;
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
			         "%smember %s has %s URL %s", bad[0] ? "; " : "", member_name(m),
			         bp ? "peer" : "client", bp ? bp : bc);
		}
		if (m->nclient == 0) {
			nun++;
			snprintf(unstarted + strlen(unstarted),
			         sizeof(unstarted) - strlen(unstarted), "%s%s",
			         unstarted[0] ? ", " : "", member_name(m));
		}
	}
	if (nbad > 0)
		set(c, TF_V_FAIL, members_evidence(&j->members), "%s", bad);
	else if (nun > 0)
		set(c, TF_V_WARN, members_evidence(&j->members),
		    "%zu member%s, URLs https, but not started (no client URLs): %s", n,
		    n == 1 ? "" : "s", unstarted);
	else
		set(c, TF_V_PASS, members_evidence(&j->members),
		    "%zu member%s, every peer and client URL https", n, n == 1 ? "" : "s");
}

static int listed(const struct tf_pd_members *ms, const char *name)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		if (strcmp(member_name(&ms->m[i]), name) == 0)
			return 1;
	}
	return 0;
}

static void chk_member_count(struct job *j, struct tf_vcheck *c)
{
	const struct tf_topology *t = j->run->topo;
	char missing[600] = "", extra[600] = "";
	size_t n, want = j->run->npd_expected, i, nmiss = 0, nextra = 0;
	const struct tf_pd_member *m;
	cJSON *e;

	if (!api_ready(j, c))
		return;
	ensure_members(j);
	if (!j->members_ok) {
		set(c, TF_V_FAIL, NULL, "member list: %s", j->members_error);
		return;
	}
	n = j->members.n;
	if (t == NULL) {
		set(c, TF_V_SKIP, NULL,
		    "%zu member%s listed; no meta.yaml to compare with (--cluster)", n,
		    n == 1 ? "" : "s");
		return;
	}
	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];

		if (strcmp(in->role, "pd") != 0 || in->name == NULL || listed(&j->members, in->name))
			continue;
		nmiss++;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
		         missing[0] ? ", " : "", in->name);
	}
	for (m = j->members.m; m < j->members.m + n; m++) {
		int known = 0;

		for (i = 0; i < t->ninstances; i++)
			if (strcmp(t->instances[i].role, "pd") == 0 && t->instances[i].name &&
			    strcmp(t->instances[i].name, member_name(m)) == 0)
				known = 1;
		if (!known) {
			nextra++;
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "%s%s",
			         extra[0] ? ", " : "", member_name(m));
		}
	}
	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "expected", (double)want);
	cJSON_AddNumberToObject(e, "listed", (double)n);
	cJSON_AddStringToObject(e, "missing", missing);
	cJSON_AddStringToObject(e, "not_in_meta", extra);
	if (n < want)
		set(c, TF_V_FAIL, e, "%zu members listed, meta.yaml has %zu PD: %zu missing (%s)",
		    n, want, want - n, missing[0] ? missing : "names differ");
	else if (n > want)
		set(c, TF_V_FAIL, e,
		    "%zu members listed, meta.yaml has %zu PD; not in meta.yaml: %s", n, want,
		    extra[0] ? extra : "?");
	else if (nmiss > 0)
		set(c, TF_V_WARN, e,
		    "%zu members as in meta.yaml, but names differ: missing %s, "
		    "listed %s",
		    n, missing, extra);
	else
		set(c, TF_V_PASS, e, "%zu member%s listed, as many as meta.yaml's PD", n,
		    n == 1 ? "" : "s");
	(void)nextra;
}

static void chk_health(struct job *j, struct tf_vcheck *c)
{
	struct tf_http_response resp;
	struct tf_err err = {0};
	cJSON *doc = NULL, *e;
	const cJSON *h;

	if (!api_ready(j, c))
		return;
	tf_http_response_init(&resp);
	if (tf_probe_http(&j->t, j->run->mtls, "GET", "/health", NULL, PROBE_BODY_MAX, &resp,
	                  &err) != 0) {
		set(c, TF_V_FAIL, NULL, "GET /health: %s", err.msg);
		return;
	}
	doc = cJSON_ParseWithLength(resp.body, resp.body_len);
	h = cJSON_GetObjectItemCaseSensitive(doc, "health");
	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "status", resp.status);
	if (h != NULL)
		cJSON_AddItemToObject(e, "health", cJSON_Duplicate(h, 1));
	if (resp.status == 200 && h != NULL &&
	    ((cJSON_IsString(h) && strcmp(h->valuestring, "true") == 0) || cJSON_IsTrue(h)))
		set(c, TF_V_PASS, e, "GET /health: healthy");
	else
		set(c, TF_V_FAIL, e, "GET /health: HTTP %d, not healthy (%.80s)", resp.status,
		    resp.body);
	cJSON_Delete(doc);
	tf_http_response_release(&resp);
}

/* A member of PD's /pd/api/v1/health answer, by name. */
static const char *health_name(const cJSON *m)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");

	return cJSON_IsString(n) && n->valuestring[0] ? n->valuestring : "(unnamed)";
}

static void chk_pd_api_health(struct job *j, struct tf_vcheck *c)
{
	struct tf_http_response resp;
	struct tf_err err = {0};
	cJSON *doc = NULL, *e;
	const cJSON *m;
	char bad[400] = "";
	size_t n = 0;

	if (!api_ready(j, c))
		return;
	tf_http_response_init(&resp);
	if (tf_probe_http(&j->t, j->run->mtls, "GET", "/pd/api/v1/health", NULL, PROBE_BODY_MAX,
	                  &resp, &err) != 0) {
		set(c, TF_V_WARN, NULL, "GET /pd/api/v1/health: %s", err.msg);
		return;
	}
	if (resp.status == 404) {
		set(c, TF_V_SKIP, NULL,
		    "GET /pd/api/v1/health: not served (HTTP 404: not PD, e.g. an "
		    "etcd stand-in)");
		goto out;
	}
	doc = cJSON_ParseWithLength(resp.body, resp.body_len);
	if (resp.status != 200 || !cJSON_IsArray(doc)) {
		set(c, TF_V_WARN, NULL, "GET /pd/api/v1/health: HTTP %d, not a member array",
		    resp.status);
		goto out;
	}
	cJSON_ArrayForEach(m, doc)
	{
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(m, "health");

		n++;
		if (!cJSON_IsTrue(h))
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s",
			         bad[0] ? ", " : "", health_name(m));
	}
	e = cJSON_CreateObject();
	cJSON_AddItemToObject(e, "members", cJSON_Duplicate(doc, 1));
	if (bad[0])
		set(c, TF_V_FAIL, e, "PD reports unhealthy members: %s", bad);
	else
		set(c, TF_V_PASS, e, "PD reports %zu healthy members", n);
out:
	cJSON_Delete(doc);
	tf_http_response_release(&resp);
}

/* Scan checks: one per probe (table arg = probe index), then the endpoint's verdict. */
static void chk_scan_probe(struct job *j, struct tf_vcheck *c, size_t idx)
{
	cJSON *arr = cJSON_CreateArray(), *e;
	char buf[300];
	int cr = 0;
	enum tf_probe_verdict v = run_probe(j, &tf_scan_etcd_probes[idx], arr, &cr);

	e = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	j->verdicts[j->nprobes] = v;
	j->probe_ids[j->nprobes] = tf_scan_etcd_probes[idx].id;
	j->probe_refused_connect[j->nprobes] = cr;
	j->nprobes++;
	probe_detail(e, buf, sizeof(buf));
	if (v == TF_PROBE_EXPOSED)
		set(c, TF_V_FAIL, e, "EXPOSED: %s", buf);
	else
		set(c, TF_V_PASS, e, "REFUSED: %s", buf);
}

static void chk_scan_verdict(struct job *j, struct tf_vcheck *c)
{
	cJSON *e = cJSON_CreateObject(), *p = cJSON_CreateObject();
	char exposed[300] = "";
	size_t i, nexp = 0, nconn = 0;

	for (i = 0; i < j->nprobes; i++) {
		cJSON_AddStringToObject(p, j->probe_ids[i],
		                        j->verdicts[i] == TF_PROBE_EXPOSED ? "EXPOSED" : "REFUSED");
		nconn += (size_t)j->probe_refused_connect[i];
		if (j->verdicts[i] == TF_PROBE_EXPOSED) {
			nexp++;
			snprintf(exposed + strlen(exposed), sizeof(exposed) - strlen(exposed),
			         "%s%s", exposed[0] ? ", " : "", j->probe_ids[i]);
		}
	}
	cJSON_AddItemToObject(e, "probes", p);
	if (tf_scan_vulnerable(j->verdicts, j->nprobes)) {
		cJSON_AddStringToObject(e, "verdict", "VULNERABLE");
		set(c, TF_V_FAIL, e, "VULNERABLE: %zu of %zu probes EXPOSED (%s)", nexp, j->nprobes,
		    exposed);
	} else {
		cJSON_AddStringToObject(e, "verdict", "FIXED");
		set(c, TF_V_PASS, e, "FIXED: all %zu probes REFUSED%s", j->nprobes,
		    nconn == j->nprobes ? " (nothing accepts connections there)" : "");
	}
}

/* A file of the tls/ folder: regular (not a link), and 0600 or stricter when it is a secret. */
static int file_ok(const char *dir, const char *name, int secret, int required, cJSON *files,
                   char *bad, size_t badlen)
{
	char *path = dir ? tf_path_join(dir, name) : strdup(name);
	struct stat st;
	cJSON *f;
	int ok = 1;

	if (path == NULL)
		return 0;
	if (lstat(path, &st) != 0) {
		if (required || errno != ENOENT) {
			snprintf(bad + strlen(bad), badlen - strlen(bad), "%s%s: %s",
			         bad[0] ? "; " : "", name, strerror(errno));
			ok = 0;
		}
		free(path);
		return ok;
	}
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "path", path);
	{
		char mode[8];

		snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
		cJSON_AddStringToObject(f, "mode", mode);
	}
	cJSON_AddNumberToObject(f, "uid", (double)st.st_uid);
	cJSON_AddBoolToObject(f, "secret", secret);
	cJSON_AddItemToArray(files, f);
	if (!S_ISREG(st.st_mode)) {
		snprintf(bad + strlen(bad), badlen - strlen(bad), "%s%s is not a regular file",
		         bad[0] ? "; " : "", name);
		ok = 0;
	} else if (secret && (st.st_mode & 077) != 0) {
		snprintf(bad + strlen(bad), badlen - strlen(bad),
		         "%s%s has mode %04o (a key must be 0600 or stricter)", bad[0] ? "; " : "",
		         name, (unsigned)(st.st_mode & 07777));
		ok = 0;
	} else if ((st.st_mode & 022) != 0) {
		snprintf(bad + strlen(bad), badlen - strlen(bad),
		         "%s%s has mode %04o (writable by others)", bad[0] ? "; " : "", name,
		         (unsigned)(st.st_mode & 07777));
		ok = 0;
	} else if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(bad + strlen(bad), badlen - strlen(bad), "%s%s is owned by uid %u",
		         bad[0] ? "; " : "", name, (unsigned)st.st_uid);
		ok = 0;
	}
	free(path);
	return ok;
}

static void chk_tls_files(struct job *j, struct tf_vcheck *c)
{
	struct run *rn = j->run;
	cJSON *e = cJSON_CreateObject(), *files = cJSON_CreateArray();
	char bad[800] = "";
	struct stat st;
	int ok = 1;

	cJSON_AddItemToObject(e, "files", files);
	if (rn->tls_dir != NULL) {
		cJSON_AddStringToObject(e, "folder", rn->tls_dir);
		if (lstat(rn->tls_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			set(c, TF_V_FAIL, e, "no TLS folder %s (TLS not enabled by TiUP yet?)",
			    rn->tls_dir);
			return;
		}
		if ((st.st_mode & 022) != 0) {
			snprintf(bad, sizeof(bad), "the folder has mode %04o (writable by others)",
			         (unsigned)(st.st_mode & 07777));
			ok = 0;
		}
		/* reference/tiup.md section 3: TiUP's local certificate store. */
		ok &= file_ok(rn->tls_dir, "ca.crt", 0, 1, files, bad, sizeof(bad));
		ok &= file_ok(rn->tls_dir, "client.crt", 0, 1, files, bad, sizeof(bad));
		ok &= file_ok(rn->tls_dir, "client.pem", 1, 1, files, bad, sizeof(bad));
		ok &= file_ok(rn->tls_dir, "ca.pem", 1, 0, files, bad, sizeof(bad));
		ok &= file_ok(rn->tls_dir, "client.pfx", 1, 0, files, bad, sizeof(bad));
	} else {
		ok &= file_ok(NULL, rn->ca_file, 0, 1, files, bad, sizeof(bad));
		ok &= file_ok(NULL, rn->cert_file, 0, 1, files, bad, sizeof(bad));
		ok &= file_ok(NULL, rn->key_file, 1, 1, files, bad, sizeof(bad));
	}
	if (ok)
		set(c, TF_V_PASS, e,
		    "%d files present, regular, keys 0600, none writable by others",
		    cJSON_GetArraySize(files));
	else
		set(c, TF_V_FAIL, e, "%s", bad);
}

static void chk_client_cert_file(struct job *j, struct tf_vcheck *c)
{
	struct run *rn = j->run;
	struct tf_cert_info ci;
	struct tf_err err = {0};
	int key_ok = 0;
	cJSON *e;

	if (tf_cert_file_info(rn->cert_file, rn->ca_file, rn->key_file, &ci, &key_ok, &err) != 0) {
		set(c, TF_V_FAIL, NULL, "%s", err.msg);
		return;
	}
	e = cert_evidence(&ci, rn->ca_sha256);
	cJSON_AddBoolToObject(e, "key_matches", key_ok);
	if (!ci.chain_ok)
		set(c, TF_V_FAIL, e, "client certificate does not chain to the CA: %s",
		    ci.chain_error);
	else if (!key_ok)
		set(c, TF_V_FAIL, e, "client key does not match the client certificate");
	else
		expiry_verdict(&ci, rn->now, "client certificate (chains to the CA, key matches)",
		               c, e);
}

static void chk_meta_tls(struct job *j, struct tf_vcheck *c)
{
	if (j->run->topo == NULL)
		set(c, TF_V_SKIP, NULL, "no meta.yaml (--pd mode)");
	else if (j->run->topo_enable_tls)
		set(c, TF_V_PASS, NULL, "meta.yaml has global.enable_tls: true");
	else
		set(c, TF_V_FAIL, NULL,
		    "meta.yaml has no global.enable_tls: true (TLS not enabled)");
}

/* ---- host checks: each node's tls/ over SSH, the control host's TiUP (verify_host.c) ---- */

/* One line of text: an SSH error may span lines (the commands that pin a key). */
static void one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

static int node_ready(struct job *j, struct tf_vcheck *c, int first)
{
	struct endpoint *ep = j->ep;

	if (!j->run->topo_enable_tls) {
		set(c, TF_V_SKIP, NULL, "TLS not enabled (meta.yaml has no global.enable_tls)");
		return 0;
	}
	if (ep->node_ran)
		return 1;
	if (first)
		set(c, TF_V_FAIL, NULL, "no answer from %s over SSH: %s", ep->hostport,
		    ep->node_error[0] ? ep->node_error : "not asked");
	else
		set(c, TF_V_SKIP, NULL, "not checked: no answer from %s (see node.tls-dir)",
		    ep->hostport);
	return 0;
}

static void chk_node_dir(struct job *j, struct tf_vcheck *c)
{
	const struct tf_vhost_node *n = &j->ep->node;
	char d[400];
	cJSON *e, *files;
	enum tf_vstatus s;
	size_t i;

	if (!node_ready(j, c, 1))
		return;
	s = tf_vhost_judge_dir(n, d, sizeof(d));
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "deploy_dir", j->ep->in->deploy_dir);
	cJSON_AddBoolToObject(e, "tls_dir", n->dir_present);
	files = cJSON_AddArrayToObject(e, "files");
	for (i = 0; n->dir_present && i < 3; i++) {
		cJSON *f = cJSON_CreateObject();
		char mode[8];

		snprintf(mode, sizeof(mode), "%04o", n->files[i].mode);
		cJSON_AddStringToObject(f, "name", n->files[i].name);
		cJSON_AddBoolToObject(f, "present", n->files[i].present);
		if (n->files[i].present) {
			cJSON_AddStringToObject(f, "mode", mode);
			cJSON_AddStringToObject(f, "type", n->files[i].type);
		}
		cJSON_AddItemToArray(files, f);
	}
	set(c, s, e, "%s: %s", j->ep->in->deploy_dir, d);
}

static void chk_node_key_mode(struct job *j, struct tf_vcheck *c)
{
	const struct tf_vhost_file *k = &j->ep->node.files[TF_VHOST_KEY];
	char d[300], mode[8];
	cJSON *e = NULL;
	enum tf_vstatus s;

	if (!node_ready(j, c, 0))
		return;
	s = tf_vhost_judge_key_mode(&j->ep->node, d, sizeof(d));
	if (k->present) {
		e = cJSON_CreateObject();
		snprintf(mode, sizeof(mode), "%04o", k->mode);
		cJSON_AddStringToObject(e, "file", k->name);
		cJSON_AddStringToObject(e, "mode", mode);
	}
	set(c, s, e, "%s", d);
}

static void chk_node_cert(struct job *j, struct tf_vcheck *c)
{
	struct tf_vhost_cert f;
	char d[600];
	cJSON *e = NULL;
	enum tf_vstatus s;

	if (!node_ready(j, c, 0))
		return;
	s = tf_vhost_judge_cert(&j->ep->node, j->run->ca_file, j->run->ca_sha256, &f, d, sizeof(d));
	if (f.sha256[0] != '\0') {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "sha256", f.sha256);
		cJSON_AddStringToObject(e, "subject", f.subject);
		cJSON_AddStringToObject(e, "issuer", f.issuer);
		cJSON_AddBoolToObject(e, "chains_to_ca", f.chain_ok);
		cJSON_AddStringToObject(e, "ca_sha256", j->run->ca_sha256);
		cJSON_AddStringToObject(e, "node_ca_sha256", f.node_ca_sha256);
		cJSON_AddBoolToObject(e, "key_matches", f.key_matches);
		cJSON_AddStringToObject(e, "key_public_sha256", j->ep->node.key_pub);
		cJSON_AddStringToObject(e, "cert_public_sha256", j->ep->node.cert_pub);
	}
	set(c, s, e, "%s", d);
}

/* Control-host checks compare with the install journal; without one they are "skip". */
static int control_ready(struct job *j, struct tf_vcheck *c)
{
	struct run *rn = j->run;

	if (rn->o->cluster == NULL) {
		set(c, TF_V_SKIP, NULL, "needs --cluster (the install journal is per cluster)");
		return 0;
	}
	if (!rn->o->host_checks) {
		set(c, TF_V_SKIP, NULL, "host checks not asked");
		return 0;
	}
	if (rn->journal_error[0] != '\0') {
		set(c, TF_V_FAIL, NULL, "install journal: %s", rn->journal_error);
		return 0;
	}
	if (!rn->journal_found) {
		set(c, TF_V_SKIP, NULL,
		    "no install journal in %s: nothing installed to compare with", rn->state_dir);
		return 0;
	}
	return 1;
}

/* which: 0 TiUP itself, 1 the cluster component (pinned to the bundle's version). */
static void chk_tiup_version(struct job *j, struct tf_vcheck *c, size_t which)
{
	struct run *rn = j->run;
	const char *comp = which ? "cluster" : "tiup", *want;
	cJSON *vs = NULL, *e;
	const cJSON *w;
	struct tf_proc_result res;
	struct tf_err err = {0};
	char pinned[96], what[128], found[64], d[600], env_home[4200];
	const char *argv[4] = {"tiup", "--version", NULL, NULL};
	const char *envs[2] = {NULL, NULL};
	struct tf_proc_opts po;
	enum tf_vstatus s;

	if (!control_ready(j, c))
		return;
	if (rn->tiup_versions == NULL) {
		set(c, TF_V_SKIP, NULL,
		    "no install journal records the bundle's TiUP versions (tiup_versions)");
		return;
	}
	vs = cJSON_Parse(rn->tiup_versions);
	w = cJSON_GetObjectItemCaseSensitive(vs, comp);
	if (!cJSON_IsString(w) || w->valuestring[0] == '\0') {
		set(c, TF_V_SKIP, NULL, "the bundle brought no %s version", comp);
		cJSON_Delete(vs);
		return;
	}
	want = w->valuestring;
	if (which) {
		snprintf(pinned, sizeof(pinned), "cluster:%s", want);
		argv[1] = pinned;
		argv[2] = "--version";
	}
	snprintf(what, sizeof(what), "tiup %s%s", which ? pinned : "--version",
	         which ? " --version" : "");
	memset(&po, 0, sizeof(po));
	po.timeout_s = TIUP_VERSION_TIMEOUT_S;
	if (rn->o->tiup_home != NULL) {
		snprintf(env_home, sizeof(env_home), "TIUP_HOME=%s", rn->o->tiup_home);
		envs[0] = env_home;
		po.env_set = envs;
	}
	memset(&res, 0, sizeof(res));
	if (tf_proc_run(argv, &po, &res, &err) != 0) {
		set(c, TF_V_FAIL, NULL, "cannot run '%s': %s", what, err.msg);
		cJSON_Delete(vs);
		return;
	}
	s = tf_vhost_judge_version(what, res.out, res.timed_out ? -1 : res.status, want, found,
	                           sizeof(found), d, sizeof(d));
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "command", what);
	cJSON_AddStringToObject(e, "reported", found);
	cJSON_AddStringToObject(e, "bundle", want);
	if (rn->bundle_id != NULL)
		cJSON_AddStringToObject(e, "bundle_id", rn->bundle_id);
	set(c, s, e, "%s", d);
	tf_proc_result_release(&res);
	cJSON_Delete(vs);
}

static void add_root_hash(cJSON *e, const char *key, const struct tf_tiup_state *st)
{
	char hex[TF_SHA256_HEX];

	if (st->has_root && tf_sha256_hex(st->root, st->root_len, hex) == 0)
		cJSON_AddStringToObject(e, key, hex);
	else
		cJSON_AddNullToObject(e, key);
}

static void chk_mirror(struct job *j, struct tf_vcheck *c)
{
	struct run *rn = j->run;
	struct tf_tiup_state before, now;
	struct tf_err err = {0};
	char *path = NULL, d[600];
	cJSON *e;
	enum tf_vstatus s;

	if (!control_ready(j, c))
		return;
	memset(&before, 0, sizeof(before));
	memset(&now, 0, sizeof(now));
	if ((path = tf_path_join(rn->state_dir, "mirror-before")) == NULL) {
		set(c, TF_V_FAIL, NULL, "out of memory");
		return;
	}
	if (access(path, F_OK) != 0) {
		set(c, TF_V_SKIP, NULL, "no mirror recorded before the install (%s)", path);
		goto out;
	}
	if (tf_tiup_state_load(path, &before, &err) != 0) {
		set(c, TF_V_FAIL, NULL, "the mirror recorded before the install: %s", err.msg);
		goto out;
	}
	if (tf_tiup_state_record(rn->o->tiup_home, &now, &err) != 0) {
		set(c, TF_V_FAIL, NULL, "TiUP's mirror now: %s", err.msg);
		goto out;
	}
	s = tf_vhost_judge_mirror(&before, &now, d, sizeof(d));
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "mirror_before", tf_tiup_state_mirror(&before));
	cJSON_AddStringToObject(e, "mirror_now", tf_tiup_state_mirror(&now));
	add_root_hash(e, "root_json_sha256_before", &before);
	add_root_hash(e, "root_json_sha256_now", &now);
	set(c, s, e, "%s", d);
out:
	tf_tiup_state_release(&before);
	tf_tiup_state_release(&now);
	free(path);
}

/* ---- the table of checks ---- */

#define K(x) (1u << (x))
#define K_TLS (K(TF_VK_PD) | K(TF_VK_TIKV) | K(TF_VK_TIDB) | K(TF_VK_TIFLASH))

struct check_def {
	const char *id;
	unsigned kinds; /* K(kind) mask */
	void (*run)(struct job *j, struct tf_vcheck *c);
	void (*run_arg)(struct job *j, struct tf_vcheck *c, size_t arg);
	size_t arg;
};

/* Every check, in the order each endpoint runs them (later ones reuse what earlier ones found
 * through struct job). To add one: a function above and a row here. */
static const struct check_def check_table[] = {
    {"control.meta-tls", K(TF_VK_CONTROL), chk_meta_tls, NULL, 0},
    {"control.tls-files", K(TF_VK_CONTROL), chk_tls_files, NULL, 0},
    {"control.client-cert", K(TF_VK_CONTROL), chk_client_cert_file, NULL, 0},
    {"control.tiup-version", K(TF_VK_CONTROL), NULL, chk_tiup_version, 0},
    {"control.cluster-version", K(TF_VK_CONTROL), NULL, chk_tiup_version, 1},
    {"control.mirror-restored", K(TF_VK_CONTROL), chk_mirror, NULL, 0},
    {"node.tls-dir", K(TF_VK_NODE), chk_node_dir, NULL, 0},
    {"node.key-mode", K(TF_VK_NODE), chk_node_key_mode, NULL, 0},
    {"node.cert-matches", K(TF_VK_NODE), chk_node_cert, NULL, 0},
    {"tls.handshake", K_TLS, chk_handshake, NULL, 0},
    {"cert.chain", K_TLS, chk_chain, NULL, 0},
    {"cert.san", K_TLS, chk_san, NULL, 0},
    {"cert.expiry", K_TLS, chk_expiry, NULL, 0},
    {"auth.plain-http-refused", K_TLS, chk_plain, NULL, 0},
    {"auth.client-cert-required", K_TLS, chk_client_cert, NULL, 0},
    {"pd.members-https", K(TF_VK_PD), chk_members, NULL, 0},
    {"pd.member-count", K(TF_VK_PD), chk_member_count, NULL, 0},
    {"pd.health", K(TF_VK_PD), chk_health, NULL, 0},
    {"pd.api-health", K(TF_VK_PD), chk_pd_api_health, NULL, 0},
    {"scan.plain.v2-keys", K(TF_VK_SCAN), NULL, chk_scan_probe, 0},
    {"scan.plain.v3-kv-range", K(TF_VK_SCAN), NULL, chk_scan_probe, 1},
    {"scan.plain.version", K(TF_VK_SCAN), NULL, chk_scan_probe, 2},
    {"scan.tls.v2-keys", K(TF_VK_SCAN), NULL, chk_scan_probe, 3},
    {"scan.tls.v3-kv-range", K(TF_VK_SCAN), NULL, chk_scan_probe, 4},
    {"scan.tls.version", K(TF_VK_SCAN), NULL, chk_scan_probe, 5},
    {"scan.verdict", K(TF_VK_SCAN), chk_scan_verdict, NULL, 0},
};
#define NCHECKS (sizeof(check_table) / sizeof(check_table[0]))

static void run_job(struct run *rn, struct endpoint *ep)
{
	struct job j;
	size_t i, k = 0;

	memset(&j, 0, sizeof(j));
	j.run = rn;
	j.ep = ep;
	j.t.host = ep->host;
	j.t.port = ep->port;
	j.t.timeout_ms = rn->timeout_ms;
	for (i = 0; i < NCHECKS; i++) {
		struct tf_vcheck *c;

		if ((check_table[i].kinds & K(ep->kind)) == 0)
			continue;
		c = &rn->rep->checks[ep->first + k++];
		if (check_table[i].run != NULL)
			check_table[i].run(&j, c);
		else
			check_table[i].run_arg(&j, c, check_table[i].arg);
		if (c->detail == NULL)
			c->detail = strdup("(out of memory)");
	}
	tf_pd_members_release(&j.members);
}

static void endpoint_task(void *arg, size_t i)
{
	struct run *rn = arg;

	run_job(rn, &rn->eps[i]);
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

/* The status port of a non-PD instance, with TiUP's defaults (reference/tiup.md section 4). */
static unsigned status_port(const struct tf_topo_instance *in, enum tf_vkind k)
{
	uint64_t p = tf_topo_port(in, "status_port");

	if (p != 0)
		return (unsigned)p;
	return k == TF_VK_TIKV ? 20180 : k == TF_VK_TIDB ? 10080 : 8234;
}

/* One TF_VK_NODE endpoint per instance: "node <role> <deploy_dir> <host>:<ssh_port>". */
static int node_endpoints(struct run *rn, const char *cdir, struct tf_err *err)
{
	size_t i;
	int r;

	if ((rn->identity = fmt("%s/ssh/id_rsa", cdir)) == NULL)
		return tf_err_nomem(err);
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
	char *home = NULL;
	char *cdir = NULL, *meta = NULL;
	size_t i;
	int r = 0;

	if (o->tiup_home != NULL)
		home = strdup(o->tiup_home);
	else if (tf_tiup_home(&home, err) != 0)
		return err->code;
	if (home == NULL ||
	    (cdir = fmt("%s/storage/cluster/clusters/%s", home, o->cluster)) == NULL ||
	    (meta = tf_path_join(cdir, "meta.yaml")) == NULL ||
	    (rn->tls_dir = tf_path_join(cdir, "tls")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
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
	if (o->host_checks && (r = node_endpoints(rn, cdir, err)) != 0)
		goto out;
out:
	free(home);
	free(cdir);
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
	return rep->counts[TF_V_FAIL] > 0 ? 1 : 0;
}

/* The install journal's facts the control-host checks compare with; none is not an error. */
static int load_journal(struct run *rn, struct tf_err *err)
{
	struct tf_journal jn;
	struct tf_err jerr = {0};
	const char *v;
	int r = 0;

	if ((rn->state_dir = tf_path_join(tf_rollback_dir(), rn->o->cluster)) == NULL)
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
		for (k = 0; k < NCHECKS; k++)
			if (check_table[k].kinds & K(rn.eps[i].kind))
				rn.eps[i].n++;
		out.nchecks += rn.eps[i].n;
	}
	if ((out.checks = calloc(out.nchecks ? out.nchecks : 1, sizeof(*out.checks))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < rn.neps; i++) {
		size_t s = rn.eps[i].first;

		for (k = 0; k < NCHECKS; k++) {
			if (!(check_table[k].kinds & K(rn.eps[i].kind)))
				continue;
			out.checks[s].id = strdup(check_table[k].id);
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
	free(rn.bundle_id);
	return r;
}
