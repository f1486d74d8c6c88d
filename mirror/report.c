/* The report of a mirror verification: its checks, their counts, and its JSON. */
#include "mirror/verify.h"
#include "common/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

void tf_mirror_report_init(struct tf_mirror_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void tf_mirror_report_release(struct tf_mirror_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->n; i++) {
		free(rep->checks[i].file);
		free(rep->checks[i].rule);
		free(rep->checks[i].detail);
	}
	free(rep->checks);
	memset(rep, 0, sizeof(*rep));
}

int tf_mirror_report_add(struct tf_mirror_report *rep, enum tf_mirror_kind kind,
                         enum tf_mirror_status st, const char *file, const char *rule,
                         const char *fmt, ...)
{
	struct tf_mirror_check *ck;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st == TF_MIRROR_OK && rep->failures > 0 && kind != TF_MIRROR_OTHER) {
		/* what hangs below a failed link is not trusted, whatever its own checks say */
		char tmp[1024];

		snprintf(tmp, sizeof(tmp),
		         "not trusted, an earlier link failed (own checks hold: %s)", msg);
		memcpy(msg, tmp, sizeof(msg));
		st = TF_MIRROR_SKIP;
		rule = "untrusted";
	}
	if (st == TF_MIRROR_FAIL)
		rep->failures++;
	else if (st == TF_MIRROR_SKIP)
		rep->skipped++;
	else if (st == TF_MIRROR_OK && kind == TF_MIRROR_MANIFEST)
		rep->manifests_ok++;
	else if (st == TF_MIRROR_OK && kind == TF_MIRROR_TARBALL)
		rep->tarballs_ok++;
	if (rep->n == rep->cap) {
		size_t ncap = rep->cap ? rep->cap * 2 : 64;
		struct tf_mirror_check *nc = realloc(rep->checks, ncap * sizeof(*nc));

		if (nc == NULL)
			return TF_E_NOMEM;
		rep->checks = nc;
		rep->cap = ncap;
	}
	ck = &rep->checks[rep->n];
	ck->kind = kind;
	ck->status = st;
	ck->file = strdup(file);
	ck->rule = strdup(rule);
	ck->detail = strdup(msg);
	if (ck->file == NULL || ck->rule == NULL || ck->detail == NULL) {
		free(ck->file);
		free(ck->rule);
		free(ck->detail);
		return TF_E_NOMEM;
	}
	rep->n++;
	return 0;
}

static const char *status_name(enum tf_mirror_status s)
{
	switch (s) {
	case TF_MIRROR_OK:
		return "ok";
	case TF_MIRROR_FAIL:
		return "fail";
	case TF_MIRROR_SKIP:
		return "skip";
	default:
		return "note";
	}
}

static const char *kind_name(enum tf_mirror_kind k)
{
	return k == TF_MIRROR_MANIFEST ? "manifest" : k == TF_MIRROR_TARBALL ? "tarball" : "other";
}

char *tf_mirror_report_json(const struct tf_mirror_report *rep, const char *path)
{
	cJSON *doc = cJSON_CreateObject(), *arr, *sum;
	char at[TF_TIME_TEXT], *out = NULL;
	size_t i;

	if (doc == NULL)
		return NULL;
	tf_time_format(rep->at, at, sizeof(at));
	if (cJSON_AddStringToObject(doc, "mirror", path) == NULL ||
	    cJSON_AddBoolToObject(doc, "ok", rep->failures == 0) == NULL ||
	    cJSON_AddStringToObject(doc, "at", at) == NULL ||
	    (sum = cJSON_AddObjectToObject(doc, "summary")) == NULL ||
	    cJSON_AddNumberToObject(sum, "failures", (double)rep->failures) == NULL ||
	    cJSON_AddNumberToObject(sum, "manifests_ok", (double)rep->manifests_ok) == NULL ||
	    cJSON_AddNumberToObject(sum, "tarballs_ok", (double)rep->tarballs_ok) == NULL ||
	    cJSON_AddNumberToObject(sum, "skipped", (double)rep->skipped) == NULL ||
	    cJSON_AddNumberToObject(sum, "tarball_bytes", (double)rep->tarball_bytes) == NULL ||
	    cJSON_AddNumberToObject(sum, "mirror_bytes", (double)rep->full_size) == NULL ||
	    (arr = cJSON_AddArrayToObject(doc, "checks")) == NULL)
		goto out;
	for (i = 0; i < rep->n; i++) {
		const struct tf_mirror_check *ck = &rep->checks[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			goto out;
		cJSON_AddItemToArray(arr, o);
		if (cJSON_AddStringToObject(o, "file", ck->file) == NULL ||
		    cJSON_AddStringToObject(o, "kind", kind_name(ck->kind)) == NULL ||
		    cJSON_AddStringToObject(o, "status", status_name(ck->status)) == NULL ||
		    cJSON_AddStringToObject(o, "rule", ck->rule) == NULL ||
		    cJSON_AddStringToObject(o, "detail", ck->detail) == NULL)
			goto out;
	}
	out = cJSON_Print(doc);
out:
	cJSON_Delete(doc);
	return out;
}
