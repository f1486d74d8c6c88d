/* Safe file helpers. */
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tf_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

char *tf_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int slash = la > 0 && a[la - 1] != '/';
	char *s = malloc(la + (size_t)slash + lb + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, a, la);
	if (slash)
		s[la] = '/';
	memcpy(s + la + (size_t)slash, b, lb + 1);
	return s;
}

int tf_read_fd(int fd, const char *name, size_t max, char **out, size_t *len, struct tf_err *err)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int r;

	for (;;) {
		ssize_t got;

		if (n == cap) {
			size_t ncap = cap == 0 ? 4096 : cap * 2;
			char *nb;

			if (cap > max) {
				r = tf_err_set(err, TF_E_INPUT, "'%s' is larger than %zu bytes",
				               name, max);
				goto out;
			}
			if ((nb = realloc(buf, ncap + 1)) == NULL) {
				r = tf_err_set(err, TF_E_NOMEM, "out of memory reading '%s'", name);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = tf_err_sys(err, TF_E_IO, "read '%s'", name);
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		r = tf_err_set(err, TF_E_INPUT, "'%s' is larger than %zu bytes", name, max);
		goto out;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		r = tf_err_set(err, TF_E_NOMEM, "out of memory reading '%s'", name);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL; /* transferred */
	*len = n;
	r = 0;
out:
	free(buf);
	return r;
}

int tf_read_file(const char *path, size_t max, char **out, size_t *len, struct tf_err *err)
{
	struct stat st;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_IO, "open '%s'",
		                  path);
	if (fstat(fd, &st) != 0)
		r = tf_err_sys(err, TF_E_IO, "stat '%s'", path);
	else if (S_ISDIR(st.st_mode))
		r = tf_err_set(err, TF_E_INPUT, "'%s' is a folder, not a file", path);
	else
		r = tf_read_fd(fd, path, max, out, len, err);
	close(fd);
	return r;
}

int tf_write_all(int fd, const void *data, size_t len, struct tf_err *err)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return tf_err_sys(err, TF_E_IO, "write");
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_parent(const char *path, struct tf_err *err)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, r = 0;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return tf_err_set(err, TF_E_INPUT, "path too long: '%s'", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return tf_err_sys(err, TF_E_IO, "open folder '%s'", dir);
	if (fsync(fd) != 0)
		r = tf_err_sys(err, TF_E_IO, "fsync folder '%s'", dir);
	close(fd);
	return r;
}

int tf_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct tf_err *err)
{
	char tmp[PATH_MAX];
	int fd = -1, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return tf_err_set(err, TF_E_INPUT, "path too long: '%s'", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = tf_err_sys(err, TF_E_IO, "create '%s'", tmp);
		goto out;
	}
	if (fchmod(fd, mode) != 0) {
		r = tf_err_sys(err, TF_E_IO, "chmod '%s'", tmp);
		goto out;
	}
	if ((r = tf_write_all(fd, data, len, err)) != 0) {
		tf_err_prefix(err, "'%s'", tmp);
		goto out;
	}
	if (fsync(fd) != 0) {
		r = tf_err_sys(err, TF_E_IO, "fsync '%s'", tmp);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = tf_err_sys(err, TF_E_IO, "close '%s'", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = tf_err_sys(err, TF_E_IO, "rename '%s' to '%s'", tmp, path);
		goto out;
	}
	tmp[0] = '\0';
	r = fsync_parent(path, err);
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	return r;
}

int tf_mkdir_p(const char *path, mode_t mode, struct tf_err *err)
{
	char buf[PATH_MAX];
	size_t i, len;

	if ((len = strlen(path)) == 0 || len >= sizeof(buf))
		return tf_err_set(err, TF_E_INPUT, "bad folder path '%s'", path);
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return tf_err_sys(err, TF_E_IO, "create folder '%s'", buf);
		buf[i] = path[i];
	}
	return 0;
}

int tf_mkdtemp_private(const char *parent, const char *prefix, char **out, struct tf_err *err)
{
	char *p;
	size_t n = strlen(parent) + strlen(prefix) + 8;

	if ((p = malloc(n + 1)) == NULL)
		return tf_err_nomem(err);
	snprintf(p, n + 1, "%s/%sXXXXXX", parent, prefix);
	if (mkdtemp(p) == NULL) {
		int r = tf_err_sys(err, TF_E_IO, "create private folder under '%s'", parent);

		free(p);
		return r;
	}
	/* mkdtemp creates 0700 already; chmod guards against an odd umask-less libc. */
	if (chmod(p, 0700) != 0) {
		int r = tf_err_sys(err, TF_E_IO, "chmod '%s'", p);

		rmdir(p);
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

static int rmtree_at(int at, const char *name, const char *shown, struct tf_err *err)
{
	struct stat st;
	int fd, r = 0;
	DIR *d;
	struct dirent *e;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return tf_err_sys(err, TF_E_IO, "stat '%s'", shown);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(at, name, 0) != 0 && errno != ENOENT)
			return tf_err_sys(err, TF_E_IO, "remove '%s'", shown);
		return 0;
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return tf_err_sys(err, TF_E_IO, "open folder '%s'", shown);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return tf_err_sys(err, TF_E_IO, "read folder '%s'", shown);
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((r = rmtree_at(dirfd(d), e->d_name, shown, err)) != 0)
			break;
	}
	closedir(d);
	if (r == 0 && unlinkat(at, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		r = tf_err_sys(err, TF_E_IO, "remove folder '%s'", shown);
	return r;
}

int tf_rmtree(const char *path, struct tf_err *err)
{
	return rmtree_at(AT_FDCWD, path, path, err);
}
