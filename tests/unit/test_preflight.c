/* Tests of cluster/preflight against real OpenSSH sshd processes that the test starts on
 * loopback (tests/unit/sshd_fixture.c), each host with a fake systemctl. */
#include "tests/unit/testutil.h"
#include "tests/unit/sshd_fixture.h"

#include "cluster/preflight.h"
#include "cluster/ssh.h"
#include "cluster/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static const char *pd_sick; /* host whose PD reports unhealthy */

static int pd_hook(void *arg, const struct tf_topo_instance *pd, int *is_leader, struct tf_err *err)
{
	(void)arg;
	if (pd_sick != NULL && strcmp(pd->host, pd_sick) == 0)
		return tf_err_set(err, TF_E_FAIL, "GET /health: connection refused");
	*is_leader = strcmp(pd->host, "127.0.7.1") == 0;
	return 0;
}

/* PD on 127.0.7.1-3 (client port+1, peer port+2), TiKV on 127.0.7.4 and the host of the sshd
 * that the tests stop. */
static struct tf_topology *lab_topology(void)
{
	struct tf_topology *t = NULL;
	struct tf_err err;
	char *y = NULL;
	int i;

	assert_true(
	    asprintf(&y,
	             "user: root\ntopology:\n  global:\n    user: root\n    ssh_port: %u\n"
	             "  pd_servers:\n"
	             "    - host: 127.0.7.1\n      client_port: %u\n      peer_port: %u\n"
	             "      deploy_dir: %s/deploy/pd\n"
	             "    - host: 127.0.7.2\n      client_port: %u\n      peer_port: %u\n"
	             "      deploy_dir: %s/deploy/pd\n"
	             "    - host: 127.0.7.3\n      client_port: %u\n      peer_port: %u\n"
	             "      deploy_dir: %s/deploy/pd\n"
	             "  tikv_servers:\n"
	             "    - host: 127.0.7.4\n      port: 20160\n      deploy_dir: /\n"
	             "    - host: 127.0.0.206\n      port: 20160\n      deploy_dir: %s/x/y/z\n",
	             port, port + 1, port + 2, dir, port + 1, port + 2, dir, port + 1, port + 2,
	             dir, dir) > 0);
	i = tf_topology_parse(y, strlen(y), "meta.yaml", &t, &err);
	free(y);
	if (i != 0)
		fail_msg("%s", err.msg);
	return t;
}

static struct tf_preflight_params params(const struct tf_topology *t, const struct tf_ssh_opts *o)
{
	static char spec[32];
	static const char *rm[2];
	struct tf_preflight_params p = {.topo = t,
	                                .ssh = o,
	                                .units_dir = "etc/systemd/system",
	                                .min_free_kb = 1024,
	                                .pd_check = pd_hook};

	snprintf(spec, sizeof(spec), "127.0.7.2:%u", port + 1);
	rm[0] = spec;
	rm[1] = NULL;
	p.pd_remove = rm;
	return p;
}

static void plant_units(const char *host)
{
	assert_int_equal(
	    tt_sh("h=hosts/%s; mkdir -p $h/etc/systemd/system $h/state && "
	          "for u in node_exporter-9100.service node_exporter-9100-dup.service "
	          "node_exporter-9101.service; do touch $h/etc/systemd/system/$u "
	          "$h/state/$u.active $h/state/$u.enabled; done && rm -f $h/systemctl.log",
	          host),
	    0);
}

static const struct tf_preflight_item *find_item(const struct tf_preflight_report *r,
                                                 const char *host, const char *check)
{
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "%s:%u", host, port);
	for (i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].host, name) == 0 && strcmp(r->items[i].check, check) == 0)
			return &r->items[i];
	return NULL;
}

static const struct tf_preflight_item *item(const struct tf_preflight_report *r, const char *host,
                                            const char *check)
{
	const struct tf_preflight_item *it = find_item(r, host, check);

	if (it == NULL)
		fail_msg("no %s item for %s", check, host);
	return it;
}

static void test_preflight_ok_and_json(void **state)
{
	struct tf_topology *t = lab_topology();
	struct tf_ssh_opts o = opts(NULL);
	struct tf_preflight_params p = params(t, &o);
	struct tf_preflight_report *r = NULL;
	struct tf_err err;
	char *json = NULL;
	cJSON *j;
	int lc = listen_on("127.0.7.2", port + 1), lp = listen_on("127.0.7.2", port + 2);

	(void)state;
	if (tf_preflight_run(&p, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r->nhosts, 5);
	assert_int_equal(r->nfailed, 0);
	assert_int_equal(item(r, "127.0.7.1", "reachable")->status, TF_CHECK_OK);
	assert_int_equal(item(r, "127.0.7.4", "disk")->status, TF_CHECK_OK);
	assert_non_null(strstr(item(r, "127.0.0.206", "disk")->detail, "/x/y/z"));
	assert_int_equal(item(r, "127.0.7.2", "pd_ports")->status, TF_CHECK_OK);
	assert_null(find_item(r, "127.0.7.1", "pd_ports")); /* not to be removed */
	assert_int_equal(item(r, "127.0.7.1", "pd_leader")->status, TF_CHECK_OK);
	assert_int_equal(item(r, "127.0.7.3", "pd_health")->status, TF_CHECK_OK);
	assert_int_equal(item(r, "127.0.7.3", "node_exporter")->status, TF_CHECK_OK);
	assert_int_equal(tf_preflight_report_json(r, &json, &err), 0);
	assert_non_null(j = cJSON_Parse(json));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "checks")), (int)r->nitems);
	cJSON_Delete(j);
	free(json);
	tf_preflight_report_free(r);
	r = NULL;

	/* Regression: each probe section's exit status was that of the `echo` after it, so a
	 * failing `ss` read as "nothing listens" (the wrong reason). Now its own status is kept. */
	assert_int_equal(tt_sh("printf '#!/bin/bash\\n[ -e \"$HOST_ROOT/state/ss-fails\" ] && "
	                       "{ echo ss: broken >&2; exit 1; }\\nexec /usr/bin/ss \"$@\"\\n' "
	                       ">bin/ss && chmod 755 bin/ss && mkdir -p hosts/127.0.7.2/state && "
	                       "touch hosts/127.0.7.2/state/ss-fails"),
	                 0);
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_non_null(strstr(item(r, "127.0.7.2", "pd_ports")->detail,
	                       "cannot list listeners with ss (exit 1)"));
	tf_preflight_report_free(r);
	r = NULL;
	assert_int_equal(tt_sh("rm hosts/127.0.7.2/state/ss-fails bin/ss"), 0);

	/* The PD node to remove is not listening: refused, naming it. */
	close(lp);
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "127.0.7.2"));
	assert_non_null(strstr(item(r, "127.0.7.2", "pd_ports")->detail, "peer_port"));
	tf_preflight_report_free(r);
	r = NULL;
	close(lc);

	/* Too little disk, a sick PD member. */
	p.pd_remove = NULL;
	p.min_free_kb = (uint64_t)1 << 50;
	pd_sick = "127.0.7.3";
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_int_equal(item(r, "127.0.7.1", "disk")->status, TF_CHECK_FAIL);
	assert_int_equal(item(r, "127.0.7.3", "pd_health")->status, TF_CHECK_FAIL);
	assert_non_null(strstr(item(r, "127.0.7.3", "pd_health")->detail, "connection refused"));
	pd_sick = NULL;
	tf_preflight_report_free(r);
	r = NULL;

	/* A PD node to remove that is not in the topology: an input error, no report. */
	{
		static const char *const bad[] = {"10.0.0.1:2379", NULL};

		p.pd_remove = bad;
		assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_INPUT);
		assert_null(r);
	}
	tf_topology_free(t);
}

static void test_preflight_duplicates(void **state)
{
	struct tf_topology *t = lab_topology();
	struct tf_ssh_opts o = opts(NULL);
	struct tf_preflight_params p = params(t, &o);
	struct tf_preflight_report *r = NULL;
	struct tf_err err;
	const struct tf_preflight_item *it;
	int lc = listen_on("127.0.7.2", port + 1), lp = listen_on("127.0.7.2", port + 2);

	(void)state;
	plant_units("127.0.7.3");
	/* Not allowed: reported, refused, nothing stopped. */
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "127.0.7.3"));
	assert_non_null(strstr(err.msg, "node_exporter-9100-dup.service"));
	it = item(r, "127.0.7.3", "node_exporter");
	assert_int_equal(it->status, TF_CHECK_FAIL);
	assert_null(strstr(it->detail, "node_exporter-9101.service")); /* another port: left */
	assert_null(strstr(it->detail, "node_exporter-9100.service"));
	assert_int_equal(
	    access(path("hosts/127.0.7.3/state/node_exporter-9100-dup.service.active"), F_OK), 0);
	assert_int_equal(tt_sh("! grep -q stop hosts/127.0.7.3/systemctl.log"), 0);
	tf_preflight_report_free(r);
	r = NULL;

	/* Allowed, but one host's sshd is down: refused naming it, and nothing changed anywhere. */
	stop_sshd(SSHD_DOWN);
	p.stop_duplicates = 1;
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "127.0.0.206"));
	assert_non_null(strstr(err.msg, "nothing was changed"));
	assert_int_equal(item(r, "127.0.0.206", "reachable")->status, TF_CHECK_FAIL);
	assert_int_equal(item(r, "127.0.7.3", "node_exporter")->status, TF_CHECK_WARN);
	assert_int_equal(r->nfixed, 0);
	assert_int_equal(tt_sh("! grep -q stop hosts/127.0.7.3/systemctl.log"), 0);
	tf_preflight_report_free(r);
	r = NULL;
	start_sshd(SSHD_DOWN, down_addrs);

	/* Allowed, but sudo on the host wants a password: refused with the host and the remedy,
	 * the duplicate still running (issue 12 §2d). */
	assert_int_equal(
	    tt_sh("mkdir -p hosts/127.0.7.3/state && touch hosts/127.0.7.3/state/nosudo"), 0);
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "127.0.7.3"));
	assert_non_null(strstr(err.msg, "sudo refused user 'root' (sudo: a password is required)"));
	assert_non_null(
	    strstr(err.msg, "echo 'root ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/root"));
	assert_int_equal(item(r, "127.0.7.3", "node_exporter")->status, TF_CHECK_FAIL);
	assert_int_equal(
	    access(path("hosts/127.0.7.3/state/node_exporter-9100-dup.service.active"), F_OK), 0);
	assert_int_equal(tt_sh("! grep -q stop hosts/127.0.7.3/systemctl.log"), 0);
	assert_int_equal(tt_sh("rm hosts/127.0.7.3/state/nosudo hosts/127.0.7.3/sudo.log"), 0);
	tf_preflight_report_free(r);
	r = NULL;

	/* Allowed and all up: stopped and disabled through sudo, the others untouched. */
	if (tf_preflight_run(&p, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(tt_sh("grep -qx -- '-n -H bash -c systemctl stop "
	                       "node_exporter-9100-dup.service && systemctl disable "
	                       "node_exporter-9100-dup.service' hosts/127.0.7.3/sudo.log"),
	                 0);
	it = item(r, "127.0.7.3", "node_exporter");
	assert_int_equal(it->status, TF_CHECK_FIXED);
	assert_non_null(strstr(it->detail, "node_exporter-9100-dup.service"));
	assert_int_equal(r->nfixed, 1);
	assert_int_equal(tt_sh("grep -qx 'stop node_exporter-9100-dup.service' "
	                       "hosts/127.0.7.3/systemctl.log && "
	                       "grep -qx 'disable node_exporter-9100-dup.service' "
	                       "hosts/127.0.7.3/systemctl.log"),
	                 0);
	assert_int_equal(
	    access(path("hosts/127.0.7.3/state/node_exporter-9100-dup.service.active"), F_OK), -1);
	assert_int_equal(
	    access(path("hosts/127.0.7.3/state/node_exporter-9100.service.active"), F_OK), 0);
	assert_int_equal(
	    access(path("hosts/127.0.7.3/state/node_exporter-9101.service.active"), F_OK), 0);
	tf_preflight_report_free(r);
	r = NULL;
	/* Run again: nothing left to stop. */
	if (tf_preflight_run(&p, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(item(r, "127.0.7.3", "node_exporter")->status, TF_CHECK_OK);
	tf_preflight_report_free(r);
	close(lc);
	close(lp);
	tf_topology_free(t);
}

static void test_preflight_32_hosts(void **state)
{
	struct tf_topology *t = NULL;
	struct tf_ssh_opts o = opts(NULL);
	struct tf_preflight_params p = {.topo = NULL,
	                                .ssh = &o,
	                                .units_dir = "etc/systemd/system",
	                                .min_free_kb = 1024,
	                                .parallel = NFAN};
	struct tf_preflight_report *r = NULL;
	struct tf_err err;
	char *y = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&y, &len);
	double one, all;

	(void)state;
	fprintf(f, "user: root\ntopology:\n  global:\n    ssh_port: %u\n  tikv_servers:\n", port);
	for (i = 0; i < NFAN; i++)
		fprintf(f, "    - host: %s\n      deploy_dir: /tmp/deploy\n", fan_addrs[i]);
	fclose(f);
	assert_int_equal(tf_topology_parse(y, len, "meta.yaml", &t, &err), 0);
	free(y);
	p.topo = t;
	/* One host (the first), then all 32. */
	t->ninstances = 1;
	assert_int_equal(tf_preflight_run(&p, &r, &err), 0);
	one = r->seconds;
	tf_preflight_report_free(r);
	t->ninstances = NFAN;
	if (tf_preflight_run(&p, &r, &err) != 0)
		fail_msg("%s", err.msg);
	all = r->seconds;
	assert_int_equal(r->nhosts, NFAN);
	assert_int_equal(r->nfailed, 0);
	tf_preflight_report_free(r);
	print_message("preflight: 1 host %.3fs, %d hosts in parallel %.3fs\n", one, NFAN, all);
	tf_topology_free(t);
}

/* The parsing of what a host printed, without SSH (tf_preflight_judge_probe, also the fuzz
 * target's entry): systemctl's states, df lines whose file system name has spaces, ss listeners
 * in IPv4-mapped form. */
static void test_judge_probe(void **state)
{
	static const char meta[] = "topology:\n  pd_servers:\n"
	                           "    - host: 127.0.0.11\n      client_port: 2379\n"
	                           "      peer_port: 2380\n      deploy_dir: /d/pd\n"
	                           "    - host: 127.0.0.11\n      client_port: 3379\n"
	                           "      peer_port: 3380\n      deploy_dir: /d/small\n";
	static const char out[] =
	    "@@tf-preflight@@ units\n"
	    "node_exporter-9100.service\tactive\tenabled\n"
	    "node_exporter-old.service\tinactive\tenabled\n"
	    "node_exporter-9101.service\tactive\tenabled\n"
	    "\n@@tf-preflight@@ rc 0\n"
	    "@@tf-preflight@@ disk\n"
	    "/d/pd\t/dev/mapper/vg 0 root 264212084 18107568 82229620 19% /\n"
	    "/d/small\ttmpfs 1024 1000 24 98% /d\n"
	    "\n@@tf-preflight@@ rc 0\n"
	    "@@tf-preflight@@ ss\n"
	    "LISTEN 0 4096 [::ffff:127.0.0.11]:2379 [::]:* users:((\"pd-server\",pid=7,fd=12))\n"
	    "LISTEN 0 4096 127.0.0.12:2380 0.0.0.0:*\n"
	    "\n@@tf-preflight@@ rc 0\n";
	const char *remove[] = {"127.0.0.11:2379", NULL};
	struct tf_preflight_params p;
	struct tf_preflight_report *r = NULL;
	struct tf_topology *t = NULL;
	struct tf_err err;
	const char *want[][2] = {
	    {"reachable", "ok"}, {"node_exporter", "fail"}, {"disk", "fail"}, {"pd_ports", "fail"}};
	size_t i;

	(void)state;
	assert_int_equal(tf_topology_parse(meta, sizeof(meta) - 1, "meta.yaml", &t, &err), 0);
	memset(&p, 0, sizeof(p));
	p.topo = t;
	p.pd_remove = remove;
	if (tf_preflight_judge_probe(&p, out, "", 0, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r->nitems, 4);
	for (i = 0; i < 4; i++) {
		assert_string_equal(r->items[i].check, want[i][0]);
		assert_string_equal(tf_check_status_name(r->items[i].status), want[i][1]);
	}
	/* the inactive but enabled unit without a port is a duplicate; 9101 another cluster's */
	assert_non_null(
	    strstr(r->items[1].detail, "node_exporter-old.service (inactive, enabled)"));
	assert_null(strstr(r->items[1].detail, "9101"));
	/* the name with spaces still parses (82229620 KiB free: not named); the small one is short
	 */
	assert_null(strstr(r->items[2].detail, "/d/pd"));
	assert_non_null(strstr(r->items[2].detail, "/d/small 0 MiB free (need 1024 MiB"));
	/* the client port listens (mapped address), the peer port only on another address */
	assert_non_null(strstr(r->items[3].detail, "peer_port not listening"));
	tf_preflight_report_free(r);
	/* a probe whose sections are missing did not run */
	assert_int_equal(
	    tf_preflight_judge_probe(&p, "garbage", "sh: 1: x: not found\n", 127, &r, &err), 0);
	assert_int_equal(r->nitems, 1);
	assert_string_equal(r->items[0].check, "reachable");
	assert_non_null(strstr(r->items[0].detail, "(exit 127): sh: 1: x: not found"));
	tf_preflight_report_free(r);
	tf_topology_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_preflight_ok_and_json),
	    cmocka_unit_test(test_preflight_duplicates),
	    cmocka_unit_test(test_preflight_32_hosts),
	    cmocka_unit_test(test_judge_probe),
	};

	return cmocka_run_group_tests(tests, sshd_setup, sshd_teardown);
}
