/* Unit tests for cluster/pdapi: member lists as etcd answers them, and the requests through a
 * fake transport (a real etcd runs in the integration tests only). */
#include "tests/unit/testutil.h"

#include "cluster/http.h"
#include "cluster/pdapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Recorded from etcd v3.5 (grpc-gateway): POST /v3/cluster/member/list during a scale-out, one
 * member added but not started yet (no name, no client URLs). */
static const char members_json[] =
    "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":"
    "\"10276657743932975437\",\"raft_term\":\"2\"},\"members\":["
    "{\"ID\":\"10276657743932975437\",\"name\":\"pd-127.0.0.11-2379\","
    "\"peerURLs\":[\"http://127.0.0.11:2380\"],\"clientURLs\":[\"https://127.0.0.11:2379\"]},"
    "{\"ID\":\"3\",\"name\":\"pd-b\",\"peerURLs\":[\"https://127.0.0.12:2380\"],"
    "\"clientURLs\":[\"https://127.0.0.12:2379\",7]},"
    "{\"ID\":\"4\",\"peerURLs\":[\"https://127.0.0.13:2380\"],\"isLearner\":false}]}";

static void test_parse(void **state)
{
	static const char num_id[] = "{\"members\":[{\"ID\":5}]}";
	struct tf_pd_members ms;
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_pd_members_parse(members_json, strlen(members_json), &ms, &err), 0);
	assert_int_equal(ms.n, 3);
	assert_string_equal(ms.m[0].id, "10276657743932975437");
	assert_int_equal(ms.m[0].id_kind, TF_PD_ID_TEXT);
	assert_string_equal(ms.m[0].name, "pd-127.0.0.11-2379");
	assert_string_equal(tf_pd_plain_url(ms.m[0].peer_urls, ms.m[0].npeer),
	                    "http://127.0.0.11:2380");
	assert_null(tf_pd_plain_url(ms.m[0].client_urls, ms.m[0].nclient));
	assert_string_equal(tf_pd_plain_url(ms.m[1].client_urls, ms.m[1].nclient),
	                    "(not a string)");
	assert_true(tf_pd_member_started(&ms.m[1]));
	assert_null(ms.m[2].name);
	assert_false(ms.m[2].has_client_urls);
	assert_false(tf_pd_member_started(&ms.m[2]));
	assert_ptr_equal(tf_pd_member_by_peer(&ms, "127.0.0.12", 2380), &ms.m[1]);
	assert_ptr_equal(tf_pd_member_by_peer(&ms, "127.0.0.11", 2380), &ms.m[0]);
	assert_null(tf_pd_member_by_peer(&ms, "127.0.0.1", 2380)); /* a prefix of .11 */
	assert_null(tf_pd_member_by_peer(&ms, "127.0.0.12", 238));
	tf_pd_members_release(&ms);

	assert_int_equal(tf_pd_members_parse(num_id, strlen(num_id), &ms, &err), 0);
	assert_int_equal(ms.m[0].id_kind, TF_PD_ID_NUMBER);
	assert_null(ms.m[0].id);
	tf_pd_members_release(&ms);
	assert_int_equal(tf_pd_members_parse("{\"header\":{}}", 13, &ms, &err), TF_E_FAIL);
	assert_string_equal(err.msg, "no \"members\" array in the answer");
	assert_int_equal(tf_pd_members_parse("nope", 4, &ms, &err), TF_E_FAIL);
}

/* The fake PD: host "down" refuses; otherwise the answer for the path. */
struct fake {
	char last_body[512];
	char last_host[64];
	char last_path[64];
	int status;
};

static int fake_send(void *arg, const char *host, unsigned port, const struct tf_tls_client *tls,
                     int timeout_ms, const char *method, const char *path, const char *body,
                     size_t max_body, struct tf_http_response *resp, struct tf_err *err)
{
	struct fake *f = arg;
	const char *answer = "{}";

	(void)port, (void)tls, (void)timeout_ms, (void)method, (void)max_body;
	if (strcmp(host, "down") == 0)
		return tf_err_set(err, TF_E_IO, "connection refused");
	snprintf(f->last_host, sizeof(f->last_host), "%s", host);
	snprintf(f->last_body, sizeof(f->last_body), "%s", body ? body : "");
	snprintf(f->last_path, sizeof(f->last_path), "%s", path);
	if (strcmp(path, "/v3/cluster/member/list") == 0)
		answer = members_json;
	else if (strcmp(path, "/v3/maintenance/status") == 0)
		answer = strcmp(host, "leader") == 0
		             ? "{\"header\":{\"member_id\":\"7\"},\"leader\":\"7\"}"
		             : "{\"header\":{\"member_id\":\"8\"},\"leader\":\"7\"}";
	else if (strcmp(path, "/health") == 0)
		answer =
		    strcmp(host, "sick") == 0 ? "{\"health\":\"false\"}" : "{\"health\":\"true\"}";
	resp->status = f->status ? f->status : 200;
	resp->body_len = strlen(answer);
	assert_non_null(resp->body = strdup(answer));
	return 0;
}

static void test_requests(void **state)
{
	struct fake f = {.status = 0};
	struct tf_pd_api a = {.tls = NULL, .send = fake_send, .send_arg = &f};
	const char *hosts[] = {"down", "up"};
	const unsigned ports[] = {2379, 2379};
	const char *urls[] = {"https://127.0.0.11:2380"};
	struct tf_pd_members ms;
	struct tf_err err;
	char lead[32];
	int is_leader = -1;

	(void)state;
	assert_int_equal(tf_pd_member_list(&a, hosts, ports, 2, &ms, &err), 0);
	assert_int_equal(ms.n, 3);
	assert_string_equal(f.last_host, "up");
	tf_pd_members_release(&ms);
	assert_int_equal(tf_pd_member_list(&a, hosts, ports, 1, &ms, &err), TF_E_IO);
	assert_string_equal(err.msg,
	                    "POST http://down:2379/v3/cluster/member/list: connection refused");
	assert_int_equal(tf_pd_member_list(&a, hosts, ports, 0, &ms, &err), TF_E_FAIL);
	assert_string_equal(err.msg, "no PD endpoint to ask");

	assert_int_equal(tf_pd_status(&a, "leader", 2379, &is_leader, lead, sizeof(lead), &err), 0);
	assert_int_equal(is_leader, 1);
	assert_string_equal(lead, "7");
	assert_int_equal(tf_pd_status(&a, "other", 2379, &is_leader, NULL, 0, &err), 0);
	assert_int_equal(is_leader, 0);
	assert_int_equal(tf_pd_health(&a, "up", 2379, &err), 0);
	assert_int_equal(tf_pd_health(&a, "sick", 2379, &err), TF_E_FAIL);
	assert_string_equal(err.msg, "sick:2379: /health is not true");

	assert_int_equal(tf_pd_update_peers(&a, hosts, ports, 2, "3", urls, 1, &err), 0);
	assert_string_equal(f.last_body,
	                    "{\"ID\":\"3\",\"peerURLs\":[\"https://127.0.0.11:2380\"]}");

	/* issue 12 §2g: a stale member is removed by its decimal ID, as the list gives it */
	assert_int_equal(tf_pd_member_remove(&a, hosts, ports, 2, "10276657743932975437", &err), 0);
	assert_string_equal(f.last_path, "/v3/cluster/member/remove");
	assert_string_equal(f.last_body, "{\"ID\":\"10276657743932975437\"}");
	assert_string_equal(f.last_host, "up");

	f.status = 500;
	assert_int_equal(tf_pd_health(&a, "up", 2379, &err), TF_E_FAIL);
	assert_string_equal(err.msg, "GET http://up:2379/health: HTTP 500: {\"health\":\"true\"}");
}

/* issue 12 §2j: member IDs for operators in hex, as etcdctl prints and parses them
 * (etcdctl's printers use %x; `member remove` parses with strconv.ParseUint(s, 16, 64)). */
static void test_id_hex(void **state)
{
	struct tf_pd_members ms;
	struct tf_pd_member m;
	struct tf_err err;
	char hex[24];

	(void)state;
	assert_int_equal(tf_pd_members_parse(members_json, strlen(members_json), &ms, &err), 0);
	assert_int_equal(tf_pd_member_id_hex(&ms.m[0], hex, sizeof(hex)), 0);
	assert_string_equal(hex, "8e9e05c52164694d"); /* 10276657743932975437: above 2^63 */
	assert_int_equal(tf_pd_member_id_hex(&ms.m[2], hex, sizeof(hex)), 0);
	assert_string_equal(hex, "4");
	tf_pd_members_release(&ms);

	memset(&m, 0, sizeof(m));
	m.id_kind = TF_PD_ID_NUMBER;
	m.id_number = 255;
	assert_int_equal(tf_pd_member_id_hex(&m, hex, sizeof(hex)), 0);
	assert_string_equal(hex, "ff");
	m.id_number = 1e19; /* not exact in a double */
	assert_int_equal(tf_pd_member_id_hex(&m, hex, sizeof(hex)), -1);
	assert_string_equal(hex, "?");
	m.id_kind = TF_PD_ID_TEXT;
	m.id = "18446744073709551616"; /* 2^64 */
	assert_int_equal(tf_pd_member_id_hex(&m, hex, sizeof(hex)), -1);
	m.id = "12ab";
	assert_int_equal(tf_pd_member_id_hex(&m, hex, sizeof(hex)), -1);
	m.id = NULL;
	m.id_kind = TF_PD_ID_NONE;
	assert_int_equal(tf_pd_member_id_hex(&m, hex, sizeof(hex)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_id_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
