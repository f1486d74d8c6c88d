/* The operator's inputs an install needs, checked before anything changes (issue 13 item 8d,
 * issue 18 bug 4): the recipient key or passphrase opens every sealed secret of the verified
 * bundle, and every cluster host's SSH key is pinned in known_hosts. Used by `tiferry check
 * --inputs`, `install --dry-run` and `install` (after the bundle's verification, before any step
 * changes anything). */
#ifndef TF_INSTALLER_INPUTS_H
#define TF_INSTALLER_INPUTS_H

#include "common/err.h"

struct tf_check_result;
struct tf_install_opts;
struct tf_journal;

struct tf_inputs_opts {
	const char *bundle;                /* the bundle file, verified by tf_bundle_check */
	const struct tf_check_result *res; /* that verification: the manifest and its meta.yaml */
	const char *recipient_dir;         /* NULL: TF_CERTS_RECIPIENT_DIR, whose absence is no
	                                    * problem when a passphrase is given */
	const char *passin;                /* source of the secrets' passphrase, or NULL */
	const char *known_hosts;           /* NULL: $HOME/.ssh/known_hosts */
	int accept_new_host_keys;          /* unknown hosts get pinned at connect: not checked */
	int skip_secrets;                  /* the certificates are placed already (a resume) */
	int skip_hosts;                    /* the cluster steps are done already (a resume) */
};

/* Checks the inputs and reports every one that is missing or wrong at once, in one line:
 * TF_E_INPUT (exit 2) "inputs missing or wrong, nothing was changed: (1) ...; (2) ...";
 * TF_E_REJECT (exit 3) when a secret the signed manifest lists is corrupt or does not make a
 * working set. Every decrypted secret is wiped before returning. When pass is not NULL and a
 * passphrase was read (--passin), it is handed over in *pass (free with tf_secret_free) so that
 * a one-shot source (fd:, tty) is read once. */
int tf_inputs_check(const struct tf_inputs_opts *o, char **pass, struct tf_err *err) TF_MUST_CHECK;

/* tf_inputs_check with install's options, for what is still to run: the secrets unless
 * place-certificates is done in j, the hosts when the bundle's plan changes the cluster and a
 * cluster step is not done in j (j NULL: a dry run, everything runs). */
int tf_inputs_check_install(const struct tf_install_opts *io, const struct tf_check_result *res,
                            const struct tf_journal *j, char **pass,
                            struct tf_err *err) TF_MUST_CHECK;

#endif
