/* The install's planning from the step table and the journal (installer/install_plan.h). */
#include "installer/install_plan.h"

#include <stdio.h>
#include <string.h>

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
