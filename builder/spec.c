/* Reading the build spec. */
#include "builder/spec.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "manifests/manifest.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC "spec"
#define MAX_DAYS 366
#define MAX_SPEC (4u << 20) /* as tf_yaml_load_file */

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every field the spec knows, for "unknown field" with a "did you mean" before anything is read
 * (builder/sections.c reads tiup, tls and plan later, from the same tree). */
static const char *const top_keys[] = {"cluster", "meta", "sequence", "validity", "signing_key",
                                       "payload", "tiup", "tls",      "plan"};
static const char *const validity_keys[] = {"not_before", "not_after", "days"};
static const char *const payload_keys[] = {"source", "path", "mode"};
static const char *const tiup_keys[] = {"source",   "sha256",    "root",   "components",
                                        "versions", "platforms", "restore"};
static const char *const tls_keys[] = {"ca",     "bits",      "subject",    "days",
                                       "import", "client_cn", "recipients", "passin"};
static const char *const import_keys[] = {"cert", "key", "chain", "key_passin"};
static const char *const plan_keys[] = {"stop_duplicate_exporters", "min_free_mb", "enable_tls",
                                        "restrict_cn"};

void tf_spec_release(struct tf_spec *s)
{
	size_t i;

	free(s->dir);
	free(s->cluster);
	free(s->meta);
	free(s->signing_key);
	for (i = 0; i < s->npayload; i++) {
		free(s->payload[i].source);
		free(s->payload[i].path);
	}
	free(s->payload);
	tf_yaml_free(s->doc);
	memset(s, 0, sizeof(*s));
}

char *tf_spec_path(const struct tf_spec *s, const char *p)
{
	return p[0] == '/' ? strdup(p) : tf_path_join(s->dir, p);
}

static int load_validity(struct tf_spec *s, const struct tf_yaml *v, time_t now, struct tf_err *err)
{
	const char *nb = tf_yaml_get_str(v, "not_before");
	const char *na = tf_yaml_get_str(v, "not_after");
	uint64_t days = 0;
	int r;

	if (v == NULL || v->kind != TF_YAML_MAP)
		return tf_err_set(err, TF_E_INPUT,
		                  "spec: line %d: 'validity' must give not_after or days (and may "
		                  "give not_before)",
		                  v ? v->line : s->doc->line);
	s->not_before = now;
	if (nb != NULL && tf_time_parse(nb, &s->not_before, err) != 0)
		return tf_err_prefix(err, "spec: line %d: validity.not_before",
		                     tf_yaml_get(v, "not_before")->line);
	if ((r = tf_yaml_get_u64(v, "days", 0, &days, SPEC, err)) != 0)
		return r;
	if ((na != NULL) == (days != 0))
		return tf_err_set(err, TF_E_INPUT,
		                  "spec: line %d: validity needs exactly one of not_after and days",
		                  v->line);
	if (days > MAX_DAYS)
		return tf_err_set(err, TF_E_INPUT, "spec: line %d: validity.days over %d",
		                  tf_yaml_get(v, "days")->line, MAX_DAYS);
	if (na != NULL) {
		if (tf_time_parse(na, &s->not_after, err) != 0)
			return tf_err_prefix(err, "spec: line %d: validity.not_after",
			                     tf_yaml_get(v, "not_after")->line);
	} else {
		s->not_after = s->not_before + (time_t)days * 86400;
	}
	if (s->not_after <= s->not_before)
		return tf_err_set(err, TF_E_INPUT, "spec: line %d: validity ends before it begins",
		                  v->line);
	return 0;
}

static int parse_mode(const char *m, unsigned *out)
{
	char *end = NULL;
	unsigned long v = strtoul(m, &end, 8);

	if (m[0] == '\0' || *end != '\0' || v > 0777)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int load_payload(struct tf_spec *s, const struct tf_yaml *p, struct tf_err *err)
{
	size_t i;

	if (p == NULL)
		return 0;
	if (p->kind != TF_YAML_SEQ)
		return tf_err_set(err, TF_E_INPUT, "spec: line %d: 'payload' must be a list",
		                  p->line);
	if ((s->payload = calloc(p->n ? p->n : 1, sizeof(*s->payload))) == NULL)
		return tf_err_nomem(err);
	for (i = 0; i < p->n; i++) {
		const struct tf_yaml *e = p->items[i];
		struct tf_spec_payload *sp = &s->payload[s->npayload];
		const char *src = tf_yaml_get_str(e, "source");
		const char *path = tf_yaml_get_str(e, "path");
		const char *mode = tf_yaml_get_str(e, "mode");
		char full[TF_PATH_MAX_LEN + 16];

		if (src == NULL || path == NULL)
			return tf_err_set(err, TF_E_INPUT,
			                  "spec: line %d: a payload entry needs source and path",
			                  e->line);
		snprintf(full, sizeof(full), "%s%s", TF_PAYLOAD_PREFIX, path);
		if (full[strlen(full) - 1] == '/')
			full[strlen(full) - 1] = '\0';
		if (!tf_bundle_path_ok(full))
			return tf_err_set(
			    err, TF_E_INPUT,
			    "spec: line %d: payload path '%s' must be relative, without '..'",
			    e->line, path);
		if (mode != NULL) {
			if (parse_mode(mode, &sp->mode) != 0)
				return tf_err_set(
				    err, TF_E_INPUT,
				    "spec: line %d: mode '%s' must be octal, at most 0777", e->line,
				    mode);
			sp->has_mode = 1;
		}
		if ((sp->source = tf_spec_path(s, src)) == NULL ||
		    (sp->path = strdup(full + strlen(TF_PAYLOAD_PREFIX))) == NULL)
			return tf_err_nomem(err);
		s->npayload++;
	}
	return 0;
}

static int spec_read(const char *path, struct tf_yaml *doc, time_t now, struct tf_spec *s,
                     struct tf_err *err);

/* The mapping under key, when present: a mapping (else an error naming its line) whose fields
 * are all in keys. */
static int check_map(const struct tf_yaml *parent, const char *key, const char *where,
                     const char *const *keys, size_t n, struct tf_err *err)
{
	const struct tf_yaml *m = tf_yaml_get(parent, key);

	if (m == NULL)
		return 0;
	if (m->kind != TF_YAML_MAP)
		return tf_err_set(err, TF_E_INPUT, "spec: line %d: '%s' must be a mapping", m->line,
		                  where);
	return tf_yaml_only_keys(m, keys, n, SPEC, where, err);
}

/* Every field of the spec is one it knows, before anything is read or built: a misspelt field
 * is named with its line and the field it is nearest to. */
static int check_fields(const struct tf_yaml *doc, struct tf_err *err)
{
	const struct tf_yaml *p = tf_yaml_get(doc, "payload");
	size_t i;
	int r;

	if (doc->kind != TF_YAML_MAP)
		return tf_err_set(err, TF_E_INPUT, "spec: line %d: must be a mapping", doc->line);
	if ((r = tf_yaml_only_keys(doc, top_keys, N(top_keys), SPEC, NULL, err)) != 0 ||
	    (r = check_map(doc, "validity", "validity", validity_keys, N(validity_keys), err)) !=
	        0 ||
	    (r = check_map(doc, "tiup", "tiup", tiup_keys, N(tiup_keys), err)) != 0 ||
	    (r = check_map(doc, "tls", "tls", tls_keys, N(tls_keys), err)) != 0 ||
	    (r = check_map(tf_yaml_get(doc, "tls"), "import", "tls.import", import_keys,
	                   N(import_keys), err)) != 0 ||
	    (r = check_map(doc, "plan", "plan", plan_keys, N(plan_keys), err)) != 0)
		return r;
	if (p != NULL && p->kind == TF_YAML_SEQ)
		for (i = 0; i < p->n; i++) {
			if (p->items[i]->kind != TF_YAML_MAP)
				return tf_err_set(
				    err, TF_E_INPUT,
				    "spec: line %d: a payload entry must be a mapping "
				    "of source, path and mode",
				    p->items[i]->line);
			if ((r = tf_yaml_only_keys(p->items[i], payload_keys, N(payload_keys), SPEC,
			                           "payload", err)) != 0)
				return r;
		}
	return 0;
}

int tf_spec_load(const char *path, time_t now, struct tf_spec *s, struct tf_err *err)
{
	struct tf_yaml *doc = NULL;
	int r;

	char *buf = NULL;
	size_t len = 0;

	memset(s, 0, sizeof(*s));
	if ((r = tf_read_file(path, MAX_SPEC, &buf, &len, err)) != 0)
		return r;
	r = tf_yaml_parse(buf, len, SPEC, &doc, err);
	free(buf);
	if (r != 0)
		return r;
	return spec_read(path, doc, now, s, err);
}

int tf_spec_parse(const char *buf, size_t len, const char *path, time_t now, struct tf_spec *s,
                  struct tf_err *err)
{
	struct tf_yaml *doc = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = tf_yaml_parse(buf, len, SPEC, &doc, err)) != 0)
		return r;
	return spec_read(path, doc, now, s, err);
}

/* Validates the parsed spec doc (owned by s from here) read from path. */
static int spec_read(const char *path, struct tf_yaml *doc, time_t now, struct tf_spec *s,
                     struct tf_err *err)
{
	const char *cluster, *meta, *key;
	char *copy = NULL;
	int r;

	s->doc = doc;
	if ((r = check_fields(s->doc, err)) != 0)
		goto out;
	if ((copy = strdup(path)) == NULL || (s->dir = strdup(dirname(copy))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	cluster = tf_yaml_get_str(s->doc, "cluster");
	meta = tf_yaml_get_str(s->doc, "meta");
	if (cluster == NULL || meta == NULL) {
		r = tf_err_set(
		    err, TF_E_INPUT,
		    "spec: line %d: needs 'cluster' and 'meta' (the cluster's meta.yaml)",
		    s->doc->line);
		goto out;
	}
	if ((s->cluster = strdup(cluster)) == NULL || (s->meta = tf_spec_path(s, meta)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_yaml_get_u64(s->doc, "sequence", 0, &s->sequence, SPEC, err)) != 0)
		goto out;
	if (s->sequence == 0 || s->sequence > TF_MANIFEST_MAX_SEQUENCE) {
		const struct tf_yaml *q = tf_yaml_get(s->doc, "sequence");

		r = tf_err_set(
		    err, TF_E_INPUT,
		    "spec: line %d: 'sequence' must be a whole number from 1 to %llu, above the "
		    "last bundle's",
		    q ? q->line : s->doc->line, TF_MANIFEST_MAX_SEQUENCE);
		goto out;
	}
	if ((r = load_validity(s, tf_yaml_get(s->doc, "validity"), now, err)) != 0)
		goto out;
	if ((key = tf_yaml_get_str(s->doc, "signing_key")) != NULL &&
	    (s->signing_key = tf_spec_path(s, key)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = load_payload(s, tf_yaml_get(s->doc, "payload"), err);
out:
	free(copy);
	if (r != 0)
		tf_spec_release(s);
	return r;
}
