/* Unit tests for cluster/certplan: the node certificates TiUP will issue, from hand-made
 * instances and from a real meta.yaml, alone and inside the tls section's summary. */
#include "tests/unit/testutil.h"

#include "cluster/certplan.h"
#include "crypto/certs.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_plan(void **state)
{
	struct tf_topo_instance in[4];
	struct tf_topology t;
	struct tf_certplan *p = NULL;
	struct tf_err err;
	char *json = NULL;
	cJSON *j, *certs;

	(void)state;
	memset(in, 0, sizeof(in));
	memset(&t, 0, sizeof(t));
	in[0].role = "pd";
	in[0].host = "10.0.1.1";
	in[0].deploy_dir = "/tidb-deploy/pd-2379";
	in[0].nports = 2;
	in[0].ports[0].name = "client_port";
	in[0].ports[0].value = 2379;
	in[0].ports[1].name = "peer_port";
	in[0].ports[1].value = 2380;
	in[1].role = "tikv";
	in[1].host = "tikv1.bank.example";
	in[1].nports = 1;
	in[1].ports[0].name = "port";
	in[1].ports[0].value = 20160;
	in[2].role = "monitoring";
	in[2].host = "tikv1.bank.example";
	in[3].role = "tidb";
	in[3].host = "127.0.0.1";
	t.instances = in;
	t.ninstances = 4;
	assert_int_equal(tf_certplan_make(&t, &p, &err), 0);
	assert_int_equal(p->n, 4);
	assert_string_equal(p->entries[0].component, "pd");
	assert_int_equal(p->entries[0].port, 2379);
	assert_int_equal(p->entries[0].nsans, 3);
	assert_string_equal(p->entries[0].sans[0], "localhost");
	assert_string_equal(p->entries[0].sans[1], "127.0.0.1");
	assert_string_equal(p->entries[0].sans[2], "10.0.1.1");
	assert_true(p->entries[0].host_is_ip);
	assert_false(p->entries[1].host_is_ip);
	assert_string_equal(p->entries[2].component, "prometheus");
	assert_int_equal(p->entries[3].nsans, 2); /* 127.0.0.1 once */
	assert_int_equal(p->nwarnings, 1);        /* one DNS host, warned once */
	assert_non_null(strstr(p->warnings[0], "'tikv1.bank.example' (tikv, prometheus) is a DNS "
	                                       "name"));
	assert_int_equal(tf_certplan_json(p, &json, &err), 0);
	j = cJSON_Parse(json);
	assert_non_null(j);
	certs = cJSON_GetObjectItem(j, "certificates");
	assert_int_equal(cJSON_GetArraySize(certs), 4);
	assert_string_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(certs, 0), "files"), 1)
	        ->valuestring,
	    "/tidb-deploy/pd-2379/tls/pd.crt");
	assert_int_equal(cJSON_GetObjectItem(j, "node_days")->valueint, 3650);
	cJSON_Delete(j);
	free(json);
	tf_certplan_free(p);
	in[1].host = "";
	assert_int_equal(tf_certplan_make(&t, &p, &err), TF_E_INPUT);
	tf_certplan_free(NULL);
}

/* A plan from a real meta.yaml through the topology reader, and the plan in the summary. */
static void test_plan_from_meta(void **state)
{
	struct tf_topology *t = NULL;
	struct tf_certplan *p = NULL;
	struct tf_certs_config cfg = {0};
	struct tf_certs c;
	struct tf_err err;
	char path[4096], *json = NULL, *pj = NULL;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/examples/meta.yaml", tt_src());
	if (access(path, R_OK) != 0 || tf_topology_load(path, &t, &err) != 0) {
		skip();
		return; /* skip() does not return; this tells the analyzer */
	}
	assert_int_equal(tf_certplan_make(t, &p, &err), 0);
	assert_int_equal(p->n, t->ninstances);
	for (i = 0; i < p->n; i++)
		assert_string_equal(p->entries[i].sans[0], "localhost");
	cfg.source = TF_CERTS_GENERATE;
	cfg.cluster = "example";
	tf_certs_init(&c);
	assert_int_equal(tf_certs_make(&cfg, &c, &err), 0);
	assert_int_equal(tf_certplan_json(p, &pj, &err), 0);
	assert_int_equal(tf_certs_summary_json(&c, pj, &json, &err), 0);
	free(pj);
	assert_non_null(strstr(json, "\"plan\""));
	assert_non_null(strstr(json, "\"component\":\t\"pd\""));
	free(json);
	tf_certs_release(&c);
	tf_certplan_free(p);
	tf_topology_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_plan_from_meta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
