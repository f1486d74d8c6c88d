/* Unit tests for manifests/yamldoc: the tree, its limits and refusals. */
#include "tests/unit/testutil.h"

#include "manifests/yamldoc.h"

#include <string.h>

static struct tf_yaml *parse(const char *s, int expect, struct tf_err *err)
{
	struct tf_yaml *y = NULL;

	assert_int_equal(tf_yaml_parse(s, strlen(s), "t.yaml", &y, err), expect);
	return y;
}

static void test_tree(void **state)
{
	struct tf_err err;
	struct tf_yaml *y;
	uint64_t n;
	int b;

	(void)state;
	y = parse("a: 1\nb:\n  - x\n  - {k: v}\nc: true\n", 0, &err);
	assert_int_equal(y->kind, TF_YAML_MAP);
	assert_string_equal(tf_yaml_get_str(y, "a"), "1");
	assert_int_equal(tf_yaml_get(y, "b")->kind, TF_YAML_SEQ);
	assert_int_equal(tf_yaml_get(y, "b")->n, 2);
	assert_string_equal(tf_yaml_get_str(tf_yaml_get(y, "b")->items[1], "k"), "v");
	assert_int_equal(tf_yaml_get_u64(y, "a", 0, &n, "t", &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tf_yaml_get_u64(y, "zz", 7, &n, "t", &err), 0);
	assert_int_equal(n, 7);
	assert_int_equal(tf_yaml_get_u64(y, "c", 0, &n, "t", &err), TF_E_INPUT);
	assert_int_equal(tf_yaml_get_bool(y, "c", 0, &b, "t", &err), 0);
	assert_int_equal(b, 1);
	assert_int_equal(tf_yaml_get_bool(y, "a", 0, &b, "t", &err), TF_E_INPUT);
	assert_null(tf_yaml_get(y, "missing"));
	tf_yaml_free(y);
}

static void test_refusals(void **state)
{
	struct tf_err err;

	(void)state;
	parse("a: &x [1]\nb: *x\n", TF_E_INPUT, &err);
	assert_non_null(strstr(err.msg, "aliases"));
	parse("a: 1\na: 2\n", TF_E_INPUT, &err);
	assert_non_null(strstr(err.msg, "duplicate key 'a'"));
	parse("a: [1\n", TF_E_INPUT, &err);
	assert_non_null(strstr(err.msg, "t.yaml: line"));
	parse("", TF_E_INPUT, &err);
	parse("a: 1\n---\nb: 2\n", TF_E_INPUT, &err);
	assert_non_null(strstr(err.msg, "more than one"));
	parse("? [a]\n: 1\n", TF_E_INPUT, &err);
}

/* The "did you mean" for a misspelt field: at most two edits (a swap of neighbours is one),
 * fewer than half the word, letters without case; nothing for a long or a far word. */
static void test_nearest(void **state)
{
	static const char *const keys[] = {"cluster", "days", "recipients", "ca", "restrict_cn"};
	char longw[200];
	struct tf_err err;
	struct tf_yaml *y;

	(void)state;
	assert_string_equal(tf_yaml_nearest("clustr", keys, 5), "cluster");
	assert_string_equal(tf_yaml_nearest("dyas", keys, 5), "days");
	assert_string_equal(tf_yaml_nearest("Cluster", keys, 5), "cluster");
	assert_string_equal(tf_yaml_nearest("recipient", keys, 5), "recipients");
	assert_string_equal(tf_yaml_nearest("restrict_nc", keys, 5), "restrict_cn");
	assert_null(tf_yaml_nearest("cb", keys, 5)); /* one edit of two letters: a guess */
	assert_null(tf_yaml_nearest("", keys, 5));
	assert_null(tf_yaml_nearest("colour", keys, 5));
	assert_null(tf_yaml_nearest("clu", keys, 5)); /* four edits */
	memset(longw, 'a', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	assert_null(tf_yaml_nearest(longw, keys, 5));
	y = parse("cluster: 1\nrecipent: 2\n", 0, &err);
	assert_int_equal(tf_yaml_only_keys(y, keys, 5, "t", "tls", &err), TF_E_INPUT);
	assert_string_equal(
	    err.msg, "t: line 2: unknown field 'recipent' in 'tls' (did you mean 'recipients'?)");
	assert_int_equal(tf_yaml_only_keys(y, keys, 1, "t", NULL, &err), TF_E_INPUT);
	assert_string_equal(err.msg, "t: line 2: unknown field 'recipent'");
	assert_int_equal(tf_yaml_only_keys(y->items[0], keys, 1, "t", NULL, &err), 0);
	tf_yaml_free(y);
}

static void test_depth_limit(void **state)
{
	struct tf_err err;
	char buf[512];
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		buf[i] = '[';
	buf[100] = '\0';
	parse(buf, TF_E_INPUT, &err);
	assert_non_null(strstr(err.msg, "nested deeper"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_nearest),
	    cmocka_unit_test(test_depth_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
