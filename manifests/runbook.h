/* The runbook: what a bundle will do, in words change management can approve and an operator can
 * follow at 2 a.m. It is rendered from the manifest alone (metadata, the tiup, tls and plan
 * sections), so the builder packs it into the payload and the signatures cover its sha256. The
 * steps are those of manifests/steps.h; the commands each runs are said here once, for the
 * runbook, install --dry-run and install itself. */
#ifndef TF_MANIFESTS_RUNBOOK_H
#define TF_MANIFESTS_RUNBOOK_H

#include <stddef.h>

#include "common/err.h"
#include "manifests/manifest.h"

#define TF_RUNBOOK_MD_PATH "payload/runbook/runbook.md"
#define TF_RUNBOOK_HTML_PATH "payload/runbook/runbook.html"
#define TF_RUNBOOK_MAX (1u << 20) /* bytes of one rendered runbook */
/* Where the signatures as they stand are inserted when the runbook is shown (they are added
 * after the runbook is signed, so they cannot be part of it). */
#define TF_RUNBOOK_MARK "<!-- tiferry:approvals -->"

enum tf_runbook_format { TF_RUNBOOK_MD, TF_RUNBOOK_HTML, TF_RUNBOOK_JSON };

/* What the commands say for the parts known only on the control host. NULL members print as
 * placeholders: "tiup", "<state>", "<staging>". */
struct tf_runbook_subst {
	const char *tiup;
	const char *state;
	const char *staging;
};

/* The shell commands step i (an enum tf_step_id) runs for manifest m, one per line, in *out (caller
 * frees; "" when tiferry does the step itself). Placeholders in angle brackets stand for what only
 * the run knows (the PD leader, duplicate units). */
int tf_runbook_commands(const struct tf_manifest *m, size_t i, const struct tf_runbook_subst *s,
                        char **out, struct tf_err *err) TF_MUST_CHECK;

/* Renders the runbook of m in format f into *out, *len bytes, NUL-terminated (caller frees).
 * Markdown and HTML carry TF_RUNBOOK_MARK where the approvals go. */
int tf_runbook_render(const struct tf_manifest *m, enum tf_runbook_format f, char **out,
                      size_t *len, struct tf_err *err) TF_MUST_CHECK;

struct tf_runbook_signer {
	const char *keyid;
	const char *holder; /* NULL: not in the policy (or no policy given) */
	const char *role;
	const char *status; /* "valid", "INVALID", "unknown key (not counted)", ... */
};

struct tf_runbook_approvals {
	size_t nsigners;
	const struct tf_runbook_signer *signers;
	const char *required; /* "1 builder, 1 approver" from the policy; NULL: no policy given */
	const char *problem;  /* NULL when the policy is met (or no policy given) */
	const char *policy;   /* the trust folder the policy was read from; NULL: not named */
};

/* doc (a rendered runbook of format f) with the approvals inserted at TF_RUNBOOK_MARK (for JSON:
 * as the "approvals" member), in *out, *len (caller frees). TF_E_INPUT when doc has no mark. */
int tf_runbook_with_approvals(const char *doc, size_t len, enum tf_runbook_format f,
                              const struct tf_runbook_approvals *a, char **out, size_t *outlen,
                              struct tf_err *err) TF_MUST_CHECK;

/* The runbook of the bundle at path (manifest m, already scanned or checked) in format f with the
 * approvals a inserted, in *out, *len (caller frees). Markdown and HTML are the signed payload
 * files, their sha256 checked against m; JSON is rendered from m. A bundle built before runbooks
 * existed has its runbook rendered from m, and *rendered is set to 1. */
int tf_runbook_show(const char *path, const struct tf_manifest *m, enum tf_runbook_format f,
                    const struct tf_runbook_approvals *a, char **out, size_t *len, int *rendered,
                    struct tf_err *err) TF_MUST_CHECK;

/* "md", "html", "json" -> *f; TF_E_USAGE otherwise. */
int tf_runbook_format_parse(const char *s, enum tf_runbook_format *f,
                            struct tf_err *err) TF_MUST_CHECK;

#endif
