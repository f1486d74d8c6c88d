/* Passphrases from a file, a file descriptor, the environment or the terminal (without echo). */
#ifndef TF_COMMON_SECRET_H
#define TF_COMMON_SECRET_H

#include <stddef.h>

#include "common/err.h"

#define TF_SECRET_MAX 1024 /* bytes of one passphrase */

/* Reads a passphrase from source, in the spirit of openssl's -passin:
 *   "file:PATH"  the first line of the file (its line ending removed)
 *   "fd:N"       the first line read from file descriptor N
 *   "env:NAME"   the value of the environment variable NAME
 *   "tty"        typed at the controlling terminal after prompt, without echo; with confirm the
 *                terminal asks twice and the two must match
 * *out is NUL-terminated; free it with tf_secret_free. An empty passphrase is refused. */
int tf_secret_read(const char *source, const char *prompt, int confirm, char **out,
                   struct tf_err *err) TF_MUST_CHECK;
int tf_secret_read_file(const char *path, char **out, struct tf_err *err) TF_MUST_CHECK;
int tf_secret_read_fd(int fd, char **out, struct tf_err *err) TF_MUST_CHECK;
int tf_secret_read_env(const char *name, char **out, struct tf_err *err) TF_MUST_CHECK;
/* Opens /dev/tty, writes prompt there (never to stdout), turns echo off while reading and
 * restores the terminal even when interrupted by an error. */
int tf_secret_read_tty(const char *prompt, int confirm, char **out,
                       struct tf_err *err) TF_MUST_CHECK;
/* Wipes and frees a string from tf_secret_read*; takes NULL. */
void tf_secret_free(char *s);

#endif
