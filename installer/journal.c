/* The install journal as JSON. */
#include "installer/journal.h"
#include "common/fsutil.h"
#include "common/paths.h"
#include "common/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define JOURNAL_MAX (1u << 20)

static const char *const status_names[] = {"pending", "running", "done", "failed"};

void tf_journal_init(struct tf_journal *j)
{
	memset(j, 0, sizeof(*j));
}

void tf_journal_release(struct tf_journal *j)
{
	size_t i;

	for (i = 0; i < j->nvalues; i++) {
		free(j->keys[i]);
		free(j->values[i]);
	}
	free(j->path);
	free(j->cluster);
	free(j->bundle);
	free(j->bundle_id);
	free(j->staging);
	tf_journal_init(j);
}

const char *tf_step_status_name(enum tf_step_status s)
{
	return (unsigned)s < 4 ? status_names[s] : "unknown";
}

struct tf_journal_step *tf_journal_step(struct tf_journal *j, const char *name)
{
	size_t i;

	for (i = 0; i < j->nsteps; i++)
		if (strcmp(j->steps[i].name, name) == 0)
			return &j->steps[i];
	if (j->nsteps == TF_JOURNAL_MAX_STEPS)
		return NULL;
	memset(&j->steps[j->nsteps], 0, sizeof(j->steps[0]));
	snprintf(j->steps[j->nsteps].name, sizeof(j->steps[0].name), "%s", name);
	return &j->steps[j->nsteps++];
}

int tf_journal_set(struct tf_journal *j, const char *key, const char *value, struct tf_err *err)
{
	char *v = strdup(value), *k;
	size_t i;

	if (v == NULL)
		return tf_err_nomem(err);
	for (i = 0; i < j->nvalues; i++) {
		if (strcmp(j->keys[i], key) == 0) {
			free(j->values[i]);
			j->values[i] = v;
			return 0;
		}
	}
	if (j->nvalues == TF_JOURNAL_MAX_VALUES || (k = strdup(key)) == NULL) {
		free(v);
		return tf_err_set(err, TF_E_NOMEM, "journal: no room for '%s'", key);
	}
	j->keys[j->nvalues] = k;
	j->values[j->nvalues++] = v;
	return 0;
}

const char *tf_journal_get(const struct tf_journal *j, const char *key)
{
	size_t i;

	for (i = 0; i < j->nvalues; i++)
		if (strcmp(j->keys[i], key) == 0)
			return j->values[i];
	return NULL;
}

const char *tf_journal_resume_command(const struct tf_journal *j)
{
	static char buf[TF_PATH_BUF + sizeof("tiferry install '' --resume")];

	snprintf(buf, sizeof(buf), "tiferry install '%s' --resume",
	         j->bundle ? j->bundle : "BUNDLE");
	return buf;
}

static void add_time(cJSON *o, const char *name, time_t t)
{
	char buf[TF_TIME_TEXT];

	if (t == 0)
		return;
	tf_time_format(t, buf, sizeof(buf));
	cJSON_AddStringToObject(o, name, buf);
}

int tf_journal_save(const struct tf_journal *j, struct tf_err *err)
{
	cJSON *root = cJSON_CreateObject(), *steps, *s;
	char *text = NULL;
	size_t i;
	int r;

	if (root == NULL)
		return tf_err_nomem(err);
	cJSON_AddStringToObject(root, "cluster", j->cluster ? j->cluster : "");
	cJSON_AddStringToObject(root, "bundle", j->bundle ? j->bundle : "");
	cJSON_AddStringToObject(root, "bundle_id", j->bundle_id ? j->bundle_id : "");
	cJSON_AddNumberToObject(root, "sequence", (double)j->sequence);
	if (j->staging != NULL)
		cJSON_AddStringToObject(root, "staging", j->staging);
	cJSON_AddBoolToObject(root, "mirror_switched", j->mirror_switched);
	cJSON_AddBoolToObject(root, "finished", j->finished);
	if (!j->finished)
		cJSON_AddStringToObject(root, "resume", tf_journal_resume_command(j));
	if (j->nvalues > 0) {
		cJSON *vals = cJSON_AddObjectToObject(root, "values");

		for (i = 0; i < j->nvalues && vals != NULL; i++)
			cJSON_AddStringToObject(vals, j->keys[i], j->values[i]);
	}
	steps = cJSON_AddArrayToObject(root, "steps");
	for (i = 0; i < j->nsteps && steps != NULL; i++) {
		if ((s = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddItemToArray(steps, s);
		cJSON_AddStringToObject(s, "name", j->steps[i].name);
		cJSON_AddStringToObject(s, "status", tf_step_status_name(j->steps[i].status));
		add_time(s, "started", j->steps[i].started);
		add_time(s, "ended", j->steps[i].ended);
		if (j->steps[i].detail[0])
			cJSON_AddStringToObject(s, "detail", j->steps[i].detail);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text == NULL)
		return tf_err_nomem(err);
	r = tf_write_file_atomic(j->path, text, strlen(text), 0600, err);
	cJSON_free(text);
	return r;
}

static char *dup_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring[0] ? strdup(v->valuestring) : NULL;
}

static time_t get_time(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	time_t t = 0;

	if (cJSON_IsString(v) && tf_time_parse(v->valuestring, &t, NULL) == 0)
		return t;
	return 0;
}

int tf_journal_load(const char *dir, struct tf_journal *j, struct tf_err *err)
{
	char *path, *buf = NULL;
	size_t len = 0;
	int r;

	tf_journal_init(j);
	if ((path = tf_path_join(dir, TF_JOURNAL_FILE)) == NULL)
		return tf_err_nomem(err);
	if ((r = tf_read_file(path, JOURNAL_MAX, &buf, &len, err)) != 0) {
		j->path = path;
		return r;
	}
	r = tf_journal_parse(buf, len, path, j, err);
	free(path);
	free(buf);
	return r;
}

int tf_journal_parse(const char *buf, size_t len, const char *path, struct tf_journal *j,
                     struct tf_err *err)
{
	cJSON *root = NULL, *v;
	int r;

	tf_journal_init(j);
	if ((j->path = strdup(path)) == NULL)
		return tf_err_nomem(err);
	if ((root = cJSON_ParseWithLength(buf, len)) == NULL || !cJSON_IsObject(root)) {
		r = tf_err_set(
		    err, TF_E_INPUT,
		    "journal '%s' is damaged: audit.log beside it shows the last steps run and "
		    "the mirror recorded; check 'tiup mirror show' against it, then move the "
		    "journal aside and run 'tiferry install BUNDLE --dry-run'",
		    j->path);
		goto out;
	}
	j->cluster = dup_str(root, "cluster");
	j->bundle = dup_str(root, "bundle");
	j->bundle_id = dup_str(root, "bundle_id");
	j->staging = dup_str(root, "staging");
	v = cJSON_GetObjectItemCaseSensitive(root, "sequence");
	/* in range before the conversion (a double beyond uint64_t's is undefined behaviour) */
	j->sequence =
	    cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble <= 9007199254740992.0
	        ? (uint64_t)v->valuedouble
	        : 0;
	j->mirror_switched =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "mirror_switched"));
	j->finished = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "finished"));
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "steps"))
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(v, "status");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "detail");
		struct tf_journal_step *s;
		unsigned i;

		if (!cJSON_IsString(n) || (s = tf_journal_step(j, n->valuestring)) == NULL)
			continue;
		for (i = 0; i < 4; i++)
			if (cJSON_IsString(st) && strcmp(st->valuestring, status_names[i]) == 0)
				s->status = (enum tf_step_status)i;
		s->started = get_time(v, "started");
		s->ended = get_time(v, "ended");
		if (cJSON_IsString(d))
			snprintf(s->detail, sizeof(s->detail), "%s", d->valuestring);
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "values"))
	{
		struct tf_err e2;

		if (cJSON_IsString(v) && tf_journal_set(j, v->string, v->valuestring, &e2) != 0) {
			r = tf_err_set(err, e2.code, "%s", e2.msg);
			goto out;
		}
	}
	if (j->cluster == NULL || j->bundle_id == NULL) {
		r = tf_err_set(
		    err, TF_E_INPUT,
		    "journal '%s' is damaged: audit.log beside it shows the last steps run and "
		    "the mirror recorded; check 'tiup mirror show' against it, then move the "
		    "journal aside and run 'tiferry install BUNDLE --dry-run'",
		    j->path);
		goto out;
	}
	r = 0;
out:
	cJSON_Delete(root);
	if (r != 0) {
		char *keep = j->path;

		j->path = NULL;
		tf_journal_release(j);
		j->path = keep;
	}
	return r;
}
