/* TiUP's meta.yaml: instances and the topology fingerprint. */
#include "cluster/topology.h"
#include "crypto/digest.h"
#include "manifests/yamldoc.h"
#include "common/fsutil.h"
#include "common/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INSTANCES 4096
#define SUFFIX "_servers"

void tf_topology_free(struct tf_topology *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; t->instances != NULL && i < t->ninstances; i++) {
		struct tf_topo_instance *in = &t->instances[i];

		free(in->role);
		free(in->host);
		free(in->name);
		free(in->deploy_dir);
		free(in->data_dir);
		for (j = 0; j < in->nports; j++)
			free(in->ports[j].name);
	}
	free(t->instances);
	free(t->user);
	free(t->version);
	free(t);
}

uint64_t tf_topo_port(const struct tf_topo_instance *in, const char *name)
{
	size_t i;

	for (i = 0; i < in->nports; i++)
		if (strcmp(in->ports[i].name, name) == 0)
			return in->ports[i].value;
	return 0;
}

static int is_port_key(const char *k)
{
	size_t n = strlen(k);

	if (strcmp(k, "ssh_port") == 0)
		return 0;
	return strcmp(k, "port") == 0 || (n > 5 && strcmp(k + n - 5, "_port") == 0);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int load_instance(struct tf_topology *t, const char *role, const struct tf_yaml *y,
                         uint64_t ssh_default, const char *name, struct tf_err *err)
{
	struct tf_topo_instance *in;
	const char *host = tf_yaml_get_str(y, "host");
	size_t i;
	int r;

	if (y->kind != TF_YAML_MAP || host == NULL || host[0] == '\0')
		return tf_err_set(err, TF_E_INPUT, "%s: line %d: a %s instance without host", name,
		                  y->line, role);
	if (t->ninstances >= MAX_INSTANCES)
		return tf_err_set(err, TF_E_INPUT, "%s: more than %d instances", name,
		                  MAX_INSTANCES);
	in = &t->instances[t->ninstances];
	memset(in, 0, sizeof(*in));
	t->ninstances++;
	in->role = strdup(role);
	in->host = strdup(host);
	in->deploy_dir = dup_or_null(tf_yaml_get_str(y, "deploy_dir"));
	in->data_dir = dup_or_null(tf_yaml_get_str(y, "data_dir"));
	if (in->role == NULL || in->host == NULL)
		return tf_err_nomem(err);
	if ((r = tf_yaml_get_u64(y, "ssh_port", ssh_default, &in->ssh_port, name, err)) != 0)
		return r;
	for (i = 0; i < y->n; i++) {
		struct tf_topo_port *p;

		if (!is_port_key(y->keys[i]))
			continue;
		if (in->nports == TF_TOPO_MAX_PORTS)
			return tf_err_set(err, TF_E_INPUT, "%s: line %d: more than %d ports", name,
			                  y->line, TF_TOPO_MAX_PORTS);
		p = &in->ports[in->nports];
		if ((r = tf_yaml_get_u64(y, y->keys[i], 0, &p->value, name, err)) != 0)
			return r;
		if (p->value == 0 || p->value > 65535)
			return tf_err_set(err, TF_E_INPUT, "%s: line %d: %s %llu is not a port",
			                  name, y->items[i]->line, y->keys[i],
			                  (unsigned long long)p->value);
		if ((p->name = strdup(y->keys[i])) == NULL)
			return tf_err_nomem(err);
		in->nports++;
	}
	if (strcmp(role, "pd") == 0) {
		const char *n = tf_yaml_get_str(y, "name");
		char def[TF_TOPO_ID_MAX];

		/* TiUP's default PD member name (docs/tiup.md §4). */
		snprintf(def, sizeof(def), "pd-%s-%llu", host,
		         (unsigned long long)(tf_topo_port(in, "client_port")
		                                  ? tf_topo_port(in, "client_port")
		                                  : 2379));
		if ((in->name = strdup(n ? n : def)) == NULL)
			return tf_err_nomem(err);
	}
	return 0;
}

int tf_topology_parse(const char *buf, size_t len, const char *name, struct tf_topology **out,
                      struct tf_err *err)
{
	struct tf_yaml *y = NULL;
	struct tf_topology *t = NULL;
	const struct tf_yaml *topo, *global;
	const char *user;
	uint64_t ssh_default;
	size_t i, j, total = 0;
	int r;

	if ((r = tf_yaml_parse(buf, len, name, &y, err)) != 0)
		goto out;
	topo = tf_yaml_get(y, "topology");
	if (topo == NULL || topo->kind != TF_YAML_MAP) {
		r = tf_err_set(err, TF_E_INPUT,
		               "%s: no 'topology' mapping (is this TiUP's meta.yaml?)", name);
		goto out;
	}
	global = tf_yaml_get(topo, "global");
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_yaml_get_u64(global, "ssh_port", 22, &ssh_default, name, err)) != 0 ||
	    (r = tf_yaml_get_bool(global, "enable_tls", 0, &t->enable_tls, name, err)) != 0)
		goto out;
	user = tf_yaml_get_str(global, "user");
	if (user == NULL)
		user = tf_yaml_get_str(y, "user");
	if ((t->user = strdup(user ? user : "tidb")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (tf_yaml_get_str(y, "tidb_version") != NULL &&
	    (t->version = strdup(tf_yaml_get_str(y, "tidb_version"))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < topo->n; i++)
		if (topo->items[i]->kind == TF_YAML_SEQ)
			total += topo->items[i]->n;
	if (total > MAX_INSTANCES) {
		r = tf_err_set(err, TF_E_INPUT, "%s: more than %d instances", name, MAX_INSTANCES);
		goto out;
	}
	if ((t->instances = calloc(total ? total : 1, sizeof(*t->instances))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < topo->n; i++) {
		const char *k = topo->keys[i];
		size_t kl = strlen(k), sl = strlen(SUFFIX);
		char role[64];

		if (kl <= sl || strcmp(k + kl - sl, SUFFIX) != 0)
			continue;
		if (topo->items[i]->kind != TF_YAML_SEQ) {
			r = tf_err_set(err, TF_E_INPUT, "%s: line %d: '%s' must be a list", name,
			               topo->items[i]->line, k);
			goto out;
		}
		snprintf(role, sizeof(role), "%.*s", (int)(kl - sl), k);
		for (j = 0; j < topo->items[i]->n; j++)
			if ((r = load_instance(t, role, topo->items[i]->items[j], ssh_default, name,
			                       err)) != 0)
				goto out;
	}
	*out = t;
	t = NULL; /* transferred */
	r = 0;
out:
	tf_topology_free(t);
	tf_yaml_free(y);
	return r;
}

int tf_topology_load(const char *path, struct tf_topology **out, struct tf_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = tf_read_file(path, 4u << 20, &buf, &len, err)) != 0)
		return r;
	r = tf_topology_parse(buf, len, path, out, err);
	free(buf);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_port(const void *a, const void *b)
{
	return strcmp(((const struct tf_topo_port *)a)->name,
	              ((const struct tf_topo_port *)b)->name);
}

int tf_topology_fingerprint(const struct tf_topology *t, char out[TF_FINGERPRINT_LEN],
                            struct tf_err *err)
{
	char **lines = NULL;
	struct tf_sha256 *c = NULL;
	uint8_t d[TF_SHA256_LEN];
	char hex[TF_SHA256_HEX];
	size_t i, j;
	int r;

	if ((lines = calloc(t->ninstances ? t->ninstances : 1, sizeof(*lines))) == NULL ||
	    (c = tf_sha256_new()) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < t->ninstances; i++) {
		struct tf_topo_port ports[TF_TOPO_MAX_PORTS];
		const struct tf_topo_instance *in = &t->instances[i];
		char line[1024];
		size_t n;

		memcpy(ports, in->ports, in->nports * sizeof(ports[0]));
		qsort(ports, in->nports, sizeof(ports[0]), cmp_port);
		n = (size_t)snprintf(line, sizeof(line), "%s %s ", in->role, in->host);
		for (j = 0; j < in->nports && n < sizeof(line); j++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s=%llu", j ? "," : "",
			                      ports[j].name, (unsigned long long)ports[j].value);
		if (n + 2 >= sizeof(line)) {
			r = tf_err_set(err, TF_E_INPUT, "instance %s %s: line too long", in->role,
			               in->host);
			goto out;
		}
		line[n++] = '\n';
		line[n] = '\0';
		if ((lines[i] = strdup(line)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
	}
	qsort(lines, t->ninstances, sizeof(*lines), cmp_str);
	if (tf_sha256_update(c, "tiferry-topology/1\n", 19) != 0) {
		r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
		goto out;
	}
	for (i = 0; i < t->ninstances; i++) {
		/* A set: an instance listed twice counts once. */
		if (i > 0 && strcmp(lines[i], lines[i - 1]) == 0)
			continue;
		if (tf_sha256_update(c, lines[i], strlen(lines[i])) != 0) {
			r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
			goto out;
		}
	}
	if (tf_sha256_final(c, d) != 0) {
		r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
		goto out;
	}
	tf_hex_encode(d, sizeof(d), hex);
	snprintf(out, 72, "sha256:%s", hex);
	r = 0;
out:
	if (lines != NULL)
		for (i = 0; i < t->ninstances; i++)
			free(lines[i]);
	free(lines);
	tf_sha256_free(c);
	return r;
}

int tf_topology_file_fingerprint(const char *path, char out[TF_FINGERPRINT_LEN], struct tf_err *err)
{
	struct tf_topology *t = NULL;
	int r;

	if ((r = tf_topology_load(path, &t, err)) != 0)
		return r;
	if (t == NULL) /* not reached: a load that succeeds gives a topology */
		return tf_err_set(err, TF_E_FAIL, "'%s': no topology read", path);
	r = tf_topology_fingerprint(t, out, err);
	tf_topology_free(t);
	return r;
}
