/* The audit log: one JSON object per line (time, step, command, exit code, duration), appended
 * and fsync'd at <state>/<cluster>/audit.log (0600). Commands carry no secrets by construction
 * (passphrases and keys travel in files and the environment, never in argv). */
#ifndef TF_INSTALLER_AUDIT_H
#define TF_INSTALLER_AUDIT_H

#include "common/err.h"

#define TF_AUDIT_FILE "audit.log"

struct tf_audit_entry {
	const char *step;
	const char *event;   /* "command", "step", "note", "refused" */
	const char *host;    /* NULL: the control host */
	const char *command; /* NULL for a note */
	int exit_code;
	int has_exit; /* 1: exit_code is written without a command (a refused run's exit code) */
	double seconds;
	const char *detail; /* NULL or a short text */
};

/* Appends e to <dir>/audit.log. */
int tf_audit_append(const char *dir, const struct tf_audit_entry *e,
                    struct tf_err *err) TF_MUST_CHECK;

#endif
