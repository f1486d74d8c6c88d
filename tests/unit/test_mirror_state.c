/* Unit tests of mirror/tiupstate.c: record, switch as `tiup mirror set` does, restore. */
#include "tests/unit/testutil.h"
#include "common/fsutil.h"
#include "mirror/tiupstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
	(void)state;
	tt_tmpdir();
	unsetenv("TIUP_MIRRORS");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("TIUP_MIRRORS");
	tt_cleanup();
	return 0;
}

static int exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* A TIUP_HOME as a client that used an http mirror leaves it. */
static void make_home(void)
{
	assert_int_equal(tt_sh("mkdir -p home/bin home/manifests home/components/cluster/v1.16.1"),
	                 0);
	tt_write_str("home/tiup.toml", "mirror = \"https://mirror.example.com/tiup\"\n");
	tt_write_str("home/bin/root.json", "{\"signed\":\"old root\"}");
	tt_write_str("home/bin/0123456789abcdef.root.json", "{\"signed\":\"cached\"}");
	tt_write_str("home/bin/tiup", "binary");
	tt_write_str("home/manifests/index.json", "index");
	tt_write_str("home/manifests/cluster.json", "cluster");
}

/* What `tiup mirror set /staging/mirror` does to it. */
static void switch_mirror(void)
{
	tt_write_str("home/tiup.toml", "mirror = \"/staging/mirror\"\n");
	tt_write_str("home/bin/root.json", "{\"signed\":\"staging root\"}");
	tt_write_str("home/bin/fedcba9876543210.root.json", "{\"signed\":\"another cache\"}");
	assert_int_equal(tt_sh("rm -rf home/manifests && mkdir home/manifests && echo x > "
	                       "home/manifests/timestamp.json"),
	                 0);
	tt_write_str("home/bin/tiup", "upgraded binary");
}

static void test_record_restore(void **state)
{
	struct tf_tiup_state st;
	struct tf_err err;

	(void)state;
	make_home();
	assert_int_equal(tf_tiup_state_record("home", &st, &err), 0);
	assert_true(st.has_toml);
	assert_string_equal(st.mirror, "https://mirror.example.com/tiup");
	assert_string_equal(tf_tiup_state_mirror(&st), "https://mirror.example.com/tiup");
	assert_true(st.has_root);
	assert_int_equal(st.ncaches, 1);
	assert_true(st.has_manifests);
	assert_int_equal(st.nmanifests, 2);
	assert_false(st.has_env);
	assert_int_equal(tt_sh("cp -a home home.before"), 0);
	switch_mirror();
	assert_int_equal(tf_tiup_state_restore(&st, &err), 0);
	/* everything as recorded, except the upgraded binary which is not mirror state */
	assert_int_equal(tt_sh("cmp -s home/tiup.toml home.before/tiup.toml"), 0);
	assert_int_equal(tt_sh("cmp -s home/bin/root.json home.before/bin/root.json"), 0);
	assert_int_equal(tt_sh("diff -r home/manifests home.before/manifests"), 0);
	assert_true(exists("home/bin/0123456789abcdef.root.json"));
	assert_false(exists("home/bin/fedcba9876543210.root.json"));
	assert_int_equal(tt_sh("grep -q upgraded home/bin/tiup"), 0);
	assert_true(exists("home/components/cluster/v1.16.1"));
	tf_tiup_state_release(&st);
}

static void test_fresh_home(void **state)
{
	struct tf_tiup_state st;
	struct tf_err err;

	(void)state;
	assert_int_equal(tt_sh("mkdir -p fresh/bin"), 0);
	setenv("TIUP_MIRRORS", "http://127.0.0.1:8080", 1);
	assert_int_equal(tf_tiup_state_record("fresh", &st, &err), 0);
	assert_false(st.has_toml);
	assert_false(st.has_root);
	assert_false(st.has_manifests);
	assert_true(st.has_env);
	assert_string_equal(tf_tiup_state_mirror(&st), "http://127.0.0.1:8080");
	/* a switch creates files; restoring removes them again */
	tt_write_str("fresh/tiup.toml", "mirror = \"/staging\"\n");
	tt_write_str("fresh/bin/root.json", "r");
	assert_int_equal(tt_sh("mkdir fresh/manifests"), 0);
	assert_int_equal(tf_tiup_state_restore(&st, &err), 0);
	assert_false(exists("fresh/tiup.toml"));
	assert_false(exists("fresh/bin/root.json"));
	assert_false(exists("fresh/manifests"));
	tf_tiup_state_release(&st);
	unsetenv("TIUP_MIRRORS");
	assert_int_equal(tf_tiup_state_record("fresh", &st, &err), 0);
	assert_string_equal(tf_tiup_state_mirror(&st), TF_TIUP_DEFAULT_MIRROR);
	tf_tiup_state_release(&st);
}

static void test_save_load(void **state)
{
	struct tf_tiup_state st, back;
	struct tf_err err;

	(void)state;
	make_home();
	setenv("TIUP_MIRRORS", "/some/mirror", 1);
	assert_int_equal(tf_tiup_state_record("home", &st, &err), 0);
	assert_int_equal(tf_tiup_state_save(&st, "saved", &err), 0);
	assert_int_equal(tf_tiup_state_load("saved", &back, &err), 0);
	assert_string_equal(back.home, "home");
	assert_string_equal(back.mirror, st.mirror);
	assert_string_equal(back.env, "/some/mirror");
	assert_int_equal(back.nmanifests, 2);
	assert_int_equal(back.ncaches, 1);
	assert_int_equal(back.root_len, st.root_len);
	assert_memory_equal(back.root, st.root, st.root_len);
	switch_mirror();
	assert_int_equal(tf_tiup_state_restore(&back, &err), 0);
	assert_int_equal(tt_sh("grep -q mirror.example.com home/tiup.toml"), 0);
	assert_int_equal(tt_sh("grep -q 'old root' home/bin/root.json"), 0);
	assert_true(exists("home/manifests/cluster.json"));
	assert_false(exists("home/manifests/timestamp.json"));
	tf_tiup_state_release(&st);
	tf_tiup_state_release(&back);
	/* nested folders in manifests/ are refused rather than lost */
	assert_int_equal(tt_sh("mkdir home/manifests/sub"), 0);
	assert_int_equal(tf_tiup_state_record("home", &st, &err), TF_E_INPUT);
}

static void test_toml(void **state)
{
	static const char *const addrs[] = {"https://tiup-mirrors.pingcap.com/", "/opt/mirror",
	                                    "/path with \"quotes\" and \\back\\slash"};
	size_t i;
	char *s, *t;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		assert_non_null(t = tf_tiup_toml_render(addrs[i]));
		assert_non_null(s = tf_tiup_toml_mirror(t, strlen(t)));
		assert_string_equal(s, addrs[i]);
		free(s);
		free(t);
	}
	t = "# comment\nother = 1\n  mirror='/lit/eral'\n";
	assert_non_null(s = tf_tiup_toml_mirror(t, strlen(t)));
	assert_string_equal(s, "/lit/eral");
	free(s);
	t = "mirror = \"caf\\u00e9\"\n";
	assert_non_null(s = tf_tiup_toml_mirror(t, strlen(t)));
	assert_string_equal(s, "caf\xc3\xa9");
	free(s);
	/* TOML's escapes are hex digits only, for a Unicode scalar value (strtoul alone took a
	 * sign, blanks and 0x; a surrogate became CESU-8) */
	t = "mirror = \"caf\\u+0e9\"\n";
	assert_null(tf_tiup_toml_mirror(t, strlen(t)));
	t = "mirror = \"caf\\u 0e9\"\n";
	assert_null(tf_tiup_toml_mirror(t, strlen(t)));
	t = "mirror = \"\\U0x00e9ab\"\n";
	assert_null(tf_tiup_toml_mirror(t, strlen(t)));
	t = "mirror = \"\\ud800\"\n";
	assert_null(tf_tiup_toml_mirror(t, strlen(t)));
	/* a last line of blanks, no newline: nothing read past the end (fuzz_tiup_state) */
	{
		char *b = malloc(3);

		assert_non_null(b);
		memcpy(b, "x\n\t", 3);
		assert_null(tf_tiup_toml_mirror(b, 3));
		free(b);
	}
	t = "[table]\nmirror = \"x\"\n";
	assert_null(tf_tiup_toml_mirror(t, strlen(t)));
	t = "mirrors = \"x\"\n";
	assert_null(tf_tiup_toml_mirror(t, strlen(t)));
	t = "mirror = \"unterminated\n";
	assert_null(tf_tiup_toml_mirror(t, strlen(t)));
	assert_non_null(t = tf_tiup_toml_render("https://a/"));
	assert_string_equal(t, "mirror = \"https://a/\"\n");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_record_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fresh_home, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_toml, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
