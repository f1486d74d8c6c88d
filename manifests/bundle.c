/* The bundle as a tar archive: writing, header scans that seek over data, streaming
 * verification and extraction, and in-place appending of signatures. */
#include "manifests/bundle.h"
#include "common/fsutil.h"
#include "common/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define IO_BLOCK (1u << 20)
#define TRAILER_MAX (1u << 20) /* zero bytes allowed after the end-of-archive marker */
#define MAX_ENTRIES (TF_MANIFEST_MAX_FILES + 1 + TF_SIGS_MAX)
#define KEYID_LEN (TF_SHA256_HEX - 1) /* a key id's hex digits */
#define TRAILER_READ 4096             /* bytes read at a time after the end marker */

static int arch_err(struct tf_err *err, struct archive *a, const char *path)
{
	const char *s = archive_error_string(a);

	return tf_err_set(err, TF_E_REJECT, "'%s': not a readable tar archive: %s", path,
	                  s ? s : "unknown error");
}

/* ---- writing ---- */

struct tf_bundle_writer {
	struct archive *a;
	int fd;
	char *path;
	time_t mtime;
	int finished;
	uint8_t *buf;
};

int tf_bundle_writer_open(const char *path, time_t mtime, struct tf_bundle_writer **out,
                          struct tf_err *err)
{
	struct tf_bundle_writer *w = NULL;
	int r;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return tf_err_nomem(err);
	w->fd = -1;
	w->mtime = mtime;
	if ((w->path = strdup(path)) == NULL || (w->buf = malloc(IO_BLOCK)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		r = tf_err_sys(err, errno == EEXIST ? TF_E_INPUT : TF_E_IO, "create '%s'", path);
		free(w->path);
		w->path = NULL; /* not ours: never remove it */
		goto out;
	}
	if ((w->a = archive_write_new()) == NULL ||
	    archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 64 * 1024) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(w->a, w->fd) != ARCHIVE_OK) {
		r = tf_err_set(err, TF_E_IO, "'%s': %s", path,
		               w->a ? archive_error_string(w->a) : "out of memory");
		goto out;
	}
	*out = w;
	w = NULL; /* transferred */
	r = 0;
out:
	tf_bundle_writer_free(w);
	return r;
}

static struct archive_entry *new_entry(const char *path, uint64_t size, unsigned mode, time_t mtime)
{
	struct archive_entry *e = archive_entry_new();

	if (e == NULL)
		return NULL;
	archive_entry_set_pathname(e, path);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, mode & 0777);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	return e;
}

static int write_header(struct tf_bundle_writer *w, const char *path, uint64_t size, unsigned mode,
                        struct tf_err *err)
{
	struct archive_entry *e = new_entry(path, size, mode, w->mtime);
	int r = 0;

	if (e == NULL)
		return tf_err_nomem(err);
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		r = tf_err_set(err, TF_E_IO, "'%s': write entry '%s': %s", w->path, path,
		               archive_error_string(w->a));
	archive_entry_free(e);
	return r;
}

static int write_data(struct tf_bundle_writer *w, const void *data, size_t len, struct tf_err *err)
{
	la_ssize_t n = archive_write_data(w->a, data, len);

	if (n < 0 || (size_t)n != len)
		return tf_err_set(err, TF_E_IO, "'%s': write: %s", w->path,
		                  archive_error_string(w->a));
	return 0;
}

int tf_bundle_writer_add_file(struct tf_bundle_writer *w, const char *path, const char *src,
                              unsigned mode, struct tf_manifest *m, struct tf_progress *pr,
                              struct tf_err *err)
{
	struct tf_sha256 *c = NULL;
	uint8_t d[TF_SHA256_LEN];
	struct stat st;
	uint64_t left;
	int fd = -1, r;

	if (!tf_bundle_path_ok(path))
		return tf_err_set(err, TF_E_INPUT, "bad bundle path '%s'", path);
	if ((fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_INPUT, "open '%s'", src);
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = tf_err_set(err, TF_E_INPUT, "'%s' is not a regular file", src);
		goto out;
	}
	if ((c = tf_sha256_new()) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = write_header(w, path, (uint64_t)st.st_size, mode, err)) != 0)
		goto out;
	for (left = (uint64_t)st.st_size; left > 0;) {
		ssize_t n = read(fd, w->buf, left < IO_BLOCK ? (size_t)left : IO_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = tf_err_sys(err, TF_E_IO, "read '%s'", src);
			goto out;
		}
		if (n == 0) {
			r = tf_err_set(err, TF_E_IO, "'%s' shrank while being packed", src);
			goto out;
		}
		if (tf_sha256_update(c, w->buf, (size_t)n) != 0) {
			r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
			goto out;
		}
		if ((r = write_data(w, w->buf, (size_t)n, err)) != 0)
			goto out;
		left -= (uint64_t)n;
		if (pr != NULL)
			tf_progress_add(pr, (uint64_t)n);
	}
	if (tf_sha256_final(c, d) != 0) {
		r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
		goto out;
	}
	r = tf_manifest_add_file(m, path, (uint64_t)st.st_size, mode, d, err);
out:
	if (fd >= 0)
		close(fd);
	tf_sha256_free(c);
	return r;
}

int tf_bundle_writer_add_bytes(struct tf_bundle_writer *w, const char *path, const void *data,
                               size_t len, unsigned mode, struct tf_manifest *m, struct tf_err *err)
{
	uint8_t d[TF_SHA256_LEN];
	int r;

	if (!tf_bundle_path_ok(path))
		return tf_err_set(err, TF_E_INPUT, "bad bundle path '%s'", path);
	if (tf_sha256(data, len, d) != 0)
		return tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
	if ((r = write_header(w, path, len, mode, err)) != 0 ||
	    (r = write_data(w, data, len, err)) != 0)
		return r;
	return tf_manifest_add_file(m, path, len, mode, d, err);
}

int tf_bundle_writer_finish(struct tf_bundle_writer *w, const char *manifest, size_t len,
                            struct tf_err *err)
{
	int r;

	if ((r = write_header(w, TF_MANIFEST_NAME, len, 0644, err)) != 0 ||
	    (r = write_data(w, manifest, len, err)) != 0)
		return r;
	if (archive_write_close(w->a) != ARCHIVE_OK)
		return tf_err_set(err, TF_E_IO, "'%s': %s", w->path, archive_error_string(w->a));
	if (fsync(w->fd) != 0)
		return tf_err_sys(err, TF_E_IO, "fsync '%s'", w->path);
	w->finished = 1;
	return 0;
}

void tf_bundle_writer_free(struct tf_bundle_writer *w)
{
	if (w == NULL)
		return;
	if (w->a != NULL)
		archive_write_free(w->a);
	if (w->fd >= 0)
		close(w->fd);
	if (!w->finished && w->path != NULL)
		unlink(w->path);
	free(w->path);
	free(w->buf);
	free(w);
}

/* ---- reading ---- */

struct reader {
	struct archive *a;
	int fd;
	const char *path;
};

static int reader_open(struct reader *rd, const char *path, int flags, struct tf_err *err)
{
	struct stat st;

	rd->path = path;
	rd->a = NULL;
	if ((rd->fd = open(path, flags | O_CLOEXEC)) < 0)
		return tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_IO, "open '%s'",
		                  path);
	if (fstat(rd->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return tf_err_set(err, TF_E_INPUT, "'%s' is not a regular file", path);
	/* A writer holds the lock from before its scan until its append is on disk. */
	if ((flags & O_ACCMODE) == O_RDWR && flock(rd->fd, LOCK_EX) != 0)
		return tf_err_sys(err, TF_E_IO, "lock '%s'", path);
	/* Only uncompressed tar: no filter is enabled, so anything else fails to open. */
	if ((rd->a = archive_read_new()) == NULL ||
	    archive_read_support_format_tar(rd->a) != ARCHIVE_OK)
		return tf_err_nomem(err);
	if (archive_read_open_fd(rd->a, rd->fd, IO_BLOCK) != ARCHIVE_OK)
		return arch_err(err, rd->a, path);
	return 0;
}

static void reader_close(struct reader *rd)
{
	if (rd->a != NULL)
		archive_read_free(rd->a);
	if (rd->fd >= 0)
		close(rd->fd);
	rd->a = NULL;
	rd->fd = -1;
}

enum kind { K_PAYLOAD, K_MANIFEST, K_SIG };

/* Checks one header: a plain regular file with an acceptable name of a known kind. */
static int classify(struct archive_entry *e, const char *bundle, enum kind *k, char *keyid,
                    struct tf_err *err)
{
	const char *name = archive_entry_pathname(e);
	size_t n;

	if (name == NULL)
		return tf_err_set(err, TF_E_REJECT, "'%s': entry without a name", bundle);
	if (archive_entry_hardlink(e) != NULL)
		return tf_err_set(err, TF_E_REJECT, "entry '%s': hard links are not allowed", name);
	if (archive_entry_symlink(e) != NULL || archive_entry_filetype(e) == AE_IFLNK)
		return tf_err_set(err, TF_E_REJECT, "entry '%s': symbolic links are not allowed",
		                  name);
	if (archive_entry_filetype(e) != AE_IFREG)
		return tf_err_set(
		    err, TF_E_REJECT,
		    "entry '%s': only regular files are allowed (devices, folders, fifos are not)",
		    name);
	if (archive_entry_sparse_count(e) > 0 || !archive_entry_size_is_set(e) ||
	    archive_entry_size(e) < 0)
		return tf_err_set(err, TF_E_REJECT, "entry '%s': sparse or unsized entry", name);
	if (!tf_bundle_path_ok(name))
		return tf_err_set(
		    err, TF_E_REJECT,
		    "entry '%s': unsafe path (absolute, '..', empty or control characters)", name);
	if (archive_entry_perm(e) & ~0777u)
		return tf_err_set(err, TF_E_REJECT, "entry '%s': setuid, setgid or sticky bit",
		                  name);
	if (strcmp(name, TF_MANIFEST_NAME) == 0) {
		*k = K_MANIFEST;
		return 0;
	}
	if (strncmp(name, TF_PAYLOAD_PREFIX, strlen(TF_PAYLOAD_PREFIX)) == 0) {
		*k = K_PAYLOAD;
		return 0;
	}
	n = strlen(name);
	if (n == strlen(TF_SIG_DIR) + KEYID_LEN + strlen(TF_SIG_SUFFIX) &&
	    strncmp(name, TF_SIG_DIR, strlen(TF_SIG_DIR)) == 0 &&
	    strcmp(name + n - strlen(TF_SIG_SUFFIX), TF_SIG_SUFFIX) == 0) {
		memcpy(keyid, name + strlen(TF_SIG_DIR), KEYID_LEN);
		keyid[KEYID_LEN] = '\0';
		if (tf_hex_is_lower(keyid, KEYID_LEN)) {
			*k = K_SIG;
			return 0;
		}
	}
	return tf_err_set(err, TF_E_REJECT, "entry '%s' is not part of the bundle format", name);
}

/* The tar header types the format names: a regular file ('0', or NUL in old headers), and one
 * pax extended header ('x') before it where ustar cannot hold a name. libarchive consumes the
 * others without a trace (a pax global header 'g', a GNU volume header 'V', GNU long names 'L'
 * and 'K') or reads them as regular files (contiguous '7', any vendor letter), while GNU tar
 * acts on them: a global header renames every entry for an auditor's `tar -xOf B manifest.json`.
 * So the raw header blocks of every entry are read again here, from the first one libarchive
 * consumed for it to its own. */
#define TAR_BLOCK 512
#define TAR_TYPEFLAG 156
#define TAR_SIZE 124
#define PAX_MAX 65536u /* tiferry-build's pax headers hold one name of <= 1024 bytes */

static const char *header_type_name(unsigned char t)
{
	switch (t) {
	case 'g':
		return "a pax global header";
	case 'x':
		return "a second pax extended header";
	case 'V':
		return "a GNU volume header";
	case 'L':
	case 'K':
		return "a GNU long name";
	case 'M':
		return "a GNU multi-volume continuation";
	case 'S':
		return "a GNU sparse file";
	case '7':
		return "a contiguous file";
	default:
		return "an entry type the format does not name";
	}
}

/* The value of a header's octal size field; -1 when it is not plain octal. */
static long long header_size(const unsigned char *h)
{
	long long v = 0;
	size_t i = 0;

	while (i < 12 && h[TAR_SIZE + i] == ' ')
		i++;
	if (i == 12 || h[TAR_SIZE + i] < '0' || h[TAR_SIZE + i] > '7')
		return -1;
	for (; i < 12 && h[TAR_SIZE + i] >= '0' && h[TAR_SIZE + i] <= '7'; i++)
		v = v * 8 + (h[TAR_SIZE + i] - '0');
	return v;
}

static int check_header_types(struct reader *rd, const char *name, struct tf_err *err)
{
	uint64_t pos = (uint64_t)archive_read_header_position(rd->a);
	unsigned char h[TAR_BLOCK];
	int pax = 0;

	for (;;) {
		long long size;
		unsigned char t;

		if (pread(rd->fd, h, sizeof(h), (off_t)pos) != (ssize_t)sizeof(h))
			return tf_err_set(err, TF_E_REJECT, "entry '%s': header truncated", name);
		t = h[TAR_TYPEFLAG];
		if (t == '0' || t == '\0')
			return 0;
		if (t != 'x' || pax) {
			if (t >= 0x20 && t < 0x7f)
				return tf_err_set(err, TF_E_REJECT,
				                  "entry '%s': tar header type '%c' (%s) is not "
				                  "part of the bundle format",
				                  name, t, header_type_name(t));
			return tf_err_set(err, TF_E_REJECT,
			                  "entry '%s': tar header type 0x%02x (%s) is not part of "
			                  "the bundle format",
			                  name, t, header_type_name(t));
		}
		if ((size = header_size(h)) < 0 || size > PAX_MAX)
			return tf_err_set(err, TF_E_REJECT,
			                  "entry '%s': pax extended header larger than %u bytes",
			                  name, PAX_MAX);
		pax = 1;
		pos += TAR_BLOCK + ((uint64_t)size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
	}
}

/* Reads the current entry's data (at most max bytes, else rejected) into a new buffer. */
static int read_small(struct reader *rd, struct archive_entry *e, size_t max, char **out,
                      size_t *len, struct tf_err *err)
{
	la_int64_t size = archive_entry_size(e);
	char *buf;
	la_ssize_t n;

	if (size < 0 || (uint64_t)size > max)
		return tf_err_set(err, TF_E_REJECT, "entry '%s' is larger than %zu bytes",
		                  archive_entry_pathname(e), max);
	if ((buf = malloc((size_t)size + 1)) == NULL)
		return tf_err_nomem(err);
	n = size > 0 ? archive_read_data(rd->a, buf, (size_t)size) : 0;
	if (n != size) {
		free(buf);
		return n < 0 ? arch_err(err, rd->a, rd->path)
		             : tf_err_set(err, TF_E_REJECT, "entry '%s' is truncated",
		                          archive_entry_pathname(e));
	}
	buf[size] = '\0';
	*out = buf;
	*len = (size_t)size;
	return 0;
}

void tf_bundle_scan_release(struct tf_bundle_scan *s)
{
	size_t i;

	free(s->manifest);
	for (i = 0; i < s->nsigs; i++)
		free(s->sigs[i].sig);
	free(s->sigs);
	memset(s, 0, sizeof(*s));
}

/* After the end-of-archive marker only zero bytes may follow, and not many. */
static int check_trailer(struct reader *rd, uint64_t end, struct tf_err *err)
{
	uint8_t buf[TRAILER_READ];
	off_t size = lseek(rd->fd, 0, SEEK_END);
	uint64_t pos;

	if (size < 0)
		return tf_err_sys(err, TF_E_IO, "seek '%s'", rd->path);
	if ((uint64_t)size < end + 1024)
		return tf_err_set(err, TF_E_REJECT, "'%s': truncated (no end-of-archive marker)",
		                  rd->path);
	if ((uint64_t)size - end > TRAILER_MAX)
		return tf_err_set(err, TF_E_REJECT, "'%s': data after the end of the archive",
		                  rd->path);
	for (pos = end; pos < (uint64_t)size;) {
		ssize_t n = pread(rd->fd, buf, sizeof(buf), (off_t)pos);
		ssize_t i;

		if (n <= 0)
			return tf_err_sys(err, TF_E_IO, "read '%s'", rd->path);
		for (i = 0; i < n; i++)
			if (buf[i] != 0)
				return tf_err_set(err, TF_E_REJECT,
				                  "'%s': data after the end of the archive",
				                  rd->path);
		pos += (uint64_t)n;
	}
	return 0;
}

static int scan_fd(struct reader *rd, struct tf_bundle_scan *s, struct tf_err *err)
{
	struct archive_entry *e;
	enum { IN_PAYLOAD, IN_SIGS } phase = IN_PAYLOAD;
	size_t entries = 0, i;
	int r, ar;

	for (;;) {
		enum kind k = K_PAYLOAD;
		char keyid[TF_SHA256_HEX];
		const char *name;

		ar = archive_read_next_header(rd->a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK)
			return arch_err(err, rd->a, rd->path);
		if (++entries > MAX_ENTRIES)
			return tf_err_set(err, TF_E_REJECT, "'%s': too many entries", rd->path);
		if ((r = classify(e, rd->path, &k, keyid, err)) != 0)
			return r;
		name = archive_entry_pathname(e);
		if ((r = check_header_types(rd, name, err)) != 0)
			return r;
		switch (k) {
		case K_PAYLOAD:
			if (phase != IN_PAYLOAD)
				return tf_err_set(err, TF_E_REJECT,
				                  "entry '%s' comes after the manifest", name);
			s->npayload++;
			if (archive_read_data_skip(rd->a) != ARCHIVE_OK)
				return arch_err(err, rd->a, rd->path);
			break;
		case K_MANIFEST:
			if (s->manifest != NULL)
				return tf_err_set(err, TF_E_REJECT, "entry '%s' appears twice",
				                  name);
			if ((r = read_small(rd, e, TF_MANIFEST_MAX, &s->manifest, &s->manifest_len,
			                    err)) != 0)
				return r;
			phase = IN_SIGS;
			break;
		case K_SIG: {
			struct tf_bundle_sig *ns;
			char *sig = NULL;
			size_t len = 0;

			if (phase != IN_SIGS)
				return tf_err_set(err, TF_E_REJECT,
				                  "entry '%s' comes before the manifest", name);
			for (i = 0; i < s->nsigs; i++)
				if (strcmp(s->sigs[i].keyid, keyid) == 0)
					return tf_err_set(err, TF_E_REJECT,
					                  "entry '%s' appears twice", name);
			if (s->nsigs >= TF_SIGS_MAX)
				return tf_err_set(err, TF_E_REJECT, "more than %u signatures",
				                  TF_SIGS_MAX);
			if ((r = read_small(rd, e, TF_SIG_MAX, &sig, &len, err)) != 0)
				return r;
			if ((ns = realloc(s->sigs, (s->nsigs + 1) * sizeof(*ns))) == NULL) {
				free(sig);
				return tf_err_nomem(err);
			}
			s->sigs = ns;
			memcpy(ns[s->nsigs].keyid, keyid, sizeof(keyid));
			ns[s->nsigs].sig = (uint8_t *)sig;
			ns[s->nsigs].len = len;
			s->nsigs++;
			break;
		}
		}
	}
	if (s->manifest == NULL)
		return tf_err_set(err, TF_E_REJECT, "'%s': no %s", rd->path, TF_MANIFEST_NAME);
	/* ARCHIVE_EOF leaves the header position at the end-of-archive marker. */
	s->end = (uint64_t)archive_read_header_position(rd->a);
	return check_trailer(rd, s->end, err);
}

int tf_bundle_scan(const char *path, struct tf_bundle_scan *s, struct tf_err *err)
{
	struct reader rd = {.fd = -1};
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = reader_open(&rd, path, O_RDONLY, err)) == 0)
		r = scan_fd(&rd, s, err);
	reader_close(&rd);
	if (r != 0)
		tf_bundle_scan_release(s);
	return r;
}

/* ---- streaming verification and extraction ---- */

struct verify_ctx {
	struct reader rd;
	const struct tf_manifest *m;
	const char *staging;
	uint8_t *seen;
	struct tf_sha256 *c;
	struct tf_progress *pr;
};

/* Creates the parent folders of rel below staging (names were validated: no "..", no
 * absolute paths, and staging holds nothing we did not create, so no links to follow). */
static int open_out(const char *staging, const char *rel, int *fd, struct tf_err *err)
{
	char path[PATH_MAX];
	char *slash;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", staging, rel) >= (int)sizeof(path))
		return tf_err_set(err, TF_E_REJECT, "entry '%s': path too long", rel);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		if ((r = tf_mkdir_p(path, 0700, err)) != 0)
			return r;
		*slash = '/';
	}
	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return tf_err_sys(err, TF_E_REJECT, "extract '%s'", rel);
	return 0;
}

static int verify_payload_entry(struct verify_ctx *v, struct archive_entry *e, struct tf_err *err)
{
	const char *name = archive_entry_pathname(e);
	const struct tf_manifest_file *f = tf_manifest_find(v->m, name);
	uint8_t d[TF_SHA256_LEN];
	uint64_t total = 0;
	int fd = -1, r;

	if (f == NULL)
		return tf_err_set(err, TF_E_REJECT, "entry '%s' is not listed in the manifest",
		                  name);
	if (v->seen[f - v->m->files])
		return tf_err_set(err, TF_E_REJECT, "entry '%s' appears twice", name);
	v->seen[f - v->m->files] = 1;
	if ((uint64_t)archive_entry_size(e) != f->size)
		return tf_err_set(err, TF_E_REJECT, "entry '%s': size %lld, manifest says %llu",
		                  name, (long long)archive_entry_size(e),
		                  (unsigned long long)f->size);
	if ((archive_entry_perm(e) & 0777) != f->mode)
		return tf_err_set(err, TF_E_REJECT, "entry '%s': mode %04o, manifest says %04o",
		                  name, archive_entry_perm(e) & 0777, f->mode);
	if (v->staging != NULL &&
	    (r = open_out(v->staging, name + strlen(TF_PAYLOAD_PREFIX), &fd, err)) != 0)
		return r;
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int ar = archive_read_data_block(v->rd.a, &buf, &n, &off);

		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK) {
			r = arch_err(err, v->rd.a, v->rd.path);
			goto out;
		}
		if (off < 0 || (uint64_t)off != total) {
			r = tf_err_set(err, TF_E_REJECT, "entry '%s': holes are not allowed", name);
			goto out;
		}
		if (tf_sha256_update(v->c, buf, n) != 0) {
			r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
			goto out;
		}
		if (fd >= 0 && (r = tf_write_all(fd, buf, n, err)) != 0) {
			tf_err_prefix(err, "extract '%s'", name);
			goto out;
		}
		total += n;
		if (v->pr != NULL)
			tf_progress_add(v->pr, n);
	}
	if (tf_sha256_final(v->c, d) != 0) {
		r = tf_err_set(err, TF_E_CRYPTO, "sha256 failed");
		goto out;
	}
	if (total != f->size) {
		r = tf_err_set(err, TF_E_REJECT, "entry '%s' is truncated", name);
		goto out;
	}
	if (memcmp(d, f->sha256, sizeof(d)) != 0) {
		r = tf_err_set(err, TF_E_REJECT, "entry '%s': sha256 differs from the manifest",
		               name);
		goto out;
	}
	if (fd >= 0 && (fchmod(fd, f->mode) != 0 || fsync(fd) != 0)) {
		r = tf_err_sys(err, TF_E_IO, "extract '%s'", name);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static int verify_all(struct verify_ctx *v, const char *manifest, size_t manifest_len,
                      struct tf_err *err)
{
	struct archive_entry *e;
	int r, ar, have_manifest = 0;
	size_t i;

	for (;;) {
		enum kind k = K_PAYLOAD;
		char keyid[TF_SHA256_HEX];

		ar = archive_read_next_header(v->rd.a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK)
			return arch_err(err, v->rd.a, v->rd.path);
		if ((r = classify(e, v->rd.path, &k, keyid, err)) != 0 ||
		    (r = check_header_types(&v->rd, archive_entry_pathname(e), err)) != 0)
			return r;
		if (k == K_PAYLOAD) {
			if (have_manifest)
				return tf_err_set(err, TF_E_REJECT,
				                  "entry '%s' comes after the manifest",
				                  archive_entry_pathname(e));
			if ((r = verify_payload_entry(v, e, err)) != 0)
				return r;
		} else if (k == K_MANIFEST) {
			char *again = NULL;
			size_t len = 0;

			if (have_manifest)
				return tf_err_set(err, TF_E_REJECT, "entry '%s' appears twice",
				                  TF_MANIFEST_NAME);
			if ((r = read_small(&v->rd, e, TF_MANIFEST_MAX, &again, &len, err)) != 0)
				return r;
			r = len != manifest_len || memcmp(again, manifest, len) != 0;
			free(again);
			if (r)
				return tf_err_set(err, TF_E_REJECT,
				                  "%s changed while the bundle was being read",
				                  TF_MANIFEST_NAME);
			have_manifest = 1;
		} else if (archive_read_data_skip(v->rd.a) != ARCHIVE_OK) {
			return arch_err(err, v->rd.a, v->rd.path);
		}
	}
	if (!have_manifest)
		return tf_err_set(err, TF_E_REJECT, "'%s': no %s", v->rd.path, TF_MANIFEST_NAME);
	for (i = 0; i < v->m->nfiles; i++)
		if (!v->seen[i])
			return tf_err_set(err, TF_E_REJECT,
			                  "entry '%s' listed in the manifest is missing",
			                  v->m->files[i].path);
	return 0;
}

int tf_bundle_verify_payload(const char *path, const struct tf_manifest *m, const char *manifest,
                             size_t manifest_len, const char *staging, struct tf_progress *pr,
                             struct tf_err *err)
{
	struct verify_ctx v = {.rd = {.fd = -1}, .m = m, .staging = staging, .pr = pr};
	struct tf_err cleanup;
	int r;

	if ((v.seen = calloc(m->nfiles ? m->nfiles : 1, 1)) == NULL ||
	    (v.c = tf_sha256_new()) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = reader_open(&v.rd, path, O_RDONLY, err)) != 0)
		goto out;
	r = verify_all(&v, manifest, manifest_len, err);
out:
	reader_close(&v.rd);
	free(v.seen);
	tf_sha256_free(v.c);
	if (r != 0 && staging != NULL && tf_rmtree(staging, &cleanup) != 0)
		tf_err_prefix(err, "and staging '%s' could not be removed (%s)", staging,
		              cleanup.msg);
	return r;
}

/* ---- signatures ---- */

/* The tar bytes of one entry followed by the end-of-archive marker, built by libarchive. */
int tf_bundle_read_payload(const char *path, const struct tf_manifest *m, const char *name,
                           size_t max, char **out, size_t *len, struct tf_err *err)
{
	const struct tf_manifest_file *f = tf_manifest_find(m, name);
	struct reader rd = {.fd = -1};
	struct archive_entry *e;
	uint8_t sum[TF_SHA256_LEN];
	char *buf = NULL;
	size_t n = 0;
	int r, ar;

	if (f == NULL)
		return tf_err_set(err, TF_E_REJECT, "the manifest lists no '%s'", name);
	if ((r = reader_open(&rd, path, O_RDONLY, err)) != 0)
		goto out;
	for (;;) {
		if ((ar = archive_read_next_header(rd.a, &e)) == ARCHIVE_EOF) {
			r = tf_err_set(err, TF_E_REJECT,
			               "entry '%s' listed in the manifest is missing", name);
			goto out;
		}
		if (ar != ARCHIVE_OK) {
			r = arch_err(err, rd.a, path);
			goto out;
		}
		if (archive_entry_pathname(e) != NULL &&
		    strcmp(archive_entry_pathname(e), name) == 0)
			break;
		if (archive_read_data_skip(rd.a) != ARCHIVE_OK) {
			r = arch_err(err, rd.a, path);
			goto out;
		}
	}
	if (archive_entry_filetype(e) != AE_IFREG) {
		r = tf_err_set(err, TF_E_REJECT, "entry '%s' is not a regular file", name);
		goto out;
	}
	if ((r = read_small(&rd, e, max, &buf, &n, err)) != 0)
		goto out;
	if ((r = tf_sha256(buf, n, sum)) != 0) {
		r = tf_err_set(err, TF_E_CRYPTO, "sha256 of '%s'", name);
		goto out;
	}
	if (n != f->size || memcmp(sum, f->sha256, TF_SHA256_LEN) != 0) {
		r = tf_err_set(err, TF_E_REJECT,
		               "entry '%s': size or sha256 differs from the manifest", name);
		goto out;
	}
	*out = buf;
	*len = n;
	buf = NULL; /* transferred */
out:
	free(buf);
	reader_close(&rd);
	return r;
}

static int sig_entry_bytes(const char *name, const uint8_t *sig, size_t len, uint8_t **out,
                           size_t *outlen, struct tf_err *err)
{
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	size_t cap = 4096 + len + 2048, used = 0;
	uint8_t *buf = NULL;
	int r;

	if ((buf = calloc(1, cap)) == NULL || (a = archive_write_new()) == NULL ||
	    (e = new_entry(name, len, 0644, time(NULL))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 512) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK ||
	    archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, sig, len) != (la_ssize_t)len ||
	    archive_write_close(a) != ARCHIVE_OK) {
		r = tf_err_set(err, TF_E_IO, "encode signature entry: %s", archive_error_string(a));
		goto out;
	}
	*out = buf;
	buf = NULL; /* transferred */
	*outlen = used;
	r = 0;
out:
	archive_entry_free(e);
	if (a != NULL)
		archive_write_free(a);
	free(buf);
	return r;
}

int tf_bundle_append_signature(const char *path, const char *keyid, const uint8_t *sig, size_t len,
                               struct tf_err *err)
{
	struct reader rd = {.fd = -1};
	struct tf_bundle_scan s;
	char name[sizeof(TF_SIG_DIR) + KEYID_LEN + sizeof(TF_SIG_SUFFIX)];
	uint8_t *bytes = NULL;
	size_t nbytes = 0, i;
	int r;

	memset(&s, 0, sizeof(s));
	if (!tf_hex_is_lower(keyid, KEYID_LEN) || len == 0 || len > TF_SIG_MAX)
		return tf_err_set(err, TF_E_INPUT, "bad signature or key id");
	/* O_RDWR asks reader_open to lock: two approvers signing at once must not both write at
	 * the same end-of-archive marker. */
	if ((r = reader_open(&rd, path, O_RDWR, err)) != 0 || (r = scan_fd(&rd, &s, err)) != 0)
		goto out;
	for (i = 0; i < s.nsigs; i++) {
		if (strcmp(s.sigs[i].keyid, keyid) == 0) {
			r = tf_err_set(err, TF_E_INPUT, "'%s' is already signed by key %s", path,
			               keyid);
			goto out;
		}
	}
	if (s.nsigs >= TF_SIGS_MAX) {
		r = tf_err_set(err, TF_E_INPUT, "'%s' already holds %u signatures", path,
		               TF_SIGS_MAX);
		goto out;
	}
	snprintf(name, sizeof(name), "%s%s%s", TF_SIG_DIR, keyid, TF_SIG_SUFFIX);
	if ((r = sig_entry_bytes(name, sig, len, &bytes, &nbytes, err)) != 0)
		goto out;
	/* Everything after the first header block goes first: until that block replaces the old
	 * end-of-archive marker, the bundle on disk stays the valid bundle it was. */
	if (pwrite(rd.fd, bytes + 512, nbytes - 512, (off_t)(s.end + 512)) !=
	        (ssize_t)(nbytes - 512) ||
	    fsync(rd.fd) != 0 || pwrite(rd.fd, bytes, 512, (off_t)s.end) != 512 ||
	    ftruncate(rd.fd, (off_t)(s.end + nbytes)) != 0 || fsync(rd.fd) != 0) {
		r = tf_err_sys(err, TF_E_IO, "append signature to '%s'", path);
		goto out;
	}
	r = 0;
out:
	free(bytes);
	tf_bundle_scan_release(&s);
	reader_close(&rd);
	return r;
}
