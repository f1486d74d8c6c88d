/* The sshd fixture shared by test_ssh and test_preflight (see sshd_fixture.c). */
#ifndef TF_TESTS_SSHD_FIXTURE_H
#define TF_TESTS_SSHD_FIXTURE_H

#include <limits.h>
#include <sys/types.h>

#include "cluster/ssh.h"

#define NFAN 32

/* OpenSSH listens on at most 16 sockets: the 32 fan-out hosts take two sshd. */
enum { SSHD_MAIN, SSHD_DROP, SSHD_DOWN, SSHD_FAN, SSHD_FAN2, NSSHD };

extern char dir[PATH_MAX];
extern unsigned port;
extern pid_t sshd_pid[NSSHD];
extern char key_path[PATH_MAX + 16], kh_path[PATH_MAX + 16];
extern const char *const main_addrs[];
extern const char *const drop_addrs[];
extern const char *const down_addrs[];
extern const char *fan_addrs[NFAN + 1];
extern const char *fan_half[2][NFAN / 2 + 1];

/* name under the test's folder (one of 8 rotating buffers). */
char *path(const char *name);
/* A listening socket on addr:p (close it), or -1. */
int listen_on(const char *addr, unsigned p);
void kill_descendants(pid_t root);
void start_sshd(int idx, const char *const *addrs);
void stop_sshd(int idx);
/* known_hosts lines for addrs with the public key of host key idx. */
void pin(const char *file, const char *const *addrs, int idx, const char *mode);
/* cmocka group setup and teardown: every sshd up, known_hosts pinned; all stopped. */
int sshd_setup(void **state);
int sshd_teardown(void **state);
struct tf_ssh_opts opts(const char *host);
struct tf_ssh *conn(const char *host);
/* Whether a process with exactly this command line (spaces for NULs) runs. */
int running(const char *cmdline);

#endif
