/* The install's planning, decided from the step table (manifests/steps.h), the bundle's plan and
 * the journal alone, with no side effects: which steps run, where --stop-after may stop, what a
 * resume runs again. installer/install.c executes what this decides. */
#ifndef TF_INSTALLER_INSTALL_PLAN_H
#define TF_INSTALLER_INSTALL_PLAN_H

#include "common/err.h"
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

/* 1 when the journal shows only the check ran (and failed): TiUP and the cluster are untouched. */
int tf_install_nothing_changed(const struct tf_journal *j);

#endif
