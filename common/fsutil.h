/* Safe file helpers: bounded reads, atomic fsync'd writes, private directories, removal. */
#ifndef TF_COMMON_FSUTIL_H
#define TF_COMMON_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* Reads the whole file at path (at most max bytes, else TF_E_INPUT) into *out (NUL-terminated,
 * caller frees) and its length into *len. */
int tf_read_file(const char *path, size_t max, char **out, size_t *len,
                 struct tf_err *err) TF_MUST_CHECK;
/* Reads fd to its end (at most max bytes, else TF_E_INPUT naming name) into *out
 * (NUL-terminated, caller frees) and its length into *len; fd stays open. */
int tf_read_fd(int fd, const char *name, size_t max, char **out, size_t *len,
               struct tf_err *err) TF_MUST_CHECK;
/* Writes data to path atomically: a temporary file in the same folder with mode, fsync,
 * rename, fsync of the folder. Never leaves a partial file at path. */
int tf_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct tf_err *err) TF_MUST_CHECK;
/* Writes all of len bytes to fd, retrying short writes. */
int tf_write_all(int fd, const void *data, size_t len, struct tf_err *err) TF_MUST_CHECK;
/* Creates path and missing parents with mode (existing folders are left as they are). */
int tf_mkdir_p(const char *path, mode_t mode, struct tf_err *err) TF_MUST_CHECK;
/* Creates a fresh private (0700) folder "<parent>/<prefix>XXXXXX"; *out is its path (caller
 * frees). */
int tf_mkdtemp_private(const char *parent, const char *prefix, char **out,
                       struct tf_err *err) TF_MUST_CHECK;
/* Removes path and everything below it without following symbolic links. Missing is fine. */
int tf_rmtree(const char *path, struct tf_err *err) TF_MUST_CHECK;
/* Overwrites len bytes at p with zeros in a way the compiler keeps. */
void tf_wipe(void *p, size_t len);
/* Joins a and b with one '/' into a new string (caller frees); NULL when out of memory. */
char *tf_path_join(const char *a, const char *b);

#endif
