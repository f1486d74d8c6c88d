/* The node certificate plan: what `tiup cluster tls <name> enable` will issue for each instance. */
#include "cluster/certplan.h"
#include "crypto/certs.h"
#include "common/strbuf.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds item to parent under key (to the array parent when key is NULL); frees item on failure.
 * 1 on success, 0 on failure (item NULL included). */
static int put(cJSON *parent, const char *key, cJSON *item)
{
	int ok;

	if (item == NULL)
		return 0;
	ok = key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
	if (!ok)
		cJSON_Delete(item);
	return ok != 0;
}

static cJSON *strings_json(char *const *s, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (!put(a, NULL, cJSON_CreateString(s[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static cJSON *entry_json(const struct tf_certplan_entry *e)
{
	cJSON *c = cJSON_CreateObject();
	char files[3][1100];
	char *fl[3] = {files[0], files[1], files[2]};

	if (c == NULL || !put(c, "component", cJSON_CreateString(e->component)) ||
	    !put(c, "host", cJSON_CreateString(e->host)) ||
	    !put(c, "port", cJSON_CreateNumber((double)e->port)) ||
	    !put(c, "cn", cJSON_CreateString(e->component)) ||
	    !put(c, "sans", strings_json(e->sans, e->nsans)) ||
	    !put(c, "host_is_ip", cJSON_CreateBool(e->host_is_ip)))
		goto fail;
	if (e->deploy_dir != NULL) {
		snprintf(files[0], sizeof(files[0]), "%s/tls/ca.crt", e->deploy_dir);
		snprintf(files[1], sizeof(files[1]), "%s/tls/%s.crt", e->deploy_dir, e->component);
		snprintf(files[2], sizeof(files[2]), "%s/tls/%s.pem", e->deploy_dir, e->component);
		if (!put(c, "files", strings_json(fl, 3)))
			goto fail;
	}
	return c;
fail:
	cJSON_Delete(c);
	return NULL;
}

static cJSON *plan_json(const struct tf_certplan *p)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr != NULL && i < p->n; i++)
		if (!put(arr, NULL, entry_json(&p->entries[i]))) {
			cJSON_Delete(arr);
			arr = NULL;
		}
	if (o == NULL || !put(o, "node_days", cJSON_CreateNumber(TF_CERTS_NODE_DAYS)) ||
	    !put(o, "certificates", arr) ||
	    !put(o, "warnings", strings_json(p->warnings, p->nwarnings))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int tf_certplan_json(const struct tf_certplan *p, char **out, struct tf_err *err)
{
	cJSON *o = plan_json(p);
	char *s = o ? cJSON_Print(o) : NULL;

	cJSON_Delete(o);
	if (s == NULL)
		return tf_err_set(err, TF_E_NOMEM, "out of memory writing JSON");
	*out = s;
	return 0;
}

/* TiUP's component name for a meta.yaml list ("monitoring_servers" holds Prometheus). */
static const char *component_of(const char *role, char *buf, size_t len)
{
	size_t i;

	if (strcmp(role, "monitoring") == 0)
		return "prometheus";
	snprintf(buf, len, "%s", role);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = '-';
	return buf;
}

static uint64_t main_port(const struct tf_topo_instance *in)
{
	static const char *const names[] = {"client_port", "port", "tcp_port", "web_port",
	                                    "status_port"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (tf_topo_port(in, names[i]) != 0)
			return tf_topo_port(in, names[i]);
	return in->nports > 0 ? in->ports[0].value : 0;
}

static int is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

void tf_certplan_free(struct tf_certplan *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		struct tf_certplan_entry *e = &p->entries[i];

		free(e->component);
		free(e->host);
		free(e->deploy_dir);
		for (j = 0; j < e->nsans; j++)
			free(e->sans[j]);
	}
	free(p->entries);
	for (i = 0; i < p->nwarnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	free(p);
}

static int plan_warn_dns(struct tf_certplan *p, size_t upto)
{
	const struct tf_certplan_entry *e = &p->entries[upto];
	char roles[256] = "";
	size_t i, used = 0;

	for (i = 0; i < upto; i++)
		if (!p->entries[i].host_is_ip && strcmp(p->entries[i].host, e->host) == 0)
			return 0; /* warned already */
	for (i = upto; i < p->n; i++) {
		const struct tf_certplan_entry *o = &p->entries[i];

		if (strcmp(o->host, e->host) != 0 || strstr(roles, o->component) != NULL)
			continue;
		used += (size_t)snprintf(roles + used, sizeof(roles) - used, "%s%s",
		                         used ? ", " : "", o->component);
		if (used >= sizeof(roles))
			break;
	}
	return tf_strv_addf(&p->warnings, &p->nwarnings,
	                   "host '%s' (%s) is a DNS name, not an IP address: TiUP names it in "
	                   "the node certificates as a DNS name, so every host and client must "
	                   "resolve '%s' to the same address",
	                   e->host, roles, e->host);
}

int tf_certplan_make(const struct tf_topology *t, struct tf_certplan **out, struct tf_err *err)
{
	struct tf_certplan *p = NULL;
	size_t i;
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (t->ninstances > 0 &&
	     (p->entries = calloc(t->ninstances, sizeof(*p->entries))) == NULL)) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];
		struct tf_certplan_entry *e = &p->entries[i];
		char buf[64];
		const char *sans[3];
		size_t j, k;

		if (in->role == NULL || in->host == NULL || in->host[0] == '\0') {
			r = tf_err_set(err, TF_E_INPUT, "instance %zu of the topology has no host",
			               i + 1);
			goto out;
		}
		p->n++;
		e->host_is_ip = is_ip(in->host);
		e->port = main_port(in);
		sans[0] = "localhost";
		sans[1] = "127.0.0.1";
		sans[2] = in->host;
		if ((e->component = strdup(component_of(in->role, buf, sizeof(buf)))) == NULL ||
		    (e->host = strdup(in->host)) == NULL ||
		    (in->deploy_dir != NULL && (e->deploy_dir = strdup(in->deploy_dir)) == NULL)) {
			r = tf_err_nomem(err);
			goto out;
		}
		for (j = 0; j < 3; j++) {
			for (k = 0; k < e->nsans; k++)
				if (strcmp(e->sans[k], sans[j]) == 0)
					break;
			if (k < e->nsans)
				continue;
			if ((e->sans[e->nsans] = strdup(sans[j])) == NULL) {
				r = tf_err_nomem(err);
				goto out;
			}
			e->nsans++;
		}
	}
	for (i = 0; i < p->n; i++)
		if (!p->entries[i].host_is_ip && plan_warn_dns(p, i) != 0) {
			r = tf_err_nomem(err);
			goto out;
		}
	*out = p;
	p = NULL; /* transferred */
	r = 0;
out:
	tf_certplan_free(p);
	return r;
}

