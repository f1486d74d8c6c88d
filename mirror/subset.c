/* The mirror subset: select, copy byte for byte, write the marker, verify the result. */
#include "mirror/subset.h"
#include "common/fsutil.h"
#include "common/hex.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static const char *const default_components[] = {"tiup", "cluster", "ctl"};
static const char *const default_platforms[] = {"linux/amd64", "linux/arm64"};

struct want {
	char *name;
	char *version; /* exact, or NULL for the newest */
};

struct owned_copy {
	char *name;
	char *dest;
	struct tf_mirror_copy c; /* points at name and dest */
};

struct sel {
	struct want *w;
	size_t nw;
	char **chosen; /* chosen[i]: version picked for w[i] */
	struct owned_copy *copies;
	size_t ncopies;
};

void tf_mirror_subset_report_init(struct tf_mirror_subset_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	tf_mirror_report_init(&rep->verify);
}

void tf_mirror_subset_report_release(struct tf_mirror_subset_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	tf_mirror_report_release(&rep->verify);
	for (i = 0; i < rep->npicks; i++) {
		free(rep->picks[i].component);
		free(rep->picks[i].version);
		free(rep->picks[i].platform);
		free(rep->picks[i].file);
	}
	free(rep->picks);
	free(rep->summary_json);
	memset(rep, 0, sizeof(*rep));
}

static void sel_release(struct sel *s)
{
	size_t i;

	for (i = 0; i < s->nw; i++) {
		free(s->w[i].name);
		free(s->w[i].version);
		if (s->chosen != NULL)
			free(s->chosen[i]);
	}
	free(s->w);
	free(s->chosen);
	for (i = 0; i < s->ncopies; i++) {
		free(s->copies[i].name);
		free(s->copies[i].dest);
	}
	free(s->copies);
}

static int want_add(struct sel *s, const char *name, const char *version, struct tf_err *err)
{
	struct want *nw;
	char **nc;
	size_t i;

	for (i = 0; i < s->nw; i++) {
		if (strcmp(s->w[i].name, name) != 0)
			continue;
		if (version == NULL ||
		    (s->w[i].version != NULL && strcmp(s->w[i].version, version) == 0))
			return 0;
		if (s->w[i].version == NULL && s->chosen[i] == NULL) {
			if ((s->w[i].version = strdup(version)) == NULL)
				return tf_err_nomem(err);
			return 0;
		}
		return tf_err_set(err, TF_E_INPUT,
		                  "component '%s' is wanted at %s and at %s (dependency conflict)",
		                  name, s->w[i].version ? s->w[i].version : s->chosen[i], version);
	}
	if ((nw = realloc(s->w, (s->nw + 1) * sizeof(*nw))) == NULL)
		return tf_err_nomem(err);
	s->w = nw;
	if ((nc = realloc(s->chosen, (s->nw + 1) * sizeof(*nc))) == NULL)
		return tf_err_nomem(err);
	s->chosen = nc;
	s->w[s->nw].name = strdup(name);
	s->w[s->nw].version = version ? strdup(version) : NULL;
	s->chosen[s->nw] = NULL;
	s->nw++;
	if (s->w[s->nw - 1].name == NULL || (version != NULL && s->w[s->nw - 1].version == NULL))
		return tf_err_nomem(err);
	return 0;
}

static int copy_add(struct sel *s, const char *name, const char *dest, const char *sha256,
                    uint64_t length, struct tf_err *err)
{
	struct owned_copy *nc, *c;
	size_t i;

	for (i = 0; i < s->ncopies; i++)
		if (strcmp(s->copies[i].dest ? s->copies[i].dest : s->copies[i].name,
		           dest ? dest : name) == 0)
			return 0;
	if ((nc = realloc(s->copies, (s->ncopies + 1) * sizeof(*nc))) == NULL)
		return tf_err_nomem(err);
	s->copies = nc;
	c = &nc[s->ncopies];
	memset(c, 0, sizeof(*c));
	c->c.length = length;
	if (sha256 == NULL || strlen(sha256) != 64 ||
	    tf_hex_decode(sha256, c->c.sha256, TF_SHA256_LEN) != 0)
		return tf_err_set(err, TF_E_FAIL, "'%s': the manifest gives no sha256", name);
	c->name = strdup(name);
	c->dest = dest ? strdup(dest) : NULL;
	s->ncopies++;
	if (c->name == NULL || (dest != NULL && c->dest == NULL))
		return tf_err_nomem(err);
	c->c.name = c->name;
	c->c.dest = c->dest;
	return 0;
}

static int pick_add(struct tf_mirror_subset_report *rep, const char *comp, const char *ver,
                    const char *plat, const char *file, uint64_t length, struct tf_err *err)
{
	struct tf_mirror_pick *np = realloc(rep->picks, (rep->npicks + 1) * sizeof(*np));
	struct tf_mirror_pick *p;

	if (np == NULL)
		return tf_err_nomem(err);
	rep->picks = np;
	p = &np[rep->npicks++];
	p->component = strdup(comp);
	p->version = strdup(ver);
	p->platform = strdup(plat);
	p->file = strdup(file);
	p->length = length;
	if (p->component == NULL || p->version == NULL || p->platform == NULL || p->file == NULL)
		return tf_err_nomem(err);
	return 0;
}

static const char *tarball_file(const char *url)
{
	return url[0] == '/' ? url + 1 : url;
}

/* The newest version neither yanked nor nightly that every platform has. */
static const char *newest(const struct tf_tiup_manifest *cm, const char *const *plats, size_t np)
{
	const char *best = NULL;
	size_t i, j;

	for (i = 0; i < cm->nreleases; i++) {
		const char *v = cm->releases[i].version;
		int ok = !tf_tiup_version_is_nightly(v);

		for (j = 0; j < np && ok; j++) {
			const struct tf_tiup_release *r = tf_tiup_release_get(cm, plats[j], v);

			ok = r != NULL && !r->yanked;
		}
		if (ok && (best == NULL || tf_tiup_version_cmp(v, best) > 0))
			best = v;
	}
	return best;
}

static int select_all(struct tf_mirror *m, const char *const *plats, size_t np, struct sel *s,
                      struct tf_mirror_subset_report *rep, struct tf_err *err)
{
	size_t i, j, k;
	int r;

	/* s->w grows while dependencies are followed */
	for (i = 0; i < s->nw; i++) {
		const char *file = NULL;
		const struct tf_tiup_manifest *cm = tf_mirror_component(m, s->w[i].name, &file);
		const char *ver;

		if (cm == NULL)
			return tf_err_set(err, TF_E_NOTFOUND,
			                  "component '%s' is not in the mirror (or not verified)",
			                  s->w[i].name);
		ver = s->w[i].version != NULL ? s->w[i].version : newest(cm, plats, np);
		if (ver == NULL)
			return tf_err_set(err, TF_E_NOTFOUND,
			                  "component '%s' has no version that is not yanked on "
			                  "every selected platform",
			                  s->w[i].name);
		if ((s->chosen[i] = strdup(ver)) == NULL)
			return tf_err_nomem(err);
		for (j = 0; j < np; j++) {
			const struct tf_tiup_release *rel = tf_tiup_release_get(cm, plats[j], ver);
			const char *tb;

			if (rel == NULL)
				return tf_err_set(err, TF_E_NOTFOUND,
				                  "component '%s' has no %s for %s", s->w[i].name,
				                  ver, plats[j]);
			if (rel->yanked)
				return tf_err_set(err, TF_E_NOTFOUND,
				                  "component '%s' %s for %s is yanked",
				                  s->w[i].name, ver, plats[j]);
			tb = tarball_file(rel->url);
			if ((r = copy_add(s, tb, NULL, rel->sha256, rel->length, err)) != 0 ||
			    (r = pick_add(rep, s->w[i].name, ver, plats[j], tb, rel->length,
			                  err)) != 0)
				return r;
			if (strcmp(s->w[i].name, "tiup") == 0 &&
			    strcmp(rel->platform, "any/any") != 0) {
				char dest[256];
				const char *slash = strchr(plats[j], '/');

				snprintf(dest, sizeof(dest), "tiup-%.*s-%s.tar.gz",
				         (int)(slash - plats[j]), plats[j], slash + 1);
				if ((r = copy_add(s, tb, dest, rel->sha256, rel->length, err)) != 0)
					return r;
			}
			for (k = 0; k < rel->ndeps; k++)
				if ((r = want_add(s, rel->deps[k].name,
				                  rel->deps[k].version[0] ? rel->deps[k].version
				                                          : NULL,
				                  err)) != 0)
					return r;
		}
		(void)file;
	}
	return 0;
}

static int dir_empty_or_absent(const char *dir, struct tf_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return tf_err_sys(err, TF_E_IO, "open folder '%s'", dir);
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			closedir(d);
			return tf_err_set(
			    err, TF_E_INPUT,
			    "output folder '%s' is not empty: give a new or empty folder", dir);
		}
	}
	closedir(d);
	return 0;
}

static int write_bytes(const char *dir, const char *name, const void *data, size_t len,
                       struct tf_mirror_subset_report *rep, cJSON *files, struct tf_err *err)
{
	char *p = tf_path_join(dir, name);
	int r;

	if (p == NULL)
		return tf_err_nomem(err);
	r = tf_write_file_atomic(p, data, len, 0644, err);
	free(p);
	if (r != 0)
		return r;
	rep->subset_size += len;
	rep->nfiles++;
	if (files != NULL)
		cJSON_AddItemToArray(files, cJSON_CreateString(name));
	return 0;
}

static int write_manifests(struct tf_mirror *m, const char *dir, const struct sel *s,
                           struct tf_mirror_subset_report *rep, cJSON *files, struct tf_err *err)
{
	const struct tf_tiup_manifest *x;
	const char *file = NULL;
	char name[64];
	size_t i, n = tf_mirror_nroots(m);
	int r;

	/* every root of the chain as <version>.root.json, the newest also as root.json (what
	 * `tiup mirror set` copies into bin/root.json) */
	for (i = 0; i < n; i++) {
		x = tf_mirror_root(m, i, NULL);
		snprintf(name, sizeof(name), "%llu.root.json", (unsigned long long)x->version);
		if ((r = write_bytes(dir, name, x->raw, x->raw_len, rep, files, err)) != 0)
			return r;
		if (i + 1 == n &&
		    (r = write_bytes(dir, "root.json", x->raw, x->raw_len, rep, files, err)) != 0)
			return r;
	}
	x = tf_mirror_timestamp(m);
	if ((r = write_bytes(dir, "timestamp.json", x->raw, x->raw_len, rep, files, err)) != 0)
		return r;
	x = tf_mirror_snapshot(m);
	if ((r = write_bytes(dir, "snapshot.json", x->raw, x->raw_len, rep, files, err)) != 0)
		return r;
	x = tf_mirror_index(m, &file);
	if ((r = write_bytes(dir, file, x->raw, x->raw_len, rep, files, err)) != 0)
		return r;
	for (i = 0; i < s->nw; i++) {
		x = tf_mirror_component(m, s->w[i].name, &file);
		if ((r = write_bytes(dir, file, x->raw, x->raw_len, rep, files, err)) != 0)
			return r;
	}
	return 0;
}

static char *summary(const struct tf_mirror *m, const struct sel *s, const char *const *plats,
                     size_t np, const struct tf_mirror_subset_report *rep, const cJSON *files,
                     int marker)
{
	cJSON *doc = cJSON_CreateObject(), *vers, *pl, *fl;
	const struct tf_tiup_manifest *root = tf_mirror_root(m, tf_mirror_nroots(m) - 1, NULL);
	size_t *order = NULL;
	char *out = NULL;
	size_t i, j;

	if (doc == NULL || (order = calloc(s->nw ? s->nw : 1, sizeof(*order))) == NULL)
		goto out;
	/* components by name, so the summary does not depend on the order asked */
	for (i = 0; i < s->nw; i++) {
		for (j = i; j > 0 && strcmp(s->w[order[j - 1]].name, s->w[i].name) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	if ((marker && cJSON_AddStringToObject(doc, "format", "tiferry-subset/1") == NULL) ||
	    (vers = cJSON_AddObjectToObject(doc, "versions")) == NULL ||
	    (pl = cJSON_AddArrayToObject(doc, "platforms")) == NULL)
		goto out;
	for (i = 0; i < s->nw; i++) {
		const char *v = s->chosen[order[i]];

		if (cJSON_AddStringToObject(vers, s->w[order[i]].name, v ? v : "") == NULL)
			goto out;
	}
	for (i = 0; i < np; i++)
		cJSON_AddItemToArray(pl, cJSON_CreateString(plats[i]));
	if (cJSON_AddNumberToObject(doc, "root_version", (double)root->version) == NULL ||
	    cJSON_AddNumberToObject(doc, "full_bytes", (double)rep->full_size) == NULL ||
	    cJSON_AddNumberToObject(doc, "subset_bytes", (double)rep->subset_size) == NULL ||
	    (fl = cJSON_Duplicate(files, 1)) == NULL)
		goto out;
	cJSON_AddItemToObject(doc, "files", fl);
	out = cJSON_PrintUnformatted(doc);
out:
	free(order);
	cJSON_Delete(doc);
	return out;
}

static int check_opts(const struct tf_mirror_subset_opts *o, struct tf_err *err)
{
	size_t i;

	for (i = 0; i < o->nplatforms; i++) {
		const char *p = o->platforms[i], *slash = strchr(p, '/');

		if (slash == NULL || slash == p || slash[1] == '\0' || strchr(slash + 1, '/') ||
		    strlen(p) > 64 || strcmp(p, "any/any") == 0)
			return tf_err_set(err, TF_E_INPUT,
			                  "platform '%s' is not os/arch (like linux/amd64)", p);
	}
	for (i = 0; i < o->nversions; i++) {
		const char *eq = strchr(o->versions[i], '=');

		if (eq == NULL || eq == o->versions[i] || eq[1] == '\0')
			return tf_err_set(err, TF_E_INPUT, "version '%s' is not component=version",
			                  o->versions[i]);
	}
	if (o->expect_sha256 != NULL &&
	    (strlen(o->expect_sha256) != 64 || !tf_hex_is_lower(o->expect_sha256, 64)))
		return tf_err_set(err, TF_E_INPUT, "expected sha256 '%s' is not 64 lowercase hex",
		                  o->expect_sha256);
	return 0;
}

int tf_mirror_subset_build(const struct tf_mirror_subset_opts *o, const char *out_dir,
                           struct tf_mirror_subset_report *rep, struct tf_err *err)
{
	struct tf_mirror_verify_opts vo = {0};
	struct tf_mirror_report again;
	struct tf_mirror *m = NULL;
	struct tf_mirror_src *outsrc = NULL;
	struct sel s = {0};
	const char *const *comps = o->ncomponents ? o->components : default_components;
	size_t ncomps = o->ncomponents ? o->ncomponents
	                               : sizeof(default_components) / sizeof(default_components[0]);
	const char *const *plats = o->nplatforms ? o->platforms : default_platforms;
	size_t np = o->nplatforms ? o->nplatforms
	                          : sizeof(default_platforms) / sizeof(default_platforms[0]);
	cJSON *files = NULL;
	char *marker = NULL;
	size_t i, j;
	int r, made = 0, existed = 0;

	tf_mirror_report_init(&again);
	if ((r = check_opts(o, err)) != 0 || (r = dir_empty_or_absent(out_dir, err)) != 0)
		goto out;
	if (o->expect_sha256 != NULL) {
		uint8_t d[TF_SHA256_LEN];
		char hex[TF_SHA256_HEX];

		if ((r = tf_sha256_file(o->source, d, NULL, err)) != 0)
			goto out;
		tf_hex_encode(d, sizeof(d), hex);
		if (strcmp(hex, o->expect_sha256) != 0) {
			r = tf_err_set(err, TF_E_FAIL, "package '%s': sha256 %s, expected %s",
			               o->source, hex, o->expect_sha256);
			goto out;
		}
	}
	vo.root = o->root;
	vo.at = o->at;
	vo.no_tarballs = 1; /* the selected ones are checked while copied */
	if ((r = tf_mirror_verify(o->source, &vo, &rep->verify, &m, err)) != 0)
		goto out;
	rep->full_size = rep->verify.full_size;
	for (i = 0; i < ncomps; i++)
		if ((r = want_add(&s, comps[i], NULL, err)) != 0)
			goto out;
	for (i = 0; i < o->nversions; i++) {
		const char *eq = strchr(o->versions[i], '=');
		char *name = strndup(o->versions[i], (size_t)(eq - o->versions[i]));

		if (name == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		for (j = 0; j < s.nw && strcmp(s.w[j].name, name) != 0; j++)
			;
		if (j == s.nw) {
			r = tf_err_set(err, TF_E_INPUT,
			               "version '%s' names a component not selected",
			               o->versions[i]);
			free(name);
			goto out;
		}
		free(name);
		free(s.w[j].version);
		if ((s.w[j].version = strdup(eq + 1)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
	}
	if ((r = select_all(m, plats, np, &s, rep, err)) != 0)
		goto out;
	existed = access(out_dir, F_OK) == 0;
	if ((r = tf_mkdir_p(out_dir, 0755, err)) != 0)
		goto out;
	made = 1;
	if ((files = cJSON_CreateArray()) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = write_manifests(m, out_dir, &s, rep, files, err)) != 0)
		goto out;
	/* tarballs first under their own names, then the tiup-<os>-<arch> copies from those */
	{
		size_t nplain = 0, ndest = 0;
		struct tf_mirror_copy *plain = calloc(s.ncopies + 1, sizeof(*plain));
		struct tf_mirror_copy *dest = calloc(s.ncopies + 1, sizeof(*dest));

		if (plain == NULL || dest == NULL) {
			free(plain);
			free(dest);
			r = tf_err_nomem(err);
			goto out;
		}
		for (i = 0; i < s.ncopies; i++) {
			if (s.copies[i].dest == NULL)
				plain[nplain++] = s.copies[i].c;
			else
				dest[ndest++] = s.copies[i].c;
		}
		r = tf_mirror_src_copy(tf_mirror_source(m), plain, nplain, out_dir, err);
		if (r == 0 && ndest > 0 && (r = tf_mirror_src_open(out_dir, &outsrc, err)) == 0)
			r = tf_mirror_src_copy(outsrc, dest, ndest, out_dir, err);
		for (i = 0; r == 0 && i < s.ncopies; i++) {
			const char *nm = s.copies[i].dest ? s.copies[i].dest : s.copies[i].name;

			rep->subset_size += s.copies[i].c.length;
			rep->nfiles++;
			cJSON_AddItemToArray(files, cJSON_CreateString(nm));
		}
		free(plain);
		free(dest);
		if (r != 0)
			goto out;
	}
	if ((marker = summary(m, &s, plats, np, rep, files, 1)) == NULL ||
	    (rep->summary_json = summary(m, &s, plats, np, rep, files, 0)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = write_bytes(out_dir, TF_MIRROR_SUBSET_MARKER, marker, strlen(marker), rep, NULL,
	                     err)) != 0)
		goto out;
	/* what we wrote must verify on its own, tarballs included */
	vo.no_tarballs = 0;
	if ((r = tf_mirror_verify(out_dir, &vo, &again, NULL, err)) != 0) {
		tf_err_prefix(err, "the written subset does not verify");
		goto out;
	}
	r = 0;
out:
	if (r != 0 && made) {
		/* never leave half a subset behind: the folder was absent or empty */
		struct tf_err ignored;

		if (tf_rmtree(out_dir, &ignored) == 0 && existed &&
		    tf_mkdir_p(out_dir, 0755, &ignored) != 0)
			r = tf_err_prefix(err, "cannot recreate '%s' (%s)", out_dir, ignored.msg);
	}
	tf_mirror_report_release(&again);
	tf_mirror_src_free(outsrc);
	cJSON_Delete(files);
	free(marker);
	sel_release(&s);
	tf_mirror_free(m);
	return r;
}
