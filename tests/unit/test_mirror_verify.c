/* Unit tests of mirror/verify.c: TiUP's own signed test data, tampering, generated mirrors. */
#include "tests/unit/testutil.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "mirror/verify.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fixture[4096];

static time_t at(const char *s)
{
	time_t t = 0;

	assert_int_equal(tf_time_parse(s, &t, NULL), 0);
	return t;
}

/* Runs verify; returns its code and leaves the report in rep (caller releases). */
static int run(const char *path, const char *root, const char *when, int manifests_only,
               struct tf_mirror_report *rep)
{
	struct tf_mirror_verify_opts o = {0};
	struct tf_err err = {0};

	o.root = root;
	o.at = when ? at(when) : 0;
	o.manifests_only = manifests_only;
	tf_mirror_report_init(rep);
	return tf_mirror_verify(path, &o, rep, NULL, &err);
}

/* 1 when the report has a failure whose file ends with file and whose rule is rule. */
static int has_fail(const struct tf_mirror_report *rep, const char *file, const char *rule)
{
	size_t i, fl = strlen(file);

	for (i = 0; i < rep->n; i++) {
		const struct tf_mirror_check *c = &rep->checks[i];
		size_t n = strlen(c->file);

		if (c->status == TF_MIRROR_FAIL && n >= fl && strcmp(c->file + n - fl, file) == 0 &&
		    strcmp(c->rule, rule) == 0)
			return 1;
	}
	return 0;
}

static void dump(const struct tf_mirror_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		if (rep->checks[i].status == TF_MIRROR_FAIL)
			fprintf(stderr, "  fail %s [%s] %s\n", rep->checks[i].file,
			        rep->checks[i].rule, rep->checks[i].detail);
}

static int setup(void **state)
{
	(void)state;
	snprintf(fixture, sizeof(fixture), "%s", tt_tiup_testdata());
	tt_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tt_cleanup();
	return 0;
}

static void test_fixture_passes(void **state)
{
	struct tf_mirror_report rep;
	char dir[4200], root[4300];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/manifests", fixture);
	snprintf(root, sizeof(root), "%s/1.root.json", dir);
	assert_int_equal(run(dir, root, "2030-01-01T00:00:00Z", 1, &rep), 0);
	assert_int_equal(rep.failures, 0);
	assert_int_equal(rep.manifests_ok,
	                 26);         /* root, timestamp, snapshot, index, 22 components */
	assert_true(rep.skipped > 0); /* the absent tarballs, said so */
	tf_mirror_report_release(&rep);
	/* today is before 2031-10-21 as well */
	assert_int_equal(run(dir, root, NULL, 1, &rep), 0);
	tf_mirror_report_release(&rep);
	/* the tarballs are absent: without --manifests-only that fails */
	assert_int_equal(run(dir, root, "2030-01-01T00:00:00Z", 0, &rep), TF_E_FAIL);
	assert_true(has_fail(&rep, "cluster-v0.0.1-darwin-amd64.tar.gz", "present"));
	tf_mirror_report_release(&rep);
}

static void test_fixture_expired_later(void **state)
{
	struct tf_mirror_report rep;
	char dir[4200], root[4300];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/manifests", fixture);
	snprintf(root, sizeof(root), "%s/1.root.json", dir);
	assert_int_equal(run(dir, root, "2031-10-22T00:00:00Z", 1, &rep), TF_E_FAIL);
	assert_true(has_fail(&rep, "1.root.json", "expiry"));
	assert_true(has_fail(&rep, "timestamp.json", "expiry"));
	tf_mirror_report_release(&rep);
}

static void test_official_root_expired(void **state)
{
	struct tf_mirror_report rep;
	char dir[4200];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/manifests", fixture);
	/* the default anchor is the mirror's root.json: TiUP's official v6, expired 2026-07-26 */
	assert_int_equal(run(dir, NULL, NULL, 1, &rep), TF_E_FAIL);
	assert_true(has_fail(&rep, "root.json", "expiry"));
	/* and it does not sign the rest of the set either */
	assert_true(has_fail(&rep, "timestamp.json", "threshold"));
	tf_mirror_report_release(&rep);
}

static void test_polluted(void **state)
{
	struct tf_mirror_report rep;
	char dir[4200];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/polluted", fixture);
	assert_int_equal(run(dir, NULL, "2026-01-01T00:00:00Z", 1, &rep), TF_E_FAIL);
	assert_true(has_fail(&rep, "manifests/index.json", "signature"));
	assert_true(has_fail(&rep, "manifests/timestamp.json", "expiry"));
	tf_mirror_report_release(&rep);
}

/* Every sampled single-byte change of every manifest of the chain must be rejected: all 26
 * files (root.json, TiUP's official root, is not in this chain when --root is given). */
static void test_every_byte(void **state)
{
	struct tf_mirror_report rep;
	struct dirent *de;
	size_t tried = 0, nfiles = 0;
	DIR *d;

	(void)state;
	assert_int_equal(tt_sh("cp -r '%s/manifests' m && chmod -R u+w m", fixture), 0);
	assert_int_equal(run("m", "m/1.root.json", "2030-01-01T00:00:00Z", 1, &rep), 0);
	tf_mirror_report_release(&rep);
	assert_non_null(d = opendir("m"));
	while ((de = readdir(d)) != NULL) {
		char path[512], *orig = NULL, *mod;
		size_t len = 0, k, step;
		struct tf_err err;

		if (strstr(de->d_name, ".json") == NULL || strcmp(de->d_name, "root.json") == 0)
			continue;
		nfiles++;
		snprintf(path, sizeof(path), "m/%s", de->d_name);
		assert_int_equal(tf_read_file(path, 1 << 20, &orig, &len, &err), 0);
		assert_non_null(mod = malloc(len));
		step = len / 16 > 0 ? len / 16 : 1;
		for (k = 0; k < len; k += (k < 4 || k + 4 > len) ? 1 : step) {
			static const unsigned char flips[] = {0x01, 0x20, 0x80};
			unsigned char flip = flips[(k + nfiles) % 3];

			memcpy(mod, orig, len);
			mod[k] = (char)((unsigned char)mod[k] ^ flip);
			tt_write(path, mod, len);
			if (run("m", "m/1.root.json", "2030-01-01T00:00:00Z", 1, &rep) == 0) {
				fprintf(stderr, "byte %zu of %s (xor 0x%02x) was accepted\n", k,
				        de->d_name, flip);
				fail();
			}
			tf_mirror_report_release(&rep);
			tried++;
		}
		tt_write(path, orig, len);
		free(mod);
		free(orig);
	}
	closedir(d);
	assert_int_equal(nfiles, 26);
	assert_true(tried > 500);
	/* and the untouched copy still passes */
	assert_int_equal(run("m", "m/1.root.json", "2030-01-01T00:00:00Z", 1, &rep), 0);
	tf_mirror_report_release(&rep);
}

/* Generated mirrors (tests/mirrorgen/mkmirror.py). */
static int gen(const char *out, const char *opts)
{
	return tt_sh("python3 '%s/tests/mirrorgen/mkmirror.py' '%s' --tarball-size 300 "
	             "--key-cache \"${TMPDIR:-/tmp}/tiferry-mirrorgen-keys-$(id -u)\" %s",
	             tt_src(), out, opts);
}

static void test_generated_good(void **state)
{
	struct tf_mirror_report rep;
	struct tf_mirror *m = NULL;
	struct tf_mirror_verify_opts o = {0};
	struct tf_err err;
	const char *file = NULL;

	(void)state;
	assert_int_equal(gen("g", "--package pkg --salt-mix --unknown-sig"), 0);
	assert_int_equal(run("g", NULL, NULL, 0, &rep), 0);
	assert_int_equal(rep.tarballs_ok, 14); /* 12 releases and two tiup-<os>-<arch> copies */
	tf_mirror_report_release(&rep);
	assert_int_equal(
	    run("pkg/tidb-community-server-v8.1.0-linux-amd64.tar.gz", NULL, NULL, 0, &rep), 0);
	assert_int_equal(rep.tarballs_ok, 14);
	tf_mirror_report_release(&rep);
	/* the independent checker agrees */
	assert_int_equal(tt_sh("'%s/tests/mirrorgen/check_mirror.sh' g >/dev/null", tt_src()), 0);
	/* the verified mirror object */
	tf_mirror_report_init(&rep);
	assert_int_equal(tf_mirror_verify("g", &o, &rep, &m, &err), 0);
	assert_non_null(tf_mirror_component(m, "cluster", &file));
	assert_string_equal(file, "1.cluster.json");
	assert_int_equal(tf_mirror_nroots(m), 1);
	tf_mirror_free(m);
	tf_mirror_report_release(&rep);
}

static void test_generated_tampered(void **state)
{
	static const struct {
		const char *opts, *file, *rule;
	} cases[] = {
	    {"--tamper tarball-byte", "cluster-v1.16.1-linux-amd64.tar.gz", "sha256"},
	    {"--tamper tarball-length", "cluster-v1.16.1-linux-amd64.tar.gz", "length"},
	    {"--expired-timestamp", "timestamp.json", "expiry"},
	    {"--tamper index-sig", "1.index.json", "signature"},
	    {"--dup-sig", "1.index.json", "duplicate-keyid"},
	    {"--tamper snapshot-byte", "snapshot.json", "sha256"},
	    {"--tamper component-byte", "1.cluster.json", "signature"},
	    {"--tamper tiup-copy", "tiup-linux-amd64.tar.gz", "unsigned"},
	};
	struct tf_mirror_report rep;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dir[32];

		snprintf(dir, sizeof(dir), "t%zu", i);
		assert_int_equal(gen(dir, cases[i].opts), 0);
		assert_int_equal(run(dir, NULL, NULL, 0, &rep), TF_E_FAIL);
		if (!has_fail(&rep, cases[i].file, cases[i].rule)) {
			fprintf(stderr, "%s: expected %s [%s]\n", cases[i].opts, cases[i].file,
			        cases[i].rule);
			dump(&rep);
			fail();
		}
		tf_mirror_report_release(&rep);
		assert_int_not_equal(
		    tt_sh("'%s/tests/mirrorgen/check_mirror.sh' %s >/dev/null", tt_src(), dir), 0);
	}
}

static void test_generated_expired_timestamp_package(void **state)
{
	struct tf_mirror_report rep;

	(void)state;
	assert_int_equal(gen("e", "--expired-timestamp --package epkg"), 0);
	assert_int_equal(
	    run("epkg/tidb-community-server-v8.1.0-linux-amd64.tar.gz", NULL, NULL, 0, &rep),
	    TF_E_FAIL);
	assert_true(has_fail(&rep, "timestamp.json", "expiry"));
	tf_mirror_report_release(&rep);
}

static void test_rotation(void **state)
{
	struct tf_mirror_report rep;

	(void)state;
	assert_int_equal(gen("rg", "--rotate good"), 0);
	assert_int_equal(run("rg", "rg/1.root.json", NULL, 0, &rep), 0);
	tf_mirror_report_release(&rep);
	assert_int_equal(gen("rn", "--rotate new-only"), 0);
	assert_int_equal(run("rn", "rn/1.root.json", NULL, 0, &rep), TF_E_FAIL);
	assert_true(has_fail(&rep, "2.root.json", "threshold"));
	tf_mirror_report_release(&rep);
	assert_int_equal(gen("ro", "--rotate old-only"), 0);
	assert_int_equal(run("ro", "ro/1.root.json", NULL, 0, &rep), TF_E_FAIL);
	assert_true(has_fail(&rep, "2.root.json", "threshold"));
	tf_mirror_report_release(&rep);
}

static void test_report_json(void **state)
{
	struct tf_mirror_report rep;
	char dir[4200], *js;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/polluted", fixture);
	assert_int_equal(run(dir, NULL, "2026-01-01T00:00:00Z", 1, &rep), TF_E_FAIL);
	assert_non_null(js = tf_mirror_report_json(&rep, dir));
	assert_non_null(strstr(js, "\"ok\":\tfalse"));
	assert_non_null(strstr(js, "\"rule\":\t\"signature\""));
	free(js);
	tf_mirror_report_release(&rep);
}

static void test_not_a_mirror(void **state)
{
	struct tf_mirror_report rep;

	(void)state;
	assert_int_equal(run("nowhere", NULL, NULL, 0, &rep), TF_E_NOTFOUND);
	tf_mirror_report_release(&rep);
	tt_write_str("junk.tar.gz", "not an archive");
	assert_int_not_equal(run("junk.tar.gz", NULL, NULL, 0, &rep), 0);
	tf_mirror_report_release(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fixture_passes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fixture_expired_later, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_official_root_expired, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_polluted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_generated_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_generated_tampered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_generated_expired_timestamp_package, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_report_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_mirror, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
