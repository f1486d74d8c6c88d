/* The restrict-cn step (plan.restrict_cn): before `tls enable`, set TiKV's
 * security.cert-allowed-cn and TiDB's security.cluster-verify-cn in the topology's
 * server_configs through `tiup cluster edit-config --topology-file`. TiUP sets neither, so
 * without them TiKV's and TiDB's status ports never ask for a client certificate (docs/tiup.md
 * §5 and §8). */
#include "installer/enable_int.h"

#include "common/fsutil.h"
#include "common/log.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The two options, under server_configs.<component>, as TiUP's topology writes them. */
static const char *const CN_OPTS[][2] = {{"tikv", "security.cert-allowed-cn"},
                                         {"tidb", "security.cluster-verify-cn"}};
#define N_CN_OPTS (sizeof(CN_OPTS) / sizeof(CN_OPTS[0]))

static const char *component(const struct tf_enable *e)
{
	return e->cluster_component ? e->cluster_component : "cluster";
}

/* 1 when v is a sequence holding exactly the CNs of e (in any order, each once). */
static int same_cns(const struct tf_enable *e, const struct tf_yaml *v)
{
	size_t i, k;

	if (v == NULL || v->kind != TF_YAML_SEQ || v->n != e->nrestrict_cn)
		return 0;
	for (i = 0; i < e->nrestrict_cn; i++) {
		for (k = 0; k < v->n; k++)
			if (v->items[k]->kind == TF_YAML_SCALAR &&
			    strcmp(v->items[k]->scalar, e->restrict_cn[i]) == 0)
				break;
		if (k == v->n)
			return 0;
	}
	return 1;
}

/* 1 when meta's topology already sets both options to exactly e's CNs. */
static int cns_set(const struct tf_enable *e, const struct tf_yaml *meta)
{
	const struct tf_yaml *sc = tf_yaml_get(tf_yaml_get(meta, "topology"), "server_configs");
	size_t i;

	for (i = 0; i < N_CN_OPTS; i++)
		if (!same_cns(e, tf_yaml_get(tf_yaml_get(sc, CN_OPTS[i][0]), CN_OPTS[i][1])))
			return 0;
	return 1;
}

static struct tf_yaml *node_new(enum tf_yaml_kind kind, const char *scalar)
{
	struct tf_yaml *y = calloc(1, sizeof(*y));

	if (y == NULL)
		return NULL;
	y->kind = kind;
	if (kind == TF_YAML_SCALAR && (y->scalar = strdup(scalar ? scalar : "")) == NULL) {
		free(y);
		return NULL;
	}
	return y;
}

/* Appends item (taken, also on failure) to the sequence or mapping y (key: mappings only). */
static int node_add(struct tf_yaml *y, const char *key, struct tf_yaml *item)
{
	struct tf_yaml **items;
	char **keys, *k = NULL;

	if (item == NULL)
		return -1;
	if (key != NULL && (k = strdup(key)) == NULL)
		goto fail;
	if ((items = realloc(y->items, (y->n + 1) * sizeof(*items))) == NULL)
		goto fail;
	y->items = items;
	if (y->kind == TF_YAML_MAP) {
		if ((keys = realloc(y->keys, (y->n + 1) * sizeof(*keys))) == NULL)
			goto fail;
		y->keys = keys;
		y->keys[y->n] = k;
	}
	y->items[y->n++] = item;
	return 0;
fail:
	free(k);
	tf_yaml_free(item);
	return -1;
}

/* The mapping under key in map (made, or replacing a value that is not a mapping). */
static struct tf_yaml *map_child(struct tf_yaml *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0) {
			if (map->items[i]->kind != TF_YAML_MAP) {
				struct tf_yaml *m = node_new(TF_YAML_MAP, NULL);

				if (m == NULL)
					return NULL;
				tf_yaml_free(map->items[i]);
				map->items[i] = m;
			}
			return map->items[i];
		}
	if (node_add(map, key, node_new(TF_YAML_MAP, NULL)) != 0)
		return NULL;
	return map->items[map->n - 1];
}

/* Sets key in map to value (taken), replacing what was there. */
static int map_set(struct tf_yaml *map, const char *key, struct tf_yaml *value)
{
	size_t i;

	if (value == NULL)
		return -1;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0) {
			tf_yaml_free(map->items[i]);
			map->items[i] = value;
			return 0;
		}
	return node_add(map, key, value);
}

/* meta's topology with both options set to e's CNs, as YAML in *out (caller frees). */
static int new_topology(const struct tf_enable *e, struct tf_yaml *meta, char **out, size_t *len,
                        struct tf_err *err)
{
	struct tf_yaml *topo = NULL, *sc, *comp, *seq;
	size_t i, k;

	for (i = 0; i < meta->n; i++)
		if (strcmp(meta->keys[i], "topology") == 0)
			topo = meta->items[i];
	if (topo == NULL || topo->kind != TF_YAML_MAP)
		return tf_err_set(err, TF_E_INPUT, "%s: no topology mapping", e->meta_path);
	if ((sc = map_child(topo, "server_configs")) == NULL)
		return tf_err_nomem(err);
	for (i = 0; i < N_CN_OPTS; i++) {
		if ((comp = map_child(sc, CN_OPTS[i][0])) == NULL ||
		    (seq = node_new(TF_YAML_SEQ, NULL)) == NULL)
			return tf_err_nomem(err);
		for (k = 0; k < e->nrestrict_cn; k++)
			if (node_add(seq, NULL, node_new(TF_YAML_SCALAR, e->restrict_cn[k])) != 0) {
				tf_yaml_free(seq);
				return tf_err_nomem(err);
			}
		if (map_set(comp, CN_OPTS[i][1], seq) != 0)
			return tf_err_nomem(err);
	}
	return tf_yaml_emit(topo, out, len, err);
}

int tf_enable_restrict_cn(struct tf_enable *e, struct tf_err *err)
{
	char path[PATH_MAX], cns[1024] = "";
	const char *args[] = {component(e), "edit-config", e->cluster, "--topology-file",
	                      path,         "-y",          NULL};
	struct tf_yaml *meta = NULL;
	char *yaml = NULL, *out = NULL;
	size_t len = 0, i;
	int r;

	if (e->nrestrict_cn == 0) {
		tf_log_info("the plan leaves cert-allowed-cn and cluster-verify-cn unset (as TiUP "
		            "does)");
		return 0;
	}
	for (i = 0; i < e->nrestrict_cn; i++)
		snprintf(cns + strlen(cns), sizeof(cns) - strlen(cns), "%s%s", i ? "," : "",
		         e->restrict_cn[i]);
	if ((r = tf_yaml_load_file(e->meta_path, &meta, err)) != 0)
		goto out;
	if (cns_set(e, meta)) {
		tf_log_info("meta.yaml already restricts client certificates to CNs %s", cns);
		goto out;
	}
	{
		const char *tls = tf_yaml_get_str(
		    tf_yaml_get(tf_yaml_get(meta, "topology"), "global"), "enable_tls");

		if (tls != NULL && strcmp(tls, "true") == 0) {
			/* `tls enable` would find TLS on and not refresh the configs */
			r = tf_err_set(
			    err, TF_E_FAIL,
			    "TLS is already enabled on '%s': the CN options would need "
			    "`tiup cluster edit-config` and `tiup cluster reload`; build the "
			    "bundle without plan.restrict_cn, or set them by hand (docs/"
			    "operator-guide.md)",
			    e->cluster);
			goto out;
		}
	}
	if ((r = new_topology(e, meta, &yaml, &len, err)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/restrict-cn-topology.yaml", e->state_dir);
	if ((r = tf_write_file_atomic(path, yaml, len, 0600, err)) != 0)
		goto out;
	tf_log_info("setting cert-allowed-cn (TiKV) and cluster-verify-cn (TiDB) to %s", cns);
	if ((r = e->run_tiup(e->run_arg, "restrict-cn", args, &out, err)) != 0)
		goto out;
	/* TiUP exits 0 when it rejects an edit ("New topology could not be saved", editTopo):
	 * only meta.yaml says whether it applied */
	tf_yaml_free(meta);
	meta = NULL;
	if ((r = tf_yaml_load_file(e->meta_path, &meta, err)) != 0)
		goto out;
	if (!cns_set(e, meta)) {
		char said[600] = "";
		const char *p;
		size_t n = 0;

		for (p = out ? out : ""; *p != '\0' && n + 3 < sizeof(said); p++)
			if (*p == '\n') {
				if (n > 0 && p[1] != '\0' && said[n - 1] != ' ') {
					said[n++] = ';';
					said[n++] = ' ';
				}
			} else {
				said[n++] = *p;
			}
		said[n] = '\0';
		r = tf_err_set(err, TF_E_FAIL,
		               "'tiup %s edit-config %s --topology-file %s' exited 0 but meta.yaml "
		               "does not hold the CN options%s%s%s",
		               component(e), e->cluster, path, said[0] ? " (TiUP said: " : "", said,
		               said[0] ? ")" : "");
		goto out;
	}
	tf_enable_audit_note(e, "restrict-cn", NULL, cns);
	r = 0;
out:
	tf_yaml_free(meta);
	free(yaml);
	free(out);
	return r;
}
