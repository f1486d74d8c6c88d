/* tiferry verify, the checks that look at hosts rather than ports: each node's <deploy_dir>/tls/
 * folder as one SSH command reports it, and the control host's TiUP (versions, mirror). The
 * command and the parsing and judging of what comes back are pure and unit-tested; verify.c
 * runs them (docs/verify.md). */
#ifndef TF_INSTALLER_VERIFY_HOST_H
#define TF_INSTALLER_VERIFY_HOST_H

#include <stddef.h>

#include "common/err.h"
#include "crypto/x509.h"
#include "common/hex.h"
#include "installer/verify.h"

/* One file of a node's tls/ folder as `stat` saw it. */
struct tf_vhost_file {
	char name[64]; /* "ca.crt", "<role>.crt", "<role>.pem" */
	int present;
	unsigned mode;  /* permission bits */
	char owner[64]; /* user name (stat's %U) */
	char type[32];  /* stat's %F: "regular file", "symbolic link", ... */
};

#define TF_VHOST_CA 0
#define TF_VHOST_CERT 1
#define TF_VHOST_KEY 2

/* What the node command printed. The private key never leaves the host: only the SHA-256 of
 * the public key it holds comes back, to compare with the certificate's. */
struct tf_vhost_node {
	int dir_present;
	struct tf_vhost_file files[3]; /* TF_VHOST_CA, _CERT, _KEY */
	char *ca_pem, *cert_pem;       /* NULL when not printed */
	char key_pub[TF_SHA256_HEX],
	    cert_pub[TF_SHA256_HEX]; /* hex; "" when the host could not read the key */
};

void tf_vhost_node_init(struct tf_vhost_node *n);
void tf_vhost_node_release(struct tf_vhost_node *n);

/* The one shell command run on a node for role's instance in deploy_dir (caller frees); NULL
 * when out of memory or role is not a plain word. */
char *tf_vhost_node_command(const char *deploy_dir, const char *role);
/* Fills n (init'd) from the command's output. TF_E_INPUT when it is not that command's. */
int tf_vhost_node_parse(const char *out, const char *role, struct tf_vhost_node *n,
                        struct tf_err *err) TF_MUST_CHECK;

/* The verdicts; detail (len bytes) gets one line for people. */
enum tf_vstatus tf_vhost_judge_dir(const struct tf_vhost_node *n, char *detail, size_t len);
/* fail when the key is readable (or writable) by group or others, or (user not NULL) owned by
 * another user than the deploy user. */
enum tf_vstatus tf_vhost_judge_key_mode(const struct tf_vhost_node *n, const char *user,
                                        char *detail, size_t len);

/* The node certificate's facts, checked against the control host's CA. */
struct tf_vhost_cert {
	struct tf_x509_info x509; /* what the node's certificate says */
	int chain_ok;
	char chain_error[TF_X509_REASON_MAX];
	char node_ca_sha256[TF_SHA256_HEX]; /* of the node's ca.crt, "" when unreadable */
	int key_matches;
};

/* pass when the node certificate chains to ca_file (the control host's tls/ca.crt, whose
 * SHA-256 is ca_sha256), the node's ca.crt is that CA, and the key's public half is the
 * certificate's. */
enum tf_vstatus tf_vhost_judge_cert(const struct tf_vhost_node *n, const char *ca_file,
                                    const char *ca_sha256, struct tf_vhost_cert *facts,
                                    char *detail, size_t len);

/* The version a `tiup --version` or `tiup cluster:<v> --version` output reports ("1.16.1 tiup",
 * "tiup version 1.16.1 tiup", "cluster v1.16.1"), written with a leading 'v'; 0 when found. */
int tf_vhost_find_version(const char *out, char *buf, size_t len);
/* what's output (exit status status) against want: pass when it reports want or newer. */
enum tf_vstatus tf_vhost_judge_version(const char *what, const char *out, int status,
                                       const char *want, char *found, size_t flen, char *detail,
                                       size_t len);

struct tf_tiup_state;
/* Without restore: pass when now uses the mirror before did, with the same bin/root.json bytes.
 * With restore (the bundle's tiup.restore address, which the install switched TiUP to after
 * restoring the recorded one): pass when now uses that mirror; bin/root.json is that mirror's,
 * so it is not compared with before's. */
enum tf_vstatus tf_vhost_judge_mirror(const struct tf_tiup_state *before,
                                      const struct tf_tiup_state *now, const char *restore,
                                      char *detail, size_t len);

#endif
