/* Unit tests of mirror/subset.c on generated mirrors and offline packages. */
#include "tests/unit/testutil.h"
#include "common/fsutil.h"
#include "mirror/subset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int gen(const char *out, const char *opts)
{
	return tt_sh("python3 '%s/tests/mirrorgen/mkmirror.py' '%s' --tarball-size 300 "
	             "--key-cache \"${TMPDIR:-/tmp}/tiferry-mirrorgen-keys-$(id -u)\" %s",
	             tt_src(), out, opts);
}

static int setup(void **state)
{
	(void)state;
	tt_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tt_cleanup();
	return 0;
}

static int exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static int build(const struct tf_mirror_subset_opts *o, const char *out,
                 struct tf_mirror_subset_report *rep)
{
	struct tf_err err = {0};
	int r;

	tf_mirror_subset_report_init(rep);
	r = tf_mirror_subset_build(o, out, rep, &err);
	if (r != 0)
		fprintf(stderr, "  subset: %s\n", err.msg);
	return r;
}

static void test_default_subset(void **state)
{
	static const char *const same[] = {"1.root.json",  "timestamp.json", "snapshot.json",
	                                   "1.index.json", "1.tiup.json",    "1.cluster.json",
	                                   "1.ctl.json"};
	struct tf_mirror_subset_opts o = {0};
	struct tf_mirror_subset_report rep;
	struct tf_mirror_report vr;
	struct tf_mirror_verify_opts vo = {0};
	struct tf_err err;
	size_t i;

	(void)state;
	assert_int_equal(gen("g", ""), 0);
	o.source = "g";
	assert_int_equal(build(&o, "out", &rep), 0);
	/* newest not yanked: v1.17.0 and v8.5.0 are listed but yanked */
	assert_non_null(strstr(rep.summary_json, "\"tiup\":\"v1.16.1\""));
	assert_non_null(strstr(rep.summary_json, "\"cluster\":\"v1.16.1\""));
	assert_non_null(strstr(rep.summary_json, "\"ctl\":\"v8.1.0\""));
	assert_non_null(
	    strstr(rep.summary_json, "\"platforms\":[\"linux/amd64\",\"linux/arm64\"]"));
	assert_int_equal(rep.npicks, 6);
	assert_true(rep.subset_size > 0 && rep.subset_size < rep.full_size);
	assert_false(exists("out/keys"));
	assert_false(exists("out/local_install.sh"));
	assert_false(exists("out/cluster-v1.10.0-linux-amd64.tar.gz"));
	assert_true(exists("out/cluster-v1.16.1-linux-arm64.tar.gz"));
	assert_true(exists("out/tiup-linux-amd64.tar.gz"));
	assert_true(exists("out/tiup-linux-arm64.tar.gz"));
	assert_true(exists("out/" TF_MIRROR_SUBSET_MARKER));
	/* manifests byte for byte */
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		assert_int_equal(tt_sh("cmp -s g/%s out/%s", same[i], same[i]), 0);
	assert_int_equal(tt_sh("cmp -s g/root.json out/root.json"), 0);
	assert_int_equal(
	    tt_sh("cmp -s g/tiup-v1.16.1-linux-amd64.tar.gz out/tiup-linux-amd64.tar.gz"), 0);
	tf_mirror_subset_report_release(&rep);
	/* the subset verifies on its own */
	tf_mirror_report_init(&vr);
	assert_int_equal(tf_mirror_verify("out", &vo, &vr, NULL, &err), 0);
	assert_int_equal(vr.tarballs_ok, 8);
	tf_mirror_report_release(&vr);
	/* and a missing carried file is noticed */
	assert_int_equal(unlink("out/ctl-v8.1.0-linux-arm64.tar.gz"), 0);
	tf_mirror_report_init(&vr);
	assert_int_equal(tf_mirror_verify("out", &vo, &vr, NULL, &err), TF_E_FAIL);
	tf_mirror_report_release(&vr);
}

static void test_package_exact_version(void **state)
{
	const char *comps[] = {"cluster"}, *vers[] = {"cluster=v1.10.0"},
	           *plats[] = {"linux/arm64"};
	struct tf_mirror_subset_opts o = {0};
	struct tf_mirror_subset_report rep;
	char *hex = NULL, *p;
	size_t len;
	struct tf_err err;

	(void)state;
	assert_int_equal(gen("g", "--package pkg"), 0);
	o.source = "pkg/tidb-community-server-v8.1.0-linux-amd64.tar.gz";
	o.components = comps;
	o.ncomponents = 1;
	o.versions = vers;
	o.nversions = 1;
	o.platforms = plats;
	o.nplatforms = 1;
	assert_int_equal(build(&o, "out", &rep), 0);
	assert_non_null(strstr(rep.summary_json, "{\"versions\":{\"cluster\":\"v1.10.0\"}"));
	assert_true(exists("out/cluster-v1.10.0-linux-arm64.tar.gz"));
	assert_false(exists("out/cluster-v1.10.0-linux-amd64.tar.gz"));
	assert_false(exists("out/1.tiup.json"));
	assert_int_equal(tt_sh("cmp -s g/cluster-v1.10.0-linux-arm64.tar.gz "
	                       "out/cluster-v1.10.0-linux-arm64.tar.gz"),
	                 0);
	tf_mirror_subset_report_release(&rep);

	/* the expected sha256 of the package file */
	assert_int_equal(tt_sh("sha256sum %s | cut -c1-64 > sum", o.source), 0);
	assert_int_equal(tf_read_file("sum", 100, &hex, &len, &err), 0);
	if ((p = strchr(hex, '\n')) != NULL)
		*p = '\0';
	o.expect_sha256 = hex;
	assert_int_equal(build(&o, "out2", &rep), 0);
	tf_mirror_subset_report_release(&rep);
	hex[0] = hex[0] == 'a' ? 'b' : 'a';
	assert_int_equal(build(&o, "out3", &rep), TF_E_FAIL);
	tf_mirror_subset_report_release(&rep);
	free(hex);
}

static void test_refusals(void **state)
{
	const char *yanked[] = {"cluster=v1.17.0"}, *unknown[] = {"pd"}, *plat[] = {"linux"},
	           *darwin[] = {"darwin/arm64"};
	struct tf_mirror_subset_opts o = {0};
	struct tf_mirror_subset_report rep;

	(void)state;
	assert_int_equal(gen("g", ""), 0);
	o.source = "g";
	o.versions = yanked;
	o.nversions = 1;
	assert_int_equal(build(&o, "o1", &rep), TF_E_NOTFOUND);
	tf_mirror_subset_report_release(&rep);
	o.nversions = 0;
	o.components = unknown;
	o.ncomponents = 1;
	assert_int_equal(build(&o, "o2", &rep), TF_E_NOTFOUND);
	tf_mirror_subset_report_release(&rep);
	o.ncomponents = 0;
	o.platforms = plat;
	o.nplatforms = 1;
	assert_int_equal(build(&o, "o3", &rep), TF_E_INPUT);
	tf_mirror_subset_report_release(&rep);
	o.platforms = darwin; /* listed, but every version yanked there */
	assert_int_equal(build(&o, "o4", &rep), TF_E_NOTFOUND);
	tf_mirror_subset_report_release(&rep);
	o.nplatforms = 0;
	/* a non-empty output folder */
	assert_int_equal(tt_sh("mkdir full && touch full/x"), 0);
	assert_int_equal(build(&o, "full", &rep), TF_E_INPUT);
	tf_mirror_subset_report_release(&rep);
}

static void test_tampered_source(void **state)
{
	struct tf_mirror_subset_opts o = {0};
	struct tf_mirror_subset_report rep;

	(void)state;
	/* a selected tarball that differs is caught while copied; nothing half-written stays */
	assert_int_equal(gen("t", "--tamper tarball-byte"), 0);
	o.source = "t";
	assert_int_equal(build(&o, "out", &rep), TF_E_FAIL);
	assert_false(exists("out"));
	tf_mirror_subset_report_release(&rep);
	/* a chain that fails is never cut */
	assert_int_equal(gen("x", "--expired-timestamp"), 0);
	o.source = "x";
	assert_int_equal(build(&o, "out2", &rep), TF_E_FAIL);
	assert_true(rep.verify.failures > 0);
	assert_false(exists("out2"));
	tf_mirror_subset_report_release(&rep);
}

static void test_dependencies(void **state)
{
	struct tf_mirror_subset_opts o = {0};
	struct tf_mirror_subset_report rep;

	(void)state;
	assert_int_equal(gen("d", "--dep"), 0);
	o.source = "d";
	assert_int_equal(build(&o, "out", &rep), 0);
	assert_non_null(strstr(rep.summary_json, "\"insight\":\"v0.4.2\""));
	assert_true(exists("out/insight-v0.4.2-linux-amd64.tar.gz"));
	assert_true(exists("out/1.insight.json"));
	tf_mirror_subset_report_release(&rep);
}

static void test_rotated_root(void **state)
{
	struct tf_mirror_subset_opts o = {0};
	struct tf_mirror_subset_report rep;

	(void)state;
	assert_int_equal(gen("r", "--rotate good"), 0);
	o.source = "r";
	o.root = "r/1.root.json";
	assert_int_equal(build(&o, "out", &rep), 0);
	assert_non_null(strstr(rep.summary_json, "\"root_version\":2"));
	assert_int_equal(tt_sh("cmp -s r/1.root.json out/1.root.json && cmp -s r/2.root.json "
	                       "out/2.root.json && cmp -s r/2.root.json out/root.json"),
	                 0);
	tf_mirror_subset_report_release(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default_subset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_package_exact_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tampered_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dependencies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotated_root, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
