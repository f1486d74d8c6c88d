/* libyaml events folded into a tree of struct tf_yaml. */
#include "manifests/yamldoc.h"
#include "common/fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_NODES 1000000
#define MAX_FILE (4u << 20)

struct loader {
	yaml_parser_t parser;
	const char *name;
	size_t nodes;
};

void tf_yaml_free(struct tf_yaml *y)
{
	size_t i;

	if (y == NULL)
		return;
	free(y->scalar);
	for (i = 0; i < y->n; i++) {
		if (y->keys != NULL)
			free(y->keys[i]);
		tf_yaml_free(y->items[i]);
	}
	free(y->keys);
	free(y->items);
	free(y);
}

static int next_event(struct loader *l, yaml_event_t *ev, struct tf_err *err)
{
	if (!yaml_parser_parse(&l->parser, ev)) {
		return tf_err_set(err, TF_E_INPUT, "%s: line %zu: %s", l->name,
		                  l->parser.problem_mark.line + 1,
		                  l->parser.problem ? l->parser.problem : "YAML syntax error");
	}
	return 0;
}

static int push(struct tf_yaml *y, char *key, struct tf_yaml *item)
{
	struct tf_yaml **ni;

	if ((ni = realloc(y->items, (y->n + 1) * sizeof(*ni))) == NULL)
		return -1;
	y->items = ni;
	if (y->kind == TF_YAML_MAP) {
		char **nk = realloc(y->keys, (y->n + 1) * sizeof(*nk));

		if (nk == NULL)
			return -1;
		y->keys = nk;
		y->keys[y->n] = key;
	}
	y->items[y->n++] = item;
	return 0;
}

static int load_node(struct loader *l, yaml_event_t *first, int depth, struct tf_yaml **out,
                     struct tf_err *err);

/* Loads the items of a sequence or the pairs of a mapping until its end event. */
static int load_children(struct loader *l, struct tf_yaml *y, int depth, struct tf_err *err)
{
	yaml_event_t ev;
	yaml_event_type_t end =
	    y->kind == TF_YAML_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	int r;

	for (;;) {
		char *key = NULL;
		struct tf_yaml *child = NULL;

		if ((r = next_event(l, &ev, err)) != 0)
			return r;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (y->kind == TF_YAML_MAP) {
			size_t i;

			if (ev.type != YAML_SCALAR_EVENT) {
				r = tf_err_set(err, TF_E_INPUT,
				               "%s: line %zu: mapping keys must be plain scalars",
				               l->name, ev.start_mark.line + 1);
				yaml_event_delete(&ev);
				return r;
			}
			key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
			yaml_event_delete(&ev);
			if (key == NULL)
				return tf_err_nomem(err);
			for (i = 0; i < y->n; i++) {
				if (strcmp(y->keys[i], key) == 0) {
					r = tf_err_set(err, TF_E_INPUT,
					               "%s: line %zu: duplicate key '%s'", l->name,
					               l->parser.mark.line + 1, key);
					free(key);
					return r;
				}
			}
			if ((r = next_event(l, &ev, err)) != 0) {
				free(key);
				return r;
			}
		}
		r = load_node(l, &ev, depth + 1, &child, err);
		yaml_event_delete(&ev);
		if (r != 0) {
			free(key);
			return r;
		}
		if (push(y, key, child) != 0) {
			free(key);
			tf_yaml_free(child);
			return tf_err_nomem(err);
		}
	}
}

static int load_node(struct loader *l, yaml_event_t *ev, int depth, struct tf_yaml **out,
                     struct tf_err *err)
{
	struct tf_yaml *y;
	int r;

	if (depth > MAX_DEPTH)
		return tf_err_set(err, TF_E_INPUT, "%s: line %zu: nested deeper than %d levels",
		                  l->name, ev->start_mark.line + 1, MAX_DEPTH);
	if (++l->nodes > MAX_NODES)
		return tf_err_set(err, TF_E_INPUT, "%s: more than %d nodes", l->name, MAX_NODES);
	if (ev->type == YAML_ALIAS_EVENT)
		return tf_err_set(err, TF_E_INPUT, "%s: line %zu: aliases are not accepted",
		                  l->name, ev->start_mark.line + 1);
	if ((y = calloc(1, sizeof(*y))) == NULL)
		return tf_err_nomem(err);
	y->line = (int)ev->start_mark.line + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		y->kind = TF_YAML_SCALAR;
		y->scalar = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (y->scalar == NULL) {
			tf_yaml_free(y);
			return tf_err_nomem(err);
		}
		if (strlen(y->scalar) != ev->data.scalar.length) {
			tf_yaml_free(y);
			return tf_err_set(err, TF_E_INPUT, "%s: line %zu: NUL byte in a value",
			                  l->name, ev->start_mark.line + 1);
		}
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		y->kind = ev->type == YAML_MAPPING_START_EVENT ? TF_YAML_MAP : TF_YAML_SEQ;
		if ((r = load_children(l, y, depth, err)) != 0) {
			tf_yaml_free(y);
			return r;
		}
		break;
	default:
		tf_yaml_free(y);
		return tf_err_set(err, TF_E_INPUT, "%s: line %zu: unexpected YAML event", l->name,
		                  ev->start_mark.line + 1);
	}
	*out = y;
	return 0;
}

int tf_yaml_parse(const char *buf, size_t len, const char *name, struct tf_yaml **out,
                  struct tf_err *err)
{
	struct loader l = {.name = name, .nodes = 0};
	yaml_event_t ev;
	struct tf_yaml *root = NULL;
	int r, have_ev = 0;

	if (!yaml_parser_initialize(&l.parser))
		return tf_err_nomem(err);
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)buf, len);
	/* Stream start, document start (or stream end for an empty input). */
	if ((r = next_event(&l, &ev, err)) != 0)
		goto out;
	yaml_event_delete(&ev);
	if ((r = next_event(&l, &ev, err)) != 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		r = tf_err_set(err, TF_E_INPUT, "%s: empty document", name);
		goto out;
	}
	yaml_event_delete(&ev);
	if ((r = next_event(&l, &ev, err)) != 0)
		goto out;
	have_ev = 1;
	if ((r = load_node(&l, &ev, 0, &root, err)) != 0)
		goto out;
	yaml_event_delete(&ev);
	have_ev = 0;
	/* Document end, then stream end: a second document is refused. */
	if ((r = next_event(&l, &ev, err)) != 0)
		goto out;
	yaml_event_delete(&ev);
	if ((r = next_event(&l, &ev, err)) != 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		r = tf_err_set(err, TF_E_INPUT, "%s: more than one YAML document", name);
		goto out;
	}
	yaml_event_delete(&ev);
	*out = root;
	root = NULL; /* transferred */
	r = 0;
out:
	if (have_ev)
		yaml_event_delete(&ev);
	tf_yaml_free(root);
	yaml_parser_delete(&l.parser);
	return r;
}

int tf_yaml_load_file(const char *path, struct tf_yaml **out, struct tf_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = tf_read_file(path, MAX_FILE, &buf, &len, err)) != 0)
		return r;
	r = tf_yaml_parse(buf, len, path, out, err);
	free(buf);
	return r;
}

const struct tf_yaml *tf_yaml_get(const struct tf_yaml *y, const char *key)
{
	size_t i;

	if (y == NULL || y->kind != TF_YAML_MAP)
		return NULL;
	for (i = 0; i < y->n; i++)
		if (strcmp(y->keys[i], key) == 0)
			return y->items[i];
	return NULL;
}

const char *tf_yaml_get_str(const struct tf_yaml *y, const char *key)
{
	const struct tf_yaml *v = tf_yaml_get(y, key);

	return v != NULL && v->kind == TF_YAML_SCALAR ? v->scalar : NULL;
}

#define NEAREST_MAX 64

static unsigned char fold(char c)
{
	return (unsigned char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* Optimal string alignment distance of a (la bytes) and b (lb bytes), both at most NEAREST_MAX:
 * three rows on the stack, O(la * lb). */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t rows[3][NEAREST_MAX + 1], *pp = rows[0], *p = rows[1], *c = rows[2], *t;
	size_t i, j;

	for (j = 0; j <= lb; j++)
		p[j] = j;
	for (i = 1; i <= la; i++) {
		c[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
			size_t v = p[j - 1] + cost;

			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
			    fold(a[i - 2]) == fold(b[j - 1]) && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
		t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[lb];
}

const char *tf_yaml_nearest(const char *word, const char *const *keys, size_t n)
{
	size_t lw = strnlen(word, NEAREST_MAX + 1), i, best_d = 3;
	const char *best = NULL;

	if (lw > NEAREST_MAX)
		return NULL;
	for (i = 0; i < n; i++) {
		size_t lk = strnlen(keys[i], NEAREST_MAX + 1), d;

		if (lk > NEAREST_MAX)
			continue;
		d = edit_distance(word, lw, keys[i], lk);
		if (d < best_d && d * 2 < lw) {
			best_d = d;
			best = keys[i];
		}
	}
	return best;
}

int tf_yaml_only_keys(const struct tf_yaml *y, const char *const *keys, size_t n, const char *name,
                      const char *where, struct tf_err *err)
{
	size_t i, k;

	if (y == NULL || y->kind != TF_YAML_MAP)
		return 0;
	for (i = 0; i < y->n; i++) {
		const char *near;

		for (k = 0; k < n; k++)
			if (strcmp(y->keys[i], keys[k]) == 0)
				break;
		if (k < n)
			continue;
		near = tf_yaml_nearest(y->keys[i], keys, n);
		return tf_err_set(err, TF_E_INPUT, "%s: line %d: unknown field '%s'%s%s%s%s%s%s",
		                  name, y->items[i]->line, y->keys[i], where ? " in '" : "",
		                  where ? where : "", where ? "'" : "",
		                  near ? " (did you mean '" : "", near ? near : "",
		                  near ? "'?)" : "");
	}
	return 0;
}

int tf_yaml_get_u64(const struct tf_yaml *y, const char *key, uint64_t def, uint64_t *out,
                    const char *name, struct tf_err *err)
{
	const struct tf_yaml *v = tf_yaml_get(y, key);
	char *end = NULL;
	unsigned long long n;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (v->kind != TF_YAML_SCALAR || v->scalar[0] < '0' || v->scalar[0] > '9')
		goto bad;
	errno = 0;
	n = strtoull(v->scalar, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	*out = (uint64_t)n;
	return 0;
bad:
	return tf_err_set(err, TF_E_INPUT, "%s: line %d: '%s' must be a whole number", name,
	                  v->line, key);
}

int tf_yaml_get_bool(const struct tf_yaml *y, const char *key, int def, int *out, const char *name,
                     struct tf_err *err)
{
	const struct tf_yaml *v = tf_yaml_get(y, key);
	const char *s;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	s = v->kind == TF_YAML_SCALAR ? v->scalar : "";
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "True") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "False") == 0) {
		*out = 0;
		return 0;
	}
	return tf_err_set(err, TF_E_INPUT, "%s: line %d: '%s' must be true or false", name, v->line,
	                  key);
}

/* ---- emitting ---- */

struct sink {
	char *buf;
	size_t len, cap;
	int failed;
};

static int sink_write(void *data, unsigned char *buffer, size_t size)
{
	struct sink *k = data;

	if (k->len + size + 1 > k->cap) {
		size_t cap = (k->len + size + 1) * 2;
		char *nb = realloc(k->buf, cap);

		if (nb == NULL) {
			k->failed = 1;
			return 0;
		}
		k->buf = nb;
		k->cap = cap;
	}
	memcpy(k->buf + k->len, buffer, size);
	k->len += size;
	k->buf[k->len] = '\0';
	return 1;
}

static int emit_node(yaml_emitter_t *em, const struct tf_yaml *y)
{
	yaml_event_t ev;
	size_t i;

	switch (y->kind) {
	case TF_YAML_SCALAR:
		if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)y->scalar,
		                                  (int)strlen(y->scalar), 1, 1,
		                                  YAML_ANY_SCALAR_STYLE))
			return -1;
		return yaml_emitter_emit(em, &ev) ? 0 : -1;
	case TF_YAML_MAP:
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		                                         YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return -1;
		for (i = 0; i < y->n; i++) {
			struct tf_yaml key = {.kind = TF_YAML_SCALAR, .scalar = y->keys[i]};

			if (emit_node(em, &key) != 0 || emit_node(em, y->items[i]) != 0)
				return -1;
		}
		if (!yaml_mapping_end_event_initialize(&ev))
			return -1;
		return yaml_emitter_emit(em, &ev) ? 0 : -1;
	case TF_YAML_SEQ:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		                                          YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return -1;
		for (i = 0; i < y->n; i++)
			if (emit_node(em, y->items[i]) != 0)
				return -1;
		if (!yaml_sequence_end_event_initialize(&ev))
			return -1;
		return yaml_emitter_emit(em, &ev) ? 0 : -1;
	}
	return -1;
}

int tf_yaml_emit(const struct tf_yaml *y, char **out, size_t *len, struct tf_err *err)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	struct sink k = {0};
	int ok;

	if (!yaml_emitter_initialize(&em))
		return tf_err_nomem(err);
	yaml_emitter_set_output(&em, sink_write, &k);
	yaml_emitter_set_unicode(&em, 1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&em, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&em, &ev) && emit_node(&em, y) == 0 &&
	     yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
	     yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
	     yaml_emitter_flush(&em);
	yaml_emitter_delete(&em);
	if (!ok || k.failed || k.buf == NULL) {
		free(k.buf);
		return tf_err_set(err, k.failed ? TF_E_NOMEM : TF_E_FAIL, "YAML emitter failed");
	}
	*out = k.buf;
	*len = k.len;
	return 0;
}
