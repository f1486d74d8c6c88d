/* Unit tests for manifests/bundle: writing, scanning, streaming verification, extraction into
 * a staging folder, and hostile archives crafted here with libarchive's writer. */
#include "tests/unit/testutil.h"

#include "common/fsutil.h"
#include "manifests/bundle.h"
#include "manifests/manifest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define KEYID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEYID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define TOPO "sha256:0000000000000000000000000000000000000000000000000000000000000000"

struct pfile {
	const char *path;
	const char *data;
	size_t len;
	unsigned mode;
};

static char big[200000];

static void fill_big(void)
{
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
}

static void fill_header(struct tf_manifest *m)
{
	m->bundle_id = strdup("0123456789abcdef0123456789abcdef");
	m->sequence = 7;
	m->created = 1790000000;
	m->not_before = 1790000000;
	m->not_after = 1790086400;
	m->cluster = strdup("prod-1");
	m->topology = strdup(TOPO);
	assert_non_null(m->bundle_id);
	assert_non_null(m->cluster);
	assert_non_null(m->topology);
}

/* Writes a bundle of files with the writer API; *text gets the manifest bytes (caller frees). */
static void write_bundle(const char *path, const struct pfile *f, size_t n, char **text,
                         size_t *len)
{
	struct tf_bundle_writer *w = NULL;
	struct tf_manifest m;
	struct tf_err err;
	size_t i;

	fill_big();
	tf_manifest_init(&m);
	fill_header(&m);
	assert_int_equal(tf_bundle_writer_open(path, 1790000000, &w, &err), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(tf_bundle_writer_add_bytes(w, f[i].path, f[i].data, f[i].len,
		                                            f[i].mode, &m, &err),
		                 0);
	assert_int_equal(tf_manifest_sort(&m, &err), 0);
	assert_int_equal(tf_manifest_serialize(&m, text, len, &err), 0);
	assert_int_equal(tf_bundle_writer_finish(w, *text, *len, &err), 0);
	tf_bundle_writer_free(w);
	tf_manifest_release(&m);
}

static const struct pfile files3[] = {
    {"payload/a.txt", "hello\n", 6, 0644},
    {"payload/dir/sub/big.bin", big, sizeof(big), 0755},
    {"payload/empty", "", 0, 0600},
};

/* Scans path and parses its manifest into m; returns the scan (caller releases). */
static void scan_parse(const char *path, struct tf_bundle_scan *s, struct tf_manifest *m)
{
	struct tf_err err;

	assert_int_equal(tf_bundle_scan(path, s, &err), 0);
	assert_int_equal(tf_manifest_parse(s->manifest, s->manifest_len, m, &err), 0);
}

static int exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Number of entries below dir, recursively (dir itself not counted); -1 when dir is missing. */
static int count_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char p[4096];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		n++;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			n += count_tree(p);
	}
	closedir(d);
	return n;
}

static void read_back(const char *p, const char *data, size_t len, unsigned mode)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	struct tf_err err;

	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	assert_int_equal(tf_read_file(p, len + 1, &buf, &got, &err), 0);
	assert_int_equal(got, len);
	if (len > 0)
		assert_memory_equal(buf, data, len);
	free(buf);
}

static void test_extract(void **state)
{
	struct tf_bundle_scan s;
	struct tf_manifest m;
	struct tf_err err;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	tt_tmpdir();
	write_bundle("b.tar", files3, 3, &text, &len);
	scan_parse("b.tar", &s, &m);
	assert_int_equal(s.manifest_len, len);
	assert_memory_equal(s.manifest, text, len);
	assert_int_equal(s.npayload, 3);
	assert_int_equal(s.nsigs, 0);
	/* check only: nothing written */
	assert_int_equal(
	    tf_bundle_verify_payload("b.tar", &m, s.manifest, s.manifest_len, NULL, NULL, &err), 0);
	assert_int_equal(count_tree("."), 1);
	assert_int_equal(mkdir("stage", 0700), 0);
	assert_int_equal(
	    tf_bundle_verify_payload("b.tar", &m, s.manifest, s.manifest_len, "stage", NULL, &err),
	    0);
	read_back("stage/a.txt", "hello\n", 6, 0644);
	read_back("stage/dir/sub/big.bin", big, sizeof(big), 0755);
	read_back("stage/empty", "", 0, 0600);
	/* a.txt, dir, dir/sub, dir/sub/big.bin, empty: nothing else */
	assert_int_equal(count_tree("stage"), 5);
	/* extracting again into the same staging refuses to replace files */
	assert_int_equal(
	    tf_bundle_verify_payload("b.tar", &m, s.manifest, s.manifest_len, "stage", NULL, &err),
	    TF_E_REJECT);
	assert_false(exists("stage"));
	free(text);
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	tt_cleanup();
}

static void test_add_file(void **state)
{
	struct tf_bundle_writer *w = NULL;
	struct tf_bundle_scan s;
	struct tf_manifest m, m2;
	struct tf_err err;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	tt_tmpdir();
	tt_write_str("src.txt", "from a file\n");
	assert_int_equal(symlink("src.txt", "link.txt"), 0);
	assert_int_equal(mkdir("adir", 0700), 0);
	tf_manifest_init(&m);
	fill_header(&m);
	assert_int_equal(tf_bundle_writer_open("f.tar", 1790000000, &w, &err), 0);
	assert_int_equal(
	    tf_bundle_writer_add_file(w, "payload/src.txt", "src.txt", 0640, &m, NULL, &err), 0);
	/* links, folders, missing files and bad bundle paths are refused */
	assert_int_not_equal(
	    tf_bundle_writer_add_file(w, "payload/l", "link.txt", 0644, &m, NULL, &err), 0);
	assert_int_equal(tf_bundle_writer_add_file(w, "payload/d", "adir", 0644, &m, NULL, &err),
	                 TF_E_INPUT);
	assert_int_equal(tf_bundle_writer_add_file(w, "payload/n", "nope", 0644, &m, NULL, &err),
	                 TF_E_NOTFOUND);
	assert_int_equal(
	    tf_bundle_writer_add_file(w, "payload/../x", "src.txt", 0644, &m, NULL, &err),
	    TF_E_INPUT);
	assert_int_equal(tf_bundle_writer_add_bytes(w, "/abs", "x", 1, 0644, &m, &err), TF_E_INPUT);
	assert_int_equal(m.nfiles, 1);
	assert_int_equal(tf_manifest_serialize(&m, &text, &len, &err), 0);
	assert_int_equal(tf_bundle_writer_finish(w, text, len, &err), 0);
	tf_bundle_writer_free(w);
	scan_parse("f.tar", &s, &m2);
	assert_int_equal(m2.nfiles, 1);
	assert_int_equal(m2.files[0].size, 12);
	assert_int_equal(m2.files[0].mode, 0640);
	assert_memory_equal(m2.files[0].sha256, m.files[0].sha256, TF_SHA256_LEN);
	assert_int_equal(mkdir("st", 0700), 0);
	assert_int_equal(
	    tf_bundle_verify_payload("f.tar", &m2, s.manifest, s.manifest_len, "st", NULL, &err),
	    0);
	read_back("st/src.txt", "from a file\n", 12, 0640);
	free(text);
	tf_manifest_release(&m);
	tf_manifest_release(&m2);
	tf_bundle_scan_release(&s);
	tt_cleanup();
}

static void test_writer_refusals(void **state)
{
	struct tf_bundle_writer *w = NULL;
	struct tf_manifest m;
	struct tf_err err;

	(void)state;
	tt_tmpdir();
	tt_write_str("exists.tar", "keep me");
	assert_int_equal(tf_bundle_writer_open("exists.tar", 0, &w, &err), TF_E_INPUT);
	assert_null(w);
	assert_true(exists("exists.tar"));
	/* an unfinished bundle is removed when freed */
	tf_manifest_init(&m);
	assert_int_equal(tf_bundle_writer_open("partial.tar", 0, &w, &err), 0);
	assert_int_equal(tf_bundle_writer_add_bytes(w, "payload/x", "x", 1, 0644, &m, &err), 0);
	tf_bundle_writer_free(w);
	assert_false(exists("partial.tar"));
	tf_manifest_release(&m);
	tt_cleanup();
}

/* Verifies with a manifest struct changed by change(), against the bundle's real bytes. */
static int verify_changed(const char *path, void (*change)(struct tf_manifest *), char *msg,
                          size_t msglen)
{
	struct tf_bundle_scan s;
	struct tf_manifest m;
	struct tf_err err;
	int r;

	scan_parse(path, &s, &m);
	change(&m);
	assert_int_equal(mkdir("stage", 0700), 0);
	r = tf_bundle_verify_payload(path, &m, s.manifest, s.manifest_len, "stage", NULL, &err);
	snprintf(msg, msglen, "%s", err.msg);
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	return r;
}

static const struct tf_manifest_file *file_of(struct tf_manifest *m, const char *p)
{
	const struct tf_manifest_file *f = tf_manifest_find(m, p);

	assert_non_null(f);
	return f;
}

static void change_hash(struct tf_manifest *m)
{
	((struct tf_manifest_file *)(uintptr_t)file_of(m, "payload/empty"))->sha256[0] ^= 1;
}

static void change_size(struct tf_manifest *m)
{
	((struct tf_manifest_file *)(uintptr_t)file_of(m, "payload/dir/sub/big.bin"))->size += 1;
}

static void change_mode(struct tf_manifest *m)
{
	((struct tf_manifest_file *)(uintptr_t)file_of(m, "payload/dir/sub/big.bin"))->mode = 0700;
}

static void add_missing(struct tf_manifest *m)
{
	uint8_t d[TF_SHA256_LEN] = {0};
	struct tf_err err;

	assert_int_equal(tf_manifest_add_file(m, "payload/zzz-missing", 1, 0644, d, &err), 0);
	assert_int_equal(tf_manifest_sort(m, &err), 0);
}

static void drop_last(struct tf_manifest *m)
{
	/* "payload/empty" sorts last; the archive still carries it */
	m->nfiles--;
	free(m->files[m->nfiles].path);
}

static void test_mismatch_removes_staging(void **state)
{
	static const struct {
		void (*change)(struct tf_manifest *);
		const char *msg;
	} cases[] = {
	    {change_hash, "entry 'payload/empty': sha256 differs from the manifest"},
	    {change_size, "entry 'payload/dir/sub/big.bin': size 200000, manifest says 200001"},
	    {change_mode, "entry 'payload/dir/sub/big.bin': mode 0755, manifest says 0700"},
	    {add_missing, "entry 'payload/zzz-missing' listed in the manifest is missing"},
	    {drop_last, "entry 'payload/empty' is not listed in the manifest"},
	};
	char *text = NULL, msg[TF_ERR_MSG_MAX];
	size_t len = 0, i;

	(void)state;
	tt_tmpdir();
	write_bundle("b.tar", files3, 3, &text, &len);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(verify_changed("b.tar", cases[i].change, msg, sizeof(msg)),
		                 TF_E_REJECT);
		if (strstr(msg, cases[i].msg) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, msg, cases[i].msg);
		/* files verified before the mismatch were written, and all are gone with staging */
		assert_false(exists("stage"));
		assert_int_equal(count_tree("."), 1);
	}
	free(text);
	tt_cleanup();
}

static void test_tampered_data(void **state)
{
	struct tf_bundle_scan s;
	struct tf_manifest m;
	struct tf_err err;
	char *text = NULL;
	size_t len = 0;
	off_t at;
	int fd;
	char c;

	(void)state;
	tt_tmpdir();
	write_bundle("b.tar", files3, 3, &text, &len);
	scan_parse("b.tar", &s, &m);
	/* The second entry (big.bin) starts after a.txt's header and one data block: flip a byte
	 * in the middle of its data. */
	at = 512 + 512 + 512 + 100000;
	assert_true((fd = open("b.tar", O_RDWR)) >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
	assert_int_equal(mkdir("stage", 0700), 0);
	assert_int_equal(
	    tf_bundle_verify_payload("b.tar", &m, s.manifest, s.manifest_len, "stage", NULL, &err),
	    TF_E_REJECT);
	assert_non_null(strstr(err.msg, "entry 'payload/dir/sub/big.bin': sha256 differs"));
	assert_false(exists("stage"));
	/* The manifest given is not the one in the archive (say, it changed between the scan and
	 * the streaming pass): refused too. */
	free(text);
	write_bundle("c.tar", files3, 3, &text, &len);
	text[len / 2] ^= 1;
	assert_int_equal(mkdir("stage", 0700), 0);
	assert_int_equal(tf_bundle_verify_payload("c.tar", &m, text, len, "stage", NULL, &err),
	                 TF_E_REJECT);
	assert_non_null(strstr(err.msg, "changed while the bundle was being read"));
	assert_false(exists("stage"));
	free(text);
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	tt_cleanup();
}

/* ---- hostile archives ---- */

enum ekind { E_REG, E_DIR, E_SYMLINK, E_HARDLINK, E_CHR, E_BLK, E_FIFO };

struct craft_entry {
	const char *name;
	enum ekind kind;
	const char *data; /* regular files; NULL means "" */
	const char *link;
	unsigned perm;
};

/* Writes the entries as a pax tar archive with libarchive's writer. */
static void craft(const char *path, const struct craft_entry *e, size_t n)
{
	struct archive *a = archive_write_new();
	size_t i;

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		size_t len = e[i].data ? strlen(e[i].data) : 0;

		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_perm(ae, e[i].perm ? e[i].perm : 0644);
		archive_entry_set_mtime(ae, 1790000000, 0);
		switch (e[i].kind) {
		case E_REG:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, (la_int64_t)len);
			break;
		case E_DIR:
			archive_entry_set_filetype(ae, AE_IFDIR);
			break;
		case E_SYMLINK:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, e[i].link);
			break;
		case E_HARDLINK:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e[i].link);
			break;
		case E_CHR:
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_rdev(ae, makedev(1, 3));
			break;
		case E_BLK:
			archive_entry_set_filetype(ae, AE_IFBLK);
			archive_entry_set_rdev(ae, makedev(8, 0));
			break;
		case E_FIFO:
			archive_entry_set_filetype(ae, AE_IFIFO);
			break;
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].kind == E_REG && len > 0)
			assert_int_equal(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* The manifest of a bundle holding payload/a.txt = "hello\n" (0644). */
static char *a_manifest(size_t *len)
{
	struct tf_manifest m;
	struct tf_err err;
	uint8_t d[TF_SHA256_LEN];
	char *text = NULL;

	tf_manifest_init(&m);
	fill_header(&m);
	assert_int_equal(tf_sha256("hello\n", 6, d), 0);
	assert_int_equal(tf_manifest_add_file(&m, "payload/a.txt", 6, 0644, d, &err), 0);
	assert_int_equal(tf_manifest_serialize(&m, &text, len, &err), 0);
	tf_manifest_release(&m);
	return text;
}

static void test_hostile(void **state)
{
	char outside[4096], abs_name[4200], link_to[4200];
	size_t len = 0, i;
	char *mtext;
	struct tf_manifest m;
	struct tf_err err;
	const char *tmp;

	(void)state;
	tmp = tt_tmpdir();
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	assert_int_equal(mkdir("outside", 0700), 0);
	assert_int_equal(mkdir("work", 0700), 0);
	assert_int_equal(chdir("work"), 0);
	snprintf(abs_name, sizeof(abs_name), "%s/abs-target", outside);
	snprintf(link_to, sizeof(link_to), "%s", outside);
	mtext = a_manifest(&len);
	assert_int_equal(tf_manifest_parse(mtext, len, &m, &err), 0);
	{
		const struct craft_entry ok = {"payload/a.txt", E_REG, "hello\n", NULL, 0644};
		const struct craft_entry man = {"manifest.json", E_REG, mtext, NULL, 0644};
		const struct {
			const char *what;
			struct craft_entry bad[2];
			size_t nbad;
			const char *msg;
		} cases[] = {
		    {"dotdot", {{"../evil", E_REG, "x", NULL, 0}}, 1, "unsafe path"},
		    {"payload dotdot",
		     {{"payload/../../evil", E_REG, "x", NULL, 0}},
		     1,
		     "unsafe path"},
		    {"absolute", {{abs_name, E_REG, "x", NULL, 0}}, 1, "unsafe path"},
		    {"symlink then through it",
		     {{"payload/l", E_SYMLINK, NULL, link_to, 0777},
		      {"payload/l/evil", E_REG, "x", NULL, 0}},
		     2,
		     "symbolic links are not allowed"},
		    {"hard link outside",
		     {{"payload/h", E_HARDLINK, NULL, "/etc/passwd", 0}},
		     1,
		     "hard links are not allowed"},
		    {"hard link inside",
		     {{"payload/h", E_HARDLINK, NULL, "payload/a.txt", 0}},
		     1,
		     "hard links are not allowed"},
		    {"char device", {{"payload/c", E_CHR, NULL, NULL, 0}}, 1, "only regular files"},
		    {"block device",
		     {{"payload/b", E_BLK, NULL, NULL, 0}},
		     1,
		     "only regular files"},
		    {"fifo", {{"payload/f", E_FIFO, NULL, NULL, 0}}, 1, "only regular files"},
		    {"directory",
		     {{"payload/d", E_DIR, NULL, NULL, 0755}},
		     1,
		     "only regular files"},
		    {"duplicate",
		     {{"payload/a.txt", E_REG, "hello\n", NULL, 0644}},
		     1,
		     "appears twice"},
		    {"setuid", {{"payload/s", E_REG, "x", NULL, 04755}}, 1, "setuid"},
		    {"stray top-level",
		     {{"evil.txt", E_REG, "x", NULL, 0}},
		     1,
		     "not part of the bundle format"},
		    {"bad signature name",
		     {{"signatures/ABC.sig", E_REG, "x", NULL, 0}},
		     1,
		     "not part of the bundle format"},
		    {"backslash", {{"payload\\..\\evil", E_REG, "x", NULL, 0}}, 1, "unsafe path"},
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct craft_entry all[4];
			struct tf_bundle_scan s;
			int r;

			all[0] = ok;
			memcpy(&all[1], cases[i].bad, cases[i].nbad * sizeof(all[0]));
			all[1 + cases[i].nbad] = man;
			craft("evil.tar", all, 2 + cases[i].nbad);
			/* verification with extraction rejects and leaves nothing anywhere */
			assert_int_equal(mkdir("stage", 0700), 0);
			r = tf_bundle_verify_payload("evil.tar", &m, mtext, len, "stage", NULL,
			                             &err);
			if (r != TF_E_REJECT || strstr(err.msg, cases[i].msg) == NULL)
				fail_msg("%s: verify gave %d '%s', expected reject with '%s'",
				         cases[i].what, r, err.msg, cases[i].msg);
			assert_false(exists("stage"));
			/* the header scan (what check runs first) rejects it too, except a
			 * duplicate payload name, which only streaming verification can see */
			memset(&s, 0, sizeof(s));
			r = tf_bundle_scan("evil.tar", &s, &err);
			if (strcmp(cases[i].what, "duplicate") != 0 && r != TF_E_REJECT)
				fail_msg("%s: scan gave %d", cases[i].what, r);
			tf_bundle_scan_release(&s);
			assert_int_equal(unlink("evil.tar"), 0);
			/* nothing but our own files in the work folder, nothing outside */
			assert_int_equal(count_tree("."), 0);
			assert_int_equal(count_tree(outside), 0);
			assert_false(exists("../evil"));
			assert_false(exists("../../evil"));
		}
	}
	tf_manifest_release(&m);
	free(mtext);
	assert_int_equal(chdir(".."), 0);
	tt_cleanup();
}

static void test_scan_rules(void **state)
{
	char *mtext, junk[TF_SIG_MAX + 2];
	size_t len = 0;
	struct tf_bundle_scan s;
	struct tf_err err;
	FILE *f;

	(void)state;
	tt_tmpdir();
	mtext = a_manifest(&len);
	memset(junk, 'j', sizeof(junk));
	junk[sizeof(junk) - 1] = '\0';
	{
		const struct craft_entry sig_first[] = {
		    {"payload/a.txt", E_REG, "hello\n", NULL, 0644},
		    {"signatures/" KEYID_A ".sig", E_REG, "s", NULL, 0644},
		    {"manifest.json", E_REG, mtext, NULL, 0644}};
		const struct craft_entry payload_after[] = {
		    {"manifest.json", E_REG, mtext, NULL, 0644},
		    {"payload/a.txt", E_REG, "hello\n", NULL, 0644}};
		const struct craft_entry no_manifest[] = {
		    {"payload/a.txt", E_REG, "hello\n", NULL, 0644}};
		const struct craft_entry two_manifests[] = {
		    {"manifest.json", E_REG, mtext, NULL, 0644},
		    {"manifest.json", E_REG, mtext, NULL, 0644}};
		const struct craft_entry two_sigs[] = {
		    {"manifest.json", E_REG, mtext, NULL, 0644},
		    {"signatures/" KEYID_A ".sig", E_REG, "s", NULL, 0644},
		    {"signatures/" KEYID_A ".sig", E_REG, "t", NULL, 0644}};
		const struct craft_entry good[] = {
		    {"payload/a.txt", E_REG, "hello\n", NULL, 0644},
		    {"manifest.json", E_REG, mtext, NULL, 0644},
		    {"signatures/" KEYID_A ".sig", E_REG, "sig-a", NULL, 0644},
		    {"signatures/" KEYID_B ".sig", E_REG, "sig-b", NULL, 0644}};

		craft("t.tar", sig_first, 3);
		assert_int_equal(tf_bundle_scan("t.tar", &s, &err), TF_E_REJECT);
		assert_non_null(strstr(err.msg, "comes before the manifest"));
		craft("t2.tar", payload_after, 2);
		assert_int_equal(tf_bundle_scan("t2.tar", &s, &err), TF_E_REJECT);
		assert_non_null(strstr(err.msg, "comes after the manifest"));
		craft("t3.tar", no_manifest, 1);
		assert_int_equal(tf_bundle_scan("t3.tar", &s, &err), TF_E_REJECT);
		assert_non_null(strstr(err.msg, "no manifest.json"));
		craft("t4.tar", two_manifests, 2);
		assert_int_equal(tf_bundle_scan("t4.tar", &s, &err), TF_E_REJECT);
		assert_non_null(strstr(err.msg, "appears twice"));
		craft("t5.tar", two_sigs, 3);
		assert_int_equal(tf_bundle_scan("t5.tar", &s, &err), TF_E_REJECT);
		assert_non_null(strstr(err.msg, "appears twice"));
		craft("g.tar", good, 4);
		assert_int_equal(tf_bundle_scan("g.tar", &s, &err), 0);
		assert_int_equal(s.nsigs, 2);
		assert_string_equal(s.sigs[0].keyid, KEYID_A);
		assert_int_equal(s.sigs[1].len, 5);
		assert_memory_equal(s.sigs[1].sig, "sig-b", 5);
		tf_bundle_scan_release(&s);
		/* bytes after the end-of-archive marker */
		assert_non_null(f = fopen("g.tar", "ab"));
		fputs("junk", f);
		fclose(f);
		assert_int_equal(tf_bundle_scan("g.tar", &s, &err), TF_E_REJECT);
		assert_non_null(strstr(err.msg, "data after the end of the archive"));
		/* a signature larger than TF_SIG_MAX */
		{
			const struct craft_entry bigsig[] = {
			    {"manifest.json", E_REG, mtext, NULL, 0644},
			    {"signatures/" KEYID_A ".sig", E_REG, junk, NULL, 0644}};

			craft("t6.tar", bigsig, 2);
			assert_int_equal(tf_bundle_scan("t6.tar", &s, &err), TF_E_REJECT);
			assert_non_null(strstr(err.msg, "is larger than"));
		}
	}
	assert_int_equal(tf_bundle_scan("missing.tar", &s, &err), TF_E_NOTFOUND);
	tt_write_str("not.tar",
	             "this is not a tar archive at all, just some text that is long enough");
	assert_int_equal(tf_bundle_scan("not.tar", &s, &err), TF_E_REJECT);
	free(mtext);
	tt_cleanup();
}

static void test_append_signature(void **state)
{
	struct tf_bundle_scan s;
	struct tf_manifest m;
	struct tf_err err;
	char *text = NULL, *before = NULL, *after = NULL;
	size_t len = 0, blen = 0, alen = 0;
	uint64_t end;
	uint8_t sig[TF_SIG_MAX + 1];

	(void)state;
	tt_tmpdir();
	memset(sig, 0x5a, sizeof(sig));
	write_bundle("b.tar", files3, 3, &text, &len);
	scan_parse("b.tar", &s, &m);
	end = s.end;
	tf_bundle_scan_release(&s);
	tf_manifest_release(&m);
	assert_int_equal(tf_read_file("b.tar", 1u << 24, &before, &blen, &err), 0);
	assert_int_equal(tf_bundle_append_signature("b.tar", KEYID_A, sig, 64, &err), 0);
	assert_int_equal(tf_bundle_append_signature("b.tar", KEYID_A, sig, 64, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "already signed"));
	assert_int_equal(tf_bundle_append_signature("b.tar", KEYID_B, sig, TF_SIG_MAX + 1, &err),
	                 TF_E_INPUT);
	assert_int_equal(tf_bundle_append_signature("b.tar", "ABC", sig, 64, &err), TF_E_INPUT);
	assert_int_equal(tf_bundle_append_signature("b.tar", KEYID_B, sig, TF_SIG_MAX, &err), 0);
	assert_int_equal(tf_read_file("b.tar", 1u << 24, &after, &alen, &err), 0);
	/* everything before the old end-of-archive marker is untouched */
	assert_true(alen > blen);
	assert_memory_equal(before, after, (size_t)end);
	scan_parse("b.tar", &s, &m);
	assert_int_equal(s.nsigs, 2);
	assert_string_equal(s.sigs[0].keyid, KEYID_A);
	assert_int_equal(s.sigs[0].len, 64);
	assert_int_equal(s.sigs[1].len, TF_SIG_MAX);
	assert_int_equal(
	    tf_bundle_verify_payload("b.tar", &m, s.manifest, s.manifest_len, NULL, NULL, &err), 0);
	tf_bundle_scan_release(&s);
	tf_manifest_release(&m);
	free(text);
	free(before);
	free(after);
	tt_cleanup();
}

/* Regression (found by this suite): check-only verification used to pass bundles that cannot
 * be extracted, so `tiferry check` said "passes every rule" for a bundle the installer refuses:
 *  - a manifest listing both "payload/x" (a file) and "payload/x/y" (staging cannot create
 *    folder "x" over file "x");
 *  - a path component longer than NAME_MAX (255): open() fails with ENAMETOOLONG.
 * Now both are refused where they would enter a bundle (the writer, the manifest sort the
 * builder runs) and where a hostile bundle would bring them (manifest parsing). */
static void test_unextractable_refused(void **state)
{
	static char longname[8 + 300 + 1];
	struct tf_bundle_writer *w = NULL;
	struct tf_manifest m, m2;
	struct tf_err err;
	char *text = NULL, *clash = NULL;
	size_t len = 0;
	uint8_t sha[TF_SHA256_LEN] = {0};
	const char *at;

	(void)state;
	memcpy(longname, "payload/", 8);
	memset(longname + 8, 'a', 300);
	tt_tmpdir();
	tf_manifest_init(&m);
	fill_header(&m);
	assert_int_equal(tf_bundle_writer_open("x.tar", 1790000000, &w, &err), 0);
	assert_int_equal(tf_bundle_writer_add_bytes(w, longname, "x", 1, 0644, &m, &err),
	                 TF_E_INPUT);
	tf_bundle_writer_free(w);
	assert_false(tf_bundle_path_ok(longname));
	longname[8 + 255] = '\0';
	assert_true(tf_bundle_path_ok(longname));

	assert_int_equal(tf_manifest_add_file(&m, "payload/x", 5, 0644, sha, &err), 0);
	assert_int_equal(tf_manifest_add_file(&m, "payload/x-1", 5, 0644, sha, &err), 0);
	assert_int_equal(tf_manifest_add_file(&m, "payload/x/y", 6, 0644, sha, &err), 0);
	assert_int_equal(tf_manifest_sort(&m, &err), TF_E_REJECT);
	assert_non_null(strstr(err.msg, "both as a file and as the folder"));
	/* a hostile manifest with the clash is refused by parsing too */
	m.files[2].path[9] = 'z'; /* "payload/x/y" -> "payload/xzy": serialisable */
	assert_int_equal(tf_manifest_sort(&m, &err), 0);
	assert_int_equal(tf_manifest_serialize(&m, &text, &len, &err), 0);
	assert_non_null(at = strstr(text, "payload/xzy"));
	clash = strdup(text);
	clash[at - text + 9] = '/';
	assert_int_equal(tf_manifest_parse(clash, len, &m2, &err), TF_E_REJECT);
	assert_non_null(
	    strstr(err.msg, "'payload/x' both as a file and as the folder of 'payload/x/y'"));
	free(clash);
	free(text);
	tf_manifest_release(&m);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_extract),
	    cmocka_unit_test(test_add_file),
	    cmocka_unit_test(test_writer_refusals),
	    cmocka_unit_test(test_mismatch_removes_staging),
	    cmocka_unit_test(test_tampered_data),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_scan_rules),
	    cmocka_unit_test(test_append_signature),
	    cmocka_unit_test(test_unextractable_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
