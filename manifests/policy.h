/* The trust policy: policy.yaml in the trust directory names each public key file, its holder
 * and role, and how many valid signatures each role needs. Roles come from the policy only. */
#ifndef TF_MANIFESTS_POLICY_H
#define TF_MANIFESTS_POLICY_H

#include <stddef.h>

#include "common/err.h"
#include "crypto/sigkey.h"

#define TF_POLICY_FILE "policy.yaml"
#define TF_TRUST_DIR_DEFAULT "/etc/tiferry/trust"

struct tf_policy;

struct tf_policy_key {
	const char *file; /* as named in policy.yaml */
	const char *holder;
	const char *role;
	const struct tf_sigkey *key;
};

/* Loads <dir>/policy.yaml and every key it names. TF_E_INPUT on any mistake in the policy, and
 * when the folder, policy.yaml, a key file or a folder above them is owned by someone other than
 * root or the effective user, or writable by group or others (a folder above: unless sticky). */
int tf_policy_load(const char *dir, struct tf_policy **out, struct tf_err *err) TF_MUST_CHECK;
/* Parses a policy from memory; key files are read relative to dir (and checked as above). */
int tf_policy_parse(const char *buf, size_t len, const char *dir, struct tf_policy **out,
                    struct tf_err *err) TF_MUST_CHECK;
void tf_policy_free(struct tf_policy *p);

/* The policy's entry for keyid, or NULL when the key is unknown. */
const struct tf_policy_key *tf_policy_lookup(const struct tf_policy *p, const char *keyid);
/* Checks that the keys in keyids (each already verified, duplicates counted once) meet every
 * role's requirement. TF_E_REJECT naming the first role short of signatures. */
int tf_policy_satisfied(const struct tf_policy *p, const char *const *keyids, size_t n,
                        struct tf_err *err) TF_MUST_CHECK;
/* Requirements, for display: role i's name and count; returns the number of roles. */
size_t tf_policy_nroles(const struct tf_policy *p);
void tf_policy_role(const struct tf_policy *p, size_t i, const char **role, unsigned *count);
/* "1 builder, 1 approver" into buf (truncated to len). */
void tf_policy_describe(const struct tf_policy *p, char *buf, size_t len);

#endif
