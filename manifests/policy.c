/* The trust policy (policy.yaml): keys with holder and role, and per-role thresholds. */
#include "manifests/policy.h"
#include "common/fsutil.h"
#include "manifests/yamldoc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_KEYS 256
#define MAX_ROLES 32
#define MAX_POLICY (1u << 20)

/* The fields of policy.yaml and of each of its keys (docs/policy.md). */
static const char *const top_fields[] = {"keys", "require"};
static const char *const key_fields[] = {"file", "holder", "role"};

struct role_req {
	char *role;
	unsigned count;
};

struct tf_policy {
	size_t nkeys;
	struct tf_policy_key keys[MAX_KEYS];
	struct tf_sigkey *owned[MAX_KEYS];
	size_t nroles;
	struct role_req roles[MAX_ROLES];
};

void tf_policy_free(struct tf_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nkeys; i++) {
		free((char *)(uintptr_t)p->keys[i].file);
		free((char *)(uintptr_t)p->keys[i].holder);
		free((char *)(uintptr_t)p->keys[i].role);
		tf_sigkey_free(p->owned[i]);
	}
	for (i = 0; i < p->nroles; i++)
		free(p->roles[i].role);
	free(p);
}

/* Refuses a trust file or folder that someone other than root or the installing user could
 * change, as OpenSSH's StrictModes does for authorized_keys: owned by another user, or writable
 * by group or others; the same for every folder above it, except that a folder above may be
 * world-writable with the sticky bit (/tmp), where no one else can rename what we own. Symbolic
 * links are followed and the target's folders checked. */
static int check_safe(const char *path, struct tf_err *err)
{
	char real[PATH_MAX], *slash;
	struct stat st;
	uid_t me = geteuid();
	int top = 1;

	if (realpath(path, real) == NULL)
		return tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_IO, "resolve '%s'",
		                  path);
	for (;;) {
		if (stat(real, &st) != 0)
			return tf_err_sys(err, TF_E_IO, "stat '%s'", real);
		if (st.st_uid != 0 && st.st_uid != me)
			return tf_err_set(err, TF_E_INPUT,
			                  "%s'%s' is owned by uid %u: trust files and the folders "
			                  "above them must belong to root or the installing user "
			                  "(uid %u)",
			                  top ? "" : "folder ", real, (unsigned)st.st_uid,
			                  (unsigned)me);
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (top || !(st.st_mode & S_ISVTX)))
			return tf_err_set(err, TF_E_INPUT,
			                  "%s'%s' is writable by group or others (mode %04o): only "
			                  "root or the installing user may change trust files",
			                  top ? "" : "folder ", real,
			                  (unsigned)(st.st_mode & 07777));
		if (strcmp(real, "/") == 0)
			return 0;
		if ((slash = strrchr(real, '/')) == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		top = 0;
	}
}

/* A key file is named by a plain file name inside the trust directory: no folders, no "..". */
static int file_name_ok(const char *s)
{
	return s[0] != '\0' && s[0] != '.' && strchr(s, '/') == NULL && strlen(s) < 256;
}

static int role_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return 0;
	return 1;
}

static int load_key(struct tf_policy *p, const struct tf_yaml *e, size_t idx, const char *dir,
                    struct tf_err *err)
{
	const char *file = tf_yaml_get_str(e, "file");
	const char *holder = tf_yaml_get_str(e, "holder");
	const char *role = tf_yaml_get_str(e, "role");
	struct tf_policy_key *k = &p->keys[p->nkeys];
	char *path = NULL;
	size_t i;
	int r;

	/* a misspelt field first: "holdr" is named with the field it is nearest to */
	if ((r = tf_yaml_only_keys(e, key_fields, 3, "policy.yaml", NULL, err)) != 0)
		return r;
	if (e->kind != TF_YAML_MAP || file == NULL || holder == NULL || role == NULL)
		return tf_err_set(err, TF_E_INPUT,
		                  "policy.yaml: line %d: keys[%zu] needs file, holder and role",
		                  e->line, idx);
	if (!file_name_ok(file))
		return tf_err_set(err, TF_E_INPUT,
		                  "policy.yaml: line %d: key file '%s' must be a file name inside "
		                  "the trust folder",
		                  e->line, file);
	if (!role_name_ok(role))
		return tf_err_set(err, TF_E_INPUT, "policy.yaml: line %d: bad role name '%s'",
		                  e->line, role);
	if ((path = tf_path_join(dir, file)) == NULL)
		return tf_err_nomem(err);
	if ((r = check_safe(path, err)) == 0)
		r = tf_sigkey_load_public_file(path, &p->owned[p->nkeys], err);
	free(path);
	if (r != 0)
		return tf_err_prefix(err, "policy.yaml: line %d", e->line);
	for (i = 0; i < p->nkeys; i++) {
		if (strcmp(tf_sigkey_id(p->keys[i].key), tf_sigkey_id(p->owned[p->nkeys])) == 0) {
			r = tf_err_set(err, TF_E_INPUT,
			               "policy.yaml: line %d: key '%s' is the same key as '%s'",
			               e->line, file, p->keys[i].file);
			tf_sigkey_free(p->owned[p->nkeys]);
			p->owned[p->nkeys] = NULL;
			return r;
		}
	}
	k->key = p->owned[p->nkeys];
	k->file = strdup(file);
	k->holder = strdup(holder);
	k->role = strdup(role);
	p->nkeys++;
	if (k->file == NULL || k->holder == NULL || k->role == NULL)
		return tf_err_nomem(err);
	return 0;
}

static int load_require(struct tf_policy *p, const struct tf_yaml *req, struct tf_err *err)
{
	size_t i, j;

	if (req == NULL || req->kind != TF_YAML_MAP || req->n == 0)
		return tf_err_set(
		    err, TF_E_INPUT,
		    "policy.yaml: 'require' must map each role to a number of signatures");
	if (req->n > MAX_ROLES)
		return tf_err_set(err, TF_E_INPUT, "policy.yaml: more than %d roles", MAX_ROLES);
	for (i = 0; i < req->n; i++) {
		uint64_t n;
		unsigned have = 0;

		if (!role_name_ok(req->keys[i]))
			return tf_err_set(err, TF_E_INPUT,
			                  "policy.yaml: line %d: bad role name '%s'",
			                  req->items[i]->line, req->keys[i]);
		if (tf_yaml_get_u64(req, req->keys[i], 0, &n, "policy.yaml", err) != 0)
			return err->code;
		if (n < 1 || n > MAX_KEYS)
			return tf_err_set(
			    err, TF_E_INPUT,
			    "policy.yaml: line %d: role '%s' must need at least one signature",
			    req->items[i]->line, req->keys[i]);
		for (j = 0; j < p->nkeys; j++)
			if (strcmp(p->keys[j].role, req->keys[i]) == 0)
				have++;
		if (have < n)
			return tf_err_set(
			    err, TF_E_INPUT,
			    "policy.yaml: role '%s' needs %u signatures but only %u keys hold it",
			    req->keys[i], (unsigned)n, have);
		if ((p->roles[p->nroles].role = strdup(req->keys[i])) == NULL)
			return tf_err_nomem(err);
		p->roles[p->nroles++].count = (unsigned)n;
	}
	return 0;
}

int tf_policy_parse(const char *buf, size_t len, const char *dir, struct tf_policy **out,
                    struct tf_err *err)
{
	struct tf_yaml *y = NULL;
	struct tf_policy *p = NULL;
	const struct tf_yaml *keys;
	size_t i;
	int r;

	if ((r = tf_yaml_parse(buf, len, "policy.yaml", &y, err)) != 0)
		goto out;
	if (y->kind != TF_YAML_MAP) {
		r = tf_err_set(err, TF_E_INPUT, "policy.yaml: must be a mapping");
		goto out;
	}
	if ((r = tf_yaml_only_keys(y, top_fields, 2, "policy.yaml", NULL, err)) != 0)
		goto out;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	keys = tf_yaml_get(y, "keys");
	if (keys == NULL || keys->kind != TF_YAML_SEQ || keys->n == 0) {
		r = tf_err_set(err, TF_E_INPUT, "policy.yaml: 'keys' must list at least one key");
		goto out;
	}
	if (keys->n > MAX_KEYS) {
		r = tf_err_set(err, TF_E_INPUT, "policy.yaml: more than %d keys", MAX_KEYS);
		goto out;
	}
	for (i = 0; i < keys->n; i++)
		if ((r = load_key(p, keys->items[i], i, dir, err)) != 0)
			goto out;
	if ((r = load_require(p, tf_yaml_get(y, "require"), err)) != 0)
		goto out;
	*out = p;
	p = NULL; /* transferred */
	r = 0;
out:
	tf_policy_free(p);
	tf_yaml_free(y);
	return r;
}

int tf_policy_load(const char *dir, struct tf_policy **out, struct tf_err *err)
{
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	int r;

	if ((path = tf_path_join(dir, TF_POLICY_FILE)) == NULL)
		return tf_err_nomem(err);
	if ((r = tf_read_file(path, MAX_POLICY, &buf, &len, err)) != 0) {
		if (r == TF_E_NOTFOUND) {
			char m[sizeof(err->msg)];

			snprintf(m, sizeof(m), "%s", err->msg);
			tf_err_set(err, r,
			           "%s (name the trust folder with --trust DIR; the default is "
			           "%s)",
			           m, TF_TRUST_DIR_DEFAULT);
		}
		tf_err_prefix(err, "trust policy");
		goto out;
	}
	if ((r = check_safe(dir, err)) != 0 || (r = check_safe(path, err)) != 0) {
		tf_err_prefix(err, "trust folder '%s'", dir);
		goto out;
	}
	if ((r = tf_policy_parse(buf, len, dir, out, err)) != 0)
		tf_err_prefix(err, "trust folder '%s'", dir);
out:
	free(buf);
	free(path);
	return r;
}

const struct tf_policy_key *tf_policy_lookup(const struct tf_policy *p, const char *keyid)
{
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		if (strcmp(tf_sigkey_id(p->keys[i].key), keyid) == 0)
			return &p->keys[i];
	return NULL;
}

int tf_policy_satisfied(const struct tf_policy *p, const char *const *keyids, size_t n,
                        struct tf_err *err)
{
	size_t i, j, k;

	for (i = 0; i < p->nroles; i++) {
		unsigned got = 0;

		for (j = 0; j < n; j++) {
			const struct tf_policy_key *pk = tf_policy_lookup(p, keyids[j]);
			int seen = 0;

			for (k = 0; k < j; k++)
				if (strcmp(keyids[k], keyids[j]) == 0)
					seen = 1;
			if (pk != NULL && !seen && strcmp(pk->role, p->roles[i].role) == 0)
				got++;
		}
		if (got < p->roles[i].count) {
			char who[256] = "";
			size_t w = 0;

			/* who did sign (each key once), so the operator knows whom to chase */
			for (j = 0; j < n && w < sizeof(who); j++) {
				const struct tf_policy_key *pk = tf_policy_lookup(p, keyids[j]);
				int seen = 0;

				for (k = 0; k < j; k++)
					if (strcmp(keyids[k], keyids[j]) == 0)
						seen = 1;
				if (pk != NULL && !seen)
					w += (size_t)snprintf(who + w, sizeof(who) - w, "%s%s (%s)",
					                      w ? ", " : "", pk->holder, pk->role);
			}
			return tf_err_set(
			    err, TF_E_REJECT,
			    "policy: role '%s' needs %u valid signature%s, bundle has %u (%s%s; %u "
			    "more '%s' signature%s needed)",
			    p->roles[i].role, p->roles[i].count, p->roles[i].count == 1 ? "" : "s",
			    got,
			    who[0] ? "signed by " : "no valid signature from a key in the policy",
			    who, p->roles[i].count - got, p->roles[i].role,
			    p->roles[i].count - got == 1 ? "" : "s");
		}
	}
	return 0;
}

size_t tf_policy_nroles(const struct tf_policy *p)
{
	return p->nroles;
}

void tf_policy_role(const struct tf_policy *p, size_t i, const char **role, unsigned *count)
{
	*role = p->roles[i].role;
	*count = p->roles[i].count;
}

void tf_policy_describe(const struct tf_policy *p, char *buf, size_t len)
{
	size_t i, n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < tf_policy_nroles(p) && n < len; i++) {
		const char *role;
		unsigned count;
		int w;

		tf_policy_role(p, i, &role, &count);
		w = snprintf(buf + n, len - n, "%s%u %s", i ? ", " : "", count, role);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}
