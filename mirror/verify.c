/* TiUP mirror chain verification (the rules of pkg/repository in TiUP): root and its rotations,
 * timestamp, snapshot, index and component manifests. The report: report.c; signatures:
 * tiupsig.c; tarballs: verify_tarballs.c. */
#include "mirror/verify.h"
#include "mirror/tiupsig.h"
#include "mirror/verify_int.h"
#include "common/fsutil.h"
#include "common/hex.h"
#include "common/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#define TIMESTAMP_MAX ((size_t)1024)   /* TiUP's maxTimeStampSize */
#define ROOT_MAX ((size_t)1024 * 1024) /* TiUP's maxRootSize */
#define ROOT_CHAIN_MAX 10000           /* rotations followed at most */
#define MARKER_MAX ((size_t)4 << 20)

/* The report (report.c) with verify's out-of-memory flag: a check that cannot be recorded makes
 * the whole verification fail. */
void tf_mirror_add(struct vctx *c, enum tf_mirror_kind kind, enum tf_mirror_status st,
                   const char *file, const char *rule, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tf_mirror_report_add(c->rep, kind, st, file, rule, "%s", msg) != 0)
		c->nomem = 1;
}

static void fail(struct vctx *c, const char *file, const char *rule, const char *fmt, ...)
    TF_PRINTF(4, 5);

static void fail(struct vctx *c, const char *file, const char *rule, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_FAIL, file, rule, "%s", msg);
}

static const struct tf_tiup_key *keyset_key(const struct tf_tiup_keyset *ks, const char *id)
{
	size_t i;

	for (i = 0; ks != NULL && i < ks->nkeys; i++)
		if (strcmp(ks->keys[i].id, id) == 0)
			return &ks->keys[i];
	return NULL;
}

/* Checks that every key of ks is what TiUP accepts: id = sha256 of the canonical key, RSA,
 * rsassa-pss-sha256. 0 when all hold. */
static int check_keyset(struct vctx *c, const char *file, const char *what,
                        const struct tf_tiup_keyset *ks)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < ks->nkeys; i++) {
		const struct tf_tiup_key *k = &ks->keys[i];

		if (strcmp(k->id, k->computed_id) != 0) {
			fail(c, file, "keyid",
			     "%s '%s' key '%.16s': keyid is not the sha256 of the canonical key",
			     what, ks->name, k->id);
			bad = 1;
		}
		if (strcmp(k->keytype, "rsa") != 0 || strcmp(k->scheme, "rsassa-pss-sha256") != 0) {
			fail(c, file, "key-type",
			     "%s '%s' key '%.16s': type '%s' scheme '%s', only rsa "
			     "rsassa-pss-sha256 "
			     "is accepted",
			     what, ks->name, k->id, k->keytype, k->scheme);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* Verifies m's signatures by the keys of ks: a duplicate keyid or a known key's bad signature
 * fails, unknown keyids are ignored, and at least threshold must verify. Returns the number
 * of valid signatures, or -1 after recording a failure. */
static int check_sigs(struct vctx *c, const char *file, const struct tf_tiup_manifest *m,
                      const struct tf_tiup_keyset *ks, uint64_t threshold, const char *who)
{
	size_t i, j, len;
	const uint8_t *data = tf_tiup_manifest_signed(m, &len);
	int valid = 0, bad = 0;

	for (i = 0; i < m->nsigs; i++)
		for (j = i + 1; j < m->nsigs; j++)
			if (strcmp(m->sigs[i].keyid, m->sigs[j].keyid) == 0) {
				fail(c, file, "duplicate-keyid", "keyid '%.16s' signs twice",
				     m->sigs[i].keyid);
				return -1;
			}
	if (threshold == 0) {
		fail(c, file, "threshold", "%s threshold is zero", who);
		return -1;
	}
	for (i = 0; i < m->nsigs; i++) {
		const struct tf_tiup_key *k = keyset_key(ks, m->sigs[i].keyid);
		struct tf_err e;

		if (k == NULL)
			continue; /* TiUP ignores signatures by keys it does not know */
		if (strcmp(k->id, k->computed_id) != 0)
			continue; /* already failed as "keyid"; never counts */
		if (tf_tiup_sig_verify(k->pem, data, len, m->sigs[i].sig, &e) != 0) {
			fail(c, file, "signature", "signature by %s key '%.16s': %s", who,
			     m->sigs[i].keyid, e.msg);
			bad = 1;
			continue;
		}
		valid++;
	}
	if (bad)
		return -1;
	if ((uint64_t)valid < threshold) {
		fail(c, file, "threshold", "%d valid signature(s) by %s keys, threshold is %llu",
		     valid, who, (unsigned long long)threshold);
		return -1;
	}
	return valid;
}

static int check_base(struct vctx *c, const char *file, const struct tf_tiup_manifest *m,
                      const char *type, int expiry)
{
	char at[TF_TIME_TEXT];
	int ok = 1;

	if (strcmp(m->type, type) != 0) {
		fail(c, file, "type", "_type is '%s', expected '%s'", m->type, type);
		ok = 0;
	}
	if (strcmp(m->spec_version, TF_TIUP_SPEC_VERSION) != 0) {
		fail(c, file, "spec-version", "spec_version '%s' is not %s", m->spec_version,
		     TF_TIUP_SPEC_VERSION);
		ok = 0;
	}
	if (expiry && m->expires_at < c->at) {
		tf_time_format(c->at, at, sizeof(at));
		fail(c, file, "expiry", "expired at %s (checked at %s)", m->expires, at);
		ok = 0;
	}
	return ok ? 0 : -1;
}

/* ---- loading ---- */

static int load(struct vctx *c, const char *file, size_t max, const char *limit_rule,
                struct tf_tiup_manifest **out)
{
	struct tf_err e;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = tf_mirror_src_read(c->m->src, file, max, &buf, &len, &e)) != 0) {
		if (r == TF_E_NOTFOUND)
			fail(c, file, "present", "absent from the mirror");
		else if (r == TF_E_INPUT)
			fail(c, file, limit_rule, "%s", e.msg);
		else
			fail(c, file, "read", "%s", e.msg);
		return r;
	}
	r = tf_tiup_manifest_parse(buf, len, file, out, &e);
	free(buf);
	if (r != 0)
		fail(c, file, "parse", "%s", e.msg);
	return r;
}

static int load_path(struct vctx *c, const char *path, struct tf_tiup_manifest **out)
{
	struct tf_err e;
	char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = tf_read_file(path, ROOT_MAX, &buf, &len, &e)) != 0) {
		fail(c, path, r == TF_E_INPUT ? "size-limit" : "read", "%s", e.msg);
		return r;
	}
	r = tf_tiup_manifest_parse((const uint8_t *)buf, len, path, out, &e);
	free(buf);
	if (r != 0)
		fail(c, path, "parse", "%s", e.msg);
	return r;
}

static int push_root(struct tf_mirror *m, struct tf_tiup_manifest *root, const char *file)
{
	struct tf_tiup_manifest **nr;
	char **nf, *f = NULL;

	if (file != NULL && (f = strdup(file)) == NULL)
		return -1;
	nr = realloc(m->roots, (m->nroots + 1) * sizeof(*nr));
	if (nr == NULL) {
		free(f);
		return -1;
	}
	m->roots = nr;
	nf = realloc(m->root_files, (m->nroots + 1) * sizeof(*nf));
	if (nf == NULL) {
		free(f);
		return -1;
	}
	m->root_files = nf;
	m->roots[m->nroots] = root;
	m->root_files[m->nroots] = f;
	m->nroots++;
	return 0;
}

/* Structural rules of a root: the four roles, enough keys for each threshold, valid keys. */
static int check_root_roles(struct vctx *c, const char *file, const struct tf_tiup_manifest *m)
{
	static const char *const roles[] = {"root", "index", "snapshot", "timestamp"};
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		const struct tf_tiup_keyset *ks = tf_tiup_root_role(m, roles[i]);

		if (ks == NULL) {
			fail(c, file, "roles", "root is missing the %s role", roles[i]);
			ok = 0;
			continue;
		}
		if (ks->threshold == 0 || ks->nkeys < ks->threshold) {
			fail(c, file, "threshold", "%s role has %zu key(s) for threshold %llu",
			     roles[i], ks->nkeys, (unsigned long long)ks->threshold);
			ok = 0;
		}
		if (check_keyset(c, file, "role", ks) != 0)
			ok = 0;
	}
	return ok ? 0 : -1;
}

static int verify_anchor(struct vctx *c, struct tf_tiup_manifest **anchor, const char **name)
{
	struct tf_mirror *m = c->m;
	const char *file = c->o->root != NULL ? c->o->root
	                   : m->home          ? "bin/root.json"
	                                      : "root.json";
	const struct tf_tiup_keyset *ks;
	int ok = 1;

	*name = file;
	if ((c->o->root != NULL ? load_path(c, file, anchor)
	                        : load(c, file, ROOT_MAX, "size-limit", anchor)) != 0)
		return -1;
	if (check_base(c, file, *anchor, "root", 0) != 0)
		ok = 0;
	if (strcmp((*anchor)->type, "root") != 0)
		return -1;
	if (check_root_roles(c, file, *anchor) != 0)
		ok = 0;
	ks = tf_tiup_root_role(*anchor, "root");
	if (ks != NULL && check_sigs(c, file, *anchor, ks, ks->threshold, "root") < 0)
		ok = 0;
	return ok ? 0 : 1;
}

/* Follows N+1.root.json while the mirror has it: each must be signed by a threshold of the
 * old root's root keys and of its own, carry version N+1 and expire no earlier. */
static int verify_rotations(struct vctx *c, const struct tf_tiup_manifest **cur, int *ok)
{
	int steps;

	for (steps = 0; steps < ROOT_CHAIN_MAX; steps++) {
		char file[64];
		struct tf_tiup_manifest *next = NULL;
		const struct tf_tiup_keyset *oks, *nks;
		int good = 1;

		snprintf(file, sizeof(file), "%llu.root.json",
		         (unsigned long long)(*cur)->version + 1);
		if (!tf_mirror_src_exists(c->m->src, file))
			return 0;
		if (load(c, file, ROOT_MAX, "size-limit", &next) != 0) {
			*ok = 0;
			return 0;
		}
		if (check_base(c, file, next, "root", 0) != 0)
			good = 0;
		if (strcmp(next->type, "root") != 0) {
			tf_tiup_manifest_free(next);
			*ok = 0;
			return 0;
		}
		if (next->version != (*cur)->version + 1) {
			fail(c, file, "version", "root version is %llu, expected %llu",
			     (unsigned long long)next->version,
			     (unsigned long long)(*cur)->version + 1);
			good = 0;
		}
		if (next->expires_at < (*cur)->expires_at) {
			fail(c, file, "expiry-order", "expires %s, before the previous root's %s",
			     next->expires, (*cur)->expires);
			good = 0;
		}
		if (check_root_roles(c, file, next) != 0)
			good = 0;
		oks = tf_tiup_root_role(*cur, "root");
		nks = tf_tiup_root_role(next, "root");
		if (oks == NULL || check_sigs(c, file, next, oks, oks->threshold, "old root") < 0)
			good = 0;
		if (nks == NULL || check_sigs(c, file, next, nks, nks->threshold, "new root") < 0)
			good = 0;
		if (!good) {
			/* a rotation that does not verify is not followed */
			tf_tiup_manifest_free(next);
			*ok = 0;
			return 0;
		}
		if (push_root(c->m, next, file) != 0) {
			tf_tiup_manifest_free(next);
			c->nomem = 1;
			return -1;
		}
		tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_OK, file, "verified",
		              "root v%llu, signed by the old and the new root keys",
		              (unsigned long long)next->version);
		*cur = next;
	}
	fail(c, "root.json", "rotation", "more than %d root rotations", ROOT_CHAIN_MAX);
	*ok = 0;
	return 0;
}

static int verify_root(struct vctx *c)
{
	struct tf_tiup_manifest *anchor = NULL;
	const struct tf_tiup_manifest *cur;
	const char *name;
	char vname[64];
	int r, ok;

	r = verify_anchor(c, &anchor, &name);
	if (anchor == NULL || strcmp(anchor->type, "root") != 0) {
		tf_tiup_manifest_free(anchor);
		return -1;
	}
	ok = r == 0;
	snprintf(vname, sizeof(vname), "%llu.root.json", (unsigned long long)anchor->version);
	if (push_root(c->m, anchor,
	              c->o->root != NULL ? (tf_mirror_src_exists(c->m->src, vname) ? vname : NULL)
	                                 : name) != 0) {
		tf_tiup_manifest_free(anchor);
		c->nomem = 1;
		return -1;
	}
	if (ok)
		tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_OK, name, "verified",
		              "root v%llu (trust anchor), signed by its own threshold",
		              (unsigned long long)anchor->version);
	cur = anchor;
	if (!c->m->home && verify_rotations(c, &cur, &ok) != 0)
		return -1;
	/* TiUP checks every role's signature against the root's expiry, so an expired root
	 * (TiUP issue #2722) fails everything after it. */
	if (cur->expires_at < c->at) {
		char at[TF_TIME_TEXT];

		tf_time_format(c->at, at, sizeof(at));
		fail(c, c->m->nroots > 1 ? c->m->root_files[c->m->nroots - 1] : name, "expiry",
		     "root v%llu expired at %s (checked at %s)", (unsigned long long)cur->version,
		     cur->expires, at);
		ok = 0;
	}
	return ok ? 0 : 1;
}

static const struct tf_tiup_manifest *cur_root(const struct tf_mirror *m)
{
	return m->nroots > 0 ? m->roots[m->nroots - 1] : NULL;
}

int tf_mirror_is_sha256_hex(const char *s)
{
	return s != NULL && strlen(s) == 64 && tf_hex_is_lower(s, 64);
}

int tf_mirror_sha_matches(const uint8_t d[TF_SHA256_LEN], const char *hex)
{
	char got[TF_SHA256_HEX];

	tf_hex_encode(d, TF_SHA256_LEN, got);
	return hex != NULL && strcmp(got, hex) == 0;
}

static char *mfile(const struct tf_mirror *m, const char *base)
{
	char *s = NULL;

	if (m->home) {
		if (asprintf(&s, "manifests/%s", base) < 0)
			return NULL;
		return s;
	}
	return strdup(base);
}

static int verify_role_manifest(struct vctx *c, const char *file, const struct tf_tiup_manifest *m,
                                const char *role)
{
	const struct tf_tiup_keyset *ks = tf_tiup_root_role(cur_root(c->m), role);
	int ok = check_base(c, file, m, role, 1) == 0;

	if (ks == NULL) {
		fail(c, file, "roles", "the root has no %s role", role);
		return -1;
	}
	if (check_sigs(c, file, m, ks, ks->threshold, role) < 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int verify_timestamp(struct vctx *c)
{
	char *file = mfile(c->m, "timestamp.json");
	const struct tf_tiup_meta *e;
	int ok;

	if (file == NULL) {
		c->nomem = 1;
		return -1;
	}
	if (load(c, file, TIMESTAMP_MAX, "size-limit", &c->m->timestamp) != 0) {
		free(file);
		return -1;
	}
	ok = verify_role_manifest(c, file, c->m->timestamp, "timestamp") == 0;
	e = tf_tiup_meta_get(c->m->timestamp, "/snapshot.json");
	if (e == NULL || c->m->timestamp->nmeta != 1) {
		fail(c, file, "meta", "meta must hold exactly one entry, /snapshot.json");
		ok = 0;
	} else if (!tf_mirror_is_sha256_hex(e->sha256)) {
		fail(c, file, "meta", "no sha256 for /snapshot.json");
		ok = 0;
	}
	if (ok)
		tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_OK, file, "verified",
		              "timestamp v%llu, expires %s",
		              (unsigned long long)c->m->timestamp->version,
		              c->m->timestamp->expires);
	free(file);
	return ok ? 0 : 1;
}

static int verify_snapshot(struct vctx *c)
{
	char *file = mfile(c->m, "snapshot.json");
	const struct tf_tiup_meta *e =
	    c->m->timestamp ? tf_tiup_meta_get(c->m->timestamp, "/snapshot.json") : NULL;
	size_t max = e != NULL && e->length > 0 ? (size_t)e->length : TF_TIUP_MANIFEST_MAX;
	uint8_t d[TF_SHA256_LEN];
	int ok = 1;

	if (file == NULL) {
		c->nomem = 1;
		return -1;
	}
	if (load(c, file, max, "size-limit", &c->m->snapshot) != 0) {
		free(file);
		return -1;
	}
	if (e == NULL) {
		fail(c, file, "sha256", "no verified timestamp names its hash");
		ok = 0;
	} else if (tf_sha256(c->m->snapshot->raw, c->m->snapshot->raw_len, d) != 0 ||
	           !tf_mirror_sha_matches(d, e->sha256)) {
		fail(c, file, "sha256", "sha256 differs from timestamp.json's");
		ok = 0;
	}
	if (verify_role_manifest(c, file, c->m->snapshot, "snapshot") != 0)
		ok = 0;
	if (ok)
		tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_OK, file, "verified",
		              "snapshot, %zu entries, sha256 as timestamp.json says",
		              c->m->snapshot->nmeta);
	free(file);
	return ok ? 0 : 1;
}

/* "/index.json" + version 3 -> "3.index.json" (TiUP's VersionedURL), or the unversioned
 * local name in a TIUP_HOME. NULL for URLs that could leave the mirror. */
static char *versioned(const struct tf_mirror *m, const char *url, uint64_t version)
{
	const char *slash = strrchr(url, '/');
	char *s = NULL;

	if (url[0] != '/' || strstr(url, "..") != NULL || slash == NULL || slash[1] == '\0')
		return NULL;
	if (m->home) {
		if (asprintf(&s, "manifests/%s", slash + 1) < 0)
			return NULL;
		return s;
	}
	if (asprintf(&s, "%.*s%s%llu.%s", (int)(slash - url - 1 > 0 ? slash - url - 1 : 0), url + 1,
	             slash - url - 1 > 0 ? "/" : "", (unsigned long long)version, slash + 1) < 0)
		return NULL;
	return s;
}

int tf_mirror_carried(const struct tf_mirror *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->ncarried; i++)
		if (strcmp(m->carried[i], name) == 0)
			return 1;
	return 0;
}

static int verify_index(struct vctx *c)
{
	const struct tf_tiup_keyset *role = tf_tiup_root_role(cur_root(c->m), "index");
	const char *url = role != NULL && role->url != NULL ? role->url : "/index.json";
	const struct tf_tiup_meta *e;
	struct tf_tiup_manifest *ix;
	size_t i;
	int ok = 1;

	if (c->m->snapshot == NULL || (e = tf_tiup_meta_get(c->m->snapshot, url)) == NULL) {
		fail(c, "index.json", "snapshot", "the snapshot names no %s", url);
		return -1;
	}
	if ((c->m->index_file = versioned(c->m, url, e->version)) == NULL) {
		fail(c, "index.json", "url", "index url '%s' is not a file of the mirror", url);
		return -1;
	}
	if (load(c, c->m->index_file, e->length > 0 ? (size_t)e->length : TF_TIUP_MANIFEST_MAX,
	         "size-limit", &c->m->index) != 0)
		return -1;
	ix = c->m->index;
	if (verify_role_manifest(c, c->m->index_file, ix, "index") != 0)
		ok = 0;
	if (!c->m->home && ix->version != e->version) {
		fail(c, c->m->index_file, "version", "index version %llu, the snapshot says %llu",
		     (unsigned long long)ix->version, (unsigned long long)e->version);
		ok = 0;
	}
	for (i = 0; i < ix->nowners; i++)
		if (check_keyset(c, c->m->index_file, "owner", &ix->owners[i]) != 0)
			ok = 0;
	for (i = 0; i < ix->nitems; i++)
		if (tf_tiup_index_owner(ix, ix->items[i].owner) == NULL) {
			fail(c, c->m->index_file, "owner", "component '%s' has unknown owner '%s'",
			     ix->items[i].name, ix->items[i].owner);
			ok = 0;
		}
	for (i = 0; i < ix->ndefaults; i++)
		if (tf_tiup_index_item(ix, ix->defaults[i]) == NULL) {
			fail(c, c->m->index_file, "default-components",
			     "default component '%s' is unknown", ix->defaults[i]);
			ok = 0;
		}
	if (ok)
		tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_OK, c->m->index_file, "verified",
		              "index v%llu, %zu components, %zu owners",
		              (unsigned long long)ix->version, ix->nitems, ix->nowners);
	return ok ? 0 : 1;
}

static int push_comp(struct tf_mirror *m, struct tf_tiup_manifest *cm, const char *file)
{
	struct tf_tiup_manifest **nc = realloc(m->comps, (m->ncomps + 1) * sizeof(*nc));
	char **nf;

	if (nc == NULL)
		return -1;
	m->comps = nc;
	if ((nf = realloc(m->comp_files, (m->ncomps + 1) * sizeof(*nf))) == NULL)
		return -1;
	m->comp_files = nf;
	if ((m->comp_files[m->ncomps] = strdup(file)) == NULL)
		return -1;
	m->comps[m->ncomps++] = cm;
	return 0;
}

static int verify_component(struct vctx *c, const struct tf_tiup_item *it)
{
	const struct tf_tiup_manifest *ix = c->m->index;
	const struct tf_tiup_keyset *owner = tf_tiup_index_owner(ix, it->owner);
	const struct tf_tiup_meta *e = tf_tiup_meta_get(c->m->snapshot, it->url);
	struct tf_tiup_manifest *cm = NULL;
	char *file;
	char who[128];
	int ok = 1;

	if (e == NULL) {
		fail(c, c->m->index_file, "snapshot", "component '%s': the snapshot names no %s",
		     it->name, it->url);
		return 1;
	}
	if ((file = versioned(c->m, it->url, e->version)) == NULL) {
		fail(c, c->m->index_file, "url",
		     "component '%s': url '%s' is not a file of the mirror", it->name, it->url);
		return 1;
	}
	if (!tf_mirror_src_exists(c->m->src, file)) {
		if (it->yanked)
			tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_SKIP, file, "yanked",
			              "component '%s' is yanked and absent", it->name);
		else if (c->m->has_marker && !tf_mirror_carried(c->m, file))
			tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_SKIP, file, "not-carried",
			              "component '%s' is not carried by this subset", it->name);
		else if (c->m->home)
			tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_SKIP, file, "not-cached",
			              "component '%s' is not in the local manifest cache",
			              it->name);
		else
			fail(c, file, "present", "component '%s' manifest is absent", it->name);
		free(file);
		return 0;
	}
	if (load(c, file, e->length > 0 ? (size_t)e->length : TF_TIUP_MANIFEST_MAX, "size-limit",
	         &cm) != 0) {
		free(file);
		return 1;
	}
	if (check_base(c, file, cm, "component", 1) != 0)
		ok = 0;
	snprintf(who, sizeof(who), "owner '%s'", it->owner);
	/* Owners written before TiUP gave them a threshold (its own test data) mean one. */
	if (owner == NULL ||
	    check_sigs(c, file, cm, owner, owner->has_threshold ? owner->threshold : 1, who) < 0)
		ok = 0;
	if (strcmp(cm->type, "component") == 0 && strcmp(cm->id, it->name) != 0) {
		fail(c, file, "id", "id '%s' is not the component '%s'", cm->id, it->name);
		ok = 0;
	}
	if (!c->m->home && cm->version != e->version) {
		fail(c, file, "version", "version %llu, the snapshot says %llu",
		     (unsigned long long)cm->version, (unsigned long long)e->version);
		ok = 0;
	}
	if (ok) {
		tf_mirror_add(c, TF_MIRROR_MANIFEST, TF_MIRROR_OK, file, "verified",
		              "component '%s' v%llu, %zu releases, signed by %s", it->name,
		              (unsigned long long)cm->version, cm->nreleases, who);
		if (push_comp(c->m, cm, file) != 0) {
			c->nomem = 1;
			tf_tiup_manifest_free(cm);
		}
	} else {
		tf_tiup_manifest_free(cm);
	}
	free(file);
	return ok ? 0 : 1;
}

static int load_marker(struct vctx *c)
{
	struct tf_mirror *m = c->m;
	uint8_t *buf = NULL;
	size_t len = 0, i = 0;
	cJSON *doc = NULL;
	const cJSON *files, *f;
	struct tf_err e;
	int r = 0;

	if (m->home || !tf_mirror_src_exists(m->src, TF_MIRROR_SUBSET_MARKER))
		return 0;
	if (tf_mirror_src_read(m->src, TF_MIRROR_SUBSET_MARKER, MARKER_MAX, &buf, &len, &e) != 0 ||
	    (doc = cJSON_ParseWithLength((const char *)buf, len)) == NULL ||
	    !cJSON_IsArray(files = cJSON_GetObjectItemCaseSensitive(doc, "files"))) {
		fail(c, TF_MIRROR_SUBSET_MARKER, "parse", "not a tiferry subset marker");
		r = -1;
		goto out;
	}
	m->ncarried = (size_t)cJSON_GetArraySize(files);
	if ((m->carried = calloc(m->ncarried ? m->ncarried : 1, sizeof(char *))) == NULL) {
		c->nomem = 1;
		r = -1;
		goto out;
	}
	cJSON_ArrayForEach(f, files)
	{
		if (cJSON_IsString(f) && (m->carried[i] = strdup(f->valuestring)) != NULL)
			i++;
	}
	m->ncarried = i;
	m->has_marker = 1;
	tf_mirror_add(
	    c, TF_MIRROR_OTHER, TF_MIRROR_NOTE, TF_MIRROR_SUBSET_MARKER, "subset",
	    "a tiferry subset carrying %zu files; files it does not carry are not required", i);
out:
	cJSON_Delete(doc);
	free(buf);
	return r;
}

static int detect_home(struct tf_mirror_src *src)
{
	return !tf_mirror_src_is_archive(src) && tf_mirror_src_exists(src, "bin/root.json") &&
	       tf_mirror_src_exists(src, "manifests") &&
	       !tf_mirror_src_exists(src, "timestamp.json");
}

int tf_mirror_verify(const char *path, const struct tf_mirror_verify_opts *opts,
                     struct tf_mirror_report *rep, struct tf_mirror **out, struct tf_err *err)
{
	struct vctx c = {0};
	struct tf_mirror *m = NULL;
	size_t i;
	int r;

	c.o = opts;
	c.rep = rep;
	c.at = opts->at != 0 ? opts->at : tf_time_now();
	rep->at = c.at;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	c.m = m;
	if ((r = tf_mirror_src_open(path, &m->src, err)) != 0)
		goto out;
	m->home = detect_home(m->src);
	rep->full_size = tf_mirror_src_total_size(m->src);
	(void)load_marker(&c);
	if (verify_root(&c) >= 0 && verify_timestamp(&c) >= 0 && verify_snapshot(&c) >= 0 &&
	    verify_index(&c) >= 0) {
		for (i = 0; i < m->index->nitems; i++)
			(void)verify_component(&c, &m->index->items[i]);
		if (!opts->no_tarballs && !m->home)
			tf_mirror_verify_tarballs(&c);
	}
	if (!m->home && tf_mirror_src_exists(m->src, "keys"))
		tf_mirror_add(&c, TF_MIRROR_OTHER, TF_MIRROR_NOTE, "keys/", "private-keys",
		              "holds the mirror's private signing keys: never packed");
	if (!m->home && tf_mirror_src_exists(m->src, "local_install.sh"))
		tf_mirror_add(&c, TF_MIRROR_OTHER, TF_MIRROR_NOTE, "local_install.sh", "installer",
		              "unpacks tiup without checks and switches the mirror: never packed");
	if (c.nomem) {
		r = tf_err_set(err, TF_E_NOMEM, "out of memory verifying '%s'", path);
		goto out;
	}
	if (rep->failures > 0) {
		for (i = 0; i < rep->n; i++)
			if (rep->checks[i].status == TF_MIRROR_FAIL)
				break;
		r = tf_err_set(
		    err, TF_E_FAIL, "mirror '%s': %zu check(s) failed; first: %s: %s: %s", path,
		    rep->failures, rep->checks[i].file, rep->checks[i].rule, rep->checks[i].detail);
		goto out;
	}
	if (out != NULL) {
		*out = m;
		m = NULL; /* transferred */
	}
	r = 0;
out:
	tf_mirror_free(m);
	return r;
}

void tf_mirror_free(struct tf_mirror *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nroots; i++) {
		tf_tiup_manifest_free(m->roots[i]);
		free(m->root_files[i]);
	}
	free(m->roots);
	free(m->root_files);
	for (i = 0; i < m->ncomps; i++) {
		tf_tiup_manifest_free(m->comps[i]);
		free(m->comp_files[i]);
	}
	free(m->comps);
	free(m->comp_files);
	for (i = 0; i < m->ncarried; i++)
		free(m->carried[i]);
	free(m->carried);
	tf_tiup_manifest_free(m->timestamp);
	tf_tiup_manifest_free(m->snapshot);
	tf_tiup_manifest_free(m->index);
	free(m->index_file);
	tf_mirror_src_free(m->src);
	free(m);
}

struct tf_mirror_src *tf_mirror_source(struct tf_mirror *m)
{
	return m->src;
}

size_t tf_mirror_nroots(const struct tf_mirror *m)
{
	return m->nroots;
}

const struct tf_tiup_manifest *tf_mirror_root(const struct tf_mirror *m, size_t i,
                                              const char **file)
{
	if (i >= m->nroots)
		return NULL;
	if (file != NULL)
		*file = m->root_files[i];
	return m->roots[i];
}

const struct tf_tiup_manifest *tf_mirror_timestamp(const struct tf_mirror *m)
{
	return m->timestamp;
}

const struct tf_tiup_manifest *tf_mirror_snapshot(const struct tf_mirror *m)
{
	return m->snapshot;
}

const struct tf_tiup_manifest *tf_mirror_index(const struct tf_mirror *m, const char **file)
{
	if (file != NULL)
		*file = m->index_file;
	return m->index;
}

const struct tf_tiup_manifest *tf_mirror_component(const struct tf_mirror *m, const char *name,
                                                   const char **file)
{
	size_t i;

	for (i = 0; i < m->ncomps; i++)
		if (strcmp(m->comps[i]->id, name) == 0) {
			if (file != NULL)
				*file = m->comp_files[i];
			return m->comps[i];
		}
	return NULL;
}
