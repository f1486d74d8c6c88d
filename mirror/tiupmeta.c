/* TiUP manifest parsing: cJSON for the structure, a byte scanner for the raw "signed" span. */
#include "mirror/tiupmeta.h"
#include "common/strbuf.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "crypto/digest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define MAX_SAFE_INT 9007199254740992.0 /* 2^53: larger integers lose precision in cJSON */

static void canon_string(struct tf_strbuf *b, const char *s)
{
	tf_strbuf_putn(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		switch (c) {
		case '"':
			tf_strbuf_puts(b, "\\\"");
			break;
		case '\\':
			tf_strbuf_puts(b, "\\\\");
			break;
		case '\b':
			tf_strbuf_puts(b, "\\b");
			break;
		case '\f':
			tf_strbuf_puts(b, "\\f");
			break;
		case '\n':
			tf_strbuf_puts(b, "\\n");
			break;
		case '\r':
			tf_strbuf_puts(b, "\\r");
			break;
		case '\t':
			tf_strbuf_puts(b, "\\t");
			break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				tf_strbuf_puts(b, esc);
			} else {
				tf_strbuf_putn(b, (const char *)&c, 1);
			}
		}
	}
	tf_strbuf_putn(b, "\"", 1);
}

static int cmp_child_name(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* Collects the children of an object sorted by name; NULL with *n = 0 for an empty object. */
static int sorted_children(const cJSON *obj, const cJSON ***out, size_t *n)
{
	const cJSON *c;
	const cJSON **v;
	size_t i = 0, cnt = 0;

	for (c = obj->child; c != NULL; c = c->next)
		cnt++;
	*out = NULL;
	*n = 0;
	if (cnt == 0)
		return 0;
	if ((v = calloc(cnt, sizeof(*v))) == NULL)
		return -1;
	for (c = obj->child; c != NULL; c = c->next)
		v[i++] = c;
	qsort((void *)v, cnt, sizeof(*v), cmp_child_name);
	*out = v;
	*n = cnt;
	return 0;
}

/* Appends the canonical JSON of v; -1 for values canonical JSON cannot hold (fractions). */
static int canon_value(struct tf_strbuf *b, const cJSON *v, int depth)
{
	char num[32];

	if (depth > 64)
		return -1;
	if (cJSON_IsString(v)) {
		canon_string(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		/* the range first: converting a double outside long long's range is undefined
		 * (issue 19: 1e114 from an unverified root manifest) */
		if (!(d <= MAX_SAFE_INT && d >= -MAX_SAFE_INT) || d != (double)(long long)d)
			return -1;
		snprintf(num, sizeof(num), "%lld", (long long)d);
		tf_strbuf_puts(b, num);
	} else if (cJSON_IsBool(v)) {
		tf_strbuf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNull(v)) {
		tf_strbuf_puts(b, "null");
	} else if (cJSON_IsArray(v)) {
		const cJSON *c;

		tf_strbuf_puts(b, "[");
		for (c = v->child; c != NULL; c = c->next) {
			if (c != v->child)
				tf_strbuf_puts(b, ",");
			if (canon_value(b, c, depth + 1) != 0)
				return -1;
		}
		tf_strbuf_puts(b, "]");
	} else if (cJSON_IsObject(v)) {
		const cJSON **kids = NULL;
		size_t n = 0, i;
		int r = 0;

		if (sorted_children(v, &kids, &n) != 0)
			return -1;
		tf_strbuf_puts(b, "{");
		for (i = 0; i < n && r == 0; i++) {
			if (i > 0)
				tf_strbuf_puts(b, ",");
			canon_string(b, kids[i]->string);
			tf_strbuf_puts(b, ":");
			r = canon_value(b, kids[i], depth + 1);
		}
		tf_strbuf_puts(b, "}");
		free((void *)kids);
		return r;
	} else {
		return -1;
	}
	return b->failed ? -1 : 0;
}

/* 0 when no object below v holds a key twice (Go keeps the last, cJSON the first). */
static int check_dups(const cJSON *v, const char **dup)
{
	const cJSON *c;

	if (cJSON_IsObject(v)) {
		const cJSON **kids = NULL;
		size_t n = 0, i;

		if (sorted_children(v, &kids, &n) != 0)
			return -1;
		for (i = 1; i < n; i++) {
			if (strcmp(kids[i - 1]->string, kids[i]->string) == 0) {
				*dup = kids[i]->string;
				free((void *)kids);
				return 1;
			}
		}
		free((void *)kids);
	}
	for (c = v->child; c != NULL; c = c->next) {
		int r = check_dups(c, dup);

		if (r != 0)
			return r;
	}
	return 0;
}

/* Finds the byte span of the top-level member "signed" in a document cJSON already accepted. */
static size_t skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

static size_t skip_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

static size_t skip_value(const char *s, size_t i, size_t n)
{
	size_t depth = 0;

	if (i >= n)
		return n;
	if (s[i] == '"')
		return skip_string(s, i, n);
	if (s[i] != '{' && s[i] != '[') {
		while (i < n && strchr(",}] \t\r\n", s[i]) == NULL)
			i++;
		return i;
	}
	while (i < n) {
		char c = s[i];

		if (c == '"') {
			i = skip_string(s, i, n);
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return n;
}

static int find_signed(const char *s, size_t n, size_t *off, size_t *len)
{
	size_t i = skip_ws(s, 0, n);
	int found = 0;

	if (i >= n || s[i] != '{')
		return -1;
	i++;
	for (;;) {
		size_t ks, ke, vs;

		i = skip_ws(s, i, n);
		if (i >= n || s[i] != '"')
			return -1;
		ks = i;
		ke = skip_string(s, i, n);
		i = skip_ws(s, ke, n);
		if (i >= n || s[i] != ':')
			return -1;
		vs = skip_ws(s, i + 1, n);
		i = skip_value(s, vs, n);
		if (ke - ks == 8 && memcmp(s + ks, "\"signed\"", 8) == 0) {
			*off = vs;
			*len = i - vs;
			found = 1;
		}
		i = skip_ws(s, i, n);
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		if (i < n && s[i] == '}')
			break;
		return -1;
	}
	return found ? 0 : -1;
}

/* Field readers: each fails with TF_E_INPUT naming the file and the field. */
struct pctx {
	const char *name;
	struct tf_err *err;
};

static int bad(struct pctx *p, const char *what, const char *field)
{
	return tf_err_set(p->err, TF_E_INPUT, "manifest '%s': %s '%s'", p->name, what, field);
}

static int get_str(struct pctx *p, const cJSON *o, const char *key, int required, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			return bad(p, "missing field", key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return bad(p, "not a string:", key);
	if ((*out = strdup(v->valuestring)) == NULL)
		return tf_err_nomem(p->err);
	return 0;
}

static int num_u64(struct pctx *p, const cJSON *v, const char *key, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return bad(p, "not a number:", key);
	d = v->valuedouble;
	if (d < 0 || d > MAX_SAFE_INT || d != (double)(uint64_t)d)
		return bad(p, "not a non-negative integer:", key);
	*out = (uint64_t)d;
	return 0;
}

static int get_u64(struct pctx *p, const cJSON *o, const char *key, int required, uint64_t *out,
                   int *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = 0;
	if (present != NULL)
		*present = 0;
	if (v == NULL || cJSON_IsNull(v))
		return required ? bad(p, "missing field", key) : 0;
	if (present != NULL)
		*present = 1;
	return num_u64(p, v, key, out);
}

static int get_bool(struct pctx *p, const cJSON *o, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return bad(p, "not a boolean:", key);
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return 0;
}

static int get_obj(struct pctx *p, const cJSON *o, const char *key, int required, const cJSON **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return required ? bad(p, "missing field", key) : 0;
	if (!cJSON_IsObject(v))
		return bad(p, "not an object:", key);
	*out = v;
	return 0;
}

static size_t nchildren(const cJSON *o)
{
	return o == NULL ? 0 : (size_t)cJSON_GetArraySize(o);
}

static void *alloc_n(struct pctx *p, size_t n, size_t size, int *r)
{
	void *v = calloc(n == 0 ? 1 : n, size);

	if (v == NULL)
		*r = tf_err_nomem(p->err);
	return v;
}

static int parse_key(struct pctx *p, const cJSON *kv, struct tf_tiup_key *k)
{
	const cJSON *val = NULL;
	struct tf_strbuf b = {0};
	uint8_t d[TF_SHA256_LEN];
	int r;

	if ((k->id = strdup(kv->string)) == NULL)
		return tf_err_nomem(p->err);
	if (!cJSON_IsObject(kv))
		return bad(p, "key is not an object:", kv->string);
	if ((r = get_str(p, kv, "keytype", 1, &k->keytype)) != 0 ||
	    (r = get_str(p, kv, "scheme", 1, &k->scheme)) != 0 ||
	    (r = get_obj(p, kv, "keyval", 1, &val)) != 0 ||
	    (r = get_str(p, val, "public", 1, &k->pem)) != 0)
		return r;
	k->computed_id[0] = '\0';
	if (canon_value(&b, kv, 0) == 0 && !b.failed && tf_sha256(b.s, b.len, d) == 0)
		tf_hex_encode(d, sizeof(d), k->computed_id);
	free(b.s);
	return 0;
}

static int parse_keyset(struct pctx *p, const cJSON *o, struct tf_tiup_keyset *ks, int role)
{
	const cJSON *keys = NULL, *c;
	size_t i = 0;
	int r = 0;

	if ((ks->name = strdup(o->string)) == NULL)
		return tf_err_nomem(p->err);
	if (!cJSON_IsObject(o))
		return bad(p, "not an object:", o->string);
	if ((r = get_obj(p, o, "keys", 1, &keys)) != 0 ||
	    (r = get_u64(p, o, "threshold", 0, &ks->threshold, &ks->has_threshold)) != 0)
		return r;
	if (keys == NULL)
		return bad(p, "missing field", "keys");
	if (role && (r = get_str(p, o, "url", 0, &ks->url)) != 0)
		return r;
	if (!role && (r = get_str(p, o, "name", 0, &ks->display)) != 0)
		return r;
	ks->nkeys = nchildren(keys);
	if ((ks->keys = alloc_n(p, ks->nkeys, sizeof(*ks->keys), &r)) == NULL)
		return r;
	for (c = keys->child; c != NULL; c = c->next)
		if ((r = parse_key(p, c, &ks->keys[i++])) != 0)
			return r;
	return 0;
}

static int parse_keysets(struct pctx *p, const cJSON *o, struct tf_tiup_keyset **out, size_t *n,
                         int role)
{
	const cJSON *c;
	size_t i = 0;
	int r = 0;

	*n = nchildren(o);
	if ((*out = alloc_n(p, *n, sizeof(**out), &r)) == NULL)
		return r;
	for (c = o == NULL ? NULL : o->child; c != NULL; c = c->next)
		if ((r = parse_keyset(p, c, &(*out)[i++], role)) != 0)
			return r;
	return 0;
}

static int parse_root(struct pctx *p, const cJSON *s, struct tf_tiup_manifest *m)
{
	const cJSON *roles = NULL;
	int r;

	if ((r = get_obj(p, s, "roles", 1, &roles)) != 0)
		return r;
	return parse_keysets(p, roles, &m->roles, &m->nroles, 1);
}

static int parse_index(struct pctx *p, const cJSON *s, struct tf_tiup_manifest *m)
{
	const cJSON *comps = NULL, *owners = NULL, *defs, *c;
	size_t i = 0;
	int r;

	if ((r = get_obj(p, s, "components", 1, &comps)) != 0 ||
	    (r = get_obj(p, s, "owners", 1, &owners)) != 0)
		return r;
	if (comps == NULL || owners == NULL)
		return bad(p, "missing field", "components");
	m->nitems = nchildren(comps);
	if ((m->items = alloc_n(p, m->nitems, sizeof(*m->items), &r)) == NULL)
		return r;
	for (c = comps->child; c != NULL; c = c->next) {
		struct tf_tiup_item *it = &m->items[i++];

		if ((it->name = strdup(c->string)) == NULL)
			return tf_err_nomem(p->err);
		if (!cJSON_IsObject(c))
			return bad(p, "component entry is not an object:", c->string);
		if ((r = get_str(p, c, "owner", 1, &it->owner)) != 0 ||
		    (r = get_str(p, c, "url", 1, &it->url)) != 0 ||
		    (r = get_bool(p, c, "yanked", &it->yanked)) != 0 ||
		    (r = get_bool(p, c, "hidden", &it->hidden)) != 0 ||
		    (r = get_bool(p, c, "standalone", &it->standalone)) != 0)
			return r;
	}
	if ((r = parse_keysets(p, owners, &m->owners, &m->nowners, 0)) != 0)
		return r;
	defs = cJSON_GetObjectItemCaseSensitive(s, "default_components");
	if (defs != NULL && !cJSON_IsNull(defs)) {
		if (!cJSON_IsArray(defs))
			return bad(p, "not an array:", "default_components");
		m->ndefaults = nchildren(defs);
		if ((m->defaults = alloc_n(p, m->ndefaults, sizeof(char *), &r)) == NULL)
			return r;
		i = 0;
		for (c = defs->child; c != NULL; c = c->next) {
			if (!cJSON_IsString(c))
				return bad(p, "not a string in", "default_components");
			if ((m->defaults[i++] = strdup(c->valuestring)) == NULL)
				return tf_err_nomem(p->err);
		}
	}
	return 0;
}

static int parse_hashes(struct pctx *p, const cJSON *o, char **sha256)
{
	const cJSON *h = NULL;
	int r;

	if ((r = get_obj(p, o, "hashes", 0, &h)) != 0)
		return r;
	if (h == NULL)
		return 0;
	return get_str(p, h, "sha256", 0, sha256);
}

static int parse_meta(struct pctx *p, const cJSON *s, struct tf_tiup_manifest *m, int ts)
{
	const cJSON *meta = NULL, *c;
	size_t i = 0;
	int r;

	if ((r = get_obj(p, s, "meta", 1, &meta)) != 0)
		return r;
	if (meta == NULL)
		return bad(p, "missing field", "meta");
	m->nmeta = nchildren(meta);
	if ((m->meta = alloc_n(p, m->nmeta, sizeof(*m->meta), &r)) == NULL)
		return r;
	for (c = meta->child; c != NULL; c = c->next) {
		struct tf_tiup_meta *e = &m->meta[i++];

		if ((e->path = strdup(c->string)) == NULL)
			return tf_err_nomem(p->err);
		if (!cJSON_IsObject(c))
			return bad(p, "meta entry is not an object:", c->string);
		if ((r = get_u64(p, c, "length", ts, &e->length, NULL)) != 0)
			return r;
		if (ts)
			r = parse_hashes(p, c, &e->sha256);
		else
			r = get_u64(p, c, "version", 1, &e->version, NULL);
		if (r != 0)
			return r;
	}
	return 0;
}

static int parse_release(struct pctx *p, const char *plat, const cJSON *c,
                         struct tf_tiup_release *rel)
{
	const cJSON *deps, *d;
	size_t i = 0;
	int r;

	if ((rel->platform = strdup(plat)) == NULL || (rel->version = strdup(c->string)) == NULL)
		return tf_err_nomem(p->err);
	if (!cJSON_IsObject(c))
		return bad(p, "version entry is not an object:", c->string);
	if ((r = get_str(p, c, "url", 1, &rel->url)) != 0 ||
	    (r = get_str(p, c, "entry", 0, &rel->entry)) != 0 ||
	    (r = get_u64(p, c, "length", 0, &rel->length, NULL)) != 0 ||
	    (r = get_bool(p, c, "yanked", &rel->yanked)) != 0 ||
	    (r = parse_hashes(p, c, &rel->sha256)) != 0)
		return r;
	deps = cJSON_GetObjectItemCaseSensitive(c, "dependencies");
	if (deps == NULL || cJSON_IsNull(deps))
		return 0;
	if (!cJSON_IsObject(deps))
		return bad(p, "not an object:", "dependencies");
	rel->ndeps = nchildren(deps);
	if ((rel->deps = alloc_n(p, rel->ndeps, sizeof(*rel->deps), &r)) == NULL)
		return r;
	for (d = deps->child; d != NULL; d = d->next) {
		struct tf_tiup_dep *dep = &rel->deps[i++];

		if (!cJSON_IsString(d))
			return bad(p, "dependency is not a string:", d->string);
		if ((dep->name = strdup(d->string)) == NULL ||
		    (dep->version = strdup(d->valuestring)) == NULL)
			return tf_err_nomem(p->err);
	}
	return 0;
}

static int parse_component(struct pctx *p, const cJSON *s, struct tf_tiup_manifest *m)
{
	const cJSON *plats = NULL, *pl, *v;
	size_t n = 0, i = 0;
	int r;

	if ((r = get_str(p, s, "id", 1, &m->id)) != 0 ||
	    (r = get_str(p, s, "nightly", 0, &m->nightly)) != 0 ||
	    (r = get_obj(p, s, "platforms", 1, &plats)) != 0)
		return r;
	if (plats == NULL)
		return bad(p, "missing field", "platforms");
	for (pl = plats->child; pl != NULL; pl = pl->next) {
		if (!cJSON_IsObject(pl))
			return bad(p, "platform is not an object:", pl->string);
		n += nchildren(pl);
	}
	m->nreleases = n;
	if ((m->releases = alloc_n(p, n, sizeof(*m->releases), &r)) == NULL)
		return r;
	for (pl = plats->child; pl != NULL; pl = pl->next)
		for (v = pl->child; v != NULL; v = v->next)
			if ((r = parse_release(p, pl->string, v, &m->releases[i++])) != 0)
				return r;
	return 0;
}

static int parse_signatures(struct pctx *p, const cJSON *sigs, struct tf_tiup_manifest *m)
{
	const cJSON *c;
	size_t i = 0;
	int r = 0;

	if (!cJSON_IsArray(sigs))
		return bad(p, "not an array:", "signatures");
	m->nsigs = nchildren(sigs);
	if ((m->sigs = alloc_n(p, m->nsigs, sizeof(*m->sigs), &r)) == NULL)
		return r;
	for (c = sigs->child; c != NULL; c = c->next) {
		struct tf_tiup_sig *s = &m->sigs[i++];

		if (!cJSON_IsObject(c))
			return bad(p, "signature is not an object in", "signatures");
		if ((r = get_str(p, c, "keyid", 1, &s->keyid)) != 0 ||
		    (r = get_str(p, c, "sig", 1, &s->sig)) != 0)
			return r;
	}
	return 0;
}

int tf_tiup_manifest_parse(const uint8_t *buf, size_t len, const char *name,
                           struct tf_tiup_manifest **out, struct tf_err *err)
{
	struct tf_tiup_manifest *m = NULL;
	cJSON *doc = NULL;
	const cJSON *sig, *sgn, *c;
	const char *end = NULL, *dup = NULL;
	struct pctx p = {name, err};
	size_t nkeys = 0;
	int r;

	if (len > TF_TIUP_MANIFEST_MAX) {
		r = tf_err_set(err, TF_E_INPUT, "manifest '%s': larger than %zu bytes", name,
		               TF_TIUP_MANIFEST_MAX);
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL || (m->name = strdup(name)) == NULL ||
	    (m->raw = malloc(len + 1)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (len > 0)
		memcpy(m->raw, buf, len);
	m->raw[len] = '\0';
	m->raw_len = len;
	doc = cJSON_ParseWithLengthOpts((const char *)m->raw, len, &end, 0);
	if (doc == NULL) {
		r = tf_err_set(err, TF_E_INPUT, "manifest '%s': not valid JSON", name);
		goto out;
	}
	while (end != NULL && (size_t)(end - (const char *)m->raw) < len &&
	       isspace((unsigned char)*end))
		end++;
	if (end == NULL || (size_t)(end - (const char *)m->raw) != len) {
		r = tf_err_set(err, TF_E_INPUT, "manifest '%s': trailing data after the JSON value",
		               name);
		goto out;
	}
	if (!cJSON_IsObject(doc)) {
		r = tf_err_set(err, TF_E_INPUT, "manifest '%s': not a JSON object", name);
		goto out;
	}
	if ((r = check_dups(doc, &dup)) != 0) {
		r = r < 0 ? tf_err_nomem(err)
		          : tf_err_set(err, TF_E_INPUT, "manifest '%s': duplicate key '%s'", name,
		                       dup);
		goto out;
	}
	for (c = doc->child; c != NULL; c = c->next)
		nkeys++;
	sig = cJSON_GetObjectItemCaseSensitive(doc, "signatures");
	sgn = cJSON_GetObjectItemCaseSensitive(doc, "signed");
	if (nkeys != 2 || sig == NULL || sgn == NULL) {
		r = tf_err_set(err, TF_E_INPUT,
		               "manifest '%s': must hold exactly 'signatures' and 'signed'", name);
		goto out;
	}
	if (!cJSON_IsObject(sgn)) {
		r = bad(&p, "not an object:", "signed");
		goto out;
	}
	if (find_signed((const char *)m->raw, len, &m->signed_off, &m->signed_len) != 0) {
		r = tf_err_set(err, TF_E_INPUT, "manifest '%s': cannot locate the 'signed' bytes",
		               name);
		goto out;
	}
	if ((r = parse_signatures(&p, sig, m)) != 0 ||
	    (r = get_str(&p, sgn, "_type", 1, &m->type)) != 0 ||
	    (r = get_str(&p, sgn, "spec_version", 1, &m->spec_version)) != 0 ||
	    (r = get_str(&p, sgn, "expires", 1, &m->expires)) != 0 ||
	    (r = get_u64(&p, sgn, "version", 0, &m->version, NULL)) != 0)
		goto out;
	if (tf_time_parse(m->expires, &m->expires_at, NULL) != 0) {
		r = tf_err_set(err, TF_E_INPUT, "manifest '%s': 'expires' is not an RFC 3339 time",
		               name);
		goto out;
	}
	if (strcmp(m->type, "root") == 0)
		r = parse_root(&p, sgn, m);
	else if (strcmp(m->type, "index") == 0)
		r = parse_index(&p, sgn, m);
	else if (strcmp(m->type, "snapshot") == 0)
		r = parse_meta(&p, sgn, m, 0);
	else if (strcmp(m->type, "timestamp") == 0)
		r = parse_meta(&p, sgn, m, 1);
	else if (strcmp(m->type, "component") == 0)
		r = parse_component(&p, sgn, m);
	else
		r = tf_err_set(err, TF_E_INPUT, "manifest '%s': unknown _type '%s'", name, m->type);
	if (r != 0)
		goto out;
	*out = m;
	m = NULL; /* transferred */
	r = 0;
out:
	cJSON_Delete(doc);
	tf_tiup_manifest_free(m);
	return r;
}

static void keyset_release(struct tf_tiup_keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->nkeys; i++) {
		free(ks->keys[i].id);
		free(ks->keys[i].keytype);
		free(ks->keys[i].scheme);
		free(ks->keys[i].pem);
	}
	free(ks->keys);
	free(ks->name);
	free(ks->url);
	free(ks->display);
}

void tf_tiup_manifest_free(struct tf_tiup_manifest *m)
{
	size_t i, j;

	if (m == NULL)
		return;
	for (i = 0; i < m->nsigs; i++) {
		free(m->sigs[i].keyid);
		free(m->sigs[i].sig);
	}
	free(m->sigs);
	for (i = 0; m->roles != NULL && i < m->nroles; i++)
		keyset_release(&m->roles[i]);
	free(m->roles);
	for (i = 0; m->owners != NULL && i < m->nowners; i++)
		keyset_release(&m->owners[i]);
	free(m->owners);
	for (i = 0; m->items != NULL && i < m->nitems; i++) {
		free(m->items[i].name);
		free(m->items[i].owner);
		free(m->items[i].url);
	}
	free(m->items);
	for (i = 0; m->defaults != NULL && i < m->ndefaults; i++)
		free(m->defaults[i]);
	free(m->defaults);
	for (i = 0; m->meta != NULL && i < m->nmeta; i++) {
		free(m->meta[i].path);
		free(m->meta[i].sha256);
	}
	free(m->meta);
	for (i = 0; m->releases != NULL && i < m->nreleases; i++) {
		struct tf_tiup_release *rel = &m->releases[i];

		for (j = 0; rel->deps != NULL && j < rel->ndeps; j++) {
			free(rel->deps[j].name);
			free(rel->deps[j].version);
		}
		free(rel->deps);
		free(rel->platform);
		free(rel->version);
		free(rel->url);
		free(rel->sha256);
		free(rel->entry);
	}
	free(m->releases);
	free(m->id);
	free(m->nightly);
	free(m->type);
	free(m->spec_version);
	free(m->expires);
	free(m->raw);
	free(m->name);
	free(m);
}

const uint8_t *tf_tiup_manifest_signed(const struct tf_tiup_manifest *m, size_t *len)
{
	*len = m->signed_len;
	return m->raw + m->signed_off;
}

static const struct tf_tiup_keyset *keyset_find(const struct tf_tiup_keyset *v, size_t n,
                                                const char *name)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

const struct tf_tiup_keyset *tf_tiup_root_role(const struct tf_tiup_manifest *m, const char *role)
{
	return keyset_find(m->roles, m->nroles, role);
}

const struct tf_tiup_keyset *tf_tiup_index_owner(const struct tf_tiup_manifest *m,
                                                 const char *owner)
{
	return keyset_find(m->owners, m->nowners, owner);
}

const struct tf_tiup_item *tf_tiup_index_item(const struct tf_tiup_manifest *m, const char *name)
{
	size_t i;

	for (i = 0; m->items != NULL && i < m->nitems; i++)
		if (strcmp(m->items[i].name, name) == 0)
			return &m->items[i];
	return NULL;
}

const struct tf_tiup_meta *tf_tiup_meta_get(const struct tf_tiup_manifest *m, const char *path)
{
	size_t i;

	for (i = 0; m->meta != NULL && i < m->nmeta; i++)
		if (strcmp(m->meta[i].path, path) == 0)
			return &m->meta[i];
	return NULL;
}

static int has_exact_platform(const struct tf_tiup_manifest *m, const char *platform)
{
	size_t i;

	for (i = 0; m->releases != NULL && i < m->nreleases; i++)
		if (strcmp(m->releases[i].platform, platform) == 0)
			return 1;
	return 0;
}

int tf_tiup_has_platform(const struct tf_tiup_manifest *m, const char *platform)
{
	return has_exact_platform(m, platform) || has_exact_platform(m, "any/any");
}

const struct tf_tiup_release *tf_tiup_release_get(const struct tf_tiup_manifest *m,
                                                  const char *platform, const char *version)
{
	const char *plat = has_exact_platform(m, platform) ? platform : "any/any";
	size_t i;

	for (i = 0; m->releases != NULL && i < m->nreleases; i++)
		if (strcmp(m->releases[i].platform, plat) == 0 &&
		    strcmp(m->releases[i].version, version) == 0)
			return &m->releases[i];
	return NULL;
}

/* Splits "v1.2.3-pre+build" into numbers and the pre-release; -1 when not a version. */
static int parse_semver(const char *s, unsigned long long num[3], const char **pre, size_t *plen)
{
	int i;

	if (*s == 'v')
		s++;
	for (i = 0; i < 3; i++) {
		char *e;

		if (!isdigit((unsigned char)*s))
			return -1;
		num[i] = strtoull(s, &e, 10);
		s = e;
		if (i < 2) {
			if (*s != '.')
				return -1;
			s++;
		}
	}
	*pre = NULL;
	*plen = 0;
	if (*s == '-') {
		*pre = ++s;
		while (*s != '\0' && *s != '+')
			s++;
		*plen = (size_t)(s - *pre);
	}
	if (*s != '\0' && *s != '+')
		return -1;
	return 0;
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* Compares dot-separated pre-release identifiers as semver 2.0 says. */
static int cmp_pre(const char *a, size_t al, const char *b, size_t bl)
{
	while (al > 0 && bl > 0) {
		size_t an = 0, bn = 0;
		int c;

		while (an < al && a[an] != '.')
			an++;
		while (bn < bl && b[bn] != '.')
			bn++;
		if (all_digits(a, an) && all_digits(b, bn)) {
			unsigned long long x = strtoull(a, NULL, 10), y = strtoull(b, NULL, 10);

			c = x < y ? -1 : x > y;
		} else if (all_digits(a, an)) {
			c = -1;
		} else if (all_digits(b, bn)) {
			c = 1;
		} else {
			c = memcmp(a, b, an < bn ? an : bn);
			if (c == 0)
				c = an < bn ? -1 : an > bn;
		}
		if (c != 0)
			return c;
		a += an;
		al -= an;
		b += bn;
		bl -= bn;
		if (al > 0) {
			a++;
			al--;
		}
		if (bl > 0) {
			b++;
			bl--;
		}
	}
	return al > 0 ? 1 : bl > 0 ? -1 : 0;
}

int tf_tiup_version_cmp(const char *a, const char *b)
{
	unsigned long long x[3], y[3];
	const char *ap, *bp;
	size_t al, bl;
	int va = parse_semver(a, x, &ap, &al) == 0, vb = parse_semver(b, y, &bp, &bl) == 0;
	int i;

	if (!va || !vb) {
		if (va != vb)
			return va ? 1 : -1;
		return strcmp(a, b);
	}
	for (i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	if (ap == NULL || bp == NULL)
		return ap == NULL ? (bp == NULL ? 0 : 1) : -1;
	return cmp_pre(ap, al, bp, bl);
}

int tf_tiup_version_is_nightly(const char *v)
{
	return strcmp(v, "nightly") == 0 || strstr(v, "-nightly") != NULL;
}
