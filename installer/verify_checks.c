/* tiferry verify's checks over the network (TLS, the scanner's probes, PD's API) and of the
 * control host's tls/ folder, and the table that orders every check. */
#include "installer/verify_int.h"
#include "common/fsutil.h"
#include "common/timeutil.h"

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

void tf_vcheck_set(struct tf_vcheck *c, enum tf_vstatus s, void *evidence, const char *f, ...)
{
	cJSON *e = evidence;
	va_list ap;

	c->status = s;
	free(c->detail);
	va_start(ap, f);
	if (vasprintf(&c->detail, f, ap) < 0)
		c->detail = NULL;
	va_end(ap);
	free(c->evidence);
	c->evidence = e ? cJSON_PrintUnformatted(e) : NULL;
	cJSON_Delete(e);
}

static cJSON *cert_evidence(const struct tf_cert_info *ci, const char *ca_sha256)
{
	cJSON *e = cJSON_CreateObject();
	char nb[32], na[32];

	tf_time_format(ci->x509.not_before, nb, sizeof(nb));
	tf_time_format(ci->x509.not_after, na, sizeof(na));
	cJSON_AddStringToObject(e, "sha256", ci->x509.sha256);
	cJSON_AddStringToObject(e, "subject", ci->x509.subject);
	cJSON_AddStringToObject(e, "issuer", ci->x509.issuer);
	cJSON_AddStringToObject(e, "sans", ci->x509.sans);
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
		tf_vcheck_set(c, TF_V_FAIL, NULL,
		              "no TLS session with the CA and client certificate: %s",
		              j->tls_error);
		return;
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "protocol", j->cert.protocol);
	cJSON_AddStringToObject(e, "cipher", j->cert.cipher);
	cJSON_AddStringToObject(e, "server_sha256", j->cert.x509.sha256);
	tf_vcheck_set(c, TF_V_PASS, e, "%s %s with the client certificate", j->cert.protocol,
	              j->cert.cipher);
}

static void chk_chain(struct job *j, struct tf_vcheck *c)
{
	ensure_tls(j);
	if (!j->tls_ok) {
		tf_vcheck_set(c, TF_V_SKIP, NULL, "no server certificate: the handshake failed");
		return;
	}
	if (!j->cert.chain_ok)
		tf_vcheck_set(
		    c, TF_V_FAIL, cert_evidence(&j->cert, j->run->ca_sha256),
		    "server certificate %.16s... (issuer %s) does not chain to the CA: %s",
		    j->cert.x509.sha256, j->cert.x509.issuer, j->cert.chain_error);
	else
		tf_vcheck_set(c, TF_V_PASS, cert_evidence(&j->cert, j->run->ca_sha256),
		              "server certificate %.16s... chains to the CA %.16s... (issuer %s)",
		              j->cert.x509.sha256, j->run->ca_sha256, j->cert.x509.issuer);
}

static void chk_san(struct job *j, struct tf_vcheck *c)
{
	cJSON *e;

	ensure_tls(j);
	if (!j->tls_ok) {
		tf_vcheck_set(c, TF_V_SKIP, NULL, "no server certificate: the handshake failed");
		return;
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "host", j->ep->host);
	cJSON_AddStringToObject(e, "sans", j->cert.x509.sans);
	if (j->cert.host_ok)
		tf_vcheck_set(c, TF_V_PASS, e, "SANs cover %s (%s)", j->ep->host,
		              j->cert.x509.sans);
	else
		tf_vcheck_set(c, TF_V_FAIL, e, "SANs do not cover %s (%s)", j->ep->host,
		              j->cert.x509.sans[0] ? j->cert.x509.sans : "no SANs");
}

static void expiry_verdict(const struct tf_cert_info *ci, time_t now, const char *what,
                           struct tf_vcheck *c, cJSON *e)
{
	long days = (long)((ci->x509.not_after - now) / DAY);
	char na[32];

	tf_time_format(ci->x509.not_after, na, sizeof(na));
	cJSON_AddNumberToObject(e, "days_left", (double)days);
	if (now < ci->x509.not_before)
		tf_vcheck_set(c, TF_V_FAIL, e, "%s is not valid before %s", what, na);
	else if (now >= ci->x509.not_after)
		tf_vcheck_set(c, TF_V_FAIL, e, "%s expired on %s", what, na);
	else if (days < TF_VERIFY_CERT_WARN_DAYS)
		tf_vcheck_set(c, TF_V_WARN, e, "%s expires in %ld days (%s)", what, days, na);
	else
		tf_vcheck_set(c, TF_V_PASS, e, "%s valid for %ld more days (until %s)", what, days,
		              na);
}

static void chk_expiry(struct job *j, struct tf_vcheck *c)
{
	ensure_tls(j);
	if (!j->tls_ok) {
		tf_vcheck_set(c, TF_V_SKIP, NULL, "no server certificate: the handshake failed");
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

/* Runs one probe; returns its verdict and adds its evidence to arr (with how it ended, and why
 * that is or is not evidence); *end is how it ended. */
static enum tf_probe_verdict run_probe(struct job *j, const struct tf_scan_probe *p, cJSON *arr,
                                       enum tf_probe_end *end)
{
	struct tf_http_response resp;
	struct tf_probe_outcome how = {TF_END_ERROR, -1};
	struct tf_err err = {0};
	enum tf_probe_verdict v;
	cJSON *e = cJSON_CreateObject(), *keys;
	const char *why = NULL;
	char what[300];
	int answered;

	tf_http_response_init(&resp);
	answered = tf_probe_http(&j->t, p->tls ? j->run->anon : NULL, p->method, p->path, p->body,
	                         PROBE_BODY_MAX, &resp, &how, &err) == 0;
	v = tf_scan_classify(&how, answered ? &resp : NULL, &why);
	snprintf(what, sizeof(what), "%s %s %s%s", p->tls ? "TLS (no client certificate)" : "plain",
	         p->method, p->path, p->body ? " " : "");
	if (p->body != NULL)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s", p->body);
	cJSON_AddStringToObject(e, "probe", p->id);
	cJSON_AddStringToObject(e, "request", what);
	cJSON_AddStringToObject(e, "verdict", tf_probe_verdict_name(v));
	cJSON_AddStringToObject(e, "end", tf_probe_end_name(how.end));
	if (how.tls_alert >= 0)
		cJSON_AddNumberToObject(e, "tls_alert", how.tls_alert);
	cJSON_AddStringToObject(e, "why", why);
	if (answered) {
		cJSON_AddNumberToObject(e, "status", resp.status);
		cJSON_AddStringToObject(e, "content_type", resp.content_type);
		cJSON_AddNumberToObject(e, "body_bytes", (double)resp.body_len);
		if ((keys = json_keys(&resp)) != NULL)
			cJSON_AddItemToObject(e, "json_keys", keys);
	} else {
		cJSON_AddStringToObject(e, "error", err.msg);
	}
	*end = how.end;
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

	const cJSON *wy = cJSON_GetObjectItemCaseSensitive(e, "why");

	if (cJSON_IsNumber(st))
		snprintf(buf, len, "HTTP %d%s%s, %d bytes", st->valueint,
		         cJSON_IsString(ct) && ct->valuestring[0] ? " " : "",
		         cJSON_IsString(ct) ? ct->valuestring : "", bb ? bb->valueint : 0);
	else
		snprintf(buf, len, "%s", cJSON_IsString(er) ? er->valuestring : "no answer");
	if (cJSON_IsString(wy))
		snprintf(buf + strlen(buf), len - strlen(buf), " (%s)", wy->valuestring);
	return buf;
}

/* A group of probes that should all be REFUSED (plain HTTP, or TLS without a client cert). An
 * answer gives `exposed` (FAIL, or WARN where that is how the component is built) and the
 * remedy, when there is one, after the list of what answered. */
static void probe_group(struct job *j, struct tf_vcheck *c, int tls, const char *what,
                        enum tf_vstatus exposed_status, const char *remedy)
{
	const struct tf_scan_probe *set_p =
	    j->ep->kind == TF_VK_PD ? tf_scan_etcd_probes : tf_scan_status_probes;
	size_t n = j->ep->kind == TF_VK_PD ? TF_SCAN_NETCD_PROBES : TF_SCAN_NSTATUS_PROBES;
	cJSON *arr = cJSON_CreateArray(), *e = cJSON_CreateObject();
	char exposed[512] = "", unknown[512] = "", buf[400];
	size_t i, nexp = 0, nunk = 0, nrun = 0;
	const cJSON *last = NULL;

	for (i = 0; i < n; i++) {
		enum tf_probe_end end;
		enum tf_probe_verdict v;

		if (set_p[i].tls != tls)
			continue;
		nrun++;
		v = run_probe(j, &set_p[i], arr, &end);
		last = cJSON_GetArrayItem(arr, (int)nrun - 1);
		if (v == TF_PROBE_EXPOSED) {
			nexp++;
			snprintf(exposed + strlen(exposed), sizeof(exposed) - strlen(exposed),
			         "%s%s %s (%s)", exposed[0] ? ", " : "", set_p[i].method,
			         set_p[i].path, probe_detail(last, buf, sizeof(buf)));
		} else if (v == TF_PROBE_UNKNOWN) {
			nunk++;
			snprintf(unknown + strlen(unknown), sizeof(unknown) - strlen(unknown),
			         "%s%s %s (%s)", unknown[0] ? ", " : "", set_p[i].method,
			         set_p[i].path, probe_detail(last, buf, sizeof(buf)));
		}
	}
	cJSON_AddItemToObject(e, "probes", arr);
	if (nexp > 0 && remedy != NULL) {
		cJSON_AddStringToObject(e, "remedy", remedy);
		tf_vcheck_set(c, exposed_status, e,
		              "%s answered %zu of %zu unauthenticated requests: EXPOSED %s. %s",
		              what, nexp, nrun, exposed, remedy);
	} else if (nexp > 0)
		tf_vcheck_set(c, exposed_status, e,
		              "%s answered %zu of %zu unauthenticated requests: EXPOSED %s", what,
		              nexp, nrun, exposed);
	else if (nunk > 0)
		tf_vcheck_set(c, TF_V_UNKNOWN, e,
		              "%s: %zu of %zu requests gave no evidence of a refusal: %s", what,
		              nunk, nrun, unknown);
	else
		tf_vcheck_set(c, TF_V_PASS, e, "%s refused (%s)", what,
		              last ? probe_detail(last, buf, sizeof(buf)) : "no probe");
}

static void chk_plain(struct job *j, struct tf_vcheck *c)
{
	probe_group(j, c, 0, "plain HTTP", TF_V_FAIL, NULL);
}

/* PD (etcd's ClientCertAuth, set whenever PD has a CA) always asks for a client certificate:
 * an answer without one is the finding. TiKV's status server asks for one only with
 * security.cert-allowed-cn (tls_acceptor, tikv/tikv src/server/status_server/mod.rs), TiDB's
 * status port only with security.cluster-verify-cn (setCNChecker, pingcap/tidb), and TiUP sets
 * neither: on a correctly enabled cluster these answer, which is a warning with its remedy, not
 * a failure (docs/verify.md). */
static const char TIKV_STATUS_REMEDY[] =
    "TiKV asks for a client certificate on its status port only when security.cert-allowed-cn "
    "is set, and TiUP does not set it: set server_configs.tikv.\"security.cert-allowed-cn\" "
    "(tiferry-build: plan.restrict_cn: true) or keep the status port off untrusted networks";
static const char TIDB_STATUS_REMEDY[] =
    "TiDB asks for a client certificate on its status port only when "
    "security.cluster-verify-cn is set, and TiUP does not set it: set "
    "server_configs.tidb.\"security.cluster-verify-cn\" (tiferry-build: plan.restrict_cn: true) "
    "or keep the status port off untrusted networks";

static void chk_client_cert(struct job *j, struct tf_vcheck *c)
{
	const char *what = "TLS without a client certificate";

	if (j->ep->kind == TF_VK_TIKV)
		probe_group(j, c, 1, what, TF_V_WARN, TIKV_STATUS_REMEDY);
	else if (j->ep->kind == TF_VK_TIDB)
		probe_group(j, c, 1, what, TF_V_WARN, TIDB_STATUS_REMEDY);
	else
		probe_group(j, c, 1, what, TF_V_FAIL, NULL);
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
	                  MEMBERS_BODY_MAX, &resp, NULL, &err) != 0) {
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
		tf_vcheck_set(c, TF_V_SKIP, NULL, "not asked: no TLS session (see tls.handshake)");
		return 0;
	}
	if (!j->cert.chain_ok) {
		tf_vcheck_set(c, TF_V_SKIP, NULL,
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

/* The name, or for a member not started yet its ID in hex, as etcdctl takes it (issue 12
 * §2j): "(unnamed, id 8e9e05c52164694d)". */
static const char *member_label(const struct tf_pd_member *m, char *buf, size_t len)
{
	char hex[24];

	if (m->name != NULL)
		return m->name;
	tf_pd_member_id_hex(m, hex, sizeof(hex));
	snprintf(buf, len, "(unnamed, id %s)", hex);
	return buf;
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
		tf_vcheck_set(c, TF_V_FAIL, NULL, "member list: %s", j->members_error);
		return;
	}
	n = j->members.n;
	for (m = j->members.m; m < j->members.m + n; m++) {
		const char *bp =
		    m->has_peer_urls ? tf_pd_plain_url(m->peer_urls, m->npeer) : "(no peerURLs)";
		const char *bc =
		    m->has_client_urls ? tf_pd_plain_url(m->client_urls, m->nclient) : NULL;

		char label[64];

		if (bp != NULL || bc != NULL) {
			nbad++;
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
			         "%smember %s has %s URL %s", bad[0] ? "; " : "",
			         member_label(m, label, sizeof(label)), bp ? "peer" : "client",
			         bp ? bp : bc);
		}
		if (m->nclient == 0) {
			nun++;
			snprintf(unstarted + strlen(unstarted),
			         sizeof(unstarted) - strlen(unstarted), "%s%s",
			         unstarted[0] ? ", " : "", member_label(m, label, sizeof(label)));
		}
	}
	if (nbad > 0)
		tf_vcheck_set(c, TF_V_FAIL, members_evidence(&j->members), "%s", bad);
	else if (nun > 0)
		tf_vcheck_set(c, TF_V_WARN, members_evidence(&j->members),
		              "%zu member%s, URLs https, but not started (no client URLs): %s", n,
		              n == 1 ? "" : "s", unstarted);
	else
		tf_vcheck_set(c, TF_V_PASS, members_evidence(&j->members),
		              "%zu member%s, every peer and client URL https", n,
		              n == 1 ? "" : "s");
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
		tf_vcheck_set(c, TF_V_FAIL, NULL, "member list: %s", j->members_error);
		return;
	}
	n = j->members.n;
	if (t == NULL) {
		tf_vcheck_set(c, TF_V_SKIP, NULL,
		              "%zu member%s listed; no meta.yaml to compare with (--cluster)", n,
		              n == 1 ? "" : "s");
		return;
	}
	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];

		if (strcmp(in->role, "pd") != 0 || in->name == NULL ||
		    listed(&j->members, in->name))
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
		tf_vcheck_set(c, TF_V_FAIL, e,
		              "%zu members listed, meta.yaml has %zu PD: %zu missing (%s)", n, want,
		              want - n, missing[0] ? missing : "names differ");
	else if (n > want)
		tf_vcheck_set(c, TF_V_FAIL, e,
		              "%zu members listed, meta.yaml has %zu PD; not in meta.yaml: %s", n,
		              want, extra[0] ? extra : "?");
	else if (nmiss > 0)
		tf_vcheck_set(c, TF_V_WARN, e,
		              "%zu members as in meta.yaml, but names differ: missing %s, "
		              "listed %s",
		              n, missing, extra);
	else
		tf_vcheck_set(c, TF_V_PASS, e, "%zu member%s listed, as many as meta.yaml's PD", n,
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
	if (tf_probe_http(&j->t, j->run->mtls, "GET", "/health", NULL, PROBE_BODY_MAX, &resp, NULL,
	                  &err) != 0) {
		tf_vcheck_set(c, TF_V_FAIL, NULL, "GET /health: %s", err.msg);
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
		tf_vcheck_set(c, TF_V_PASS, e, "GET /health: healthy");
	else
		tf_vcheck_set(c, TF_V_FAIL, e, "GET /health: HTTP %d, not healthy (%.80s)",
		              resp.status, resp.body);
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
	                  &resp, NULL, &err) != 0) {
		tf_vcheck_set(c, TF_V_WARN, NULL, "GET /pd/api/v1/health: %s", err.msg);
		return;
	}
	if (resp.status == 404) {
		tf_vcheck_set(c, TF_V_SKIP, NULL,
		              "GET /pd/api/v1/health: not served (HTTP 404: not PD, e.g. an "
		              "etcd stand-in)");
		goto out;
	}
	doc = cJSON_ParseWithLength(resp.body, resp.body_len);
	if (resp.status != 200 || !cJSON_IsArray(doc)) {
		tf_vcheck_set(c, TF_V_WARN, NULL,
		              "GET /pd/api/v1/health: HTTP %d, not a member array", resp.status);
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
		tf_vcheck_set(c, TF_V_FAIL, e, "PD reports unhealthy members: %s", bad);
	else
		tf_vcheck_set(c, TF_V_PASS, e, "PD reports %zu healthy members", n);
out:
	cJSON_Delete(doc);
	tf_http_response_release(&resp);
}

/* Scan checks: one per probe (table arg = probe index), then the endpoint's verdict. */
static void chk_scan_probe(struct job *j, struct tf_vcheck *c, size_t idx)
{
	cJSON *arr = cJSON_CreateArray(), *e;
	char buf[400];
	enum tf_probe_end end = TF_END_ERROR;
	enum tf_probe_verdict v = run_probe(j, &tf_scan_etcd_probes[idx], arr, &end);

	e = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	j->verdicts[j->nprobes] = v;
	j->probe_ids[j->nprobes] = tf_scan_etcd_probes[idx].id;
	j->probe_ends[j->nprobes] = end;
	j->nprobes++;
	probe_detail(e, buf, sizeof(buf));
	if (v == TF_PROBE_EXPOSED)
		tf_vcheck_set(c, TF_V_FAIL, e, "EXPOSED: %s", buf);
	else if (v == TF_PROBE_UNKNOWN)
		tf_vcheck_set(c, TF_V_UNKNOWN, e, "UNKNOWN: %s", buf);
	else
		tf_vcheck_set(c, TF_V_PASS, e, "REFUSED: %s", buf);
}

static void chk_scan_verdict(struct job *j, struct tf_vcheck *c)
{
	cJSON *e = cJSON_CreateObject(), *p = cJSON_CreateObject();
	char exposed[300] = "", unknown[300] = "";
	size_t i, nexp = 0, nunk = 0, nconn = 0;
	enum tf_scan_verdict v = tf_scan_endpoint_verdict(j->verdicts, j->nprobes);

	for (i = 0; i < j->nprobes; i++) {
		char *list = j->verdicts[i] == TF_PROBE_EXPOSED   ? exposed
		             : j->verdicts[i] == TF_PROBE_UNKNOWN ? unknown
		                                                  : NULL;

		cJSON_AddStringToObject(p, j->probe_ids[i], tf_probe_verdict_name(j->verdicts[i]));
		nconn += j->probe_ends[i] == TF_END_REFUSED;
		nexp += j->verdicts[i] == TF_PROBE_EXPOSED;
		nunk += j->verdicts[i] == TF_PROBE_UNKNOWN;
		if (list != NULL)
			snprintf(list + strlen(list), sizeof(exposed) - strlen(list), "%s%s",
			         list[0] ? ", " : "", j->probe_ids[i]);
	}
	cJSON_AddItemToObject(e, "probes", p);
	cJSON_AddStringToObject(e, "verdict", tf_scan_verdict_name(v));
	if (v == TF_SCAN_VULNERABLE)
		tf_vcheck_set(c, TF_V_FAIL, e, "VULNERABLE: %zu of %zu probes EXPOSED (%s)", nexp,
		              j->nprobes, exposed);
	else if (v == TF_SCAN_UNKNOWN)
		tf_vcheck_set(c, TF_V_UNKNOWN, e,
		              "UNKNOWN: %zu of %zu probes gave no evidence of a refusal (%s); "
		              "nothing is proved either way",
		              nunk, j->nprobes, unknown);
	else
		tf_vcheck_set(c, TF_V_PASS, e, "FIXED: all %zu probes REFUSED%s", j->nprobes,
		              nconn == j->nprobes ? " (nothing accepts connections there)" : "");
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
			tf_vcheck_set(c, TF_V_FAIL, e,
			              "no TLS folder %s (TLS not enabled by TiUP yet?)",
			              rn->tls_dir);
			return;
		}
		if ((st.st_mode & 022) != 0) {
			snprintf(bad, sizeof(bad), "the folder has mode %04o (writable by others)",
			         (unsigned)(st.st_mode & 07777));
			ok = 0;
		}
		/* TiUP's local certificate store (docs/tiup.md §2, §5). */
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
		tf_vcheck_set(c, TF_V_PASS, e,
		              "%d files present, regular, keys 0600, none writable by others",
		              cJSON_GetArraySize(files));
	else
		tf_vcheck_set(c, TF_V_FAIL, e, "%s", bad);
}

static void chk_client_cert_file(struct job *j, struct tf_vcheck *c)
{
	struct run *rn = j->run;
	struct tf_cert_info ci;
	struct tf_err err = {0};
	int key_ok = 0;
	cJSON *e;

	if (tf_cert_file_info(rn->cert_file, rn->ca_file, rn->key_file, &ci, &key_ok, &err) != 0) {
		tf_vcheck_set(c, TF_V_FAIL, NULL, "%s", err.msg);
		return;
	}
	e = cert_evidence(&ci, rn->ca_sha256);
	cJSON_AddBoolToObject(e, "key_matches", key_ok);
	if (!ci.chain_ok)
		tf_vcheck_set(c, TF_V_FAIL, e, "client certificate does not chain to the CA: %s",
		              ci.chain_error);
	else if (!key_ok)
		tf_vcheck_set(c, TF_V_FAIL, e, "client key does not match the client certificate");
	else
		expiry_verdict(&ci, rn->now, "client certificate (chains to the CA, key matches)",
		               c, e);
}

static void chk_meta_tls(struct job *j, struct tf_vcheck *c)
{
	if (j->run->topo == NULL)
		tf_vcheck_set(c, TF_V_SKIP, NULL, "no meta.yaml (--pd mode)");
	else if (j->run->topo_enable_tls)
		tf_vcheck_set(c, TF_V_PASS, NULL, "meta.yaml has global.enable_tls: true");
	else
		tf_vcheck_set(c, TF_V_FAIL, NULL,
		              "meta.yaml has no global.enable_tls: true (TLS not enabled)");
}

/* ---- the table of checks ---- */

#define K(x) TF_VK_MASK(x)
#define K_TLS (K(TF_VK_PD) | K(TF_VK_TIKV) | K(TF_VK_TIDB) | K(TF_VK_TIFLASH))

/* Every check, in the order each endpoint runs them (later ones reuse what earlier ones found
 * through struct job). To add one: a function above and a row here. */
const struct tf_vcheck_def tf_vcheck_table[] = {
    {"control.meta-tls", K(TF_VK_CONTROL), chk_meta_tls, NULL, 0},
    {"control.tls-files", K(TF_VK_CONTROL), chk_tls_files, NULL, 0},
    {"control.client-cert", K(TF_VK_CONTROL), chk_client_cert_file, NULL, 0},
    {"control.tiup-version", K(TF_VK_CONTROL), NULL, tf_vcheck_tiup_version, 0},
    {"control.cluster-version", K(TF_VK_CONTROL), NULL, tf_vcheck_tiup_version, 1},
    {"control.mirror-restored", K(TF_VK_CONTROL), tf_vcheck_mirror, NULL, 0},
    {"control.config-cache", K(TF_VK_CONTROL), tf_vcheck_config_cache, NULL, 0},
    {"node.tls-dir", K(TF_VK_NODE), tf_vcheck_node_dir, NULL, 0},
    {"node.key-mode", K(TF_VK_NODE), tf_vcheck_node_key_mode, NULL, 0},
    {"node.cert-matches", K(TF_VK_NODE), tf_vcheck_node_cert, NULL, 0},
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
const size_t tf_vcheck_count = sizeof(tf_vcheck_table) / sizeof(tf_vcheck_table[0]);

void tf_vcheck_run_job(struct run *rn, struct endpoint *ep)
{
	struct job j;
	size_t i, k = 0;

	memset(&j, 0, sizeof(j));
	j.run = rn;
	j.ep = ep;
	j.t.host = ep->host;
	j.t.port = ep->port;
	j.t.timeout_ms = rn->timeout_ms;
	j.t.deadline_ms = rn->deadline_ms;
	for (i = 0; i < tf_vcheck_count; i++) {
		struct tf_vcheck *c;

		if ((tf_vcheck_table[i].kinds & K(ep->kind)) == 0)
			continue;
		c = &rn->rep->checks[ep->first + k++];
		if (tf_vcheck_table[i].run != NULL)
			tf_vcheck_table[i].run(&j, c);
		else
			tf_vcheck_table[i].run_arg(&j, c, tf_vcheck_table[i].arg);
		if (c->detail == NULL)
			c->detail = strdup("(out of memory)");
	}
	tf_pd_members_release(&j.members);
}
