/* Every rule of a bundle, in order from cheap to costly; the payload is streamed last. */
#include "manifests/check.h"
#include "common/hex.h"
#include "common/fsutil.h"
#include "common/paths.h"
#include "common/timeutil.h"
#include "manifests/bundle.h"
#include "manifests/policy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_FILE "sequence"

void tf_check_result_init(struct tf_check_result *r)
{
	memset(r, 0, sizeof(*r));
	tf_manifest_init(&r->manifest);
}

void tf_check_result_release(struct tf_check_result *r)
{
	size_t i;

	tf_manifest_release(&r->manifest);
	free(r->manifest_bytes);
	for (i = 0; i < r->nsigners; i++) {
		free(r->signers[i].holder);
		free(r->signers[i].role);
	}
	free(r->signers);
	free(r->meta_path);
	tf_check_result_init(r);
}

/* Reads the decimal sequence in path; *found 0 (and *seq 0) when it does not exist. */
static int read_record(const char *path, int *found, uint64_t *seq, struct tf_err *err)
{
	char *buf = NULL, *end = NULL;
	size_t len = 0;
	unsigned long long v;
	int r = tf_read_file(path, 64, &buf, &len, err);

	*found = 0;
	*seq = 0;
	if (r == TF_E_NOTFOUND)
		return 0;
	if (r != 0)
		return r;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || buf[0] == '-' || (*end != '\n' && *end != '\0')) {
		free(buf);
		return tf_err_set(
		    err, TF_E_INPUT,
		    "anti-rollback state '%s' is damaged: restore it from a backup, or write the "
		    "last installed sequence into it (the receipts and audit.log beside it name "
		    "the bundles installed); tiferry does not guess",
		    path);
	}
	free(buf);
	*found = 1;
	*seq = (uint64_t)v;
	return 0;
}

int tf_rollback_read(const char *dir, const char *cluster, uint64_t *seq, struct tf_err *err)
{
	char path[TF_PATH_BUF];
	int found;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, cluster, STATE_FILE);
	return read_record(path, &found, seq, err);
}

int tf_rollback_cluster_record(const char *cluster_meta, const char *cluster, char **out,
                               struct tf_err *err)
{
	const char *slash;

	if (cluster_meta == NULL)
		return tf_paths_cluster_file(NULL, cluster, TF_ROLLBACK_CLUSTER_RECORD, out, err);
	slash = strrchr(cluster_meta, '/');
	if (slash == NULL)
		*out = strdup(TF_ROLLBACK_CLUSTER_RECORD);
	else if ((*out = malloc((size_t)(slash - cluster_meta) + 2 +
	                        sizeof(TF_ROLLBACK_CLUSTER_RECORD))) != NULL)
		sprintf(*out, "%.*s/%s", (int)(slash - cluster_meta), cluster_meta,
		        TF_ROLLBACK_CLUSTER_RECORD);
	return *out == NULL ? tf_err_nomem(err) : 0;
}

/* The sequence of a finished install in <dir>/<cluster>/journal.json; 0 when there is none (no
 * journal, an unfinished one, or one this reader does not understand: the record decides). */
static uint64_t finished_journal(const char *dir, const char *cluster)
{
	char path[TF_PATH_BUF];
	char *buf = NULL;
	size_t len = 0;
	struct tf_err e;
	cJSON *doc, *fin, *seq;
	uint64_t v = 0;

	snprintf(path, sizeof(path), "%s/%s/journal.json", dir, cluster);
	if (tf_read_file(path, 1 << 20, &buf, &len, &e) != 0)
		return 0;
	doc = cJSON_ParseWithLength(buf, len);
	fin = cJSON_GetObjectItemCaseSensitive(doc, "finished");
	seq = cJSON_GetObjectItemCaseSensitive(doc, "sequence");
	if (cJSON_IsTrue(fin) && cJSON_IsNumber(seq) && seq->valuedouble >= 1 &&
	    seq->valuedouble <= (double)TF_MANIFEST_MAX_SEQUENCE)
		v = (uint64_t)seq->valuedouble;
	cJSON_Delete(doc);
	free(buf);
	return v;
}

int tf_rollback_last(const char *dir, const char *cluster, const char *cluster_meta,
                     uint64_t stated, uint64_t *last, struct tf_err *err)
{
	char state[TF_PATH_BUF];
	char *record = NULL;
	uint64_t s = 0, c = 0, j;
	int have_s, have_c, r;

	snprintf(state, sizeof(state), "%s/%s/%s", dir, cluster, STATE_FILE);
	if ((r = read_record(state, &have_s, &s, err)) != 0 ||
	    (r = tf_rollback_cluster_record(cluster_meta, cluster, &record, err)) != 0 ||
	    (r = read_record(record, &have_c, &c, err)) != 0)
		goto out;
	j = finished_journal(dir, cluster);
	if (have_s) {
		if (stated != 0) {
			r = tf_err_set(
			    err, TF_E_USAGE,
			    "--last-sequence is only for a missing anti-rollback record; "
			    "'%s' holds %" PRIu64,
			    state, s);
			goto out;
		}
		/* The highest record wins: a state folder restored from an old backup lowers
		 * nothing. */
		*last = s > c ? s : c;
		*last = *last > j ? *last : j;
		goto out;
	}
	if (stated != 0) {
		if (stated < c || stated < j) {
			r = tf_err_set(err, TF_E_INPUT,
			               "--last-sequence %" PRIu64 " is below the %" PRIu64
			               " this cluster's records show ('%s'%s)",
			               stated, c > j ? c : j, have_c ? record : state,
			               have_c ? "" : ": its finished journal");
			goto out;
		}
		*last = stated;
		goto out;
	}
	if (have_c || j != 0) {
		r = tf_err_set(
		    err, TF_E_INPUT,
		    "anti-rollback record '%s' is missing, but cluster '%s' shows a "
		    "finished install of sequence %" PRIu64 " (%s): restore the record from "
		    "a backup, or state the last installed sequence with --last-sequence "
		    "(audited); tiferry does not guess",
		    state, cluster, c > j ? c : j,
		    have_c ? "recorded beside its meta.yaml" : "its journal.json");
		goto out;
	}
	*last = 0; /* nothing was ever installed on this cluster */
out:
	free(record);
	return r;
}

int tf_rollback_write(const char *dir, const char *cluster, const char *cluster_meta, uint64_t seq,
                      struct tf_err *err)
{
	char path[TF_PATH_BUF], folder[TF_PATH_BUF], text[32];
	char *record = NULL;
	uint64_t cur = 0;
	int r;

	if ((r = tf_rollback_read(dir, cluster, &cur, err)) != 0)
		return r;
	if (seq < cur)
		return tf_err_set(err, TF_E_INPUT,
		                  "refusing to lower the recorded sequence of '%s' from %" PRIu64
		                  " to %" PRIu64,
		                  cluster, cur, seq);
	snprintf(folder, sizeof(folder), "%s/%s", dir, cluster);
	if ((r = tf_mkdir_p(folder, 0700, err)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", folder, STATE_FILE);
	snprintf(text, sizeof(text), "%" PRIu64 "\n", seq);
	if ((r = tf_write_file_atomic(path, text, strlen(text), 0600, err)) != 0)
		return r;
	/* The second record lives beside the cluster's meta.yaml, which no install can do
	 * without: emptying or redirecting the state folder does not reset anti-rollback. */
	if ((r = tf_rollback_cluster_record(cluster_meta, cluster, &record, err)) == 0)
		r = tf_write_file_atomic(record, text, strlen(text), 0600, err);
	free(record);
	return r;
}

static int check_signatures(const struct tf_bundle_scan *s, const struct tf_policy *p,
                            struct tf_check_result *res, struct tf_err *err)
{
	const char **valid = NULL;
	size_t i, nvalid = 0;
	int r = 0;

	if ((res->signers = calloc(s->nsigs ? s->nsigs : 1, sizeof(*res->signers))) == NULL ||
	    (valid = calloc(s->nsigs ? s->nsigs : 1, sizeof(*valid))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < s->nsigs; i++) {
		const struct tf_policy_key *k = tf_policy_lookup(p, s->sigs[i].keyid);
		struct tf_check_signer *sg = &res->signers[res->nsigners++];

		memcpy(sg->keyid, s->sigs[i].keyid, sizeof(sg->keyid));
		if (k == NULL)
			continue; /* an unknown key counts for nothing */
		if ((sg->holder = strdup(k->holder)) == NULL ||
		    (sg->role = strdup(k->role)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		if (tf_sigkey_verify(k->key, s->manifest, s->manifest_len, s->sigs[i].sig,
		                     s->sigs[i].len, err) != 0) {
			/* A known key with a bad signature is tampering, not a missing approval. */
			r = tf_err_set(err, TF_E_REJECT,
			               "signature by '%s' (%s, key %.16s) does not verify",
			               k->holder, k->role, s->sigs[i].keyid);
			goto out;
		}
		sg->valid = 1;
		valid[nvalid++] = s->sigs[i].keyid;
	}
	r = tf_policy_satisfied(p, valid, nvalid, err);
out:
	free(valid);
	return r;
}

static int check_target(const struct tf_manifest *m, const struct tf_check_opts *o,
                        struct tf_check_result *res, struct tf_err *err)
{
	char fp[TF_FINGERPRINT_LEN];
	int r;

	if (o->cluster_meta == NULL)
		r = tf_paths_cluster_file(NULL, m->cluster, TF_PATHS_META, &res->meta_path, err);
	else if ((res->meta_path = strdup(o->cluster_meta)) == NULL)
		r = tf_err_nomem(err);
	else
		r = 0;
	if (r != 0)
		return r;
	if (o->topology_fingerprint == NULL)
		return tf_err_set(err, TF_E_INPUT, "target: no topology reader given");
	if ((r = o->topology_fingerprint(res->meta_path, fp, err)) != 0) {
		if (r == TF_E_NOTFOUND && o->cluster_meta != NULL)
			return tf_err_set(err, TF_E_INPUT, "--cluster-meta '%s' does not exist",
			                  o->cluster_meta);
		if (r == TF_E_NOTFOUND)
			return tf_err_set(err, TF_E_REJECT,
			                  "target: cluster '%s' is not managed here (no '%s'; give "
			                  "--cluster-meta)",
			                  m->cluster, res->meta_path);
		return r;
	}
	if (strcmp(fp, m->topology) != 0)
		return tf_err_set(err, TF_E_REJECT,
		                  "target: topology of cluster '%s' (%s, from '%s') differs from "
		                  "the bundle's (%s)",
		                  m->cluster, fp, res->meta_path, m->topology);
	return 0;
}

int tf_bundle_check(const char *path, const struct tf_check_opts *o, struct tf_check_result *res,
                    struct tf_err *err)
{
	struct tf_bundle_scan s;
	struct tf_policy *p = NULL;
	struct tf_manifest *m = &res->manifest;
	time_t now = o->now ? o->now : tf_time_now();
	uint64_t last = 0;
	char t1[TF_TIME_TEXT], t2[TF_TIME_TEXT];
	int r;

	memset(&s, 0, sizeof(s));
	/* The policy first: a broken trust folder is an operator error, not a bundle verdict. */
	if ((r = tf_policy_load(o->trust_dir ? o->trust_dir : TF_TRUST_DIR_DEFAULT, &p, err)) != 0)
		goto out;
	if ((r = tf_bundle_scan(path, &s, err)) != 0)
		goto out;
	if ((r = check_signatures(&s, p, res, err)) != 0)
		goto out;
	if ((r = tf_manifest_parse(s.manifest, s.manifest_len, m, err)) != 0)
		goto out;
	if (now < m->not_before) {
		tf_time_format(m->not_before, t1, sizeof(t1));
		r = tf_err_set(err, TF_E_REJECT, "validity: not valid before %s", t1);
		goto out;
	}
	if (now >= m->not_after) {
		tf_time_format(m->not_after, t1, sizeof(t1));
		tf_time_format(now, t2, sizeof(t2));
		r = tf_err_set(err, TF_E_REJECT, "validity: expired at %s (now %s)", t1, t2);
		goto out;
	}
	if ((r = check_target(m, o, res, err)) != 0)
		goto out;
	if ((r = tf_rollback_last(o->state_dir ? o->state_dir : tf_paths_state_root(), m->cluster,
	                          o->cluster_record_meta ? o->cluster_record_meta : o->cluster_meta,
	                          o->last_sequence, &last, err)) != 0)
		goto out;
	if (m->sequence <= last) {
		r = tf_err_set(err, TF_E_REJECT,
		               "rollback: sequence %" PRIu64 " is not above %" PRIu64
		               ", the last installed on cluster '%s'",
		               m->sequence, last, m->cluster);
		goto out;
	}
	if (o->progress != NULL) {
		uint64_t total = 0;
		size_t i;

		for (i = 0; i < m->nfiles; i++)
			total += m->files[i].size;
		o->progress->total = total;
	}
	if ((r = tf_bundle_verify_payload(path, m, s.manifest, s.manifest_len, o->staging,
	                                  o->progress, err)) != 0)
		goto out;
	res->manifest_bytes = s.manifest;
	res->manifest_len = s.manifest_len;
	s.manifest = NULL; /* transferred */
	r = 0;
out:
	tf_bundle_scan_release(&s);
	tf_policy_free(p);
	return r;
}
