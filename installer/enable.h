/* tiferry install, cluster half (the TF_STEPS_CLUSTER steps of manifests/steps.c): preflight over
 * SSH, scale PD in to one (keeping the leader), `tiup cluster tls <name> enable`, repair of http://
 * peer URLs through etcd, scale PD back out, health and verify. Each function is one journaled,
 * idempotent step of installer/install.c; what a step must remember for --resume goes into the
 * journal's values. */
#ifndef TF_INSTALLER_ENABLE_H
#define TF_INSTALLER_ENABLE_H

#include <stddef.h>

#include "cluster/pdapi.h"
#include "common/err.h"
#include "installer/journal.h"

/* Runs `<tiup> args...` for a step, audited (installer/install.c); output in *out when not
 * NULL (caller frees). Returns 0, or TF_E_FAIL naming the command and its last output line. */
typedef int (*tf_tiup_runner)(void *arg, const char *step, const char *const *args, char **out,
                              struct tf_err *err);

struct tf_view;

struct tf_enable {
	const char *cluster;     /* TiUP cluster name */
	const char *tiup_home;   /* $TIUP_HOME */
	const char *meta_path;   /* <tiup_home>/storage/cluster/clusters/<cluster>/meta.yaml */
	const char *tls_dir;     /* <tiup_home>/storage/cluster/clusters/<cluster>/tls */
	const char *ssh_key;     /* <tiup_home>/storage/cluster/clusters/<cluster>/ssh/id_rsa */
	const char *known_hosts; /* NULL: $HOME/.ssh/known_hosts */
	int pin_unknown_hosts;   /* --accept-new-host-keys: pin unknown keys (audited) */
	const char *cluster_component;  /* "cluster"; run_tiup adds --binpath <the bundle's
	                                 * binary> (TiUP #594, tf_install_tiup_argv) */
	const char *pd_topology;        /* staging file: every PD instance of meta.yaml in TiUP's
	                                 * scale-out schema (the builder writes it); the installer
	                                 * scales out the ones it removed */
	int stop_duplicate_exporters;   /* the plan allows stopping duplicate node_exporter units */
	unsigned long long min_free_kb; /* free disk needed in deploy folders (0: no check) */
	char *const *restrict_cn;       /* plan.restrict_cn: the CNs for cert-allowed-cn and */
	size_t nrestrict_cn;            /* cluster-verify-cn (none: leave them unset) */
	const char *state_dir;          /* <state>/<cluster>: audit log, files written for tiup */
	struct tf_journal *journal;     /* values persist with journal saves done by the caller */
	tf_tiup_runner run_tiup;
	void *run_arg;
	unsigned wait_s;         /* how long to wait for ports and health (0: 120) */
	unsigned parallel;       /* SSH fan-out (0: 16) */
	struct tf_view *view;    /* each host's progress is reported there (NULL: nowhere) */
	tf_pd_transport pd_send; /* NULL: PD's API over the network (tests answer in-process) */
	void *pd_send_arg;
};

/* Each returns 0, or a negative TF_E_* with err naming the host or member and what failed. */
int tf_enable_preflight(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;
int tf_enable_scale_in(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;
/* restrict-cn (installer/enable_cn.c): sets the CN options through `tiup cluster edit-config`
 * and confirms them in meta.yaml; nothing when restrict_cn is empty or they are already set. */
int tf_enable_restrict_cn(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;
int tf_enable_tls(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;
int tf_enable_repair_peers(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;
int tf_enable_scale_out(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;
/* tighten-keys: every private key TiUP placed on every host 0600 and owned by the deploy user,
 * the node key copies gone from config-cache/ (installer/enable_keys.c). */
int tf_enable_tighten_keys(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;
/* tighten-keys-pd: the same for the hosts of the PD members scale-out-pd added back. */
int tf_enable_tighten_keys_pd(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;
int tf_enable_health(struct tf_enable *e, struct tf_err *err) TF_MUST_CHECK;

/* 1 when the output of `tiup list <comp>` (cmd/list.go, showComponentVersions: a header line,
 * then one row per version, the version first) has a row for version. */
int tf_enable_list_has_version(const char *out, const char *version);

#endif
