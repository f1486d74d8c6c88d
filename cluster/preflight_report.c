/* The preflight's report: its words, its JSON for the journal, its release. */
#include "cluster/preflight.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

const char *tf_check_status_name(enum tf_check_status s)
{
	switch (s) {
	case TF_CHECK_OK:
		return "ok";
	case TF_CHECK_WARN:
		return "warn";
	case TF_CHECK_FIXED:
		return "fixed";
	case TF_CHECK_SKIPPED:
		return "skipped";
	case TF_CHECK_FAIL:
		return "fail";
	}
	return "?";
}

void tf_preflight_report_free(struct tf_preflight_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nitems; i++) {
		free(r->items[i].host);
		free(r->items[i].detail);
	}
	free(r->items);
	free(r);
}

int tf_preflight_report_json(const struct tf_preflight_report *r, char **out, struct tf_err *err)
{
	cJSON *o = cJSON_CreateObject(), *arr = NULL;
	char *text = NULL, *copy = NULL;
	size_t i;
	int ok = 0;

	if (o == NULL || (arr = cJSON_AddArrayToObject(o, "checks")) == NULL)
		goto out;
	cJSON_AddBoolToObject(o, "ok", r->nfailed == 0);
	cJSON_AddNumberToObject(o, "hosts", (double)r->nhosts);
	cJSON_AddNumberToObject(o, "failed", (double)r->nfailed);
	cJSON_AddNumberToObject(o, "fixed", (double)r->nfixed);
	cJSON_AddNumberToObject(o, "seconds", (double)(long)(r->seconds * 1000) / 1000.0);
	for (i = 0; i < r->nitems; i++) {
		cJSON *c = cJSON_CreateObject();

		if (c == NULL)
			goto out;
		cJSON_AddItemToArray(arr, c);
		if (cJSON_AddStringToObject(c, "host", r->items[i].host) == NULL ||
		    cJSON_AddStringToObject(c, "check", r->items[i].check) == NULL ||
		    cJSON_AddStringToObject(c, "status",
		                            tf_check_status_name(r->items[i].status)) == NULL ||
		    cJSON_AddStringToObject(c, "detail", r->items[i].detail) == NULL)
			goto out;
	}
	/* A plain malloc'd copy: callers free it with free(), whatever cJSON's hooks are. */
	if ((text = cJSON_PrintUnformatted(o)) == NULL || (copy = strdup(text)) == NULL)
		goto out;
	*out = copy;
	copy = NULL; /* transferred */
	ok = 1;
out:
	cJSON_free(text);
	cJSON_Delete(o);
	return ok ? 0 : tf_err_nomem(err);
}
