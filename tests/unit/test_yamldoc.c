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
	    cmocka_unit_test(test_depth_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
