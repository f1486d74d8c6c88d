/* The manifest's typed sections: one parse and one emit each (manifests/sections.h). */
#include "manifests/sections.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* *dst = a copy of s (NULL stays NULL). 0, or -1 when out of memory. */
static int dup(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	return (*dst = strdup(s)) == NULL ? -1 : 0;
}

/* Grows the array *arr_p (of *n elements of size) by one zeroed element and returns it; NULL when
 * out of memory. */
static void *grow(void *arr_p, size_t *n, size_t size)
{
	void **arr = arr_p;
	char *g = realloc(*arr, (*n + 1) * size);

	if (g == NULL)
		return NULL;
	memset(g + *n * size, 0, size);
	*arr = g;
	return g + (*n)++ * size;
}

static void free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The strings of array arr into *v, *n. */
static int strs(const cJSON *arr, char ***v, size_t *n)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, arr)
	{
		char **slot;

		if (!cJSON_IsString(x))
			continue;
		if ((slot = grow(v, n, sizeof(**v))) == NULL || dup(slot, x->valuestring) != 0)
			return -1;
	}
	return 0;
}

static int not_json(struct tf_err *err, const char *name)
{
	return tf_err_set(err, TF_E_REJECT, "manifest: '%s' section is not JSON", name);
}

/* ---- tiup ---- */

void tf_tiup_section_init(struct tf_tiup_section *s)
{
	memset(s, 0, sizeof(*s));
}

void tf_tiup_section_release(struct tf_tiup_section *s)
{
	size_t i;

	for (i = 0; i < s->ncomponents; i++) {
		free(s->components[i].name);
		free(s->components[i].version);
	}
	free(s->components);
	free_strs(s->platforms, s->nplatforms);
	free(s->restore_mode);
	free(s->restore_mirror);
	memset(s, 0, sizeof(*s));
}

int tf_tiup_section_parse(const char *json, struct tf_tiup_section *s, struct tf_err *err)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *vers, *v, *rs;
	int r = -1;

	if (root == NULL)
		return not_json(err, TF_SECTION_TIUP);
	vers = cJSON_GetObjectItemCaseSensitive(root, "versions");
	s->has_versions = cJSON_IsObject(vers);
	if (!s->has_versions)
		vers = NULL;
	/* every component, however many: none is dropped */
	cJSON_ArrayForEach(v, vers)
	{
		struct tf_tiup_component *c;

		if (!cJSON_IsString(v))
			continue;
		if ((c = grow(&s->components, &s->ncomponents, sizeof(*c))) == NULL ||
		    dup(&c->name, v->string) != 0 || dup(&c->version, v->valuestring) != 0)
			goto out;
	}
	if (strs(cJSON_GetObjectItemCaseSensitive(root, "platforms"), &s->platforms,
	         &s->nplatforms) != 0)
		goto out;
	rs = cJSON_GetObjectItemCaseSensitive(root, "restore");
	if (dup(&s->restore_mode, jstr(rs, "mode")) != 0 ||
	    dup(&s->restore_mirror, jstr(rs, "mirror")) != 0)
		goto out;
	r = 0;
out:
	cJSON_Delete(root);
	return r == 0 ? 0 : tf_err_nomem(err);
}

const char *tf_tiup_section_version(const struct tf_tiup_section *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->ncomponents; i++)
		if (strcmp(s->components[i].name, name) == 0)
			return s->components[i].version;
	return NULL;
}

int tf_tiup_section_has_platform(const struct tf_tiup_section *s, const char *platform)
{
	size_t i;

	for (i = 0; i < s->nplatforms; i++)
		if (strcmp(s->platforms[i], platform) == 0)
			return 1;
	return 0;
}

int tf_tiup_section_versions_json(const struct tf_tiup_section *s, char **out, struct tf_err *err)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;
	char *t = NULL;

	for (i = 0; o != NULL && i < s->ncomponents; i++)
		if (cJSON_AddStringToObject(o, s->components[i].name, s->components[i].version) ==
		    NULL)
			break;
	if (o != NULL && i == s->ncomponents)
		t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (t == NULL)
		return tf_err_nomem(err);
	*out = t;
	return 0;
}

int tf_tiup_section_emit(const char *subset_summary, const char *restore_mirror, char **out,
                         struct tf_err *err)
{
	cJSON *root = cJSON_Parse(subset_summary), *r;
	char *t = NULL;

	if (root == NULL)
		return tf_err_set(err, TF_E_FAIL, "mirror subset summary is not JSON");
	r = cJSON_AddObjectToObject(root, "restore");
	if (r != NULL &&
	    cJSON_AddStringToObject(r, "mode", restore_mirror ? "mirror" : "as-recorded") != NULL &&
	    (restore_mirror == NULL ||
	     cJSON_AddStringToObject(r, "mirror", restore_mirror) != NULL))
		t = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (t == NULL)
		return tf_err_nomem(err);
	*out = t;
	return 0;
}

/* ---- tls ---- */

void tf_tls_section_init(struct tf_tls_section *s)
{
	memset(s, 0, sizeof(*s));
}

static void cert_release(struct tf_tls_cert_summary *c)
{
	free(c->subject);
	free(c->fingerprint);
	free(c->not_after);
}

void tf_tls_section_release(struct tf_tls_section *s)
{
	free(s->source);
	cert_release(&s->ca);
	cert_release(&s->client);
	memset(s, 0, sizeof(*s));
}

static int cert_parse(const cJSON *o, struct tf_tls_cert_summary *c)
{
	return dup(&c->subject, jstr(o, "subject")) != 0 ||
	               dup(&c->fingerprint, jstr(o, "fingerprint")) != 0 ||
	               dup(&c->not_after, jstr(o, "not_after")) != 0
	           ? -1
	           : 0;
}

int tf_tls_section_parse(const char *json, struct tf_tls_section *s, struct tf_err *err)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *ca, *cl;
	int r;

	if (root == NULL)
		return not_json(err, TF_SECTION_TLS);
	ca = cJSON_GetObjectItemCaseSensitive(root, "ca");
	cl = cJSON_GetObjectItemCaseSensitive(root, "client");
	s->has_ca = ca != NULL;
	s->has_client = cl != NULL;
	r = dup(&s->source, jstr(root, "source")) != 0 || cert_parse(ca, &s->ca) != 0 ||
	            cert_parse(cl, &s->client) != 0
	        ? -1
	        : 0;
	cJSON_Delete(root);
	return r == 0 ? 0 : tf_err_nomem(err);
}

/* ---- plan ---- */

void tf_plan_init(struct tf_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->enable_tls = 1;
}

void tf_plan_release(struct tf_plan *p)
{
	size_t i;

	free(p->pd_topology);
	free_strs(p->pd_hosts, p->npd_hosts);
	for (i = 0; i < p->nhosts; i++) {
		free(p->hosts[i].host);
		free_strs(p->hosts[i].roles, p->hosts[i].nroles);
	}
	free(p->hosts);
	for (i = 0; i < p->npd_nodes; i++) {
		free(p->pd_nodes[i].id);
		free(p->pd_nodes[i].name);
	}
	free(p->pd_nodes);
	free_strs(p->restrict_cn, p->nrestrict_cn);
	tf_plan_init(p);
}

int tf_plan_parse(const char *json, struct tf_plan *p, struct tf_err *err)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *v;
	int r = -1;

	if (root == NULL)
		return not_json(err, TF_SECTION_PLAN);
	p->enable_tls = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "enable_tls"));
	p->stop_duplicate_exporters =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "stop_duplicate_exporters"));
	v = cJSON_GetObjectItemCaseSensitive(root, "min_free_mb");
	/* in range before the conversion (a double beyond uint64_t's is undefined behaviour) */
	p->min_free_mb =
	    cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble <= 9007199254740992.0
	        ? (uint64_t)v->valuedouble
	        : 0;
	if (dup(&p->pd_topology, jstr(root, "pd_topology")) != 0 ||
	    strs(cJSON_GetObjectItemCaseSensitive(root, "pd_hosts"), &p->pd_hosts, &p->npd_hosts) !=
	        0 ||
	    strs(cJSON_GetObjectItemCaseSensitive(root, "restrict_cn"), &p->restrict_cn,
	         &p->nrestrict_cn) != 0)
		goto out;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "hosts"))
	{
		struct tf_plan_host *h;

		if (!cJSON_IsObject(v))
			continue;
		if ((h = grow(&p->hosts, &p->nhosts, sizeof(*h))) == NULL ||
		    dup(&h->host, jstr(v, "host")) != 0 ||
		    strs(cJSON_GetObjectItemCaseSensitive(v, "roles"), &h->roles, &h->nroles) != 0)
			goto out;
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "pd_nodes"))
	{
		struct tf_plan_pd_node *n;

		if (!cJSON_IsObject(v))
			continue;
		if ((n = grow(&p->pd_nodes, &p->npd_nodes, sizeof(*n))) == NULL ||
		    dup(&n->id, jstr(v, "id")) != 0 || dup(&n->name, jstr(v, "name")) != 0)
			goto out;
	}
	r = 0;
out:
	cJSON_Delete(root);
	return r == 0 ? 0 : tf_err_nomem(err);
}

static int add_strs(cJSON *o, const char *key, char *const *v, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	size_t i;

	if (a == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i])))
			return -1;
	return 0;
}

static int emit_hosts(const struct tf_plan *p, cJSON *root)
{
	cJSON *hosts = cJSON_AddArrayToObject(root, "hosts"), *pd, *o;
	size_t i;

	if (hosts == NULL)
		return -1;
	for (i = 0; i < p->nhosts; i++)
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(hosts, o) ||
		    (p->hosts[i].host && !cJSON_AddStringToObject(o, "host", p->hosts[i].host)) ||
		    add_strs(o, "roles", p->hosts[i].roles, p->hosts[i].nroles) != 0)
			return -1;
	if ((pd = cJSON_AddArrayToObject(root, "pd_nodes")) == NULL)
		return -1;
	for (i = 0; i < p->npd_nodes; i++)
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(pd, o) ||
		    (p->pd_nodes[i].id && !cJSON_AddStringToObject(o, "id", p->pd_nodes[i].id)) ||
		    (p->pd_nodes[i].name &&
		     !cJSON_AddStringToObject(o, "name", p->pd_nodes[i].name)))
			return -1;
	return 0;
}

int tf_plan_emit(const struct tf_plan *p, char **out, struct tf_err *err)
{
	cJSON *root = cJSON_CreateObject();
	char *t = NULL;

	if (root != NULL && cJSON_AddBoolToObject(root, "enable_tls", p->enable_tls) &&
	    cJSON_AddBoolToObject(root, "stop_duplicate_exporters", p->stop_duplicate_exporters) &&
	    cJSON_AddNumberToObject(root, "min_free_mb", (double)p->min_free_mb) &&
	    (p->pd_topology == NULL ||
	     cJSON_AddStringToObject(root, "pd_topology", p->pd_topology)) &&
	    add_strs(root, "pd_hosts", p->pd_hosts, p->npd_hosts) == 0 &&
	    emit_hosts(p, root) == 0 &&
	    (p->nrestrict_cn == 0 ||
	     add_strs(root, "restrict_cn", p->restrict_cn, p->nrestrict_cn) == 0))
		t = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (t == NULL)
		return tf_err_nomem(err);
	*out = t;
	return 0;
}

int tf_plan_pd_topology(const struct tf_plan *p, const char **out, struct tf_err *err)
{
	const char *v = p->pd_topology;

	if (v == NULL || v[0] == '/' || strstr(v, "..") != NULL)
		return tf_err_set(err, TF_E_REJECT, "manifest: 'plan' has no usable pd_topology");
	*out = v;
	return 0;
}

int tf_plan_add_pd_host(struct tf_plan *p, const char *host, struct tf_err *err)
{
	char **slot = grow(&p->pd_hosts, &p->npd_hosts, sizeof(*slot));

	if (slot == NULL || dup(slot, host) != 0)
		return tf_err_nomem(err);
	return 0;
}

int tf_plan_add_host_role(struct tf_plan *p, const char *host, const char *role, struct tf_err *err)
{
	struct tf_plan_host *h = NULL;
	char **slot;
	size_t i;

	for (i = 0; i < p->nhosts; i++)
		if (p->hosts[i].host != NULL && strcmp(p->hosts[i].host, host) == 0)
			h = &p->hosts[i];
	if (h == NULL &&
	    ((h = grow(&p->hosts, &p->nhosts, sizeof(*h))) == NULL || dup(&h->host, host) != 0))
		return tf_err_nomem(err);
	for (i = 0; i < h->nroles; i++)
		if (strcmp(h->roles[i], role) == 0)
			return 0;
	if ((slot = grow(&h->roles, &h->nroles, sizeof(*slot))) == NULL || dup(slot, role) != 0)
		return tf_err_nomem(err);
	return 0;
}

int tf_plan_add_pd_node(struct tf_plan *p, const char *id, const char *name, struct tf_err *err)
{
	struct tf_plan_pd_node *n = grow(&p->pd_nodes, &p->npd_nodes, sizeof(*n));

	if (n == NULL || dup(&n->id, id) != 0 || dup(&n->name, name) != 0)
		return tf_err_nomem(err);
	return 0;
}

int tf_plan_add_restrict_cn(struct tf_plan *p, const char *cn, struct tf_err *err)
{
	char **s;
	size_t i;

	for (i = 0; i < p->nrestrict_cn; i++)
		if (strcmp(p->restrict_cn[i], cn) == 0)
			return 0;
	if ((s = grow(&p->restrict_cn, &p->nrestrict_cn, sizeof(*s))) == NULL ||
	    (*s = strdup(cn)) == NULL)
		return tf_err_nomem(err);
	return 0;
}
