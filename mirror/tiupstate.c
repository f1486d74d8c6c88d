/* Recording and restoring TiUP's mirror state (pkg/localdata in TiUP: tiup.toml, bin/, manifests/).
 */
#include "mirror/tiupstate.h"
#include "common/fsutil.h"
#include "common/hex.h"
#include "common/paths.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define STATE_FILE_MAX (64u << 20)

/* Reads path into *data; *present = 0 (and 0 returned) when it does not exist. */
static int read_opt(const char *path, int *present, uint8_t **data, size_t *len, struct tf_err *err)
{
	char *buf = NULL;
	int r;

	*present = 0;
	*data = NULL;
	*len = 0;
	r = tf_read_file(path, STATE_FILE_MAX, &buf, len, err);
	if (r == TF_E_NOTFOUND)
		return 0;
	if (r != 0)
		return r;
	*present = 1;
	*data = (uint8_t *)buf;
	return 0;
}

static int file_add(struct tf_tiup_file **v, size_t *n, const char *name, uint8_t *data, size_t len)
{
	struct tf_tiup_file *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return -1;
	*v = nv;
	if ((nv[*n].name = strdup(name)) == NULL)
		return -1;
	nv[*n].data = data;
	nv[*n].len = len;
	(*n)++;
	return 0;
}

/* bin/<16 lowercase hex>.root.json: TiUP's cache of a remote mirror's root. */
static int is_cache_name(const char *n)
{
	char id[17];

	if (strlen(n) != 26 || strcmp(n + 16, ".root.json") != 0)
		return 0;
	memcpy(id, n, 16);
	id[16] = '\0';
	return tf_hex_is_lower(id, 16);
}

/* Reads the regular files of dir whose names pass keep (NULL: all) into v. A sub-folder
 * fails when flat is set. *present = 0 when dir does not exist. */
static int read_dir(const char *dir, int (*keep)(const char *), int flat, int *present,
                    struct tf_tiup_file **v, size_t *n, struct tf_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = 0;

	*present = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : tf_err_sys(err, TF_E_IO, "open folder '%s'", dir);
	*present = 1;
	while (r == 0 && (e = readdir(d)) != NULL) {
		struct stat st;
		char *p;
		uint8_t *data = NULL;
		size_t len = 0;
		int here = 0;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (keep != NULL && !keep(e->d_name))
			continue;
		if ((p = tf_path_join(dir, e->d_name)) == NULL) {
			r = tf_err_nomem(err);
			break;
		}
		if (lstat(p, &st) != 0) {
			r = tf_err_sys(err, TF_E_IO, "stat '%s'", p);
		} else if (S_ISDIR(st.st_mode) && flat) {
			r = tf_err_set(
			    err, TF_E_INPUT,
			    "'%s' is a folder; TiUP keeps manifests/ flat, not recording", p);
		} else if (S_ISREG(st.st_mode)) {
			r = read_opt(p, &here, &data, &len, err);
			if (r == 0 && here && file_add(v, n, e->d_name, data, len) != 0) {
				free(data);
				r = tf_err_nomem(err);
			}
		}
		free(p);
	}
	closedir(d);
	return r;
}

static void files_release(struct tf_tiup_file *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].data);
	}
	free(v);
}

void tf_tiup_state_release(struct tf_tiup_state *st)
{
	if (st == NULL)
		return;
	free(st->home);
	free(st->toml);
	free(st->mirror);
	free(st->env);
	free(st->root);
	files_release(st->caches, st->ncaches);
	files_release(st->manifests, st->nmanifests);
	memset(st, 0, sizeof(*st));
}

int tf_tiup_state_record(const char *home, struct tf_tiup_state *st, struct tf_err *err)
{
	char *toml = NULL, *root = NULL, *bin = NULL, *man = NULL;
	const char *env = getenv("TIUP_MIRRORS");
	int binhere = 0, r;

	memset(st, 0, sizeof(*st));
	if (home != NULL)
		r = (st->home = strdup(home)) == NULL ? tf_err_nomem(err) : 0;
	else
		r = tf_paths_tiup_home(&st->home, err);
	if (r != 0)
		goto out;
	if ((toml = tf_path_join(st->home, "tiup.toml")) == NULL ||
	    (bin = tf_path_join(st->home, "bin")) == NULL ||
	    (root = tf_path_join(bin, "root.json")) == NULL ||
	    (man = tf_path_join(st->home, "manifests")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = read_opt(toml, &st->has_toml, &st->toml, &st->toml_len, err)) != 0 ||
	    (r = read_opt(root, &st->has_root, &st->root, &st->root_len, err)) != 0 ||
	    (r = read_dir(bin, is_cache_name, 0, &binhere, &st->caches, &st->ncaches, err)) != 0 ||
	    (r = read_dir(man, NULL, 1, &st->has_manifests, &st->manifests, &st->nmanifests,
	                  err)) != 0)
		goto out;
	if (st->has_toml)
		st->mirror = tf_tiup_toml_mirror((const char *)st->toml, st->toml_len);
	if (env != NULL && env[0] != '\0') {
		st->has_env = 1;
		if ((st->env = strdup(env)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
	}
	r = 0;
out:
	if (r != 0)
		tf_tiup_state_release(st);
	free(toml);
	free(root);
	free(bin);
	free(man);
	return r;
}

const char *tf_tiup_state_mirror(const struct tf_tiup_state *st)
{
	if (st->has_env)
		return st->env;
	if (st->mirror != NULL && st->mirror[0] != '\0')
		return st->mirror;
	return TF_TIUP_DEFAULT_MIRROR;
}

static int put(const char *path, int present, const uint8_t *data, size_t len, struct tf_err *err)
{
	if (present)
		return tf_write_file_atomic(path, data, len, 0644, err);
	if (unlink(path) != 0 && errno != ENOENT)
		return tf_err_sys(err, TF_E_IO, "remove '%s'", path);
	return 0;
}

static int write_files(const char *dir, const struct tf_tiup_file *v, size_t n, struct tf_err *err)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		char *p;

		if (strchr(v[i].name, '/') != NULL || strcmp(v[i].name, "..") == 0 ||
		    strcmp(v[i].name, ".") == 0)
			return tf_err_set(err, TF_E_INPUT, "unsafe recorded name '%s'", v[i].name);
		if ((p = tf_path_join(dir, v[i].name)) == NULL)
			return tf_err_nomem(err);
		r = tf_write_file_atomic(p, v[i].data, v[i].len, 0644, err);
		free(p);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Removes bin/ root caches that were not there when recorded. */
static int prune_caches(const char *bin, const struct tf_tiup_state *st, struct tf_err *err)
{
	DIR *d = opendir(bin);
	struct dirent *e;
	int r = 0;

	if (d == NULL)
		return 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		size_t i;
		int known = 0;
		char *p;

		if (!is_cache_name(e->d_name))
			continue;
		for (i = 0; i < st->ncaches && !known; i++)
			known = strcmp(st->caches[i].name, e->d_name) == 0;
		if (known)
			continue;
		if ((p = tf_path_join(bin, e->d_name)) == NULL) {
			r = tf_err_nomem(err);
			break;
		}
		if (unlink(p) != 0 && errno != ENOENT)
			r = tf_err_sys(err, TF_E_IO, "remove '%s'", p);
		free(p);
	}
	closedir(d);
	return r;
}

int tf_tiup_state_restore(const struct tf_tiup_state *st, struct tf_err *err)
{
	char *toml = NULL, *root = NULL, *bin = NULL, *man = NULL;
	int r;

	if ((toml = tf_path_join(st->home, "tiup.toml")) == NULL ||
	    (bin = tf_path_join(st->home, "bin")) == NULL ||
	    (root = tf_path_join(bin, "root.json")) == NULL ||
	    (man = tf_path_join(st->home, "manifests")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_mkdir_p(st->home, 0755, err)) != 0 ||
	    ((st->has_root || st->ncaches > 0) && (r = tf_mkdir_p(bin, 0755, err)) != 0))
		goto out;
	if ((r = put(toml, st->has_toml, st->toml, st->toml_len, err)) != 0 ||
	    (r = put(root, st->has_root, st->root, st->root_len, err)) != 0 ||
	    (r = prune_caches(bin, st, err)) != 0 ||
	    (r = write_files(bin, st->caches, st->ncaches, err)) != 0)
		goto out;
	/* TiUP itself deletes manifests/ on every mirror switch; put back what was cached */
	if ((r = tf_rmtree(man, err)) != 0)
		goto out;
	if (st->has_manifests && ((r = tf_mkdir_p(man, 0755, err)) != 0 ||
	                          (r = write_files(man, st->manifests, st->nmanifests, err)) != 0))
		goto out;
	r = 0;
out:
	free(toml);
	free(root);
	free(bin);
	free(man);
	return r;
}

static int save_files(const char *dir, const char *sub, const struct tf_tiup_file *v, size_t n,
                      cJSON *doc, struct tf_err *err)
{
	char *p = tf_path_join(dir, sub);
	cJSON *arr = cJSON_AddArrayToObject(doc, sub);
	size_t i;
	int r;

	if (p == NULL || arr == NULL) {
		free(p);
		return tf_err_nomem(err);
	}
	if ((r = tf_mkdir_p(p, 0700, err)) == 0)
		r = write_files(p, v, n, err);
	for (i = 0; r == 0 && i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i].name));
	free(p);
	return r;
}

static int save_blob(const char *dir, const char *name, int present, const uint8_t *data,
                     size_t len, struct tf_err *err)
{
	char *p = tf_path_join(dir, name);
	int r;

	if (p == NULL)
		return tf_err_nomem(err);
	r = put(p, present, data, len, err);
	free(p);
	return r;
}

int tf_tiup_state_save(const struct tf_tiup_state *st, const char *dir, struct tf_err *err)
{
	cJSON *doc = cJSON_CreateObject();
	char *text = NULL;
	int r;

	if (doc == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_mkdir_p(dir, 0700, err)) != 0)
		goto out;
	if (cJSON_AddStringToObject(doc, "format", "tiferry-tiup-state/1") == NULL ||
	    cJSON_AddStringToObject(doc, "home", st->home) == NULL ||
	    cJSON_AddBoolToObject(doc, "has_toml", st->has_toml) == NULL ||
	    cJSON_AddBoolToObject(doc, "has_root", st->has_root) == NULL ||
	    cJSON_AddBoolToObject(doc, "has_manifests", st->has_manifests) == NULL ||
	    (st->has_env && cJSON_AddStringToObject(doc, "env", st->env) == NULL)) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = save_blob(dir, "tiup.toml", st->has_toml, st->toml, st->toml_len, err)) != 0 ||
	    (r = save_blob(dir, "root.json", st->has_root, st->root, st->root_len, err)) != 0 ||
	    (r = save_files(dir, "caches", st->caches, st->ncaches, doc, err)) != 0 ||
	    (r = save_files(dir, "manifests", st->manifests, st->nmanifests, doc, err)) != 0)
		goto out;
	if ((text = cJSON_Print(doc)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = save_blob(dir, "state.json", 1, (const uint8_t *)text, strlen(text), err);
out:
	free(text);
	cJSON_Delete(doc);
	return r;
}

static int load_named(const char *dir, const char *sub, const cJSON *names, struct tf_tiup_file **v,
                      size_t *n, struct tf_err *err)
{
	const cJSON *it;
	char *d = tf_path_join(dir, sub);
	int r = 0;

	if (d == NULL)
		return tf_err_nomem(err);
	cJSON_ArrayForEach(it, names)
	{
		char *p;
		uint8_t *data = NULL;
		size_t len = 0;
		int here = 0;

		if (!cJSON_IsString(it) || strchr(it->valuestring, '/') != NULL) {
			r = tf_err_set(err, TF_E_INPUT, "'%s/state.json': bad file list", dir);
			break;
		}
		if ((p = tf_path_join(d, it->valuestring)) == NULL) {
			r = tf_err_nomem(err);
			break;
		}
		r = read_opt(p, &here, &data, &len, err);
		if (r == 0 && !here)
			r = tf_err_set(err, TF_E_INPUT, "'%s' is missing from the saved state", p);
		free(p);
		if (r == 0 && file_add(v, n, it->valuestring, data, len) != 0)
			r = tf_err_nomem(err);
		if (r != 0) {
			free(data);
			break;
		}
	}
	free(d);
	return r;
}

int tf_tiup_state_load(const char *dir, struct tf_tiup_state *st, struct tf_err *err)
{
	char *p = NULL, *text = NULL;
	size_t len = 0;
	cJSON *doc = NULL;
	const cJSON *home, *env;
	int r, here = 0;

	memset(st, 0, sizeof(*st));
	if ((p = tf_path_join(dir, "state.json")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_read_file(p, 1u << 20, &text, &len, err)) != 0)
		goto out;
	doc = cJSON_ParseWithLength(text, len);
	home = doc ? cJSON_GetObjectItemCaseSensitive(doc, "home") : NULL;
	if (home == NULL || !cJSON_IsString(home) || home->valuestring == NULL) {
		r = tf_err_set(err, TF_E_INPUT, "'%s': not a saved tiup state", p);
		goto out;
	}
	st->has_toml = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "has_toml"));
	st->has_root = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "has_root"));
	st->has_manifests = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "has_manifests"));
	env = cJSON_GetObjectItemCaseSensitive(doc, "env");
	if ((st->home = strdup(home->valuestring)) == NULL ||
	    (cJSON_IsString(env) && (st->env = strdup(env->valuestring)) == NULL)) {
		r = tf_err_nomem(err);
		goto out;
	}
	st->has_env = st->env != NULL;
	free(p);
	if ((p = tf_path_join(dir, "tiup.toml")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (st->has_toml &&
	    ((r = read_opt(p, &here, &st->toml, &st->toml_len, err)) != 0 || !here)) {
		r = r ? r : tf_err_set(err, TF_E_INPUT, "'%s' is missing", p);
		goto out;
	}
	free(p);
	if ((p = tf_path_join(dir, "root.json")) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (st->has_root &&
	    ((r = read_opt(p, &here, &st->root, &st->root_len, err)) != 0 || !here)) {
		r = r ? r : tf_err_set(err, TF_E_INPUT, "'%s' is missing", p);
		goto out;
	}
	if ((r = load_named(dir, "caches", cJSON_GetObjectItemCaseSensitive(doc, "caches"),
	                    &st->caches, &st->ncaches, err)) != 0 ||
	    (r = load_named(dir, "manifests", cJSON_GetObjectItemCaseSensitive(doc, "manifests"),
	                    &st->manifests, &st->nmanifests, err)) != 0)
		goto out;
	if (st->has_toml)
		st->mirror = tf_tiup_toml_mirror((const char *)st->toml, st->toml_len);
	r = 0;
out:
	if (r != 0)
		tf_tiup_state_release(st);
	cJSON_Delete(doc);
	free(text);
	free(p);
	return r;
}

static void put_utf8(char **o, unsigned long cp)
{
	char *p = *o;

	if (cp < 0x80) {
		*p++ = (char)cp;
	} else if (cp < 0x800) {
		*p++ = (char)(0xc0 | (cp >> 6));
		*p++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*p++ = (char)(0xe0 | (cp >> 12));
		*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*p++ = (char)(0xf0 | (cp >> 18));
		*p++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
	}
	*o = p;
}

/* Decodes a TOML basic ("...") or literal ('...') string starting at s; NULL if malformed. */
static char *toml_string(const char *s, const char *end)
{
	char *out = malloc((size_t)(end - s) * 4 + 1), *o = out;
	char q = *s++;

	if (out == NULL)
		return NULL;
	while (s < end && *s != q) {
		if (q == '"' && *s == '\\' && s + 1 < end) {
			char hex[9] = {0};
			size_t nd = 0;

			s++;
			switch (*s) {
			case 'b':
				*o++ = '\b';
				break;
			case 't':
				*o++ = '\t';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case '"':
				*o++ = '"';
				break;
			case '\\':
				*o++ = '\\';
				break;
			case 'u':
				nd = 4;
				break;
			case 'U':
				nd = 8;
				break;
			default:
				free(out);
				return NULL;
			}
			if (nd > 0) {
				char *e;
				unsigned long cp;

				if (end - s - 1 < (long)nd) {
					free(out);
					return NULL;
				}
				memcpy(hex, s + 1, nd);
				cp = strtoul(hex, &e, 16);
				/* hex digits only (strtoul takes blanks, a sign, 0x); a scalar
				 * value */
				if (*e != '\0' || strspn(hex, "0123456789abcdefABCDEF") != nd ||
				    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
					free(out);
					return NULL;
				}
				put_utf8(&o, cp);
				s += nd;
			}
			s++;
			continue;
		}
		if (*s == '\n') {
			free(out);
			return NULL;
		}
		*o++ = *s++;
	}
	if (s >= end) {
		free(out);
		return NULL;
	}
	*o = '\0';
	return out;
}

char *tf_tiup_toml_mirror(const char *toml, size_t len)
{
	const char *p = toml, *end = toml + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p;

		if (eol == NULL)
			eol = end;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q < eol && *q == '[') /* q == end on a last line of blanks */
			return NULL;      /* `mirror` is a top-level key: a table starts past it */
		if ((size_t)(eol - q) > 6 && memcmp(q, "mirror", 6) == 0) {
			q += 6;
			if (*q == '"') /* not a quoted "mirror" key */
				q = eol;
			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			if (q < eol && *q == '=') {
				q++;
				while (q < eol && (*q == ' ' || *q == '\t'))
					q++;
				if (q < eol && (*q == '"' || *q == '\''))
					return toml_string(q, eol);
				return NULL;
			}
		}
		p = eol + 1;
	}
	return NULL;
}

char *tf_tiup_toml_render(const char *addr)
{
	size_t n = strlen(addr), i;
	char *out = malloc(n * 6 + 16), *o = out;

	if (out == NULL)
		return NULL;
	o += sprintf(o, "mirror = \"");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)addr[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n') {
			o += sprintf(o, "\\n");
		} else if (c == '\t') {
			o += sprintf(o, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(o, "\\u%04X", c);
		} else {
			*o++ = (char)c;
		}
	}
	sprintf(o, "\"\n");
	return out;
}
