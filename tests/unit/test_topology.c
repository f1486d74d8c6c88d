/* Unit tests for cluster/topology: reading TiUP's meta.yaml and the topology fingerprint. */
#include "tests/unit/testutil.h"

#include "common/hex.h"
#include "crypto/digest.h"
#include "cluster/topology.h"

#include <stdio.h>
#include <string.h>

static const char meta[] = "user: tidb\n"
                           "tidb_version: v7.5.0\n"
                           "topology:\n"
                           "  global:\n"
                           "    user: tidb\n"
                           "    ssh_port: 2222\n"
                           "    enable_tls: false\n"
                           "    deploy_dir: /tidb-deploy\n"
                           "  monitored:\n"
                           "    node_exporter_port: 9100\n"
                           "  pd_servers:\n"
                           "    - host: 10.0.0.1\n"
                           "      client_port: 2379\n"
                           "      peer_port: 2380\n"
                           "      deploy_dir: /tidb-deploy/pd-2379\n"
                           "      data_dir: /tidb-data/pd-2379\n"
                           "    - host: 10.0.0.2\n"
                           "      ssh_port: 22\n"
                           "      name: pd-two\n"
                           "      client_port: 2379\n"
                           "      peer_port: 2380\n"
                           "    - host: 10.0.0.3\n"
                           "  tikv_servers:\n"
                           "    - host: 10.0.0.4\n"
                           "      port: 20160\n"
                           "      status_port: 20180\n"
                           "  tidb_servers:\n"
                           "    - host: 10.0.0.5\n"
                           "      port: 4000\n"
                           "      status_port: 10080\n";

/* The same cluster written differently: lists and instances reordered, port keys reordered,
 * paths, names, versions and enable_tls changed. */
static const char meta_reordered[] = "topology:\n"
                                     "  tidb_servers:\n"
                                     "    - status_port: 10080\n"
                                     "      host: 10.0.0.5\n"
                                     "      port: 4000\n"
                                     "  pd_servers:\n"
                                     "    - host: 10.0.0.3\n"
                                     "      deploy_dir: /elsewhere\n"
                                     "    - host: 10.0.0.2\n"
                                     "      peer_port: 2380\n"
                                     "      client_port: 2379\n"
                                     "    - peer_port: 2380\n"
                                     "      client_port: 2379\n"
                                     "      host: 10.0.0.1\n"
                                     "      name: renamed\n"
                                     "  tikv_servers:\n"
                                     "    - host: 10.0.0.4\n"
                                     "      status_port: 20180\n"
                                     "      port: 20160\n"
                                     "  global:\n"
                                     "    enable_tls: true\n"
                                     "user: other\n"
                                     "tidb_version: v8.1.0\n";

static struct tf_topology *parse(const char *s)
{
	struct tf_topology *t = NULL;
	struct tf_err err;

	if (tf_topology_parse(s, strlen(s), "meta.yaml", &t, &err) != 0)
		fail_msg("parse: %s", err.msg);
	return t;
}

static void fingerprint(const char *s, char out[TF_FINGERPRINT_LEN])
{
	struct tf_topology *t = parse(s);
	struct tf_err err;

	assert_int_equal(tf_topology_fingerprint(t, out, &err), 0);
	tf_topology_free(t);
}

/* base with the first occurrence of from replaced by to, fingerprinted. */
static void fingerprint_variant(const char *from, const char *to, char out[TF_FINGERPRINT_LEN])
{
	char buf[4096];
	const char *at = strstr(meta, from);

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - meta), meta, to, at + strlen(from));
	fingerprint(buf, out);
}

static void test_parse(void **state)
{
	struct tf_topology *t;
	const struct tf_topo_instance *in;

	(void)state;
	t = parse(meta);
	assert_string_equal(t->user, "tidb");
	assert_int_equal(t->enable_tls, 0);
	assert_int_equal(t->ninstances, 5);
	in = &t->instances[0];
	assert_string_equal(in->role, "pd");
	assert_string_equal(in->host, "10.0.0.1");
	/* TiUP's default PD member name: pd-<host>-<client_port> */
	assert_string_equal(in->name, "pd-10.0.0.1-2379");
	assert_int_equal(in->ssh_port, 2222);
	assert_int_equal(tf_topo_port(in, "client_port"), 2379);
	assert_int_equal(tf_topo_port(in, "peer_port"), 2380);
	assert_int_equal(tf_topo_port(in, "ssh_port"), 0);
	assert_string_equal(in->deploy_dir, "/tidb-deploy/pd-2379");
	assert_string_equal(in->data_dir, "/tidb-data/pd-2379");
	in = &t->instances[1];
	assert_string_equal(in->name, "pd-two");
	assert_int_equal(in->ssh_port, 22);
	in = &t->instances[2];
	/* no client_port given: the default name uses 2379 */
	assert_string_equal(in->name, "pd-10.0.0.3-2379");
	assert_int_equal(in->nports, 0);
	assert_null(in->deploy_dir);
	in = &t->instances[3];
	assert_string_equal(in->role, "tikv");
	assert_null(in->name);
	assert_int_equal(tf_topo_port(in, "port"), 20160);
	assert_int_equal(tf_topo_port(in, "status_port"), 20180);
	assert_string_equal(t->instances[4].role, "tidb");
	tf_topology_free(t);

	/* user from the top level when global has none; enable_tls read */
	t = parse("user: admin\ntopology:\n  global:\n    enable_tls: true\n  pd_servers:\n    - "
	          "host: h\n      client_port: 3379\n");
	assert_string_equal(t->user, "admin");
	assert_int_equal(t->enable_tls, 1);
	assert_int_equal(t->instances[0].ssh_port, 22);
	assert_string_equal(t->instances[0].name, "pd-h-3379");
	tf_topology_free(t);
	tf_topology_free(NULL);
}

static void test_fingerprint_value(void **state)
{
	static const char one[] =
	    "topology:\n  pd_servers:\n    - host: 127.0.0.1\n      peer_port: 2380\n"
	    "      client_port: 2379\n  tikv_servers:\n    - host: 127.0.0.2\n      port: 20160\n";
	/* docs/bundle-format.md, "Topology fingerprint", computed by hand */
	static const char canon[] = "tiferry-topology/1\n"
	                            "pd 127.0.0.1 client_port=2379,peer_port=2380\n"
	                            "tikv 127.0.0.2 port=20160\n";
	char fp[TF_FINGERPRINT_LEN], want[TF_FINGERPRINT_LEN], hex[TF_SHA256_HEX];
	uint8_t d[TF_SHA256_LEN];

	(void)state;
	fingerprint(one, fp);
	assert_int_equal(tf_sha256(canon, strlen(canon), d), 0);
	tf_hex_encode(d, sizeof(d), hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	assert_string_equal(fp, want);
}

static void test_fingerprint_stable(void **state)
{
	char a[TF_FINGERPRINT_LEN], b[TF_FINGERPRINT_LEN];

	(void)state;
	fingerprint(meta, a);
	assert_int_equal(strncmp(a, "sha256:", 7), 0);
	assert_int_equal(strlen(a), 71);
	fingerprint(meta_reordered, b);
	assert_string_equal(a, b);
	/* an instance listed twice counts once: the fingerprint is over a set */
	fingerprint_variant(
	    "  tikv_servers:\n",
	    "  tikv_servers:\n    - host: 10.0.0.4\n      port: 20160\n      status_port: 20180\n",
	    b);
	assert_string_equal(a, b);
	/* ssh_port is not where a service runs */
	fingerprint_variant("      ssh_port: 22\n", "      ssh_port: 2200\n", b);
	assert_string_equal(a, b);
}

static void test_fingerprint_changes(void **state)
{
	static const struct {
		const char *from, *to;
	} changes[] = {
	    {"      peer_port: 2380\n      deploy_dir", "      peer_port: 2381\n      deploy_dir"},
	    {"    - host: 10.0.0.4\n", "    - host: 10.0.0.40\n"},
	    {"    - host: 10.0.0.3\n", "    - host: 10.0.0.3\n      client_port: 2379\n"},
	    {"      status_port: 10080\n", "      status_port: 10081\n"},
	    {"  tidb_servers:\n", "  tiflash_servers:\n"},
	    {"  tidb_servers:\n", "  tidb_servers:\n    - host: 10.0.0.6\n      port: 4000\n"},
	    {"    - host: 10.0.0.3\n", ""},
	    {"      port: 20160\n", "      port: 20160\n      extra_port: 1\n"},
	};
	char a[TF_FINGERPRINT_LEN], b[TF_FINGERPRINT_LEN];
	size_t i;

	(void)state;
	fingerprint(meta, a);
	for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		fingerprint_variant(changes[i].from, changes[i].to, b);
		if (strcmp(a, b) == 0)
			fail_msg("change %zu ('%s' -> '%s') kept the fingerprint", i,
			         changes[i].from, changes[i].to);
	}
}

static void expect_error(const char *s, const char *msg)
{
	struct tf_topology *t = NULL;
	struct tf_err err;
	int r = tf_topology_parse(s, strlen(s), "m.yaml", &t, &err);

	if (r != TF_E_INPUT || strstr(err.msg, msg) == NULL)
		fail_msg("'%s': got %d '%s', expected an input error naming '%s'", s, r, err.msg,
		         msg);
	assert_null(t);
}

static void test_errors(void **state)
{
	struct tf_topology *t = NULL;
	struct tf_err err;

	(void)state;
	expect_error("user: tidb\n", "no 'topology' mapping");
	expect_error("topology: [1]\n", "no 'topology' mapping");
	expect_error("topology:\n  pd_servers:\n    - client_port: 2379\n", "without host");
	expect_error("topology:\n  pd_servers:\n    - host: ''\n", "without host");
	expect_error("topology:\n  pd_servers:\n    - 10.0.0.1\n", "without host");
	expect_error("topology:\n  pd_servers:\n    host: h\n", "'pd_servers' must be a list");
	expect_error("topology:\n  pd_servers:\n    - host: h\n      client_port: 0\n",
	             "is not a port");
	expect_error("topology:\n  pd_servers:\n    - host: h\n      client_port: 65536\n",
	             "is not a port");
	expect_error("topology:\n  pd_servers:\n    - host: h\n      client_port: abc\n", "m.yaml");
	expect_error(
	    "topology:\n  x_servers:\n    - {host: h, a_port: 1, b_port: 2, c_port: 3, d_port: 4, "
	    "e_port: 5, f_port: 6, g_port: 7, h_port: 8, i_port: 9}\n",
	    "more than 8 ports");
	expect_error("topology:\n  pd_servers: [\n", "m.yaml");
	assert_int_equal(tf_topology_load("/nonexistent/meta.yaml", &t, &err), TF_E_NOTFOUND);
	assert_null(t);
}

static void test_empty_cluster(void **state)
{
	char fp[TF_FINGERPRINT_LEN];
	struct tf_topology *t;

	(void)state;
	/* lists that are not *_servers are ignored; an empty topology still has a fingerprint */
	t = parse("topology:\n  global: {user: tidb}\n  server_configs: {pd: {x: 1}}\n");
	assert_int_equal(t->ninstances, 0);
	tf_topology_free(t);
	fingerprint("topology:\n  global: {user: tidb}\n", fp);
	assert_int_equal(strncmp(fp, "sha256:", 7), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_fingerprint_value),
	    cmocka_unit_test(test_fingerprint_stable),
	    cmocka_unit_test(test_fingerprint_changes),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_empty_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
