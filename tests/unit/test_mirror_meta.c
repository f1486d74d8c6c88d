/* Unit tests of mirror/tiupmeta.c: envelope parsing, raw signed bytes, keyids, versions. */
#include "tests/unit/testutil.h"
#include "common/fsutil.h"
#include "mirror/tiupmeta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *s, struct tf_tiup_manifest **m)
{
	struct tf_err err = {0};

	return tf_tiup_manifest_parse((const uint8_t *)s, strlen(s), "t.json", m, &err);
}

#define TS_SIGNED                                                                                  \
	"{\"_type\":\"timestamp\",\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{\"/"              \
	"snapshot.json\":"                                                                         \
	"{\"hashes\":{\"sha256\":\"ab\"},\"length\":10}},\"spec_version\":\"0.1.0\",\"version\":"  \
	"3}"

static void test_envelope(void **state)
{
	struct tf_tiup_manifest *m = NULL;
	const char *doc =
	    "{\"signatures\":[{\"keyid\":\"k\",\"sig\":\"c2ln\"}],\"signed\":" TS_SIGNED "}";
	const uint8_t *sb;
	size_t len;

	(void)state;
	assert_int_equal(parse(doc, &m), 0);
	sb = tf_tiup_manifest_signed(m, &len);
	assert_int_equal(len, strlen(TS_SIGNED));
	assert_memory_equal(sb, TS_SIGNED, len);
	assert_string_equal(m->type, "timestamp");
	assert_int_equal(m->version, 3);
	assert_int_equal(m->nsigs, 1);
	assert_string_equal(m->sigs[0].keyid, "k");
	assert_non_null(tf_tiup_meta_get(m, "/snapshot.json"));
	assert_int_equal(tf_tiup_meta_get(m, "/snapshot.json")->length, 10);
	assert_string_equal(tf_tiup_meta_get(m, "/snapshot.json")->sha256, "ab");
	tf_tiup_manifest_free(m);

	/* white space around the value is not part of the raw bytes; signed may come first */
	doc = "{ \"signed\" :  " TS_SIGNED " , \"signatures\":[] }\n";
	assert_int_equal(parse(doc, &m), 0);
	sb = tf_tiup_manifest_signed(m, &len);
	assert_int_equal(len, strlen(TS_SIGNED));
	assert_memory_equal(sb, TS_SIGNED, len);
	tf_tiup_manifest_free(m);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"signatures\":[]}",
	    "{\"signed\":" TS_SIGNED "}",
	    "{\"signatures\":[],\"signed\":" TS_SIGNED ",\"extra\":1}",
	    "{\"signatures\":[],\"signed\":" TS_SIGNED "} trailing",
	    "{\"signatures\":[],\"signed\":" TS_SIGNED ",\"signed\":" TS_SIGNED "}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"root\",\"_type\":\"root\"}}",
	    "{\"signatures\":{},\"signed\":" TS_SIGNED "}",
	    "{\"signatures\":[{\"keyid\":1,\"sig\":\"x\"}],\"signed\":" TS_SIGNED "}",
	    "{\"signatures\":[],\"signed\":[]}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"bogus\",\"expires\":\"2030-01-01T00:00:"
	    "00Z\","
	    "\"spec_version\":\"0.1.0\"}}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"root\",\"expires\":\"soon\","
	    "\"spec_version\":\"0.1.0\",\"roles\":{}}}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"snapshot\",\"expires\":\"2030-01-01T00:00:"
	    "00Z\","
	    "\"spec_version\":\"0.1.0\",\"meta\":{\"/a.json\":{\"version\":-1}}}}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"snapshot\",\"expires\":\"2030-01-01T00:00:"
	    "00Z\","
	    "\"spec_version\":\"0.1.0\",\"meta\":{\"/a.json\":{\"version\":1.5}}}}",
	};
	struct tf_tiup_manifest *m = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &m) != TF_E_INPUT) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			fail();
		}
		assert_null(m);
	}
}

static void test_fixture_files(void **state)
{
	static const char *const names[] = {"1.root.json",   "root.json",      "1.index.json",
	                                    "snapshot.json", "timestamp.json", "1.cluster.json",
	                                    "1.ctl.json"};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[4096], *buf = NULL;
		size_t len = 0;
		struct tf_err err;
		struct tf_tiup_manifest *m = NULL;
		const uint8_t *sb;
		size_t sl;

		snprintf(path, sizeof(path), "%s/manifests/%s", tt_tiup_testdata(), names[i]);
		assert_int_equal(tf_read_file(path, 1 << 20, &buf, &len, &err), 0);
		assert_int_equal(tf_tiup_manifest_parse((uint8_t *)buf, len, names[i], &m, &err),
		                 0);
		/* canonical JSON: the signed bytes are the tail of the file but its last '}' */
		sb = tf_tiup_manifest_signed(m, &sl);
		assert_ptr_equal(sb + sl, m->raw + len - 1);
		for (j = 0; j < m->nroles; j++) {
			size_t k;

			for (k = 0; k < m->roles[j].nkeys; k++)
				assert_string_equal(m->roles[j].keys[k].id,
				                    m->roles[j].keys[k].computed_id);
		}
		for (j = 0; j < m->nowners; j++)
			assert_string_equal(m->owners[j].keys[0].id,
			                    m->owners[j].keys[0].computed_id);
		if (strcmp(names[i], "1.cluster.json") == 0) {
			const struct tf_tiup_release *r =
			    tf_tiup_release_get(m, "linux/amd64", "v0.6.2");

			assert_non_null(r);
			assert_string_equal(r->url, "/cluster-v0.6.2-linux-amd64.tar.gz");
			assert_true(tf_tiup_has_platform(m, "linux/amd64"));
			assert_false(tf_tiup_has_platform(m, "plan9/mips"));
		}
		if (strcmp(names[i], "1.index.json") == 0) {
			assert_non_null(tf_tiup_index_item(m, "cluster"));
			assert_non_null(tf_tiup_index_owner(m, "pingcap"));
			assert_false(tf_tiup_index_owner(m, "pingcap")->has_threshold);
		}
		tf_tiup_manifest_free(m);
		free(buf);
	}
}

static void test_any_any_fallback(void **state)
{
	struct tf_tiup_manifest *m = NULL;
	const char *doc =
	    "{\"signatures\":[],\"signed\":{\"_type\":\"component\",\"expires\":"
	    "\"2030-01-01T00:00:00Z\",\"id\":\"doc\",\"spec_version\":\"0.1.0\",\"version\":1,"
	    "\"platforms\":{\"any/any\":{\"v1.0.0\":{\"url\":\"/doc-v1.0.0-any-any.tar.gz\","
	    "\"length\":5,\"dependencies\":{\"cluster\":\"v1.16.1\"}}}}}}";

	(void)state;
	assert_int_equal(parse(doc, &m), 0);
	assert_non_null(tf_tiup_release_get(m, "linux/arm64", "v1.0.0"));
	assert_int_equal(tf_tiup_release_get(m, "linux/arm64", "v1.0.0")->ndeps, 1);
	assert_string_equal(tf_tiup_release_get(m, "linux/arm64", "v1.0.0")->deps[0].name,
	                    "cluster");
	assert_null(tf_tiup_release_get(m, "linux/arm64", "v2.0.0"));
	tf_tiup_manifest_free(m);
}

static void test_versions(void **state)
{
	(void)state;
	assert_true(tf_tiup_version_cmp("v1.16.1", "v1.10.0") > 0);
	assert_true(tf_tiup_version_cmp("v1.9.0", "v1.10.0") < 0);
	assert_true(tf_tiup_version_cmp("v8.1.0", "v8.1.0") == 0);
	assert_true(tf_tiup_version_cmp("v8.1.0-beta.1", "v8.1.0") < 0);
	assert_true(tf_tiup_version_cmp("v8.1.0-beta.2", "v8.1.0-beta.10") < 0);
	assert_true(tf_tiup_version_cmp("v8.1.0-alpha", "v8.1.0-beta") < 0);
	assert_true(tf_tiup_version_cmp("nightly", "v0.0.1") < 0);
	assert_true(tf_tiup_version_is_nightly("nightly"));
	assert_true(tf_tiup_version_is_nightly("v8.2.0-alpha-nightly-20240101"));
	assert_false(tf_tiup_version_is_nightly("v8.1.0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_envelope),      cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_fixture_files), cmocka_unit_test(test_any_any_fallback),
	    cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
