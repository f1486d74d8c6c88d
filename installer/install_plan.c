/* The install's planning from the step table and the journal (installer/install_plan.h). */
#include "installer/install_plan.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tf_install_stop_after_check(const char *name, struct tf_err *err)
{
	const struct tf_step *st;

	if (name == NULL)
		return 0;
	if ((st = tf_step_find(name)) == NULL)
		return tf_err_set(err, TF_E_USAGE,
		                  "--stop-after: no step named '%s' (see --dry-run)", name);
	if (st->flags & TF_STEPS_NO_STOP_AFTER)
		return tf_err_set(
		    err, TF_E_USAGE,
		    "--stop-after %s would leave TiUP on the bundle's mirror; stop after "
		    "restore-mirror or later",
		    name);
	return 0;
}

enum tf_install_action tf_install_step_action(const struct tf_step *st,
                                              const struct tf_journal_step *s, int enable_tls)
{
	/* A step flagged RERUN (the check) always runs again: nothing on disk is trusted across
	 * a crash. */
	if (s->status == TF_STEP_DONE && !(st->flags & TF_STEPS_RERUN))
		return TF_INSTALL_DONE_BEFORE;
	if (!enable_tls && (st->flags & TF_STEPS_CLUSTER))
		return TF_INSTALL_SKIP_CLUSTER;
	return TF_INSTALL_RUN;
}

/* The upgrade (mirror-set through verify-versions) is one block on resume: unless all of it is
 * done, it runs again from mirror-set, against the new staging folder and from the mirror TiUP
 * had before (restored at once after a failure, or first thing after a crash). */
void tf_install_resume_reset(struct tf_journal *j)
{
	size_t i;
	int all_done = !j->mirror_switched;

	for (i = 0; i < TF_STEPS_N; i++) {
		const struct tf_step *st = tf_step_get(i);
		struct tf_journal_step *s;

		if (!(st->flags & TF_STEPS_UPGRADE))
			continue;
		s = tf_journal_step(j, st->name);
		if (s == NULL || s->status != TF_STEP_DONE)
			all_done = 0;
	}
	if (all_done)
		return;
	for (i = 0; i < TF_STEPS_N; i++) {
		const struct tf_step *st = tf_step_get(i);
		struct tf_journal_step *s;

		if ((st->flags & TF_STEPS_UPGRADE) && (s = tf_journal_step(j, st->name)) != NULL)
			s->status = TF_STEP_PENDING;
	}
}

int tf_install_nothing_changed(const struct tf_journal *j)
{
	size_t i;

	if (j->mirror_switched || j->path == NULL)
		return 0;
	for (i = 1; i < j->nsteps; i++)
		if (j->steps[i].status != TF_STEP_PENDING)
			return 0;
	return j->nsteps > 0 && strcmp(j->steps[0].name, tf_step_get(TF_STEP_ID_CHECK)->name) == 0;
}

size_t tf_install_tiup_argv(const char *prog, const char *binpath, const char *const *args,
                            const char **argv, size_t max)
{
	size_t n = 0;

	if (max < 2)
		return 0;
	argv[n++] = prog;
	if (binpath != NULL && args[0] != NULL && strcmp(args[0], "cluster") == 0) {
		if (max < 4)
			return 0;
		argv[n++] = "--binpath";
		argv[n++] = binpath;
	}
	for (; *args != NULL; args++) {
		if (n + 1 >= max)
			return 0;
		argv[n++] = *args;
	}
	argv[n] = NULL;
	return n;
}

const char *tf_install_cluster_binary(const struct tf_journal *j, const char *tiup_home,
                                      const char *version, char *buf, size_t len)
{
	const char *v = j != NULL ? tf_journal_get(j, TF_INSTALL_CLUSTER_BINARY) : NULL;
	int n;

	if (version == NULL)
		return NULL;
	if (v != NULL && v[0] == '/')
		n = snprintf(buf, len, "%s", v);
	else
		n = snprintf(buf, len, "%s/components/cluster/%s/tiup-cluster", tiup_home, version);
	return n > 0 && (size_t)n < len ? buf : NULL;
}

int tf_install_start_check(const struct tf_journal *j, const char *cluster, const char *bundle_id,
                           int resume, struct tf_err *err)
{
	int unfinished = j != NULL && !j->finished;
	char *cmd;
	int r;

	if (!resume) {
		if (!unfinished || !j->confirmed)
			return 0;
		if ((cmd = tf_journal_resume_command(j)) == NULL)
			return tf_err_nomem(err);
		r = tf_err_set(err, TF_E_FAIL,
		               "an install of bundle %s on '%s' did not finish; run: %s",
		               j->bundle_id, j->cluster, cmd);
		free(cmd);
		return r;
	}
	if (!unfinished)
		return tf_err_set(err, TF_E_USAGE, "nothing to resume for cluster '%s'", cluster);
	if (!j->confirmed)
		return tf_err_set(
		    err, TF_E_USAGE,
		    "the install of bundle %s on '%s' was never confirmed and changed "
		    "nothing: there is nothing to resume; start it again without "
		    "--resume (it asks again, or give --yes)",
		    j->bundle_id, j->cluster);
	if (strcmp(j->bundle_id, bundle_id) != 0)
		return tf_err_set(
		    err, TF_E_FAIL,
		    "the unfinished install is of bundle %s, not %s; resume it with '%s'",
		    j->bundle_id, bundle_id, j->bundle ? j->bundle : "its bundle");
	return 0;
}

/* path made absolute against the working folder (not resolved: a file that does not exist yet,
 * such as known_hosts, keeps its name), with prefix before it. */
static int absolute(const char *prefix, const char *path, char **out, struct tf_err *err)
{
	char cwd[PATH_MAX];
	size_t n;

	*out = NULL;
	while (path[0] == '.' && path[1] == '/') /* "./x" reads as "x" */
		for (path += 2; path[0] == '/'; path++)
			;
	if (path[0] == '\0')
		path = ".";
	if (path[0] == '/')
		cwd[0] = '\0';
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return tf_err_sys(err, TF_E_IO, "working folder");
	n = strlen(prefix) + strlen(cwd) + strlen(path) + 2;
	if ((*out = malloc(n)) == NULL)
		return tf_err_nomem(err);
	snprintf(*out, n, "%s%s%s%s", prefix, cwd, cwd[0] ? "/" : "", path);
	return 0;
}

int tf_install_journal_opts(const struct tf_install_opts *o, struct tf_journal_opts *out,
                            struct tf_err *err)
{
	struct tf_journal_opts t;
	int r = 0;

	memset(&t, 0, sizeof(t));
	if ((o->trust_dir != NULL && (r = absolute("", o->trust_dir, &t.trust_dir, err)) != 0) ||
	    (o->recipient_key != NULL &&
	     (r = absolute("", o->recipient_key, &t.recipient, err)) != 0) ||
	    (o->known_hosts != NULL &&
	     (r = absolute("", o->known_hosts, &t.known_hosts, err)) != 0) ||
	    (o->cluster_meta != NULL &&
	     (r = absolute("", o->cluster_meta, &t.cluster_meta, err)) != 0))
		goto out;
	/* the source of the passphrase, never the passphrase; fd:N is gone once this run ends, and
	 * tty is left out with it: only a source a pasted command reads the same way is kept */
	if (o->passin != NULL && strncmp(o->passin, "file:", 5) == 0 && o->passin[5] != '\0')
		r = absolute("file:", o->passin + 5, &t.passin, err);
	else if (o->passin != NULL && strncmp(o->passin, "env:", 4) == 0 && o->passin[4] != '\0')
		r = (t.passin = strdup(o->passin)) == NULL ? tf_err_nomem(err) : 0;
	if (r != 0)
		goto out;
	/* a name is looked up in PATH, as it was; a path is made absolute */
	if (o->tiup != NULL && strchr(o->tiup, '/') != NULL)
		r = absolute("", o->tiup, &t.tiup, err);
	else if (o->tiup != NULL)
		r = (t.tiup = strdup(o->tiup)) == NULL ? tf_err_nomem(err) : 0;
	if (r != 0)
		goto out;
	t.accept_new_host_keys = o->accept_new_host_keys;
	t.yes = o->yes;
	t.last_sequence = o->last_sequence;
	tf_journal_opts_release(out);
	*out = t;
	memset(&t, 0, sizeof(t)); /* transferred */
out:
	tf_journal_opts_release(&t);
	return r;
}
