/* Unit tests for installer/enable's PD steps through their seams: a fake tiup runner (which
 * rewrites meta.yaml as TiUP would) and a fake PD answering etcd's API in-process. */
#include "tests/unit/testutil.h"

#include "cluster/http.h"
#include "common/fsutil.h"
#include "installer/enable.h"
#include "installer/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Three PD members on loopback addresses where nothing listens (their ports count as free). */
#define PD1 "127.0.88.1"
#define PD2 "127.0.88.2"
#define PD3 "127.0.88.3"

static const char pd_topology[] = "pd_servers:\n"
                                  "  - host: " PD1 "\n"
                                  "  - host: " PD2 "\n"
                                  "  - host: " PD3 "\n";

static char meta_path[4200], topo_path[4200], tls_dir[4200], state_dir[4200];

static void write_meta(int npd, int tls)
{
	FILE *f = fopen(meta_path, "w");
	int i;

	assert_non_null(f);
	fprintf(f,
	        "user: tidb\ntopology:\n  global:\n    user: tidb\n    enable_tls: %s\n"
	        "  pd_servers:\n",
	        tls ? "true" : "false");
	for (i = 1; i <= npd; i++)
		fprintf(f,
		        "    - host: 127.0.88.%d\n      client_port: 2379\n      peer_port: 2380\n",
		        i);
	fclose(f);
}

/* The member as etcd lists it: started (name and client URLs) or only added. */
static void member(char *buf, size_t len, int i, const char *scheme, int started)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n,
	         "%s{\"ID\":\"%d\",%s\"peerURLs\":[\"%s://127.0.88.%d:2380\"],"
	         "\"clientURLs\":[%s]}",
	         n > 12 ? "," : "", 100 + i, started ? "\"name\":\"pd-x\"," : "", scheme, i,
	         started ? "\"https://x:2379\"" : "");
}

struct fake {
	char members[2048]; /* the member list's answer */
	int updates;        /* member/update calls */
	int removes;        /* member/remove calls */
	char remove_body[128];
	char cmds[1024]; /* every tiup command, one a line */
	char update_body[512];
	int fix_on_update; /* an update makes every peer URL https */
	int runs;          /* tiup commands */
	char last_cmd[256];
	int fail_tiup;
	int after_npd; /* meta.yaml's PD count after a scale-in or scale-out (TiUP's work) */
	const char *after_members;
};

static void set_members(struct fake *f, const char *scheme, int n, int added_not_started)
{
	int i;

	snprintf(f->members, sizeof(f->members), "{\"members\":[");
	for (i = 1; i <= n; i++)
		member(f->members, sizeof(f->members), i, scheme, !(added_not_started && i == n));
	strncat(f->members, "]}", sizeof(f->members) - strlen(f->members) - 1);
}

static int fake_pd(void *arg, const char *host, unsigned port, const struct tf_tls_client *tls,
                   int timeout_ms, const char *method, const char *path, const char *body,
                   size_t max_body, struct tf_http_response *resp, struct tf_err *err)
{
	struct fake *f = arg;
	const char *answer = "{}";

	(void)host, (void)port, (void)tls, (void)timeout_ms, (void)method, (void)max_body,
	    (void)err;
	if (strcmp(path, "/v3/cluster/member/list") == 0) {
		answer = f->members;
	} else if (strcmp(path, "/v3/cluster/member/update") == 0) {
		f->updates++;
		snprintf(f->update_body, sizeof(f->update_body), "%s", body);
		if (f->fix_on_update)
			set_members(f, "https", 3, 0);
	} else if (strcmp(path, "/v3/cluster/member/remove") == 0) {
		f->removes++;
		snprintf(f->remove_body, sizeof(f->remove_body), "%s", body);
		set_members(f, "https", 2, 0); /* the unstarted third is gone */
	} else if (strcmp(path, "/health") == 0) {
		answer = "{\"health\":\"true\"}";
	}
	resp->status = 200;
	resp->body_len = strlen(answer);
	assert_non_null(resp->body = strdup(answer));
	return 0;
}

static int fake_tiup(void *arg, const char *step, const char *const *args, char **out,
                     struct tf_err *err)
{
	struct fake *f = arg;
	size_t i, n = 0;

	(void)step, (void)out;
	f->runs++;
	f->last_cmd[0] = '\0';
	for (i = 0; args[i] != NULL; i++) {
		snprintf(f->last_cmd + n, sizeof(f->last_cmd) - n, "%s%s", i ? " " : "", args[i]);
		n = strlen(f->last_cmd);
	}
	n = strlen(f->cmds);
	snprintf(f->cmds + n, sizeof(f->cmds) - n, "%s\n", f->last_cmd);
	if (f->fail_tiup)
		return tf_err_set(err, TF_E_FAIL, "tiup failed");
	write_meta(f->after_npd, 0);
	if (f->after_members != NULL)
		snprintf(f->members, sizeof(f->members), "%s", f->after_members);
	return 0;
}

struct env {
	struct tf_journal j;
	struct tf_enable e;
	struct fake f;
};

static void env_init(struct env *v)
{
	struct tf_err err;

	memset(v, 0, sizeof(*v));
	tf_journal_init(&v->j);
	assert_int_equal(tf_journal_set(&v->j, "pd_leader", PD1 ":2379", &err), 0);
	assert_int_equal(tf_journal_set(&v->j, "pd_removed", PD2 ":2379," PD3 ":2379", &err), 0);
	v->e.cluster = "demo";
	v->e.meta_path = meta_path;
	v->e.tls_dir = tls_dir;
	v->e.pd_topology = topo_path;
	v->e.state_dir = state_dir;
	v->e.ssh_key = "/t/storage/cluster/clusters/demo/ssh/id_rsa";
	v->e.journal = &v->j;
	v->e.run_tiup = fake_tiup;
	v->e.run_arg = &v->f;
	v->e.pd_send = fake_pd;
	v->e.pd_send_arg = &v->f;
	v->e.wait_s = 1;
}

static int setup(void **state)
{
	const char *d = tt_tmpdir();

	(void)state;
	snprintf(meta_path, sizeof(meta_path), "%s/meta.yaml", d);
	snprintf(topo_path, sizeof(topo_path), "%s/pd.yaml", d);
	snprintf(tls_dir, sizeof(tls_dir), "%s/tls", d);
	snprintf(state_dir, sizeof(state_dir), "%s/state", d);
	tt_write_str("pd.yaml", pd_topology);
	/* The cluster's client certificate, for the steps that talk to PD over mutual TLS. */
	assert_int_equal(
	    tt_sh("mkdir -p tls state && cd tls && "
	          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	          "-keyout ca.key -out ca.crt -subj /CN=ca -days 2 2>/dev/null && "
	          "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	          "-keyout client.pem -out client.csr -subj /CN=client 2>/dev/null && "
	          "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
	          "-out client.crt -days 2 2>/dev/null"),
	    0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tt_cleanup();
	return 0;
}

static void test_scale_in(void **state)
{
	struct env v;
	struct tf_err err;

	(void)state;
	/* TiUP removes two members; etcd agrees: the step passes, keeping the leader. */
	env_init(&v);
	write_meta(3, 0);
	v.f.after_npd = 1;
	set_members(&v.f, "http", 1, 0);
	if (tf_enable_scale_in(&v.e, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(v.f.runs, 1);
	assert_string_equal(v.f.last_cmd, "cluster scale-in demo -N " PD2 ":2379," PD3 ":2379 -y");
	/* A rerun finds them gone and runs nothing. */
	assert_int_equal(tf_enable_scale_in(&v.e, &err), 0);
	assert_int_equal(v.f.runs, 1);
	tf_journal_release(&v.j);

	/* etcd still lists a removed member. */
	env_init(&v);
	write_meta(3, 0);
	v.f.after_npd = 1;
	set_members(&v.f, "http", 3, 0);
	assert_int_equal(tf_enable_scale_in(&v.e, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "was scaled in but etcd still lists it"));
	tf_journal_release(&v.j);

	/* tiup fails. */
	env_init(&v);
	write_meta(3, 0);
	v.f.fail_tiup = 1;
	assert_int_equal(tf_enable_scale_in(&v.e, &err), TF_E_FAIL);
	assert_string_equal(err.msg, "scale-in of PD " PD2 ":2379," PD3 ":2379: tiup failed");
	tf_journal_release(&v.j);

	/* No record of what to remove: refused before anything runs. */
	env_init(&v);
	tf_journal_release(&v.j);
	tf_journal_init(&v.j);
	assert_int_not_equal(tf_enable_scale_in(&v.e, &err), 0);
	assert_non_null(strstr(err.msg, "the journal does not name the PD members"));
	assert_int_equal(v.f.runs, 0);
	tf_journal_release(&v.j);
}

static void test_repair_peers(void **state)
{
	struct env v;
	struct tf_err err;

	(void)state;
	/* Every peer URL https already: nothing to update. */
	env_init(&v);
	write_meta(1, 1);
	set_members(&v.f, "https", 1, 0);
	if (tf_enable_repair_peers(&v.e, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(v.f.updates, 0);
	tf_journal_release(&v.j);

	/* An http:// peer URL is rewritten to https:// through member/update. */
	env_init(&v);
	write_meta(1, 1);
	set_members(&v.f, "http", 1, 0);
	v.f.fix_on_update = 1;
	if (tf_enable_repair_peers(&v.e, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(v.f.updates, 1);
	assert_string_equal(v.f.update_body,
	                    "{\"ID\":\"101\",\"peerURLs\":[\"https://127.0.88.1:2380\"]}");
	tf_journal_release(&v.j);

	/* The update is accepted but the URL stays http. */
	env_init(&v);
	write_meta(1, 1);
	set_members(&v.f, "http", 1, 0);
	assert_int_equal(tf_enable_repair_peers(&v.e, &err), TF_E_FAIL);
	assert_non_null(
	    strstr(err.msg, "still has peer URL http://127.0.88.1:2380 after the update"));
	tf_journal_release(&v.j);
}

static void test_scale_out(void **state)
{
	struct env v;
	struct tf_err err;
	char after[2048];

	(void)state;
	/* The removed members come back, start and answer /health. */
	env_init(&v);
	write_meta(1, 0);
	set_members(&v.f, "https", 1, 0);
	{
		struct fake tmp;

		set_members(&tmp, "https", 3, 0);
		snprintf(after, sizeof(after), "%s", tmp.members);
	}
	v.f.after_npd = 3;
	v.f.after_members = after;
	if (tf_enable_scale_out(&v.e, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(v.f.runs, 1);
	assert_non_null(strstr(v.f.last_cmd, "cluster scale-out demo "));
	/* issue 12 §2e: the deploy user and the cluster's key for the hosts new to the cluster */
	assert_non_null(
	    strstr(v.f.last_cmd, " --user tidb -i /t/storage/cluster/clusters/demo/ssh/id_rsa"));
	assert_int_equal(tt_sh("grep -q 'host: " PD2 "' state/scale-out-pd.yaml && "
	                       "! grep -q 'host: " PD1 "' state/scale-out-pd.yaml"),
	                 0);
	/* A rerun finds every member back and only checks their health. */
	assert_int_equal(tf_enable_scale_out(&v.e, &err), 0);
	assert_int_equal(v.f.runs, 1);
	tf_journal_release(&v.j);

	/* issue 12 §2g: a member added to etcd by a join that never started (PD v8.5 refuses to
	 * join while it is listed) is removed first, by its decimal ID, then the scale-out runs. */
	env_init(&v);
	write_meta(2, 0);
	set_members(&v.f, "https", 3, 1);
	v.f.after_npd = 3;
	v.f.after_members = after;
	if (tf_enable_scale_out(&v.e, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(v.f.removes, 1);
	assert_string_equal(v.f.remove_body, "{\"ID\":\"103\"}");
	assert_int_equal(v.f.runs, 1);
	assert_non_null(strstr(v.f.last_cmd, "cluster scale-out demo "));
	/* audited, the ID in hex as etcdctl takes it (103 = 0x67) */
	assert_int_equal(tt_sh("grep -rq 'removed etcd member 67 (peer " PD3 ":2380)' state"), 0);
	tf_journal_release(&v.j);

	/* issue 12 §2f: meta.yaml lists PDs that never started (TiUP saved meta, then the
	 * scale-out was cut): each is started with `cluster start -N`, no second scale-out. */
	env_init(&v);
	write_meta(3, 0);
	set_members(&v.f, "https", 1, 0);
	v.f.after_npd = 3;
	v.f.after_members = after;
	if (tf_enable_scale_out(&v.e, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(v.f.runs, 2);
	assert_string_equal(v.f.cmds, "cluster start demo -N " PD2 ":2379\n"
	                              "cluster start demo -N " PD3 ":2379\n");
	assert_null(strstr(v.f.cmds, "scale-out"));
	tf_journal_release(&v.j);

	/* TiUP reports success but the members never start: not healthy in time. */
	env_init(&v);
	write_meta(1, 0);
	set_members(&v.f, "https", 1, 0);
	v.f.after_npd = 3;
	assert_int_equal(tf_enable_scale_out(&v.e, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "PD not healthy with 3 members after 1s"));
	tf_journal_release(&v.j);
}

/* `tiup list pd` as TiUP v1.16.1 prints it (cmd/list.go, tui.PrintTable): the version must be a
 * row's first column, not a prefix of another version or text elsewhere. */
static void test_list_has_version(void **state)
{
	const char *out = "Available versions for pd:\n"
	                  "Version   Installed  Release               Platforms\n"
	                  "-------   ---------  -------               ---------\n"
	                  "v7.5.1               2024-02-29T11:00:00Z  linux/amd64,linux/arm64\n"
	                  "v7.5.10              2025-01-01T00:00:00Z  linux/amd64\n";

	(void)state;
	assert_true(tf_enable_list_has_version(out, "v7.5.1"));
	assert_true(tf_enable_list_has_version(out, "v7.5.10"));
	assert_false(tf_enable_list_has_version(out, "v7.5.0"));
	assert_false(tf_enable_list_has_version(out, "v7.5"));
	assert_false(tf_enable_list_has_version(out, "linux/amd64"));
	assert_false(tf_enable_list_has_version(out, "pd:"));
	assert_false(tf_enable_list_has_version(out, ""));
	assert_false(tf_enable_list_has_version("Available versions for pd:\n", "v7.5.1"));
}

/* A tiup runner for `edit-config --topology-file`: accepts (the file becomes meta.yaml's
 * topology, as TiUP's EditConfig saves it) or rejects as TiUP does (its message, exit 0). */
static int cn_reject, cn_runs;
static char cn_cmd[512];

static int fake_edit_config(void *arg, const char *step, const char *const *args, char **out,
                            struct tf_err *err)
{
	const char *file = NULL;
	char line[512];
	size_t i, n = 0;
	FILE *in, *meta;

	(void)arg, (void)step, (void)err;
	cn_runs++;
	cn_cmd[0] = '\0';
	for (i = 0; args[i] != NULL; i++) {
		snprintf(cn_cmd + n, sizeof(cn_cmd) - n, "%s%s", i ? " " : "", args[i]);
		n = strlen(cn_cmd);
		if (i > 0 && strcmp(args[i - 1], "--topology-file") == 0)
			file = args[i];
	}
	assert_non_null(file);
	if (cn_reject) {
		assert_non_null(*out = strdup("New topology could not be saved: immutable field "
		                              "changed\nNothing changed.\n"));
		return 0;
	}
	assert_non_null(in = fopen(file, "r"));
	assert_non_null(meta = fopen(meta_path, "w"));
	fputs("user: tidb\ntopology:\n", meta);
	while (fgets(line, sizeof(line), in) != NULL)
		fprintf(meta, "  %s", line);
	fclose(in);
	fclose(meta);
	assert_non_null(*out = strdup("Applied successfully\n"));
	return 0;
}

static void test_restrict_cn(void **state)
{
	static char *const cns[] = {"pd", "tikv", "tidb", "blackbox_exporter", "demo-client"};
	struct env v;
	struct tf_err err;
	char *meta = NULL;
	size_t len = 0;

	(void)state;
	env_init(&v);
	v.e.run_tiup = fake_edit_config;
	v.e.cluster_component = "cluster:v1.16.1";
	cn_runs = 0;
	/* no list: nothing runs */
	write_meta(1, 0);
	assert_int_equal(tf_enable_restrict_cn(&v.e, &err), 0);
	assert_int_equal(cn_runs, 0);
	v.e.restrict_cn = cns;
	v.e.nrestrict_cn = 5;
	/* TiUP rejects the edit and exits 0: meta.yaml read back, the step fails with its words */
	cn_reject = 1;
	assert_int_equal(tf_enable_restrict_cn(&v.e, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "exited 0 but meta.yaml does not hold the CN options"));
	assert_non_null(strstr(err.msg, "New topology could not be saved"));
	assert_non_null(strstr(cn_cmd, "cluster:v1.16.1 edit-config demo --topology-file "));
	assert_non_null(strstr(cn_cmd, "/state/restrict-cn-topology.yaml -y"));
	/* accepted: both options hold exactly the list */
	cn_reject = 0;
	assert_int_equal(tf_enable_restrict_cn(&v.e, &err), 0);
	assert_int_equal(cn_runs, 2);
	assert_int_equal(tf_read_file(meta_path, 1 << 20, &meta, &len, &err), 0);
	assert_non_null(strstr(meta, "security.cert-allowed-cn:"));
	assert_non_null(strstr(meta, "security.cluster-verify-cn:"));
	assert_non_null(strstr(meta, "demo-client"));
	assert_non_null(strstr(meta, "host: 127.0.88.1"));
	free(meta);
	/* done already: nothing runs again (a resume) */
	assert_int_equal(tf_enable_restrict_cn(&v.e, &err), 0);
	assert_int_equal(cn_runs, 2);
	/* TLS already on and the options not set: refused with the way out */
	write_meta(1, 1);
	assert_int_equal(tf_enable_restrict_cn(&v.e, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "TLS is already enabled"));
	assert_int_equal(cn_runs, 2);
	tf_journal_release(&v.j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_has_version), cmocka_unit_test(test_scale_in),
	    cmocka_unit_test(test_repair_peers),     cmocka_unit_test(test_scale_out),
	    cmocka_unit_test(test_restrict_cn),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
