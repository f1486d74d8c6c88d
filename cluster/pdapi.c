/* The one client of PD's etcd API: requests through a transport seam, JSON into our structs. */
#include "cluster/pdapi.h"
#include "cluster/topology.h"
#include "cluster/http.h"
#include "cluster/tlsprobe.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define API_TIMEOUT_MS 3000
#define API_BODY_MAX ((size_t)1 << 20)

static int send_default(void *arg, const char *host, unsigned port, const struct tf_tls_client *tls,
                        int timeout_ms, const char *method, const char *path, const char *body,
                        size_t max_body, struct tf_http_response *resp, struct tf_err *err)
{
	struct tf_probe_target t = {.host = host, .port = port, .timeout_ms = timeout_ms};

	(void)arg;
	return tf_probe_http(&t, tls, method, path, body, max_body, resp, NULL, err);
}

/* One request to host:port; *out is the JSON answer of a 200 (cJSON_Delete it). */
static int api_call(const struct tf_pd_api *a, const char *host, unsigned port, const char *method,
                    const char *path, const char *body, cJSON **out, struct tf_err *err)
{
	tf_pd_transport send = a->send ? a->send : send_default;
	struct tf_http_response resp;
	cJSON *doc = NULL;
	int r;

	tf_http_response_init(&resp);
	if ((r = send(a->send_arg, host, port, a->tls, API_TIMEOUT_MS, method, path, body,
	              API_BODY_MAX, &resp, err)) != 0) {
		tf_err_prefix(err, "%s %s://%s:%u%s", method, a->tls ? "https" : "http", host, port,
		              path);
		goto out;
	}
	if (resp.status != 200 || resp.truncated) {
		r = tf_err_set(err, TF_E_FAIL, "%s %s://%s:%u%s: HTTP %d: %.160s", method,
		               a->tls ? "https" : "http", host, port, path, resp.status,
		               resp.body ? resp.body : "");
		goto out;
	}
	if ((doc = cJSON_ParseWithLength(resp.body, resp.body_len)) == NULL) {
		r = tf_err_set(err, TF_E_FAIL, "%s %s:%u%s: the answer is not JSON", method, host,
		               port, path);
		goto out;
	}
	*out = doc;
	doc = NULL; /* transferred */
	r = 0;
out:
	cJSON_Delete(doc);
	tf_http_response_release(&resp);
	return r;
}

/* POSTs text to path on the first of the n endpoints that answers; *doc is its answer. */
static int post_first(const struct tf_pd_api *a, const char *const *hosts, const unsigned *ports,
                      size_t n, const char *path, const char *text, cJSON **doc, struct tf_err *err)
{
	size_t i;
	int r = tf_err_set(err, TF_E_FAIL, "no PD endpoint to ask");

	for (i = 0; i < n; i++)
		if ((r = api_call(a, hosts[i], ports[i], "POST", path, text, doc, err)) == 0)
			break;
	return r;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void free_urls(char **urls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
}

static void member_release(struct tf_pd_member *m)
{
	free(m->id);
	free(m->name);
	free_urls(m->peer_urls, m->npeer);
	free_urls(m->client_urls, m->nclient);
	memset(m, 0, sizeof(*m));
}

void tf_pd_members_release(struct tf_pd_members *ms)
{
	size_t i;

	if (ms == NULL)
		return;
	for (i = 0; i < ms->n; i++)
		member_release(&ms->m[i]);
	free(ms->m);
	ms->m = NULL;
	ms->n = 0;
}

/* The strings of a JSON array (NULL entries for anything else); 0, or -1 when out of memory. */
static int urls_of(const cJSON *arr, char ***urls, size_t *n, int *is_array)
{
	const cJSON *u;
	size_t i = 0, cnt;

	*is_array = cJSON_IsArray(arr);
	*urls = NULL;
	*n = 0;
	if (!*is_array || (cnt = (size_t)cJSON_GetArraySize(arr)) == 0)
		return 0;
	if ((*urls = calloc(cnt, sizeof(**urls))) == NULL)
		return -1;
	cJSON_ArrayForEach(u, arr)
	{
		if (cJSON_IsString(u) && ((*urls)[i] = strdup(u->valuestring)) == NULL) {
			*n = i;
			return -1;
		}
		i++;
	}
	*n = cnt;
	return 0;
}

static int member_of(const cJSON *j, struct tf_pd_member *m)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "ID");
	const char *name = jstr(j, "name");

	memset(m, 0, sizeof(*m));
	if (cJSON_IsString(id)) {
		m->id_kind = TF_PD_ID_TEXT;
		if ((m->id = strdup(id->valuestring)) == NULL)
			return -1;
	} else if (cJSON_IsNumber(id)) {
		m->id_kind = TF_PD_ID_NUMBER;
		m->id_number = id->valuedouble;
	}
	if (name != NULL && name[0] && (m->name = strdup(name)) == NULL)
		return -1;
	if (urls_of(cJSON_GetObjectItemCaseSensitive(j, "peerURLs"), &m->peer_urls, &m->npeer,
	            &m->has_peer_urls) != 0)
		return -1;
	return urls_of(cJSON_GetObjectItemCaseSensitive(j, "clientURLs"), &m->client_urls,
	               &m->nclient, &m->has_client_urls);
}

/* members: a JSON array (checked by the caller). */
static int members_of(const cJSON *members, struct tf_pd_members *out, struct tf_err *err)
{
	struct tf_pd_members ms = {NULL, 0};
	size_t cnt = (size_t)cJSON_GetArraySize(members);
	const cJSON *j;

	if (cnt == 0) {
		*out = ms;
		return 0;
	}
	if ((ms.m = calloc(cnt, sizeof(*ms.m))) == NULL)
		return tf_err_nomem(err);
	cJSON_ArrayForEach(j, members)
	{
		int r;

		if (ms.n == cnt)
			break;
		r = member_of(j, &ms.m[ms.n]);

		ms.n++;
		if (r != 0) {
			tf_pd_members_release(&ms);
			return tf_err_nomem(err);
		}
	}
	*out = ms;
	return 0;
}

int tf_pd_members_parse(const char *body, size_t len, struct tf_pd_members *out, struct tf_err *err)
{
	cJSON *doc = cJSON_ParseWithLength(body, len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "members");
	int r;

	if (!cJSON_IsArray(m))
		r = tf_err_set(err, TF_E_FAIL, "no \"members\" array in the answer");
	else
		r = members_of(m, out, err);
	cJSON_Delete(doc);
	return r;
}

int tf_pd_member_list(const struct tf_pd_api *a, const char *const *hosts, const unsigned *ports,
                      size_t n, struct tf_pd_members *out, struct tf_err *err)
{
	size_t i;
	int r = tf_err_set(err, TF_E_FAIL, "no PD endpoint to ask");

	for (i = 0; i < n; i++) {
		cJSON *doc = NULL;
		const cJSON *m;

		if ((r = api_call(a, hosts[i], ports[i], "POST", "/v3/cluster/member/list", "{}",
		                  &doc, err)) != 0)
			continue;
		m = cJSON_GetObjectItemCaseSensitive(doc, "members");
		if (!cJSON_IsArray(m))
			r = tf_err_set(err, TF_E_FAIL, "%s:%u: member list without \"members\"",
			               hosts[i], ports[i]);
		else
			r = members_of(m, out, err);
		cJSON_Delete(doc);
		if (r == 0 || r == TF_E_NOMEM)
			return r;
	}
	return r;
}

int tf_pd_status(const struct tf_pd_api *a, const char *host, unsigned port, int *is_leader,
                 char *leader_id, size_t idlen, struct tf_err *err)
{
	cJSON *doc = NULL;
	const char *self, *lead;
	int r;

	if ((r = api_call(a, host, port, "POST", "/v3/maintenance/status", "{}", &doc, err)) != 0)
		return r;
	self = jstr(cJSON_GetObjectItemCaseSensitive(doc, "header"), "member_id");
	lead = jstr(doc, "leader");
	if (self == NULL || lead == NULL || strcmp(lead, "0") == 0) {
		r = tf_err_set(err, TF_E_FAIL, "%s:%u: no leader (maintenance/status)", host, port);
	} else {
		*is_leader = strcmp(self, lead) == 0;
		if (leader_id != NULL)
			snprintf(leader_id, idlen, "%s", lead);
	}
	cJSON_Delete(doc);
	return r;
}

int tf_pd_health(const struct tf_pd_api *a, const char *host, unsigned port, struct tf_err *err)
{
	cJSON *doc = NULL;
	const cJSON *h;
	int r;

	if ((r = api_call(a, host, port, "GET", "/health", NULL, &doc, err)) != 0)
		return r;
	h = cJSON_GetObjectItemCaseSensitive(doc, "health");
	if (!(cJSON_IsTrue(h) || (cJSON_IsString(h) && strcmp(h->valuestring, "true") == 0)))
		r = tf_err_set(err, TF_E_FAIL, "%s:%u: /health is not true", host, port);
	cJSON_Delete(doc);
	return r;
}

int tf_pd_update_peers(const struct tf_pd_api *a, const char *const *hosts, const unsigned *ports,
                       size_t n, const char *id, const char *const *urls, size_t nurls,
                       struct tf_err *err)
{
	cJSON *body = cJSON_CreateObject(), *arr = NULL, *doc = NULL;
	char *text = NULL;
	size_t i;
	int r;

	if (body == NULL || cJSON_AddStringToObject(body, "ID", id) == NULL ||
	    (arr = cJSON_AddArrayToObject(body, "peerURLs")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < nurls; i++) {
		cJSON *s = cJSON_CreateString(urls[i]);

		if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			r = tf_err_nomem(err);
			goto out;
		}
	}
	if ((text = cJSON_PrintUnformatted(body)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = post_first(a, hosts, ports, n, "/v3/cluster/member/update", text, &doc, err);
out:
	cJSON_Delete(doc);
	cJSON_free(text);
	cJSON_Delete(body);
	return r;
}

int tf_pd_member_remove(const struct tf_pd_api *a, const char *const *hosts, const unsigned *ports,
                        size_t n, const char *id, struct tf_err *err)
{
	cJSON *body = cJSON_CreateObject(), *doc = NULL;
	char *text = NULL;
	int r;

	/* etcd's gateway takes a uint64 as a JSON string, as it prints it */
	if (body == NULL || cJSON_AddStringToObject(body, "ID", id) == NULL ||
	    (text = cJSON_PrintUnformatted(body)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = post_first(a, hosts, ports, n, "/v3/cluster/member/remove", text, &doc, err);
out:
	cJSON_Delete(doc);
	cJSON_free(text);
	cJSON_Delete(body);
	return r;
}

int tf_pd_member_id_hex(const struct tf_pd_member *m, char *out, size_t len)
{
	unsigned long long v;
	char *end = NULL;

	snprintf(out, len, "?");
	if (m->id_kind == TF_PD_ID_TEXT && m->id != NULL && m->id[0] >= '0' && m->id[0] <= '9') {
		errno = 0;
		v = strtoull(m->id, &end, 10);
		if (errno != 0 || *end != '\0')
			return -1;
	} else if (m->id_kind == TF_PD_ID_NUMBER && m->id_number >= 0 &&
	           m->id_number < 9007199254740992.0 /* 2^53: exact in a double */ &&
	           m->id_number == (double)(unsigned long long)m->id_number) {
		v = (unsigned long long)m->id_number;
	} else {
		return -1;
	}
	snprintf(out, len, "%llx", v);
	return 0;
}

const char *tf_pd_plain_url(char *const *urls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (urls[i] == NULL)
			return "(not a string)";
		if (strncmp(urls[i], "https://", 8) != 0)
			return urls[i];
	}
	return NULL;
}

const struct tf_pd_member *tf_pd_member_by_peer(const struct tf_pd_members *ms, const char *host,
                                                unsigned port)
{
	char hp[TF_TOPO_ID_MAX + 4]; /* "://host:port" */
	size_t i, k, l;

	snprintf(hp, sizeof(hp), "://%s:%u", host, port);
	l = strlen(hp);
	for (i = 0; i < ms->n; i++) {
		for (k = 0; k < ms->m[i].npeer; k++) {
			const char *u = ms->m[i].peer_urls[k];
			const char *s = u != NULL ? strstr(u, hp) : NULL;

			if (s != NULL && (s[l] == '\0' || s[l] == '/'))
				return &ms->m[i];
		}
	}
	return NULL;
}

int tf_pd_member_started(const struct tf_pd_member *m)
{
	return m->name != NULL && m->nclient > 0;
}
