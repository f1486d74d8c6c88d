/* The manifest: building, serialising and strictly parsing the signed JSON contract. */
#include "manifests/manifest.h"
#include "common/hex.h"
#include "common/jsonstrict.h"
#include "common/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Sections later parts of the format add; anything else at the top level is refused. */
static const char *const known_sections[] = {"tiup", "tls", "plan", "runbook", "topology"};

static int is_section(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(known_sections) / sizeof(known_sections[0]); i++)
		if (strcmp(name, known_sections[i]) == 0)
			return 1;
	return 0;
}

void tf_manifest_init(struct tf_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void tf_manifest_release(struct tf_manifest *m)
{
	size_t i;

	free(m->bundle_id);
	free(m->cluster);
	free(m->topology);
	for (i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	for (i = 0; i < m->nsections; i++) {
		free(m->section_names[i]);
		free(m->section_json[i]);
	}
	free(m->section_names);
	free(m->section_json);
	tf_manifest_init(m);
}

int tf_bundle_path_ok(const char *path)
{
	size_t len = strlen(path);
	const char *p = path, *c;

	if (len == 0 || len > TF_PATH_MAX_LEN || path[0] == '/')
		return 0;
	for (c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return 0;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		/* 255: NAME_MAX, so that every acceptable path can also be extracted */
		if (n == 0 || n > 255 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (slash == NULL)
			return 1;
		p = slash + 1;
	}
}

int tf_manifest_add_file(struct tf_manifest *m, const char *path, uint64_t size, unsigned mode,
                         const uint8_t sha256[TF_SHA256_LEN], struct tf_err *err)
{
	struct tf_manifest_file *nf;

	if (!tf_bundle_path_ok(path))
		return tf_err_set(err, TF_E_INPUT, "bad bundle path '%s'", path);
	if (m->nfiles >= TF_MANIFEST_MAX_FILES)
		return tf_err_set(err, TF_E_INPUT, "more than %u files", TF_MANIFEST_MAX_FILES);
	if ((nf = realloc(m->files, (m->nfiles + 1) * sizeof(*nf))) == NULL)
		return tf_err_nomem(err);
	m->files = nf;
	nf = &m->files[m->nfiles];
	if ((nf->path = strdup(path)) == NULL)
		return tf_err_nomem(err);
	nf->size = size;
	nf->mode = mode & 0777;
	memcpy(nf->sha256, sha256, TF_SHA256_LEN);
	m->nfiles++;
	return 0;
}

int tf_manifest_set_section(struct tf_manifest *m, const char *name, const char *json,
                            struct tf_err *err)
{
	cJSON *probe;
	char *n = NULL, *j = NULL, **nn, **nj;
	size_t i;

	if (!is_section(name))
		return tf_err_set(err, TF_E_INPUT, "unknown manifest section '%s'", name);
	if ((probe = cJSON_Parse(json)) == NULL || !cJSON_IsObject(probe)) {
		cJSON_Delete(probe);
		return tf_err_set(err, TF_E_INPUT, "section '%s' is not a JSON object", name);
	}
	cJSON_Delete(probe);
	if ((j = strdup(json)) == NULL)
		return tf_err_nomem(err);
	for (i = 0; i < m->nsections; i++) {
		if (strcmp(m->section_names[i], name) == 0) {
			free(m->section_json[i]);
			m->section_json[i] = j;
			return 0;
		}
	}
	if ((n = strdup(name)) == NULL)
		goto nomem;
	if ((nn = realloc(m->section_names, (m->nsections + 1) * sizeof(*nn))) == NULL)
		goto nomem;
	m->section_names = nn;
	if ((nj = realloc(m->section_json, (m->nsections + 1) * sizeof(*nj))) == NULL)
		goto nomem;
	m->section_json = nj;
	m->section_names[m->nsections] = n;
	m->section_json[m->nsections] = j;
	m->nsections++;
	return 0;
nomem:
	free(n);
	free(j);
	return tf_err_nomem(err);
}

const char *tf_manifest_section(const struct tf_manifest *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nsections; i++)
		if (strcmp(m->section_names[i], name) == 0)
			return m->section_json[i];
	return NULL;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct tf_manifest_file *)a)->path,
	              ((const struct tf_manifest_file *)b)->path);
}

int tf_manifest_sort(struct tf_manifest *m, struct tf_err *err)
{
	char prefix[TF_PATH_MAX_LEN + 1];
	size_t i;

	if (m->nfiles > 1)
		qsort(m->files, m->nfiles, sizeof(*m->files), cmp_file);
	for (i = 1; i < m->nfiles; i++)
		if (strcmp(m->files[i - 1].path, m->files[i].path) == 0)
			return tf_err_set(err, TF_E_REJECT, "manifest lists '%s' twice",
			                  m->files[i].path);
	/* A file cannot also be the folder of another file: such a bundle could never be
	 * extracted, so it is refused before anything is written. */
	for (i = 0; i < m->nfiles; i++) {
		const char *p = m->files[i].path, *slash;

		for (slash = strchr(p, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
			size_t n = (size_t)(slash - p);

			if (n >= sizeof(prefix))
				break;
			memcpy(prefix, p, n);
			prefix[n] = '\0';
			if (tf_manifest_find(m, prefix) != NULL)
				return tf_err_set(
				    err, TF_E_REJECT,
				    "manifest lists '%s' both as a file and as the folder of '%s'",
				    prefix, p);
		}
	}
	return 0;
}

const struct tf_manifest_file *tf_manifest_find(const struct tf_manifest *m, const char *path)
{
	struct tf_manifest_file key = {.path = (char *)(uintptr_t)path};

	if (m->nfiles == 0)
		return NULL;
	return bsearch(&key, m->files, m->nfiles, sizeof(*m->files), cmp_file);
}

/* ---- serialising ---- */

/* An integer written digit for digit: cJSON prints numbers with 15 significant digits and would
 * round larger ones. */
static cJSON *add_uint(cJSON *o, const char *name, uint64_t v)
{
	char buf[24]; /* 20 digits of a uint64_t and a NUL */

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cJSON_AddRawToObject(o, name, buf);
}

static cJSON *add_time(cJSON *o, const char *name, time_t t)
{
	char buf[TF_TIME_TEXT];

	tf_time_format(t, buf, sizeof(buf));
	return cJSON_AddStringToObject(o, name, buf);
}

int tf_manifest_serialize(const struct tf_manifest *m, char **out, size_t *len, struct tf_err *err)
{
	cJSON *root = NULL, *target, *files, *f, *sec;
	char *text = NULL, *s;
	char hex[TF_SHA256_HEX], mode[8];
	size_t i, n;
	int r;

	/* JSON numbers are doubles to most readers: refuse what would not read back exactly. */
	if (m->sequence > TF_MANIFEST_MAX_SEQUENCE) {
		r = tf_err_set(err, TF_E_INPUT, "sequence %llu is above %llu",
		               (unsigned long long)m->sequence, TF_MANIFEST_MAX_SEQUENCE);
		goto out;
	}
	for (i = 0; i < m->nfiles; i++) {
		if (m->files[i].size > TF_MANIFEST_MAX_INT) {
			r = tf_err_set(err, TF_E_INPUT, "'%s' is larger than 2^53 bytes",
			               m->files[i].path);
			goto out;
		}
	}
	if ((root = cJSON_CreateObject()) == NULL)
		goto nomem;
	if (!cJSON_AddStringToObject(root, "format", TF_MANIFEST_FORMAT) ||
	    !cJSON_AddStringToObject(root, "bundle_id", m->bundle_id) ||
	    !add_uint(root, "sequence", m->sequence) || !add_time(root, "created", m->created) ||
	    !add_time(root, "not_before", m->not_before) ||
	    !add_time(root, "not_after", m->not_after))
		goto nomem;
	if ((target = cJSON_AddObjectToObject(root, "target")) == NULL ||
	    !cJSON_AddStringToObject(target, "cluster", m->cluster) ||
	    !cJSON_AddStringToObject(target, "topology", m->topology))
		goto nomem;
	if ((files = cJSON_AddArrayToObject(root, "files")) == NULL)
		goto nomem;
	for (i = 0; i < m->nfiles; i++) {
		if ((f = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(files, f))
			goto nomem;
		tf_hex_encode(m->files[i].sha256, TF_SHA256_LEN, hex);
		snprintf(mode, sizeof(mode), "%04o", m->files[i].mode);
		if (!cJSON_AddStringToObject(f, "path", m->files[i].path) ||
		    !add_uint(f, "size", m->files[i].size) ||
		    !cJSON_AddStringToObject(f, "mode", mode) ||
		    !cJSON_AddStringToObject(f, "sha256", hex))
			goto nomem;
	}
	for (i = 0; i < m->nsections; i++) {
		if ((sec = cJSON_Parse(m->section_json[i])) == NULL) {
			r = tf_err_set(err, TF_E_INPUT, "section '%s' is not JSON",
			               m->section_names[i]);
			goto out;
		}
		if (!cJSON_AddItemToObject(root, m->section_names[i], sec)) {
			cJSON_Delete(sec);
			goto nomem;
		}
	}
	if ((text = cJSON_Print(root)) == NULL)
		goto nomem;
	n = strlen(text);
	if ((s = malloc(n + 2)) == NULL)
		goto nomem;
	memcpy(s, text, n);
	s[n] = '\n';
	s[n + 1] = '\0';
	*out = s;
	*len = n + 1;
	r = 0;
	goto out;
nomem:
	r = tf_err_nomem(err);
out:
	cJSON_free(text);
	cJSON_Delete(root);
	return r;
}

/* ---- parsing ---- */

static const char *get_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A whole number in [min, max] (the text was checked to be an integer of at most 2^53). */
static int get_uint(const cJSON *o, const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!(d >= (double)min) || d > (double)max || floor(d) != d)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static int get_time(const cJSON *o, const char *name, time_t *out)
{
	const char *s = get_str(o, name);

	return s != NULL ? tf_time_parse(s, out, NULL) : -1;
}

static int cluster_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return s[0] != '.';
}

static int parse_mode(const char *s, unsigned *out)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL || strlen(s) != 4 || s[0] != '0')
		return -1;
	v = strtoul(s, &end, 8);
	if (*end != '\0' || v > 0777)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int only_keys(const cJSON *o, const char *const *keys, size_t n, const char **bad)
{
	const cJSON *c;
	size_t i;

	for (c = o->child; c != NULL; c = c->next) {
		for (i = 0; i < n; i++)
			if (strcmp(c->string, keys[i]) == 0)
				break;
		if (i == n) {
			*bad = c->string;
			return -1;
		}
	}
	return 0;
}

static int parse_file(const cJSON *f, size_t idx, struct tf_manifest *m, struct tf_err *err)
{
	static const char *const keys[] = {"path", "size", "mode", "sha256"};
	const char *path, *hex, *bad = NULL;
	uint8_t sha[TF_SHA256_LEN];
	uint64_t size;
	unsigned md;

	if (!cJSON_IsObject(f))
		return tf_err_set(err, TF_E_REJECT, "manifest: files[%zu] is not an object", idx);
	if (only_keys(f, keys, 4, &bad) != 0)
		return tf_err_set(err, TF_E_REJECT, "manifest: files[%zu] has unknown field '%s'",
		                  idx, bad);
	path = get_str(f, "path");
	if (path == NULL || !tf_bundle_path_ok(path) ||
	    strncmp(path, TF_PAYLOAD_PREFIX, strlen(TF_PAYLOAD_PREFIX)) != 0)
		return tf_err_set(err, TF_E_REJECT, "manifest: files[%zu]: bad path '%s'", idx,
		                  path ? path : "(missing)");
	if (get_uint(f, "size", 0, TF_MANIFEST_MAX_INT, &size) != 0)
		return tf_err_set(err, TF_E_REJECT, "manifest: '%s': bad size", path);
	if (parse_mode(get_str(f, "mode"), &md) != 0)
		return tf_err_set(err, TF_E_REJECT, "manifest: '%s': bad mode", path);
	hex = get_str(f, "sha256");
	if (hex == NULL || !tf_hex_is_lower(hex, 64) || tf_hex_decode(hex, sha, sizeof(sha)) != 0)
		return tf_err_set(err, TF_E_REJECT, "manifest: '%s': bad sha256", path);
	if (tf_manifest_add_file(m, path, size, md, sha, err) != 0) {
		if (err->code != TF_E_NOMEM)
			err->code = TF_E_REJECT;
		return tf_err_prefix(err, "manifest");
	}
	return 0;
}

static int parse_root(const cJSON *root, struct tf_manifest *m, struct tf_err *err)
{
	static const char *const core[] = {"format",     "bundle_id", "sequence", "created",
	                                   "not_before", "not_after", "target",   "files"};
	const cJSON *target, *files, *c;
	const char *s;
	size_t i;
	int r;

	for (c = root->child; c != NULL; c = c->next) {
		for (i = 0; i < sizeof(core) / sizeof(core[0]); i++)
			if (strcmp(c->string, core[i]) == 0)
				break;
		if (i < sizeof(core) / sizeof(core[0]))
			continue;
		if (!is_section(c->string) || !cJSON_IsObject(c))
			return tf_err_set(err, TF_E_REJECT, "manifest: unknown field '%s'",
			                  c->string);
	}
	if ((s = get_str(root, "format")) == NULL || strcmp(s, TF_MANIFEST_FORMAT) != 0)
		return tf_err_set(err, TF_E_REJECT, "manifest: format '%s' is not '%s'",
		                  s ? s : "(missing)", TF_MANIFEST_FORMAT);
	if ((s = get_str(root, "bundle_id")) == NULL || !tf_hex_is_lower(s, 32))
		return tf_err_set(err, TF_E_REJECT, "manifest: bad bundle_id");
	if ((m->bundle_id = strdup(s)) == NULL)
		return tf_err_nomem(err);
	if (get_uint(root, "sequence", 1, TF_MANIFEST_MAX_SEQUENCE, &m->sequence) != 0)
		return tf_err_set(err, TF_E_REJECT,
		                  "manifest: sequence must be a whole number from 1 to %llu",
		                  TF_MANIFEST_MAX_SEQUENCE);
	if (get_time(root, "created", &m->created) != 0 ||
	    get_time(root, "not_before", &m->not_before) != 0 ||
	    get_time(root, "not_after", &m->not_after) != 0)
		return tf_err_set(
		    err, TF_E_REJECT,
		    "manifest: created, not_before and not_after must be RFC 3339 times");
	if (m->not_after <= m->not_before)
		return tf_err_set(err, TF_E_REJECT, "manifest: not_after is not after not_before");
	target = cJSON_GetObjectItemCaseSensitive(root, "target");
	if (!cJSON_IsObject(target) || (s = get_str(target, "cluster")) == NULL ||
	    !cluster_name_ok(s))
		return tf_err_set(err, TF_E_REJECT, "manifest: bad target cluster name");
	if ((m->cluster = strdup(s)) == NULL)
		return tf_err_nomem(err);
	if ((s = get_str(target, "topology")) == NULL || strncmp(s, "sha256:", 7) != 0 ||
	    !tf_hex_is_lower(s + 7, 64))
		return tf_err_set(err, TF_E_REJECT, "manifest: bad target topology fingerprint");
	if ((m->topology = strdup(s)) == NULL)
		return tf_err_nomem(err);
	files = cJSON_GetObjectItemCaseSensitive(root, "files");
	if (!cJSON_IsArray(files))
		return tf_err_set(err, TF_E_REJECT, "manifest: files must be an array");
	i = 0;
	cJSON_ArrayForEach(c, files)
	{
		if ((r = parse_file(c, i++, m, err)) != 0)
			return r;
	}
	if ((r = tf_manifest_sort(m, err)) != 0)
		return r;
	for (c = root->child; c != NULL; c = c->next) {
		char *text;

		if (!is_section(c->string))
			continue;
		if ((text = cJSON_PrintUnformatted(c)) == NULL)
			return tf_err_nomem(err);
		r = tf_manifest_set_section(m, c->string, text, err);
		cJSON_free(text);
		if (r != 0)
			return r;
	}
	return 0;
}

int tf_manifest_parse(const char *buf, size_t len, struct tf_manifest *m, struct tf_err *err)
{
	cJSON *root = NULL;
	char *copy = NULL;
	int r;

	tf_manifest_init(m);
	if (len > TF_MANIFEST_MAX)
		return tf_err_set(err, TF_E_REJECT, "manifest: larger than %u bytes",
		                  TF_MANIFEST_MAX);
	if (memchr(buf, '\0', len) != NULL)
		return tf_err_set(err, TF_E_REJECT, "manifest: NUL byte");
	/* Before cJSON: what cJSON would read differently from Python or jq is refused here, in
	 * time linear in len (repeated keys included). */
	if ((r = tf_json_strict(buf, len, err)) != 0) {
		if (r != TF_E_NOMEM)
			err->code = TF_E_REJECT;
		return tf_err_prefix(err, "manifest");
	}
	/* cJSON refuses trailing bytes only when it sees the terminating NUL inside the length. */
	if ((copy = malloc(len + 1)) == NULL)
		return tf_err_nomem(err);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	if ((root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1)) == NULL ||
	    !cJSON_IsObject(root)) {
		r = tf_err_set(err, TF_E_REJECT, "manifest: not a JSON object");
		goto out;
	}
	r = parse_root(root, m, err);
out:
	cJSON_Delete(root);
	free(copy);
	if (r != 0)
		tf_manifest_release(m);
	return r;
}
