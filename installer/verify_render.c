/* tiferry verify's renderers: the report as a table or lines for people, as JSON, and as a
 * signed receipt. Printing is the caller's. */
#include "installer/verify.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "crypto/sigkey.h"
#include "manifests/receipt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *f, ...) TF_PRINTF(2, 3);
static void sb_add(struct sbuf *b, const char *f, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, f);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, f, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p != NULL && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap : 4096;
			char *np;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			if ((np = realloc(b->p, cap)) == NULL) {
				b->oom = 1;
				return;
			}
			b->p = np;
			b->cap = cap;
		}
	}
}

/* The endpoint's scan verdict, from its check's status (the evidence says the same). */
static const char *scan_verdict(const struct tf_vcheck *c)
{
	return c->status == TF_V_FAIL ? "VULNERABLE" : c->status == TF_V_PASS ? "FIXED" : "UNKNOWN";
}

static const char *colour_of(enum tf_vstatus s)
{
	switch (s) {
	case TF_V_PASS:
		return "\033[32m";
	case TF_V_WARN:
		return "\033[33m";
	case TF_V_FAIL:
		return "\033[1;31m";
	case TF_V_UNKNOWN:
		return "\033[1;35m";
	default:
		return "\033[2m";
	}
}

static int shown(const struct tf_vcheck *c, int verbosity)
{
	return verbosity > 0 || c->status == TF_V_FAIL || c->status == TF_V_WARN ||
	       c->status == TF_V_UNKNOWN;
}

int tf_verify_render_text(const struct tf_verify_report *rep, int table, int colour, int verbosity,
                          char **out, struct tf_err *err)
{
	struct sbuf b = {NULL, 0, 0, 0};
	size_t i, wid = 5, wtarget = 6;
	const char *res;

	for (i = 0; i < rep->nchecks; i++) {
		if (!shown(&rep->checks[i], verbosity))
			continue;
		if (strlen(rep->checks[i].id) > wid)
			wid = strlen(rep->checks[i].id);
		if (strlen(rep->checks[i].target) > wtarget)
			wtarget = strlen(rep->checks[i].target);
	}
	if (table)
		sb_add(&b, "%s%-7s %-*s %-*s %s%s\n", colour ? "\033[1m" : "", "STATUS", (int)wid,
		       "CHECK", (int)wtarget, "TARGET", "DETAIL", colour ? "\033[0m" : "");
	for (i = 0; i < rep->nchecks; i++) {
		const struct tf_vcheck *c = &rep->checks[i];
		const char *st = tf_vstatus_name(c->status);
		/* targets, details and evidence can quote what an endpoint sent: escaped */
		char tg[512], de[2048], ev[4096];

		if (!shown(c, verbosity))
			continue;
		tf_term_escape(c->target, tg, sizeof(tg));
		tf_term_escape(c->detail, de, sizeof(de));
		if (table)
			sb_add(&b, "%s%-7s%s %-*s %-*s %s\n", colour ? colour_of(c->status) : "",
			       st, colour ? "\033[0m" : "", (int)wid, c->id, (int)wtarget, tg, de);
		else
			sb_add(&b, "%s %s %s: %s\n", st, c->id, tg, de);
		if (verbosity > 1 && c->evidence != NULL)
			sb_add(&b, "%s  evidence: %s\n", table ? "      " : "",
			       tf_term_escape(c->evidence, ev, sizeof(ev)));
	}
	for (i = 0; i < rep->nchecks; i++) {
		const struct tf_vcheck *c = &rep->checks[i];

		char ep[512];

		if (strcmp(c->id, "scan.verdict") == 0)
			sb_add(&b, "scan %s: %s%s%s\n", tf_term_escape(c->endpoint, ep, sizeof(ep)),
			       colour ? colour_of(c->status) : "", scan_verdict(c),
			       colour ? "\033[0m" : "");
	}
	res = rep->counts[TF_V_FAIL]      ? "FAIL"
	      : rep->counts[TF_V_UNKNOWN] ? "UNKNOWN (nothing proved)"
	      : rep->counts[TF_V_WARN]    ? "PASS with warnings"
	                                  : "PASS";
	sb_add(&b,
	       "verify%s%s: %zu checks on %zu endpoints in %.2f s: %zu pass, %zu warn, %zu fail, "
	       "%zu skip, %zu unknown: %s%s%s\n",
	       rep->cluster ? " " : "", rep->cluster ? rep->cluster : "", rep->nchecks,
	       rep->nendpoints, rep->seconds, rep->counts[TF_V_PASS], rep->counts[TF_V_WARN],
	       rep->counts[TF_V_FAIL], rep->counts[TF_V_SKIP], rep->counts[TF_V_UNKNOWN],
	       colour ? colour_of(rep->counts[TF_V_FAIL]      ? TF_V_FAIL
	                          : rep->counts[TF_V_UNKNOWN] ? TF_V_UNKNOWN
	                                                      : TF_V_PASS)
	              : "",
	       res, colour ? "\033[0m" : "");
	if (b.oom) {
		free(b.p);
		return tf_err_nomem(err);
	}
	*out = b.p;
	return 0;
}

int tf_verify_render_json(const struct tf_verify_report *rep, const char *bundle_id,
                          const struct tf_verify_signer *signer, char **out, size_t *len,
                          struct tf_err *err)
{
	cJSON *root = cJSON_CreateObject(), *checks, *scan, *counts, *s;
	char created[32], host[256] = "", *text = NULL, *with_nl = NULL;
	size_t i, n;
	int r = 0;

	if (root == NULL)
		return tf_err_nomem(err);
	tf_time_format(rep->created, created, sizeof(created));
	if (signer != NULL) {
		cJSON_AddStringToObject(root, "format", TF_RECEIPT_FORMAT);
		if (bundle_id != NULL)
			cJSON_AddStringToObject(root, "bundle_id", bundle_id);
		else
			cJSON_AddNullToObject(root, "bundle_id");
	}
	if (rep->cluster != NULL)
		cJSON_AddStringToObject(root, "cluster", rep->cluster);
	else
		cJSON_AddNullToObject(root, "cluster");
	cJSON_AddStringToObject(root, "created", created);
	if (signer != NULL) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "unknown");
		cJSON_AddStringToObject(root, "control_host", host);
	}
	cJSON_AddStringToObject(root, "tiferry_version", TF_VERSION);
	/* A check that could not decide never lets the result (or a receipt) say pass. */
	cJSON_AddStringToObject(root, "result",
	                        rep->counts[TF_V_FAIL]      ? "fail"
	                        : rep->counts[TF_V_UNKNOWN] ? "unknown"
	                        : rep->counts[TF_V_WARN]    ? "warn"
	                                                    : "pass");
	cJSON_AddNumberToObject(root, "exit_code", tf_verify_exit_code(rep));
	cJSON_AddNumberToObject(root, "endpoints", (double)rep->nendpoints);
	cJSON_AddNumberToObject(root, "seconds", (double)((long)(rep->seconds * 1000)) / 1000.0);
	counts = cJSON_AddObjectToObject(root, "counts");
	for (i = 0; i < TF_V_NSTATUS; i++)
		cJSON_AddNumberToObject(counts, tf_vstatus_name((enum tf_vstatus)i),
		                        (double)rep->counts[i]);
	checks = cJSON_AddArrayToObject(root, "checks");
	scan = cJSON_AddArrayToObject(root, "scan");
	for (i = 0; i < rep->nchecks; i++) {
		const struct tf_vcheck *c = &rep->checks[i];
		cJSON *o = cJSON_CreateObject(), *ev;

		cJSON_AddStringToObject(o, "id", c->id);
		cJSON_AddStringToObject(o, "kind", tf_vkind_name(c->kind));
		cJSON_AddStringToObject(o, "target", c->target);
		cJSON_AddStringToObject(o, "endpoint", c->endpoint);
		cJSON_AddStringToObject(o, "status", tf_vstatus_name(c->status));
		cJSON_AddStringToObject(o, "detail", c->detail ? c->detail : "");
		ev = c->evidence ? cJSON_Parse(c->evidence) : NULL;
		if (ev != NULL)
			cJSON_AddItemToObject(o, "evidence", ev);
		cJSON_AddItemToArray(checks, o);
		if (strcmp(c->id, "scan.verdict") == 0) {
			const cJSON *pr =
			    ev ? cJSON_GetObjectItemCaseSensitive(ev, "probes") : NULL;

			s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "endpoint", c->endpoint);
			cJSON_AddStringToObject(s, "verdict", scan_verdict(c));
			if (pr != NULL)
				cJSON_AddItemToObject(s, "probes", cJSON_Duplicate(pr, 1));
			cJSON_AddItemToArray(scan, s);
		}
	}
	if (signer != NULL) {
		s = cJSON_AddObjectToObject(root, "signer");
		cJSON_AddStringToObject(s, "keyid", signer->keyid);
		cJSON_AddStringToObject(s, "alg", signer->alg);
		cJSON_AddStringToObject(s, "public_key", signer->public_key);
	}
	if ((text = cJSON_Print(root)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	n = strlen(text);
	if ((with_nl = malloc(n + 2)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	memcpy(with_nl, text, n);
	with_nl[n] = '\n';
	with_nl[n + 1] = '\0';
	*out = with_nl;
	with_nl = NULL; /* transferred */
	if (len != NULL)
		*len = n + 1;
out:
	free(with_nl);
	cJSON_free(text);
	cJSON_Delete(root);
	return r;
}

int tf_verify_write_receipt(const struct tf_verify_report *rep, const char *bundle_id,
                            const struct tf_sigkey *key, const char *path, struct tf_err *err)
{
	struct tf_verify_signer s;
	char *pub = NULL, *json = NULL;
	size_t publen = 0, len = 0;
	int r;

	if ((r = tf_sigkey_public_pem(key, &pub, &publen, err)) != 0)
		goto out;
	s.keyid = tf_sigkey_id(key);
	s.alg = tf_sigalg_name(tf_sigkey_alg(key));
	s.public_key = pub;
	if ((r = tf_verify_render_json(rep, bundle_id, &s, &json, &len, err)) != 0)
		goto out;
	r = tf_receipt_write(path, json, len, key, err);
out:
	free(pub);
	free(json);
	return r;
}
