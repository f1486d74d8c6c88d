/* tiferry install: the journaled steps of manifests/steps.c, run in order,
 * each idempotent, resumable after a crash. The mirror is always switched back. */
#ifndef TF_INSTALLER_INSTALL_H
#define TF_INSTALLER_INSTALL_H

#include "common/err.h"

#include <stdint.h>

struct tf_install_opts {
	const char *bundle;
	const char *trust_dir;     /* NULL: default */
	const char *cluster_meta;  /* NULL: from $TIUP_HOME */
	const char *state_dir;     /* NULL: tf_paths_state_root() */
	const char *tiup;          /* the tiup program; NULL: "tiup" from PATH */
	const char *passin;        /* source of the secrets' passphrase (file:, env:, fd:, tty) */
	const char *recipient_key; /* recipient key folder (tiferry keygen --recipient) */
	const char
	    *known_hosts; /* SSH known_hosts for the cluster's hosts; NULL: ~/.ssh/known_hosts */
	int accept_new_host_keys; /* pin host keys not known yet (never a changed one); audited */
	int dry_run;
	int resume;
	int yes;
	int json;               /* progress as JSON lines on stdout (installer/view.h) */
	const char *stop_after; /* stop (finished = no) after this step; --resume continues */
	uint64_t last_sequence; /* --last-sequence: the operator's word for a lost record; 0 none */
};

/* Runs (or with dry_run prints) the install. Returns 0 or a negative TF_E_* code with err. */
int tf_install_run(const struct tf_install_opts *o, struct tf_err *err) TF_MUST_CHECK;

#endif
