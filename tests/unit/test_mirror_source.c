/* Unit tests of mirror/source.c: the same mirror read from a folder and from an offline
 * .tar.gz (TiUP's signed test data), reads, digests, copies, and the archives it refuses. */
#include "tests/unit/testutil.h"
#include "common/fsutil.h"
#include "crypto/digest.h"
#include "mirror/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT "manifests/root.json"
#define TARBALL "components/test-v1.1.1-linux-amd64.tar.gz"

static char fixture[4096];

static int setup(void **state)
{
	(void)state;
	snprintf(fixture, sizeof(fixture), "%s", tt_tiup_testdata());
	tt_tmpdir();
	/* an offline package: one top folder holding the mirror, as TiUP's tarballs do */
	assert_int_equal(tt_sh("mkdir mirror && cp -r '%s/manifests' '%s/components' mirror/ && "
	                       "tar czf mirror.tar.gz mirror",
	                       fixture, fixture),
	                 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tt_cleanup();
	return 0;
}

/* What every source of the fixture mirror must say, folder or archive. */
static void check_source(const char *path, int archive)
{
	struct tf_mirror_src *s = NULL;
	struct tf_mirror_copy copy = {0};
	struct tf_err err;
	uint8_t *data = NULL, sha[TF_SHA256_LEN], want[TF_SHA256_LEN];
	size_t len = 0, flen = 0;
	uint64_t dlen = 0;
	char *file = NULL, fpath[4200];

	assert_int_equal(tf_mirror_src_open(path, &s, &err), 0);
	assert_int_equal(tf_mirror_src_is_archive(s), archive);
	/* a manifest read whole, as the file on disk */
	assert_int_equal(tf_mirror_src_read(s, ROOT, 1u << 20, &data, &len, &err), 0);
	snprintf(fpath, sizeof(fpath), "%s/" ROOT, fixture);
	assert_int_equal(tf_read_file(fpath, 1u << 20, &file, &flen, &err), 0);
	assert_int_equal(len, flen);
	assert_memory_equal(data, file, len);
	assert_int_equal(data[len], '\0');
	free(data);
	data = NULL;
	free(file);
	/* too large for the limit, absent */
	assert_int_equal(tf_mirror_src_read(s, ROOT, 16, &data, &len, &err), TF_E_INPUT);
	assert_null(data);
	assert_int_equal(tf_mirror_src_read(s, "manifests/none.json", 1u << 20, &data, &len, &err),
	                 TF_E_NOTFOUND);
	/* names that would leave the mirror are never found */
	assert_int_equal(tf_mirror_src_read(s, "../" ROOT, 1u << 20, &data, &len, &err) < 0, 1);
	assert_int_equal(tf_mirror_src_exists(s, "/etc/passwd"), 0);
	/* digests as sha256sum says them */
	snprintf(fpath, sizeof(fpath), "%s/" TARBALL, fixture);
	assert_int_equal(tf_mirror_src_digest(s, TARBALL, sha, &dlen, &err), 0);
	assert_int_equal(
	    tt_sh("test \"$(stat -c %%s '%s')\" = %llu", fpath, (unsigned long long)dlen), 0);
	assert_int_equal(tf_mirror_src_digest(s, "components/none.tar.gz", sha, &dlen, &err),
	                 TF_E_NOTFOUND);
	/* folders exist, as do files */
	assert_int_equal(tf_mirror_src_exists(s, "manifests"), 1);
	assert_int_equal(tf_mirror_src_exists(s, "components"), 1);
	assert_int_equal(tf_mirror_src_exists(s, TARBALL), 1);
	assert_int_equal(tf_mirror_src_exists(s, "keys"), 0);
	assert_true(tf_mirror_src_total_size(s) > dlen);
	/* a copy checked against its digest, under another name */
	assert_int_equal(tt_sh("rm -rf out && mkdir out"), 0);
	copy.name = TARBALL;
	copy.dest = "test.tar.gz";
	memcpy(copy.sha256, sha, sizeof(sha));
	copy.length = dlen;
	assert_int_equal(tf_mirror_src_copy(s, &copy, 1, "out", &err), 0);
	assert_int_equal(tt_sh("cmp -s out/test.tar.gz '%s'", fpath), 0);
	/* a digest that does not match: the copy fails and leaves nothing */
	memset(want, 0, sizeof(want));
	memcpy(copy.sha256, want, sizeof(want));
	copy.dest = "bad.tar.gz";
	assert_int_equal(tf_mirror_src_copy(s, &copy, 1, "out", &err), TF_E_FAIL);
	assert_int_not_equal(access("out/bad.tar.gz", F_OK), 0);
	tf_mirror_src_free(s);
}

static void test_folder(void **state)
{
	(void)state;
	check_source(fixture, 0);
}

static void test_archive(void **state)
{
	(void)state;
	check_source("mirror.tar.gz", 1);
}

static void test_refusals(void **state)
{
	struct tf_mirror_src *s = NULL;
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_mirror_src_open("missing", &s, &err), TF_E_NOTFOUND);
	assert_null(s);
	/* two top folders */
	assert_int_equal(tt_sh("mkdir -p two/a two/b && echo x > two/a/f && echo y > two/b/f && "
	                       "tar czf two.tar.gz -C two a b"),
	                 0);
	assert_int_equal(tf_mirror_src_open("two.tar.gz", &s, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "more than one top folder"));
	/* a member that climbs out */
	assert_int_equal(tt_sh("mkdir -p up/m && echo x > up/x && tar czf up.tar.gz -C up "
	                       "--transform 's,^x$,m/../x,' m x && "
	                       "tar tzf up.tar.gz 2>/dev/null | grep -qx 'm/\\.\\./x'"),
	                 0);
	assert_int_equal(tf_mirror_src_open("up.tar.gz", &s, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "unsafe member"));
	/* not an archive at all */
	tt_write_str("junk.tar.gz", "not a tar file\n");
	assert_int_equal(tf_mirror_src_open("junk.tar.gz", &s, &err), TF_E_INPUT);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_folder),
	    cmocka_unit_test(test_archive),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
