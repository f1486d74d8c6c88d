/* The key-tightening steps' remote commands and their judging (installer/enable_keys.c): pure,
 * unit-tested. */
#ifndef TF_INSTALLER_ENABLE_KEYS_H
#define TF_INSTALLER_ENABLE_KEYS_H

#include <stddef.h>

/* The privileged command run on a host for one <deploy_dir>/tls folder: every *.pem in it
 * chown'd to user and chmod'd 0600 (caller frees; NULL when out of memory). Issue 12 §2d: this
 * is the one command to route through sudo. */
char *tf_keys_privileged_command(const char *tls_dir, const char *user);
/* The read-only command that lists every *.pem of the folders with mode, owner and type. */
char *tf_keys_list_command(const char *const *tls_dirs, size_t n);
/* 0 when the list command's output is complete and every key in it is a regular file of mode
 * 0600 or tighter owned by user (*nkeys: how many); -1 with bad naming the first offender. */
int tf_keys_judge(const char *out, const char *user, size_t *nkeys, char *bad, size_t blen);

#endif
