/* Mirror sources: a folder read in place, or a tar file streamed once through libarchive. */
#include "mirror/source.h"
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define KEEP_MAX (16u << 20)    /* largest member kept in memory */
#define KEEP_TOTAL (256u << 20) /* all members kept in memory together */
#define IO_BUF (1u << 20)

struct entry {
	char *name; /* relative to the top folder */
	int is_dir;
	uint64_t size;
	uint8_t sha256[TF_SHA256_LEN];
	uint8_t *data; /* kept .json members */
};

struct tf_mirror_src {
	char *path;
	int archive;
	char *top; /* the archive's top folder */
	struct entry *ents;
	size_t nents, cap;
	uint64_t total;
	int total_known;
};

/* Names come from manifests: refuse anything that could leave the mirror. */
static int name_ok(const char *name)
{
	const char *p = name;

	if (*name == '\0' || *name == '/')
		return 0;
	while (*p != '\0') {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

static struct entry *find(struct tf_mirror_src *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nents; i++)
		if (strcmp(s->ents[i].name, name) == 0)
			return &s->ents[i];
	return NULL;
}

static struct entry *add_entry(struct tf_mirror_src *s, const char *name, int is_dir)
{
	struct entry *e;

	if (s->nents == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct entry *ne = realloc(s->ents, ncap * sizeof(*ne));

		if (ne == NULL)
			return NULL;
		s->ents = ne;
		s->cap = ncap;
	}
	e = &s->ents[s->nents];
	memset(e, 0, sizeof(*e));
	if ((e->name = strdup(name)) == NULL)
		return NULL;
	e->is_dir = is_dir;
	s->nents++;
	return e;
}

/* Records every parent folder of name ("keys/x" -> "keys") so exists() finds it. */
static int add_parents(struct tf_mirror_src *s, const char *name)
{
	char *tmp = strdup(name), *slash;
	int r = 0;

	if (tmp == NULL)
		return -1;
	while ((slash = strrchr(tmp, '/')) != NULL) {
		*slash = '\0';
		if (find(s, tmp) == NULL && add_entry(s, tmp, 1) == NULL) {
			r = -1;
			break;
		}
	}
	free(tmp);
	return r;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static struct archive *archive_open(const char *path, struct tf_err *err)
{
	struct archive *a = archive_read_new();

	if (a == NULL) {
		tf_err_nomem(err);
		return NULL;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_filename(a, path, IO_BUF) != ARCHIVE_OK) {
		tf_err_set(err, TF_E_INPUT, "open archive '%s': %s", path, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Splits an archive member path into the top folder and the rest; NULL rest for the top
 * folder itself. -1 for paths that are absolute, hold "..", or have no top folder. */
static int split_member(const char *path, char **top, const char **rest)
{
	const char *p = path, *slash;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (*p == '\0' || *p == '/')
		return -1;
	slash = strchr(p, '/');
	if (slash == NULL) {
		*top = strdup(p);
		*rest = NULL;
		return *top == NULL ? -1 : 0;
	}
	*top = strndup(p, (size_t)(slash - p));
	*rest = slash + 1;
	if (*top == NULL || strcmp(*top, "..") == 0 || strcmp(*top, ".") == 0)
		return -1;
	if (**rest == '\0')
		*rest = NULL;
	return 0;
}

static int scan_archive(struct tf_mirror_src *s, struct tf_err *err)
{
	struct archive *a = NULL;
	struct archive_entry *ae;
	struct tf_sha256 *h = NULL;
	uint8_t *buf = NULL;
	uint64_t kept = 0;
	char *top = NULL;
	int r, ar;

	if ((a = archive_open(s->path, err)) == NULL)
		return err ? err->code : TF_E_INPUT;
	if ((h = tf_sha256_new()) == NULL || (buf = malloc(IO_BUF)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(ae), *rest = NULL;
		mode_t type = archive_entry_filetype(ae);
		struct entry *e;
		char *dupname = NULL;

		if (path == NULL || split_member(path, &top, &rest) != 0) {
			r = tf_err_set(err, TF_E_INPUT, "archive '%s': unsafe member '%s'", s->path,
			               path ? path : "(no name)");
			goto out;
		}
		if (s->top == NULL) {
			s->top = top;
			top = NULL;
		} else if (strcmp(s->top, top) != 0) {
			r = tf_err_set(err, TF_E_INPUT,
			               "archive '%s': more than one top folder ('%s', '%s')",
			               s->path, s->top, top);
			goto out;
		}
		free(top);
		top = NULL;
		if (rest == NULL)
			continue;
		if ((dupname = strdup(rest)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		if (ends_with(dupname, "/"))
			dupname[strlen(dupname) - 1] = '\0';
		if (!name_ok(dupname)) {
			r = tf_err_set(err, TF_E_INPUT, "archive '%s': unsafe member '%s'", s->path,
			               path);
			free(dupname);
			goto out;
		}
		if (type == AE_IFDIR) {
			if (find(s, dupname) == NULL && add_entry(s, dupname, 1) == NULL)
				r = tf_err_nomem(err);
			else
				r = add_parents(s, dupname) == 0 ? 0 : tf_err_nomem(err);
			free(dupname);
			if (r != 0)
				goto out;
			continue;
		}
		if (type != AE_IFREG) {
			/* links and devices have no place in a mirror: they are not files of it */
			free(dupname);
			continue;
		}
		if (find(s, dupname) != NULL) {
			r = tf_err_set(err, TF_E_INPUT, "archive '%s': member '%s' appears twice",
			               s->path, path);
			free(dupname);
			goto out;
		}
		e = add_entry(s, dupname, 0);
		r = (e == NULL || add_parents(s, dupname) != 0) ? -1 : 0;
		free(dupname);
		if (r != 0) {
			r = tf_err_nomem(err);
			goto out;
		}
		{
			int64_t declared = archive_entry_size(ae);
			int keep = ends_with(e->name, ".json") && declared >= 0 &&
			           (uint64_t)declared <= KEEP_MAX &&
			           kept + (uint64_t)declared <= KEEP_TOTAL;
			size_t cap = keep ? (size_t)declared : 0;

			if (keep && (e->data = malloc(cap + 1)) == NULL) {
				r = tf_err_nomem(err);
				goto out;
			}
			for (;;) {
				la_ssize_t n = archive_read_data(a, buf, IO_BUF);

				if (n < 0) {
					r = tf_err_set(err, TF_E_INPUT,
					               "archive '%s': read '%s': %s", s->path, path,
					               archive_error_string(a));
					goto out;
				}
				if (n == 0)
					break;
				if (tf_sha256_update(h, buf, (size_t)n) != 0) {
					r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
					goto out;
				}
				if (e->data != NULL) {
					if (e->size + (uint64_t)n > cap) {
						free(e->data);
						e->data = NULL;
					} else {
						memcpy(e->data + e->size, buf, (size_t)n);
					}
				}
				e->size += (uint64_t)n;
			}
			if (e->data != NULL) {
				e->data[e->size] = '\0';
				kept += e->size;
			}
			if (tf_sha256_final(h, e->sha256) != 0) {
				r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
				goto out;
			}
			s->total += e->size;
		}
	}
	if (ar != ARCHIVE_EOF) {
		r = tf_err_set(err, TF_E_INPUT, "archive '%s': %s", s->path,
		               archive_error_string(a));
		goto out;
	}
	if (s->top == NULL) {
		r = tf_err_set(err, TF_E_INPUT, "archive '%s': empty", s->path);
		goto out;
	}
	s->total_known = 1;
	r = 0;
out:
	free(top);
	free(buf);
	tf_sha256_free(h);
	archive_read_free(a);
	return r;
}

int tf_mirror_src_open(const char *path, struct tf_mirror_src **out, struct tf_err *err)
{
	struct tf_mirror_src *s = NULL;
	struct stat st;
	int r;

	if (stat(path, &st) != 0) {
		r = tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_IO, "mirror '%s'", path);
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->path = strdup(path)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		s->archive = 0;
	} else if (S_ISREG(st.st_mode)) {
		s->archive = 1;
		if ((r = scan_archive(s, err)) != 0)
			goto out;
	} else {
		r = tf_err_set(err, TF_E_INPUT, "mirror '%s': neither a folder nor a file", path);
		goto out;
	}
	*out = s;
	s = NULL; /* transferred */
	r = 0;
out:
	tf_mirror_src_free(s);
	return r;
}

void tf_mirror_src_free(struct tf_mirror_src *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nents; i++) {
		free(s->ents[i].name);
		free(s->ents[i].data);
	}
	free(s->ents);
	free(s->top);
	free(s->path);
	free(s);
}

int tf_mirror_src_is_archive(const struct tf_mirror_src *s)
{
	return s->archive;
}

static int open_in_folder(struct tf_mirror_src *s, const char *name, int *fd, struct stat *st,
                          struct tf_err *err)
{
	char *p = NULL;
	int r;

	*fd = -1;
	if (!name_ok(name))
		return tf_err_set(err, TF_E_INPUT, "mirror '%s': unsafe file name '%s'", s->path,
		                  name);
	if ((p = tf_path_join(s->path, name)) == NULL)
		return tf_err_nomem(err);
	if ((*fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
		r = tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_IO, "open '%s'", p);
		goto out;
	}
	if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
		r = tf_err_set(err, TF_E_INPUT, "'%s' is not a regular file", p);
		close(*fd);
		*fd = -1;
		goto out;
	}
	r = 0;
out:
	free(p);
	return r;
}

int tf_mirror_src_read(struct tf_mirror_src *s, const char *name, size_t max, uint8_t **out,
                       size_t *len, struct tf_err *err)
{
	uint8_t *buf = NULL;
	char *text = NULL;
	struct stat st;
	int fd = -1, r;

	if (s->archive) {
		struct entry *e = find(s, name);

		if (e == NULL || e->is_dir)
			return tf_err_set(err, TF_E_NOTFOUND, "'%s/%s' is absent from '%s'", s->top,
			                  name, s->path);
		if (e->size > max)
			return tf_err_set(err, TF_E_INPUT,
			                  "'%s' has %llu bytes, over the limit of %zu", name,
			                  (unsigned long long)e->size, max);
		if (e->data == NULL)
			return tf_err_set(err, TF_E_INPUT, "'%s' is too large to hold in memory",
			                  name);
		if ((buf = malloc((size_t)e->size + 1)) == NULL)
			return tf_err_nomem(err);
		memcpy(buf, e->data, (size_t)e->size + 1);
		*out = buf;
		*len = (size_t)e->size;
		return 0;
	}
	if ((r = open_in_folder(s, name, &fd, &st, err)) != 0)
		goto out;
	if ((uint64_t)st.st_size > max) {
		r = tf_err_set(err, TF_E_INPUT, "'%s' has %llu bytes, over the limit of %zu", name,
		               (unsigned long long)st.st_size, max);
		goto out;
	}
	if ((r = tf_read_fd(fd, name, max, &text, len, err)) == 0)
		*out = (uint8_t *)text; /* NUL-terminated, as the archive branch's copy */
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int tf_mirror_src_digest(struct tf_mirror_src *s, const char *name, uint8_t sha[TF_SHA256_LEN],
                         uint64_t *len, struct tf_err *err)
{
	char *p;
	int r;

	if (s->archive) {
		struct entry *e = find(s, name);

		if (e == NULL || e->is_dir)
			return tf_err_set(err, TF_E_NOTFOUND, "'%s/%s' is absent from '%s'", s->top,
			                  name, s->path);
		memcpy(sha, e->sha256, TF_SHA256_LEN);
		*len = e->size;
		return 0;
	}
	if (!name_ok(name))
		return tf_err_set(err, TF_E_INPUT, "mirror '%s': unsafe file name '%s'", s->path,
		                  name);
	if ((p = tf_path_join(s->path, name)) == NULL)
		return tf_err_nomem(err);
	r = tf_sha256_file(p, sha, len, err);
	free(p);
	return r;
}

int tf_mirror_src_exists(struct tf_mirror_src *s, const char *name)
{
	struct stat st;
	char *p;
	int ok;

	if (!name_ok(name))
		return 0;
	if (s->archive)
		return find(s, name) != NULL;
	if ((p = tf_path_join(s->path, name)) == NULL)
		return 0;
	ok = lstat(p, &st) == 0;
	free(p);
	return ok;
}

static uint64_t tree_size(int dfd, int depth)
{
	uint64_t total = 0;
	struct dirent *de;
	DIR *d;

	if (depth > 32 || (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			total += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				total += tree_size(sub, depth + 1);
		}
	}
	closedir(d);
	return total;
}

uint64_t tf_mirror_src_total_size(const struct tf_mirror_src *s)
{
	int fd;

	if (s->archive || s->total_known)
		return s->total;
	fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	return tree_size(fd, 0);
}

/* A writer that hashes what it writes into a temporary file next to the target. */
struct sink {
	int fd;
	char *tmp;
	char *final;
	struct tf_sha256 *h;
	uint64_t n;
};

static int sink_open(struct sink *k, const char *dir, const char *name, struct tf_err *err)
{
	memset(k, 0, sizeof(*k));
	k->fd = -1;
	if (!name_ok(name) || strchr(name, '/') != NULL)
		return tf_err_set(err, TF_E_INPUT, "unsafe file name '%s'", name);
	if ((k->final = tf_path_join(dir, name)) == NULL || (k->h = tf_sha256_new()) == NULL)
		return tf_err_nomem(err);
	if (asprintf(&k->tmp, "%s.tmp-%ld", k->final, (long)getpid()) < 0) {
		k->tmp = NULL;
		return tf_err_nomem(err);
	}
	k->fd = open(k->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (k->fd < 0)
		return tf_err_sys(err, TF_E_IO, "create '%s'", k->tmp);
	return 0;
}

static int sink_write(struct sink *k, const void *p, size_t n, struct tf_err *err)
{
	int r;

	if (tf_sha256_update(k->h, p, n) != 0)
		return tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
	if ((r = tf_write_all(k->fd, p, n, err)) != 0) {
		tf_err_prefix(err, "'%s'", k->tmp);
		return r;
	}
	k->n += n;
	return 0;
}

static int sink_close(struct sink *k, const struct tf_mirror_copy *want, struct tf_err *err)
{
	uint8_t d[TF_SHA256_LEN];

	if (tf_sha256_final(k->h, d) != 0)
		return tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
	if (k->n != want->length)
		return tf_err_set(err, TF_E_FAIL, "'%s': length %llu, the manifest says %llu",
		                  want->name, (unsigned long long)k->n,
		                  (unsigned long long)want->length);
	if (memcmp(d, want->sha256, sizeof(d)) != 0)
		return tf_err_set(err, TF_E_FAIL, "'%s': sha256 differs from the manifest's",
		                  want->name);
	if (fsync(k->fd) != 0)
		return tf_err_sys(err, TF_E_IO, "fsync '%s'", k->tmp);
	if (close(k->fd) != 0) {
		k->fd = -1;
		return tf_err_sys(err, TF_E_IO, "close '%s'", k->tmp);
	}
	k->fd = -1;
	if (rename(k->tmp, k->final) != 0)
		return tf_err_sys(err, TF_E_IO, "rename '%s' to '%s'", k->tmp, k->final);
	free(k->tmp);
	k->tmp = NULL;
	return 0;
}

static void sink_release(struct sink *k)
{
	if (k->fd >= 0)
		close(k->fd);
	if (k->tmp != NULL)
		unlink(k->tmp);
	free(k->tmp);
	free(k->final);
	tf_sha256_free(k->h);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

static int copy_folder_file(struct tf_mirror_src *s, const struct tf_mirror_copy *f,
                            const char *dir, uint8_t *buf, struct tf_err *err)
{
	struct sink k;
	struct stat st;
	int fd = -1, r;

	if ((r = sink_open(&k, dir, f->dest ? f->dest : f->name, err)) != 0)
		goto out;
	if ((r = open_in_folder(s, f->name, &fd, &st, err)) != 0)
		goto out;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = read(fd, buf, IO_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = tf_err_sys(err, TF_E_IO, "read '%s'", f->name);
			goto out;
		}
		if (n == 0)
			break;
		if ((r = sink_write(&k, buf, (size_t)n, err)) != 0)
			goto out;
	}
	r = sink_close(&k, f, err);
out:
	if (fd >= 0)
		close(fd);
	sink_release(&k);
	return r;
}

static const struct tf_mirror_copy *wanted(const struct tf_mirror_copy *files, size_t n,
                                           const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(files[i].name, name) == 0)
			return &files[i];
	return NULL;
}

static int copy_archive(struct tf_mirror_src *s, const struct tf_mirror_copy *files, size_t n,
                        const char *dir, uint8_t *buf, struct tf_err *err)
{
	struct archive *a = NULL;
	struct archive_entry *ae;
	char *done = NULL, *top = NULL;
	size_t i, got = 0;
	int r, ar = ARCHIVE_OK;

	if ((done = calloc(n ? n : 1, 1)) == NULL)
		return tf_err_nomem(err);
	if ((a = archive_open(s->path, err)) == NULL) {
		r = err ? err->code : TF_E_INPUT;
		goto out;
	}
	while (got < n && (ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(ae), *rest = NULL;
		const struct tf_mirror_copy *f;
		struct sink k;

		free(top);
		top = NULL;
		if (archive_entry_filetype(ae) != AE_IFREG || path == NULL ||
		    split_member(path, &top, &rest) != 0 || rest == NULL ||
		    strcmp(top, s->top) != 0 || (f = wanted(files, n, rest)) == NULL ||
		    done[f - files])
			continue;
		if ((r = sink_open(&k, dir, f->dest ? f->dest : f->name, err)) != 0) {
			sink_release(&k);
			goto out;
		}
		for (;;) {
			la_ssize_t m = archive_read_data(a, buf, IO_BUF);

			if (m < 0) {
				r = tf_err_set(err, TF_E_INPUT, "archive '%s': read '%s': %s",
				               s->path, path, archive_error_string(a));
				sink_release(&k);
				goto out;
			}
			if (m == 0)
				break;
			if ((r = sink_write(&k, buf, (size_t)m, err)) != 0) {
				sink_release(&k);
				goto out;
			}
		}
		r = sink_close(&k, f, err);
		sink_release(&k);
		if (r != 0)
			goto out;
		done[f - files] = 1;
		got++;
	}
	if (got < n && ar != ARCHIVE_EOF) {
		r = tf_err_set(err, TF_E_INPUT, "archive '%s': %s", s->path,
		               archive_error_string(a));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!done[i]) {
			r = tf_err_set(err, TF_E_NOTFOUND, "'%s' is absent from '%s'",
			               files[i].name, s->path);
			goto out;
		}
	}
	r = 0;
out:
	free(top);
	free(done);
	archive_read_free(a);
	return r;
}

int tf_mirror_src_copy(struct tf_mirror_src *s, const struct tf_mirror_copy *files, size_t n,
                       const char *dir, struct tf_err *err)
{
	uint8_t *buf = malloc(IO_BUF);
	size_t i;
	int r = 0;

	if (buf == NULL)
		return tf_err_nomem(err);
	if (s->archive) {
		r = copy_archive(s, files, n, dir, buf, err);
	} else {
		for (i = 0; i < n && r == 0; i++)
			r = copy_folder_file(s, &files[i], dir, buf, err);
	}
	free(buf);
	return r;
}
