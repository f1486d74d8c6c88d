/* Error codes and the error context every fallible function fills in. */
#ifndef TF_COMMON_ERR_H
#define TF_COMMON_ERR_H

#include <stddef.h>

#define TF_MUST_CHECK __attribute__((warn_unused_result))
#define TF_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Negative error codes. Each maps to one of the programs' exit codes (tf_err_exit_code). */
enum {
	TF_OK = 0,
	TF_E_FAIL = -1,     /* a step failed or a check found a problem: exit 1 */
	TF_E_USAGE = -2,    /* bad command line: exit 2 */
	TF_E_INPUT = -3,    /* bad input file (spec, policy, meta.yaml): exit 2 */
	TF_E_IO = -4,       /* file system or I/O error: exit 1 */
	TF_E_NOMEM = -5,    /* out of memory: exit 1 */
	TF_E_CRYPTO = -6,   /* a cryptographic library call failed: exit 1 */
	TF_E_REJECT = -7,   /* the bundle is rejected (signature, hash, policy, window): exit 3 */
	TF_E_NOTFOUND = -8, /* something looked up does not exist: exit 2 */
	/* SSH (cluster/ssh.h); each is exit 1 */
	TF_E_SSH_LOST = -20,        /* the connection dropped: reconnect and retry */
	TF_E_SSH_HOSTKEY = -21,     /* host key unknown or changed: refused before any command */
	TF_E_SSH_TIMEOUT = -22,     /* a command ran out of time (it may still run on the host) */
	TF_E_SSH_AUTH = -23,        /* the host refused the public key */
	TF_E_SSH_UNREACHABLE = -24, /* TCP connect or SSH handshake failed or timed out */
	TF_E_SSH_SUDO = -25,        /* sudo on the host wants a password or has no rule */
};

/* How every privileged command runs on a cluster host, as TiUP runs its own (`sudo -H bash -c`,
 * pkg/cluster/executor/ssh.go): the command follows, single-quoted. -n makes a missing
 * NOPASSWD rule fail at once instead of waiting for a password nobody types. */
#define TF_SUDO "/usr/bin/sudo -n -H bash -c"

#define TF_ERR_MSG_MAX 1024

struct tf_err {
	int code;
	char msg[TF_ERR_MSG_MAX];
};

/* Sets err (when not NULL) to code and a formatted message; returns code. */
int tf_err_set(struct tf_err *err, int code, const char *fmt, ...) TF_PRINTF(3, 4);
/* Prefixes the message already in err with a formatted context: "ctx: old"; returns err->code. */
int tf_err_prefix(struct tf_err *err, const char *fmt, ...) TF_PRINTF(2, 3);
/* Sets err to TF_E_NOMEM, "out of memory"; returns TF_E_NOMEM. */
int tf_err_nomem(struct tf_err *err);
/* Resets err to no error. */
void tf_err_clear(struct tf_err *err);
/* What an error code means, in a few words ("bundle rejected"); "unknown error" for others. */
const char *tf_err_str(int code);
/* The process exit code for an error code: 0, 1, 2 or 3. */
int tf_err_exit_code(int code);
/* Appends errno text: tf_err_sys(err, TF_E_IO, "open '%s'", path) -> "open 'x': No such file". */
int tf_err_sys(struct tf_err *err, int code, const char *fmt, ...) TF_PRINTF(3, 4);

#define TF_EXIT_OK 0
#define TF_EXIT_FAIL 1
#define TF_EXIT_USAGE 2
#define TF_EXIT_REJECT 3
/* verify only: no check failed, but one could not decide (a scan probe timed out, an answer was
 * cut short or was not well-formed HTTP), so nothing is proved either way */
#define TF_EXIT_UNKNOWN 4

#endif
