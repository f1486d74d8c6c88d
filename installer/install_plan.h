/* The install's planning, decided from the step table (manifests/steps.h), the bundle's plan and
 * the journal alone, with no side effects: which steps run, where --stop-after may stop, what a
 * resume runs again. installer/install.c executes what this decides. */
#ifndef TF_INSTALLER_INSTALL_PLAN_H
#define TF_INSTALLER_INSTALL_PLAN_H

#include "common/err.h"
#include "installer/install.h"
#include "installer/journal.h"
#include "manifests/steps.h"

enum tf_install_action {
	TF_INSTALL_RUN,          /* run the step */
	TF_INSTALL_DONE_BEFORE,  /* done in an earlier run: not repeated */
	TF_INSTALL_SKIP_CLUSTER, /* the bundle's plan does not change the cluster */
};

/* 0 when --stop-after name is allowed (name may be NULL: no stop); TF_E_USAGE with the message
 * the operator sees otherwise. */
int tf_install_stop_after_check(const char *name, struct tf_err *err) TF_MUST_CHECK;

/* What to do with step st, whose journal entry is s, when the plan does (enable_tls) or does not
 * change the cluster. */
enum tf_install_action tf_install_step_action(const struct tf_step *st,
                                              const struct tf_journal_step *s, int enable_tls);

/* Before a resume (after TiUP's mirror was switched back): the upgrade block (TF_STEPS_UPGRADE)
 * runs again from its first step unless all of it is done and TiUP is off the bundle's mirror. */
void tf_install_resume_reset(struct tf_journal *j);

/* The journal value that holds the upgraded cluster component's binary, printed by
 * `tiup --binary cluster:<v>` while the bundle's mirror was set (docs/tiup.md §2). */
#define TF_INSTALL_CLUSTER_BINARY "cluster_binary"
/* The journal value that holds the spec's `tiup.restore` mirror, set once TiUP points at it: the
 * mirror verify's control.mirror-restored expects instead of the one recorded before. */
#define TF_INSTALL_RESTORE_MIRROR "restore_mirror"

/* The one spelling of a tiup command: argv[0] = prog, then args; when args[0] is "cluster" and
 * binpath is not NULL, `--binpath <binpath>` goes before it, so that TiUP runs that binary with no
 * version resolution against the current mirror (TiUP issue #594; cmd/root.go). argv has room
 * for max entries including the NULL; returns the count, or 0 when they do not fit. */
size_t tf_install_tiup_argv(const char *prog, const char *binpath, const char *const *args,
                            const char **argv, size_t max);

/* The upgraded cluster component's binary for version: the journal's cluster_binary when j has
 * it, else <tiup_home>/components/cluster/<version>/tiup-cluster (TiUP's install folder and the
 * cluster package's entry). Writes buf; returns buf, or NULL when version is NULL or it does not
 * fit. */
const char *tf_install_cluster_binary(const struct tf_journal *j, const char *tiup_home,
                                      const char *version, char *buf, size_t len);

/* 1 when the journal shows only the check ran (and failed): TiUP and the cluster are untouched. */
int tf_install_nothing_changed(const struct tf_journal *j);

/* Whether a run may start, from the cluster's journal j (NULL: none), the checked bundle's id and
 * --resume; read before anything is written. 0: start (a new install, or the resume asked for);
 * an unfinished journal never confirmed changed nothing and is replaced by a new install, never
 * resumed. Otherwise TF_E_FAIL or TF_E_USAGE with the message and the way out. */
int tf_install_start_check(const struct tf_journal *j, const char *cluster, const char *bundle_id,
                           int resume, struct tf_err *err) TF_MUST_CHECK;

/* The options of o a resume needs again (struct tf_journal_opts), paths made absolute against
 * the working folder; --passin only in its file: or env: form. *out is released first. */
int tf_install_journal_opts(const struct tf_install_opts *o, struct tf_journal_opts *out,
                            struct tf_err *err) TF_MUST_CHECK;

#endif
