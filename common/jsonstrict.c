/* Strict JSON checking (common/jsonstrict.h): one recursive-descent pass over the bytes. Keys
 * are unescaped into one arena and remembered in one hash table for the whole document, tagged
 * with the number of the object they belong to, so the repeated-key check is linear too. */
#include "common/jsonstrict.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct key {
	uint64_t hash; /* 0: empty slot */
	uint32_t obj;  /* which object (numbered in the order they open) */
	uint32_t off;  /* the unescaped key in the arena */
	uint32_t len;
};

struct scan {
	const unsigned char *base, *p, *end;
	unsigned depth;
	uint32_t nobj;
	struct key *tab; /* open addressing, linear probing; ntab a power of two */
	size_t ntab, nkeys;
	unsigned char *arena;
	size_t alen, acap;
	const char *why; /* set with p at the offending byte */
	int nomem;
};

static int fail(struct scan *s, const char *why)
{
	if (s->why == NULL)
		s->why = why;
	return -1;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int arena_put(struct scan *s, const unsigned char *b, size_t n)
{
	if (s->alen + n > s->acap) {
		size_t cap = s->acap ? s->acap * 2 : 4096;
		unsigned char *a;

		while (cap < s->alen + n)
			cap *= 2;
		if ((a = realloc(s->arena, cap)) == NULL) {
			s->nomem = 1;
			return -1;
		}
		s->arena = a;
		s->acap = cap;
	}
	memcpy(s->arena + s->alen, b, n);
	s->alen += n;
	return 0;
}

/* Appends code point cp as UTF-8 (cp is a valid scalar value). */
static int arena_cp(struct scan *s, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return arena_put(s, b, n);
}

static uint64_t key_hash(uint32_t obj, const unsigned char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ obj;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= k[i];
		h *= 1099511628211ull;
	}
	h ^= h >> 29;
	return h ? h : 1;
}

static int tab_grow(struct scan *s)
{
	size_t n = s->ntab ? s->ntab * 2 : 1024, i, j;
	struct key *t = calloc(n, sizeof(*t));

	if (t == NULL) {
		s->nomem = 1;
		return -1;
	}
	for (i = 0; i < s->ntab; i++) {
		if (s->tab[i].hash == 0)
			continue;
		for (j = s->tab[i].hash & (n - 1); t[j].hash != 0; j = (j + 1) & (n - 1))
			;
		t[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = t;
	s->ntab = n;
	return 0;
}

/* Records the key just unescaped at arena[off..alen) for object obj; -1 if it repeats one. */
static int key_add(struct scan *s, uint32_t obj, size_t off)
{
	size_t n = s->alen - off, j;
	uint64_t h = key_hash(obj, s->arena + off, n);

	if ((s->nkeys + 1) * 2 > s->ntab && tab_grow(s) != 0)
		return -1;
	for (j = h & (s->ntab - 1); s->tab[j].hash != 0; j = (j + 1) & (s->ntab - 1)) {
		const struct key *k = &s->tab[j];

		if (k->hash == h && k->obj == obj && k->len == n &&
		    memcmp(s->arena + k->off, s->arena + off, n) == 0)
			return fail(s, "repeated key");
	}
	s->tab[j].hash = h;
	s->tab[j].obj = obj;
	s->tab[j].off = (uint32_t)off;
	s->tab[j].len = (uint32_t)n;
	s->nkeys++;
	return 0;
}

static int hex4(struct scan *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (s->end - s->p < 4)
		return fail(s, "bad \\u escape");
	for (i = 0; i < 4; i++) {
		unsigned char c = s->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return fail(s, "bad \\u escape");
	}
	s->p += 4;
	*out = v;
	return 0;
}

/* After the backslash: one escape; its code point is appended when keep. */
static int escape(struct scan *s, int keep)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *c;
	uint32_t cp = 0, lo = 0;

	if (s->p >= s->end)
		return fail(s, "unterminated string");
	if (*s->p != 'u') {
		if (*s->p == '\0' || (c = strchr(from, *s->p)) == NULL)
			return fail(s, "bad escape");
		s->p++;
		return keep ? arena_cp(s, (unsigned char)to[c - from]) : 0;
	}
	s->p++;
	if (hex4(s, &cp) != 0)
		return -1;
	if (cp == 0) {
		s->p -= 6;
		return fail(s, "\\u0000 in a string");
	}
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		s->p -= 6;
		return fail(s, "unpaired surrogate escape");
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
			return fail(s, "unpaired surrogate escape");
		s->p += 2;
		if (hex4(s, &lo) != 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff) {
			s->p -= 6;
			return fail(s, "unpaired surrogate escape");
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return keep ? arena_cp(s, cp) : 0;
}

/* One UTF-8 sequence of two or more bytes starting at p (p[0] >= 0x80). */
static int utf8_seq(struct scan *s)
{
	const unsigned char *p = s->p;
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return fail(s, "invalid UTF-8");
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if ((size_t)(s->end - p) < n || p[1] < lo || p[1] > hi)
		return fail(s, "invalid UTF-8");
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return fail(s, "invalid UTF-8");
	s->p += n;
	return 0;
}

/* At the opening quote. When keep, the unescaped bytes are appended to the arena. */
static int string(struct scan *s, int keep)
{
	const unsigned char *run;

	s->p++;
	for (;;) {
		run = s->p;
		while (s->p < s->end && *s->p >= 0x20 && *s->p < 0x80 && *s->p != '"' &&
		       *s->p != '\\')
			s->p++;
		if (keep && s->p > run && arena_put(s, run, (size_t)(s->p - run)) != 0)
			return -1;
		if (s->p >= s->end)
			return fail(s, "unterminated string");
		if (*s->p == '"') {
			s->p++;
			return 0;
		}
		if (*s->p == '\\') {
			s->p++;
			if (escape(s, keep) != 0)
				return -1;
		} else if (*s->p < 0x20) {
			return fail(s, "control character in a string");
		} else {
			run = s->p;
			if (utf8_seq(s) != 0)
				return -1;
			if (keep && arena_put(s, run, (size_t)(s->p - run)) != 0)
				return -1;
		}
	}
}

static int number(struct scan *s)
{
	const unsigned char *start = s->p;
	uint64_t v = 0;

	if (*s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return fail(s, "bad number");
	if (*s->p == '0' && s->p + 1 < s->end && s->p[1] >= '0' && s->p[1] <= '9')
		return fail(s, "number with a leading zero");
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		if (v > (TF_JSON_MAX_INT - (uint64_t)(*s->p - '0')) / 10) {
			s->p = start;
			return fail(s, "number too large to be read exactly (over 2^53)");
		}
		v = v * 10 + (uint64_t)(*s->p - '0');
		s->p++;
	}
	if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E')) {
		s->p = start;
		return fail(s, "not a whole number (fraction or exponent)");
	}
	return 0;
}

static int literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "not JSON");
	s->p += n;
	return 0;
}

static int value(struct scan *s);

static int object(struct scan *s)
{
	uint32_t obj = s->nobj++;
	size_t off;

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		const unsigned char *at;

		skip_ws(s);
		if (s->p >= s->end || *s->p != '"')
			return fail(s, "expected a key");
		at = s->p;
		off = s->alen;
		if (string(s, 1) != 0)
			return -1;
		if (key_add(s, obj, off) != 0) {
			s->p = at;
			return -1;
		}
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return fail(s, "expected ':'");
		s->p++;
		if (value(s) != 0)
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 0;
		}
		return fail(s, "expected ',' or '}'");
	}
}

static int array(struct scan *s)
{
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (value(s) != 0)
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return fail(s, "expected ',' or ']'");
	}
}

static int value(struct scan *s)
{
	int r;

	skip_ws(s);
	if (s->p >= s->end)
		return fail(s, "expected a value");
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > TF_JSON_MAX_DEPTH)
			return fail(s, "nested too deep");
		r = *s->p == '{' ? object(s) : array(s);
		s->depth--;
		return r;
	case '"':
		return string(s, 0);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		return fail(s, s->p == s->base && s->end - s->p >= 3 && s->p[0] == 0xef &&
		                       s->p[1] == 0xbb && s->p[2] == 0xbf
		                   ? "byte-order mark"
		                   : "not JSON");
	}
}

int tf_json_strict(const char *buf, size_t len, struct tf_err *err)
{
	struct scan s;
	int r = 0;

	memset(&s, 0, sizeof(s));
	if (len > UINT32_MAX / 2)
		return tf_err_set(err, TF_E_INPUT, "JSON: larger than %u bytes", UINT32_MAX / 2);
	s.base = s.p = (const unsigned char *)buf;
	s.end = s.base + len;
	/* never NULL, so that an empty key ("") has an address to hash and compare */
	if ((s.arena = malloc(s.acap = 4096)) == NULL)
		return tf_err_nomem(err);
	if (value(&s) == 0) {
		skip_ws(&s);
		if (s.p != s.end)
			fail(&s, "bytes after the value");
	}
	if (s.nomem)
		r = tf_err_nomem(err);
	else if (s.why != NULL)
		r = tf_err_set(err, TF_E_INPUT, "byte %zu: %s", (size_t)(s.p - s.base), s.why);
	free(s.tab);
	free(s.arena);
	return r;
}
