/* The install journal as JSON. */
#include "installer/journal.h"
#include "common/fsutil.h"
#include "common/paths.h"
#include "common/proc.h"
#include "common/timeutil.h"

#include <inttypes.h>
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
	tf_journal_opts_release(&j->opts);
	tf_journal_init(j);
}

void tf_journal_opts_release(struct tf_journal_opts *o)
{
	free(o->trust_dir);
	free(o->recipient);
	free(o->known_hosts);
	free(o->passin);
	free(o->cluster_meta);
	free(o->tiup);
	memset(o, 0, sizeof(*o));
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

char *tf_journal_resume_command(const struct tf_journal *j)
{
	const struct tf_journal_opts *o = &j->opts;
	const char *argv[24];
	char seq[32];
	size_t n = 0;

	argv[n++] = "tiferry";
	argv[n++] = "install";
	argv[n++] = j->bundle ? j->bundle : "BUNDLE";
	argv[n++] = "--resume";
#define ADD(flag, value)                                                                           \
	do {                                                                                       \
		if ((value) != NULL) {                                                             \
			argv[n++] = flag;                                                          \
			argv[n++] = value;                                                         \
		}                                                                                  \
	} while (0)
	ADD("--trust", o->trust_dir);
	ADD("--recipient", o->recipient);
	ADD("--known-hosts", o->known_hosts);
	ADD("--passin", o->passin);
	ADD("--cluster-meta", o->cluster_meta);
	ADD("--tiup", o->tiup);
#undef ADD
	if (o->accept_new_host_keys)
		argv[n++] = "--accept-new-host-keys";
	if (o->last_sequence != 0) {
		snprintf(seq, sizeof(seq), "%" PRIu64, o->last_sequence);
		argv[n++] = "--last-sequence";
		argv[n++] = seq;
	}
	if (o->yes)
		argv[n++] = "--yes";
	argv[n] = NULL;
	return tf_proc_format(argv);
}

static void add_time(cJSON *o, const char *name, time_t t)
{
	char buf[TF_TIME_TEXT];

	if (t == 0)
		return;
	tf_time_format(t, buf, sizeof(buf));
	cJSON_AddStringToObject(o, name, buf);
}

/* The options as the journal's "options" object (only those given). */
static int add_opts(cJSON *root, const struct tf_journal_opts *o)
{
	cJSON *v = cJSON_AddObjectToObject(root, "options");

	if (v == NULL)
		return -1;
	if (o->trust_dir != NULL)
		cJSON_AddStringToObject(v, "trust", o->trust_dir);
	if (o->recipient != NULL)
		cJSON_AddStringToObject(v, "recipient", o->recipient);
	if (o->known_hosts != NULL)
		cJSON_AddStringToObject(v, "known_hosts", o->known_hosts);
	if (o->passin != NULL)
		cJSON_AddStringToObject(v, "passin", o->passin);
	if (o->cluster_meta != NULL)
		cJSON_AddStringToObject(v, "cluster_meta", o->cluster_meta);
	if (o->tiup != NULL)
		cJSON_AddStringToObject(v, "tiup", o->tiup);
	if (o->accept_new_host_keys)
		cJSON_AddBoolToObject(v, "accept_new_host_keys", 1);
	if (o->last_sequence != 0)
		cJSON_AddNumberToObject(v, "last_sequence", (double)o->last_sequence);
	if (o->yes)
		cJSON_AddBoolToObject(v, "yes", 1);
	return 0;
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
	cJSON_AddBoolToObject(root, "confirmed", j->confirmed);
	if (add_opts(root, &j->opts) != 0) {
		cJSON_Delete(root);
		return tf_err_nomem(err);
	}
	if (!j->finished) {
		char *resume = tf_journal_resume_command(j);

		if (resume == NULL) {
			cJSON_Delete(root);
			return tf_err_nomem(err);
		}
		cJSON_AddStringToObject(root, "resume", resume);
		free(resume);
	}
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

static void load_opts(const cJSON *v, struct tf_journal_opts *o)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(v, "last_sequence");

	if (v == NULL)
		return;
	o->trust_dir = dup_str(v, "trust");
	o->recipient = dup_str(v, "recipient");
	o->known_hosts = dup_str(v, "known_hosts");
	o->passin = dup_str(v, "passin");
	o->cluster_meta = dup_str(v, "cluster_meta");
	o->tiup = dup_str(v, "tiup");
	o->accept_new_host_keys =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "accept_new_host_keys"));
	o->yes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "yes"));
	/* in range before the conversion, as the sequence above */
	o->last_sequence =
	    cJSON_IsNumber(seq) && seq->valuedouble >= 1 && seq->valuedouble <= 9007199254740992.0
	        ? (uint64_t)seq->valuedouble
	        : 0;
	/* a journal is ours (0600 in a 0700 folder), but a passphrase never belongs in it */
	if (o->passin != NULL && strncmp(o->passin, "file:", 5) != 0 &&
	    strncmp(o->passin, "env:", 4) != 0) {
		free(o->passin);
		o->passin = NULL;
	}
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
	v = cJSON_GetObjectItemCaseSensitive(root, "confirmed");
	j->confirmed = cJSON_IsTrue(v);
	load_opts(cJSON_GetObjectItemCaseSensitive(root, "options"), &j->opts);
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
	/* A journal written before "confirmed" existed: its run was confirmed if any step started
	 * (those runs asked before the first step); one with no step started changed nothing. */
	if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(root, "confirmed"))) {
		size_t i;

		for (i = 0; i < j->nsteps; i++)
			if (j->steps[i].status != TF_STEP_PENDING)
				j->confirmed = 1;
		j->confirmed |= j->finished || j->mirror_switched;
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
