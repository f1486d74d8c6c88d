/* The install's steps, defined once: name, where each runs, what it does, and flags that say how
 * the install, --dry-run, --stop-after, --resume, the runbook (and the rollback) treat it. Every
 * other place reads this table, by id or by name; nothing keeps a second list. */
#ifndef TF_MANIFESTS_STEPS_H
#define TF_MANIFESTS_STEPS_H

#include <stddef.h>

/* In the order the install runs them (docs/operator-guide.md walks through them). */
enum tf_step_id {
	TF_STEP_ID_CHECK,
	TF_STEP_ID_RECORD_MIRROR,
	TF_STEP_ID_TIUP_PREFLIGHT,
	TF_STEP_ID_MIRROR_SET,
	TF_STEP_ID_UPDATE_SELF,
	TF_STEP_ID_UPDATE_COMPONENTS,
	TF_STEP_ID_RESTORE_MIRROR,
	TF_STEP_ID_VERIFY_VERSIONS,
	TF_STEP_ID_PLACE_CERTIFICATES,
	TF_STEP_ID_PREFLIGHT,
	TF_STEP_ID_SCALE_IN_PD,
	TF_STEP_ID_RESTRICT_CN,
	TF_STEP_ID_TLS_ENABLE,
	TF_STEP_ID_TIGHTEN_KEYS,
	TF_STEP_ID_REPAIR_PEERS,
	TF_STEP_ID_SCALE_OUT_PD,
	TF_STEP_ID_TIGHTEN_KEYS_PD,
	TF_STEP_ID_HEALTH,
	TF_STEP_ID_RECORD_SEQUENCE,
	TF_STEP_ID_WIPE_STAGING,
	TF_STEPS_N
};

/* Runs again on --resume even when done: nothing on disk is trusted across a crash. */
#define TF_STEPS_RERUN (1u << 0)
/* Changes the cluster (preflight to health): skipped when the plan does not enable TLS. */
#define TF_STEPS_CLUSTER (1u << 1)
/* Part of the TiUP upgrade block: on --resume, unless every such step is done (and TiUP is off
 * the bundle's mirror), they all run again from the first. */
#define TF_STEPS_UPGRADE (1u << 2)
/* --stop-after refuses it: TiUP would be left on the bundle's mirror. */
#define TF_STEPS_NO_STOP_AFTER (1u << 3)
/* Needs the bundle's "tls" section (certificates): nothing to do without one. */
#define TF_STEPS_NEEDS_TLS (1u << 4)
/* Scales PD: nothing to do on a cluster with one PD member. */
#define TF_STEPS_PD_SCALE (1u << 5)
/* Changes TiUP on the control host (its mirror, binaries or tls/ folder). */
#define TF_STEPS_TIUP (1u << 6)
/* Sets the CN options the plan lists (plan.restrict_cn): nothing to do without them. */
#define TF_STEPS_RESTRICT_CN (1u << 7)

struct tf_step {
	enum tf_step_id id;
	const char *name;  /* as the journal, the audit log, --stop-after and the runbook say it */
	const char *where; /* "control host", "every host (SSH)", ... */
	const char *what;  /* the runbook's text (`backticks` for commands, paths and values) */
	unsigned flags;    /* TF_STEPS_* */
};

/* The step with id (NULL when out of range). */
const struct tf_step *tf_step_get(size_t id);
/* The step named name, or NULL. */
const struct tf_step *tf_step_find(const char *name);

#endif
