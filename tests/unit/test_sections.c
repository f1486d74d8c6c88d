/* Unit tests for manifests/sections: each section emitted and parsed back, every component kept
 * (install.c once dropped those after the 16th), and bad input refused with the messages the
 * operator sees. */
#include "tests/unit/testutil.h"

#include "manifests/sections.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_plan_round_trip(void **state)
{
	struct tf_plan p, back;
	struct tf_err err;
	char *json = NULL, *again = NULL;
	const char *pdt;

	(void)state;
	tf_plan_init(&p);
	tf_plan_init(&back);
	p.enable_tls = 0;
	p.stop_duplicate_exporters = 1;
	p.min_free_mb = 2048;
	p.pd_topology = strdup("topology/pd.yaml");
	assert_int_equal(tf_plan_add_pd_host(&p, "10.0.0.1", &err), 0);
	assert_int_equal(tf_plan_add_pd_host(&p, "10.0.0.2", &err), 0);
	assert_int_equal(tf_plan_add_host_role(&p, "10.0.0.1", "pd", &err), 0);
	assert_int_equal(tf_plan_add_host_role(&p, "10.0.0.1", "tikv", &err), 0);
	assert_int_equal(tf_plan_add_host_role(&p, "10.0.0.1", "pd", &err), 0); /* once */
	assert_int_equal(tf_plan_add_host_role(&p, "10.0.0.2", "pd", &err), 0);
	assert_int_equal(tf_plan_add_pd_node(&p, "10.0.0.1:2379", "pd-1", &err), 0);
	assert_int_equal(tf_plan_add_pd_node(&p, "10.0.0.2:2379", NULL, &err), 0);
	assert_int_equal(tf_plan_emit(&p, &json, &err), 0);
	/* the section as bundles carry it: key order and spelling are part of the signed format */
	assert_string_equal(
	    json, "{\"enable_tls\":false,\"stop_duplicate_exporters\":true,\"min_free_mb\":2048,"
	          "\"pd_topology\":\"topology/pd.yaml\",\"pd_hosts\":[\"10.0.0.1\",\"10.0.0.2\"],"
	          "\"hosts\":[{\"host\":\"10.0.0.1\",\"roles\":[\"pd\",\"tikv\"]},"
	          "{\"host\":\"10.0.0.2\",\"roles\":[\"pd\"]}],"
	          "\"pd_nodes\":[{\"id\":\"10.0.0.1:2379\",\"name\":\"pd-1\"},"
	          "{\"id\":\"10.0.0.2:2379\"}]}");
	assert_int_equal(tf_plan_parse(json, &back, &err), 0);
	assert_int_equal(back.enable_tls, 0);
	assert_int_equal(back.stop_duplicate_exporters, 1);
	assert_int_equal(back.min_free_mb, 2048);
	assert_int_equal(back.npd_hosts, 2);
	assert_int_equal(back.nhosts, 2);
	assert_int_equal(back.hosts[0].nroles, 2);
	assert_int_equal(back.npd_nodes, 2);
	assert_null(back.pd_nodes[1].name);
	assert_int_equal(tf_plan_pd_topology(&back, &pdt, &err), 0);
	assert_string_equal(pdt, "topology/pd.yaml");
	assert_int_equal(tf_plan_emit(&back, &again, &err), 0);
	assert_string_equal(again, json);
	free(json);
	free(again);
	tf_plan_release(&p);
	tf_plan_release(&back);
}

/* plan.restrict_cn (issue 12 2b): emitted only when asked for, so plans without it keep their
 * signed bytes; each CN once, in the order added; non-strings read as absent. */
static void test_plan_restrict_cn(void **state)
{
	struct tf_plan p, back;
	struct tf_err err;
	char *json = NULL;

	(void)state;
	tf_plan_init(&p);
	tf_plan_init(&back);
	assert_int_equal(tf_plan_emit(&p, &json, &err), 0);
	assert_null(strstr(json, "restrict_cn"));
	free(json);
	assert_int_equal(tf_plan_add_restrict_cn(&p, "pd", &err), 0);
	assert_int_equal(tf_plan_add_restrict_cn(&p, "tikv", &err), 0);
	assert_int_equal(tf_plan_add_restrict_cn(&p, "pd", &err), 0); /* once */
	assert_int_equal(tf_plan_add_restrict_cn(&p, "lab-client", &err), 0);
	assert_int_equal(p.nrestrict_cn, 3);
	assert_int_equal(tf_plan_emit(&p, &json, &err), 0);
	assert_non_null(strstr(json, "\"restrict_cn\":[\"pd\",\"tikv\",\"lab-client\"]"));
	assert_int_equal(tf_plan_parse(json, &back, &err), 0);
	assert_int_equal(back.nrestrict_cn, 3);
	assert_string_equal(back.restrict_cn[2], "lab-client");
	free(json);
	tf_plan_release(&p);
	tf_plan_release(&back);
	assert_int_equal(tf_plan_parse("{\"restrict_cn\":[1,\"tidb\"]}", &back, &err), 0);
	assert_int_equal(back.nrestrict_cn, 1);
	assert_string_equal(back.restrict_cn[0], "tidb");
	tf_plan_release(&back);
}

static void test_plan_defaults(void **state)
{
	struct tf_plan p;
	struct tf_err err;

	(void)state;
	tf_plan_init(&p);
	/* members of the wrong type read as absent; enable_tls is on unless it says false */
	assert_int_equal(tf_plan_parse("{\"enable_tls\":\"no\",\"min_free_mb\":-5,\"pd_hosts\":"
	                               "[1,\"h\"],\"hosts\":[3]}",
	                               &p, &err),
	                 0);
	assert_int_equal(p.enable_tls, 1);
	assert_int_equal(p.stop_duplicate_exporters, 0);
	assert_int_equal(p.min_free_mb, 0);
	assert_int_equal(p.npd_hosts, 1);
	assert_int_equal(p.nhosts, 0);
	assert_null(p.pd_topology);
	tf_plan_release(&p);
}

static void test_refusals(void **state)
{
	static const char *const bad_topology[] = {"{}", "{\"pd_topology\":\"/etc/pd.yaml\"}",
	                                           "{\"pd_topology\":\"topology/../../x\"}",
	                                           "{\"pd_topology\":7}"};
	struct tf_tiup_section t;
	struct tf_tls_section l;
	struct tf_plan p;
	struct tf_err err;
	const char *pdt;
	char *out = NULL;
	size_t i;

	(void)state;
	tf_tiup_section_init(&t);
	tf_tls_section_init(&l);
	tf_plan_init(&p);
	assert_int_equal(tf_tiup_section_parse("{", &t, &err), TF_E_REJECT);
	assert_string_equal(err.msg, "manifest: 'tiup' section is not JSON");
	assert_int_equal(tf_tls_section_parse("[", &l, &err), TF_E_REJECT);
	assert_string_equal(err.msg, "manifest: 'tls' section is not JSON");
	assert_int_equal(tf_plan_parse("nope", &p, &err), TF_E_REJECT);
	assert_string_equal(err.msg, "manifest: 'plan' section is not JSON");
	for (i = 0; i < sizeof(bad_topology) / sizeof(bad_topology[0]); i++) {
		tf_plan_release(&p);
		assert_int_equal(tf_plan_parse(bad_topology[i], &p, &err), 0);
		assert_int_equal(tf_plan_pd_topology(&p, &pdt, &err), TF_E_REJECT);
		assert_string_equal(err.msg, "manifest: 'plan' has no usable pd_topology");
	}
	assert_int_equal(tf_tiup_section_emit("{", NULL, &out, &err), TF_E_FAIL);
	assert_string_equal(err.msg, "mirror subset summary is not JSON");
	tf_tiup_section_release(&t);
	tf_tls_section_release(&l);
	tf_plan_release(&p);
}

/* A bundle may carry any number of components: the install once kept only the first 16 and
 * never upgraded (nor verified) the rest. */
static void test_tiup_many_components(void **state)
{
	struct tf_tiup_section t;
	struct tf_err err;
	char json[4096], name[32], *vs = NULL;
	size_t i, n = 0;

	(void)state;
	n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"versions\":{");
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"c%02zu\":\"v1.%zu.0\"",
		                      i ? "," : "", i, i);
	snprintf(json + n, sizeof(json) - n, "},\"platforms\":[\"linux/amd64\"]}");
	tf_tiup_section_init(&t);
	assert_int_equal(tf_tiup_section_parse(json, &t, &err), 0);
	assert_int_equal(t.ncomponents, 40);
	for (i = 0; i < 40; i++) {
		char want[32];

		snprintf(name, sizeof(name), "c%02zu", i);
		snprintf(want, sizeof(want), "v1.%zu.0", i);
		assert_string_equal(tf_tiup_section_version(&t, name), want);
	}
	assert_int_equal(tf_tiup_section_versions_json(&t, &vs, &err), 0);
	assert_non_null(strstr(vs, "\"c39\":\"v1.39.0\"}"));
	free(vs);
	tf_tiup_section_release(&t);
}

static void test_tiup_round_trip(void **state)
{
	static const char summary[] =
	    "{\"versions\":{\"cluster\":\"v1.16.1\",\"ctl\":\"v8.1.0\",\"tiup\":\"v1.16.1\"},"
	    "\"platforms\":[\"linux/amd64\",\"linux/arm64\"],\"root_version\":3,"
	    "\"full_bytes\":10,\"subset_bytes\":5,\"files\":[]}";
	struct tf_tiup_section t;
	struct tf_err err;
	char *json = NULL, *vs = NULL;

	(void)state;
	assert_int_equal(tf_tiup_section_emit(summary, "https://mirror.example/", &json, &err), 0);
	assert_non_null(strstr(
	    json, ",\"restore\":{\"mode\":\"mirror\",\"mirror\":\"https://mirror.example/\"}}"));
	tf_tiup_section_init(&t);
	assert_int_equal(tf_tiup_section_parse(json, &t, &err), 0);
	assert_true(t.has_versions);
	assert_int_equal(t.ncomponents, 3);
	assert_string_equal(tf_tiup_section_version(&t, "ctl"), "v8.1.0");
	assert_null(tf_tiup_section_version(&t, "pd"));
	assert_true(tf_tiup_section_has_platform(&t, "linux/arm64"));
	assert_false(tf_tiup_section_has_platform(&t, "linux/s390x"));
	assert_string_equal(t.restore_mode, "mirror");
	assert_string_equal(t.restore_mirror, "https://mirror.example/");
	assert_int_equal(tf_tiup_section_versions_json(&t, &vs, &err), 0);
	assert_string_equal(vs,
	                    "{\"cluster\":\"v1.16.1\",\"ctl\":\"v8.1.0\",\"tiup\":\"v1.16.1\"}");
	free(vs);
	free(json);
	tf_tiup_section_release(&t);

	assert_int_equal(tf_tiup_section_emit(summary, NULL, &json, &err), 0);
	assert_non_null(strstr(json, ",\"restore\":{\"mode\":\"as-recorded\"}}"));
	tf_tiup_section_init(&t);
	assert_int_equal(tf_tiup_section_parse(json, &t, &err), 0);
	assert_string_equal(t.restore_mode, "as-recorded");
	assert_null(t.restore_mirror);
	free(json);
	tf_tiup_section_release(&t);
}

static void test_tls(void **state)
{
	struct tf_tls_section l;
	struct tf_err err;

	(void)state;
	tf_tls_section_init(&l);
	assert_int_equal(
	    tf_tls_section_parse("{\"source\":\"generated\",\"ca\":{\"subject\":\"CN=ca\","
	                         "\"fingerprint\":\"sha256:ab\",\"not_after\":"
	                         "\"2076-01-01T00:00:00Z\"}}",
	                         &l, &err),
	    0);
	assert_string_equal(l.source, "generated");
	assert_true(l.has_ca);
	assert_false(l.has_client);
	assert_string_equal(l.ca.subject, "CN=ca");
	assert_string_equal(l.ca.fingerprint, "sha256:ab");
	assert_string_equal(l.ca.not_after, "2076-01-01T00:00:00Z");
	assert_null(l.client.subject);
	tf_tls_section_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_round_trip),
	    cmocka_unit_test(test_plan_defaults),
	    cmocka_unit_test(test_plan_restrict_cn),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_tiup_many_components),
	    cmocka_unit_test(test_tiup_round_trip),
	    cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
