/* The SSH transport to the cluster's hosts (libssh behind an opaque type): public-key login with
 * TiUP's cluster key, strict host-key checking against a known_hosts file, commands with
 * timeouts and bounded output, and a bounded parallel fan-out over hosts.
 * See docs/ssh.md for the host-key policy. */
#ifndef TF_CLUSTER_SSH_H
#define TF_CLUSTER_SSH_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* Error codes beyond common/err.h's (all map to exit code 1). */

#define TF_SSH_OUT_MAX                                                                             \
	((size_t)256 * 1024) /* bytes kept of stdout and of stderr (the rest dropped) */
#define TF_SSH_FANOUT_DEFAULT 16u
#define TF_SSH_CONNECT_TIMEOUT_S 10u
#define TF_SSH_COMMAND_TIMEOUT_S 300u
#define TF_SSH_KEEPALIVE_S 15u

struct tf_ssh;

struct tf_ssh_opts {
	const char *host;
	unsigned port;              /* 0: 22 */
	const char *user;           /* meta.yaml's user; required */
	const char *identity;       /* private key (TiUP: clusters/<name>/ssh/id_rsa); required */
	const char *known_hosts;    /* NULL: $HOME/.ssh/known_hosts; the only file consulted */
	int pin_unknown;            /* accept-and-pin a host key that is not known yet (never a
	                             * changed one); the caller audits it (tf_ssh_pinned) */
	unsigned connect_timeout_s; /* TCP connect, handshake, authentication; 0: the default */
	unsigned command_timeout_s; /* default for tf_ssh_run; 0: the default */
	unsigned keepalive_s;       /* TCP keep-alive idle time; 0: the default */
};

struct tf_ssh_result {
	int status; /* exit code; 128 + signal number when killed by a signal; -1: none */
	char *out;  /* stdout, NUL-terminated, at most TF_SSH_OUT_MAX bytes kept */
	size_t outlen;
	char *errout; /* stderr, likewise */
	size_t errlen;
	int truncated; /* some output was dropped */
	double seconds;
};

/* Initialises libssh; main calls it once before any thread uses SSH, and
 * tf_ssh_global_finalize once at exit. */
int tf_ssh_global_init(struct tf_err *err) TF_MUST_CHECK;
void tf_ssh_global_finalize(void);

/* Connects, checks the host key (TF_E_SSH_HOSTKEY names the host, the key's SHA-256 fingerprint
 * and the commands that pin it; nothing is run on the host then) and logs in with the identity.
 * *out is freed with tf_ssh_free. */
int tf_ssh_connect(const struct tf_ssh_opts *o, struct tf_ssh **out,
                   struct tf_err *err) TF_MUST_CHECK;
/* Whether known_hosts (NULL: $HOME/.ssh/known_hosts, as tf_ssh_connect reads it) holds a key
 * for host at port (0: 22), looked up as tf_ssh_connect would, without connecting: *pinned 1 or
 * 0. Whether the key is still the host's is only known on connecting. TF_E_NOTFOUND when the
 * file does not exist, TF_E_INPUT when it cannot be read. */
int tf_ssh_host_pinned(const char *known_hosts, const char *host, unsigned port, int *pinned,
                       struct tf_err *err) TF_MUST_CHECK;
/* Disconnects and frees; takes NULL. */
void tf_ssh_free(struct tf_ssh *s);
/* "host:port" of the connection, for messages. */
const char *tf_ssh_name(const struct tf_ssh *s);
/* "<type> SHA256:<base64>" of a host key this connection pinned (pin_unknown), else NULL. */
const char *tf_ssh_pinned(const struct tf_ssh *s);

/* Runs cmd through the login shell with stdin at end of file. Returns 0 when the command ran to
 * its end, whatever its exit status (res->status); TF_E_SSH_LOST when the connection dropped,
 * TF_E_SSH_TIMEOUT after timeout_s seconds (0: the connection's default). res is released
 * with tf_ssh_result_release, also after a failure. */
int tf_ssh_run(struct tf_ssh *s, const char *cmd, unsigned timeout_s, struct tf_ssh_result *res,
               struct tf_err *err) TF_MUST_CHECK;
void tf_ssh_result_release(struct tf_ssh_result *r);

/* cmd wrapped for root on the host: TF_SUDO '<cmd>' (caller frees); NULL when out of memory.
 * What tf_ssh_sudo runs, and what the audit log and the runbook show. */
char *tf_ssh_sudo_cmd(const char *cmd);
/* Runs tf_ssh_sudo_cmd(cmd) like tf_ssh_run. When sudo itself refuses (no NOPASSWD rule for the
 * login user, a password or a tty required, no /usr/bin/sudo) returns TF_E_SSH_SUDO naming the
 * host, the user, sudo's words and the rule TiUP's deploy user needs; res then holds what ran. */
int tf_ssh_sudo(struct tf_ssh *s, const char *cmd, unsigned timeout_s, struct tf_ssh_result *res,
                struct tf_err *err) TF_MUST_CHECK;

/* s single-quoted for a POSIX shell (caller frees); NULL when out of memory. */
char *tf_ssh_quote(const char *s);

/* One task of a fan-out: works on item i (usually a host) and fills err on failure. Called from
 * worker threads, so it must touch only item i's data. */
typedef int (*tf_ssh_task_fn)(void *arg, size_t i, struct tf_err *err);

/* Runs fn for i = 0..n-1 on at most parallel threads (0: TF_SSH_FANOUT_DEFAULT). results (n
 * entries, the caller's) receive each task's outcome in input order: code 0 for ok, else the
 * task's code and message. Returns 0 when every task succeeded, TF_E_FAIL naming how many
 * failed and the first failure, TF_E_IO when no thread could be started. */
int tf_ssh_fanout(size_t n, unsigned parallel, tf_ssh_task_fn fn, void *arg, struct tf_err *results,
                  struct tf_err *err) TF_MUST_CHECK;

#endif
