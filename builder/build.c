/* The build engine: spec -> payload walk -> sections -> runbook -> manifest -> bundle -> signature.
 */
#include "builder/build.h"
#include "builder/sections.h"
#include "builder/spec.h"
#include "cluster/topology.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/secret.h"
#include "common/timeutil.h"
#include "crypto/sigkey.h"
#include "manifests/bundle.h"
#include "manifests/manifest.h"
#include "manifests/runbook.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUNBOOK_SECTION_MAX 256 /* the runbook section's JSON: two bundle paths */

#define MAX_WALK_DEPTH 32

struct item {
	char *src;
	char *path; /* full bundle path, "payload/..." */
	unsigned mode;
	uint64_t size;
};

struct items {
	size_t n, cap;
	struct item *v;
	uint64_t total;
};

static void items_release(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++) {
		free(it->v[i].src);
		free(it->v[i].path);
	}
	free(it->v);
}

static int items_add(struct items *it, const char *src, const char *rel, unsigned mode,
                     uint64_t size, struct tf_err *err)
{
	struct item *x;
	size_t n = strlen(TF_PAYLOAD_PREFIX) + strlen(rel) + 1;

	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 64;
		struct item *nv = realloc(it->v, cap * sizeof(*nv));

		if (nv == NULL)
			return tf_err_nomem(err);
		it->v = nv;
		it->cap = cap;
	}
	x = &it->v[it->n];
	x->src = strdup(src);
	x->path = malloc(n);
	if (x->src == NULL || x->path == NULL) {
		free(x->src);
		free(x->path);
		return tf_err_nomem(err);
	}
	snprintf(x->path, n, "%s%s", TF_PAYLOAD_PREFIX, rel);
	if (!tf_bundle_path_ok(x->path)) {
		int r =
		    tf_err_set(err, TF_E_INPUT, "'%s': unusable bundle path '%s'", src, x->path);

		free(x->src);
		free(x->path);
		return r;
	}
	x->mode = mode;
	x->size = size;
	it->n++;
	it->total += size;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds src (a file, or a folder walked in name order) as bundle path rel. Links and special
 * files are refused: a bundle carries regular files only. */
static int walk(struct items *it, const char *src, const char *rel,
                const struct tf_spec_payload *sp, int depth, struct tf_err *err)
{
	struct stat st;
	DIR *d = NULL;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int r = 0;

	if (lstat(src, &st) != 0)
		return tf_err_sys(err, TF_E_INPUT, "payload '%s'", src);
	if (S_ISREG(st.st_mode))
		return items_add(it, src, rel, sp->has_mode ? sp->mode : (st.st_mode & 0755),
		                 (uint64_t)st.st_size, err);
	if (!S_ISDIR(st.st_mode))
		return tf_err_set(
		    err, TF_E_INPUT,
		    "payload '%s' is not a regular file or folder (links are not packed)", src);
	if (depth > MAX_WALK_DEPTH)
		return tf_err_set(err, TF_E_INPUT, "payload '%s' is nested too deep", src);
	if ((d = opendir(src)) == NULL)
		return tf_err_sys(err, TF_E_INPUT, "payload '%s'", src);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*nn));

			if (nn == NULL) {
				r = tf_err_nomem(err);
				goto out;
			}
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n && r == 0; i++) {
		char *s = tf_path_join(src, names[i]);
		char *p = rel[0] ? tf_path_join(rel, names[i]) : strdup(names[i]);

		if (s == NULL || p == NULL)
			r = tf_err_nomem(err);
		else
			r = walk(it, s, p, sp, depth + 1, err);
		free(s);
		free(p);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	return r;
}

static int sign_bundle(const char *bundle, const char *keypath, const char *passin,
                       const char *manifest, size_t len, char signer[TF_SHA256_HEX],
                       struct tf_err *err)
{
	struct tf_sigkey *k = NULL;
	char *pass = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	if (passin != NULL &&
	    (r = tf_secret_read(passin, "signing key passphrase: ", 0, &pass, err)) != 0)
		goto out;
	if ((r = tf_sigkey_load_private_file(keypath, pass, &k, err)) != 0)
		goto out;
	if ((r = tf_sigkey_sign(k, manifest, len, &sig, &siglen, err)) != 0)
		goto out;
	if ((r = tf_bundle_append_signature(bundle, tf_sigkey_id(k), sig, siglen, err)) != 0)
		goto out;
	snprintf(signer, TF_SHA256_HEX, "%s", tf_sigkey_id(k));
out:
	tf_secret_free(pass);
	free(sig);
	tf_sigkey_free(k);
	return r;
}

/* The runbook, rendered from the manifest as it stands (sections and metadata, no files yet),
 * packed as payload after the other files so that the signatures cover its sha256. */
static const struct {
	enum tf_runbook_format f;
	const char *path;
} runbook_out[] = {{TF_RUNBOOK_MD, TF_RUNBOOK_MD_PATH}, {TF_RUNBOOK_HTML, TF_RUNBOOK_HTML_PATH}};
#define NRUNBOOK (sizeof(runbook_out) / sizeof(runbook_out[0]))

struct runbook {
	char *doc[NRUNBOOK];
	size_t len[NRUNBOOK];
};

static void runbook_release(struct runbook *rb)
{
	size_t i;

	for (i = 0; i < NRUNBOOK; i++)
		free(rb->doc[i]);
}

static int runbook_render(struct tf_manifest *m, struct runbook *rb, uint64_t *total,
                          struct tf_err *err)
{
	char section[RUNBOOK_SECTION_MAX];
	size_t i;
	int r;

	for (i = 0; i < NRUNBOOK; i++) {
		if ((r = tf_runbook_render(m, runbook_out[i].f, &rb->doc[i], &rb->len[i], err)) !=
		    0)
			return r;
		*total += rb->len[i];
	}
	snprintf(section, sizeof(section), "{\"markdown\":\"%s\",\"html\":\"%s\"}",
	         TF_RUNBOOK_MD_PATH, TF_RUNBOOK_HTML_PATH);
	return tf_manifest_set_section(m, "runbook", section, err);
}

static int runbook_pack(struct tf_bundle_writer *w, const struct runbook *rb, struct tf_manifest *m,
                        struct tf_progress *pr, struct tf_err *err)
{
	size_t i;
	int r;

	for (i = 0; i < NRUNBOOK; i++) {
		if ((r = tf_bundle_writer_add_bytes(w, runbook_out[i].path, rb->doc[i], rb->len[i],
		                                    0644, m, err)) != 0)
			return r;
		tf_progress_add(pr, rb->len[i]);
	}
	return 0;
}

void tf_build_result_init(struct tf_build_result *res)
{
	memset(res, 0, sizeof(*res));
}

void tf_build_result_release(struct tf_build_result *res)
{
	free(res->cluster);
	tf_build_result_init(res);
}

int tf_build(const struct tf_build_opts *o, struct tf_build_result *res, struct tf_err *err)
{
	static const char *const names[] = TF_SECTION_NAMES;
	struct tf_spec spec;
	struct tf_manifest m;
	struct tf_topology *topo = NULL;
	struct tf_bundle_writer *w = NULL;
	struct items it = {0};
	struct runbook rb;
	struct tf_progress pr;
	struct tf_section sec[3];
	struct tf_spec_payload plain = {0};
	struct tf_err werr;
	char fp[TF_FINGERPRINT_LEN], *text = NULL, *work = NULL, *cluster = NULL;
	char signer[TF_SHA256_HEX] = "";
	const char *tmp = o->tmpdir ? o->tmpdir : getenv("TMPDIR");
	uint8_t id[TF_BUILD_ID_LEN];
	char idhex[TF_BUILD_ID_HEX];
	size_t len = 0, i;
	time_t now = o->now ? o->now : tf_time_now();
	int r;

	tf_manifest_init(&m);
	memset(sec, 0, sizeof(sec));
	memset(&rb, 0, sizeof(rb));
	if ((r = tf_spec_load(o->spec, now, &spec, err)) != 0)
		return r;
	if ((r = tf_topology_load(spec.meta, &topo, err)) != 0 ||
	    (r = tf_topology_fingerprint(topo, fp, err)) != 0)
		goto out;
	for (i = 0; i < spec.npayload; i++)
		if ((r = walk(&it, spec.payload[i].source, spec.payload[i].path, &spec.payload[i],
		              0, err)) != 0)
			goto out;
	/* Sections are made in a private work folder, packed, then wiped. */
	if ((r = tf_mkdtemp_private(tmp && *tmp ? tmp : "/tmp", "tiferry-build-", &work, err)) !=
	        0 ||
	    (r = tf_section_tiup(&spec, work, now, &sec[0], err)) != 0 ||
	    (r = tf_section_tls(&spec, topo, work, now, &sec[1], err)) != 0 ||
	    (r = tf_section_plan(&spec, topo, work, &sec[2], err)) != 0)
		goto out;
	for (i = 0; i < 3; i++) {
		if (sec[i].dir == NULL)
			continue;
		if ((r = walk(&it, sec[i].dir, sec[i].prefix, &plain, 0, err)) != 0 ||
		    (r = tf_manifest_set_section(&m, names[i], sec[i].json, err)) != 0)
			goto out;
	}
	if (tf_random_bytes(id, sizeof(id)) != 0) {
		r = tf_err_set(err, TF_E_CRYPTO, "no random bytes for the bundle id");
		goto out;
	}
	tf_hex_encode(id, sizeof(id), idhex);
	if ((m.bundle_id = strdup(idhex)) == NULL || (m.cluster = strdup(spec.cluster)) == NULL ||
	    (m.topology = strdup(fp)) == NULL || (cluster = strdup(spec.cluster)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	m.sequence = spec.sequence;
	m.created = now;
	m.not_before = spec.not_before;
	m.not_after = spec.not_after;
	if ((r = runbook_render(&m, &rb, &it.total, err)) != 0)
		goto out;
	if ((r = tf_bundle_writer_open(o->out, now, &w, err)) != 0)
		goto out;
	tf_progress_start(&pr, "packing", it.total);
	for (i = 0; i < it.n; i++)
		if ((r = tf_bundle_writer_add_file(w, it.v[i].path, it.v[i].src, it.v[i].mode, &m,
		                                   &pr, err)) != 0)
			goto out;
	if ((r = runbook_pack(w, &rb, &m, &pr, err)) != 0)
		goto out;
	tf_progress_finish(&pr);
	/* Sorting also refuses two payload entries with one bundle path. */
	if (tf_manifest_sort(&m, err) != 0) {
		err->code = r = TF_E_INPUT;
		goto out;
	}
	if ((r = tf_manifest_serialize(&m, &text, &len, err)) != 0 ||
	    (r = tf_bundle_writer_finish(w, text, len, err)) != 0)
		goto out;
	if (spec.signing_key != NULL &&
	    (r = sign_bundle(o->out, spec.signing_key, o->passin, text, len, signer, err)) != 0) {
		unlink(o->out);
		goto out;
	}
	memcpy(res->bundle_id, idhex, sizeof(idhex));
	memcpy(res->signer, signer, sizeof(signer));
	res->sequence = m.sequence;
	res->nfiles = m.nfiles;
	res->cluster = cluster;
	cluster = NULL; /* transferred */
	r = 0;
out:
	if (work != NULL && tf_rmtree(work, &werr) != 0)
		tf_log_warn("work folder '%s' not removed: %s", work, werr.msg);
	free(work);
	free(cluster);
	for (i = 0; i < 3; i++)
		tf_section_release(&sec[i]);
	free(text);
	tf_bundle_writer_free(w);
	runbook_release(&rb);
	items_release(&it);
	tf_topology_free(topo);
	tf_manifest_release(&m);
	tf_spec_release(&spec);
	return r;
}
