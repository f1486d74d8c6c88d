/* Unit tests for builder/build: the engine on a small spec with fixtures (meta.yaml, payload,
 * signing key), checking the bundle it writes and what it refuses. */
#include "tests/unit/testutil.h"

#include "builder/build.h"
#include "common/fsutil.h"
#include "crypto/sigkey.h"
#include "manifests/bundle.h"
#include "manifests/manifest.h"
#include "manifests/runbook.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 3 PD, 1 TiKV, 1 TiDB, as tests/integration/lib.sh's tf_meta writes it. */
static const char meta_yaml[] = "user: tidb\n"
                                "tidb_version: v7.5.0\n"
                                "topology:\n"
                                "  global:\n"
                                "    user: tidb\n"
                                "    ssh_port: 22\n"
                                "    deploy_dir: /tidb-deploy\n"
                                "    data_dir: /tidb-data\n"
                                "  pd_servers:\n"
                                "    - host: 127.0.0.11\n"
                                "      client_port: 2379\n"
                                "      peer_port: 2380\n"
                                "    - host: 127.0.0.12\n"
                                "      client_port: 2379\n"
                                "      peer_port: 2380\n"
                                "    - host: 127.0.0.13\n"
                                "      client_port: 2379\n"
                                "      peer_port: 2380\n"
                                "  tikv_servers:\n"
                                "    - host: 127.0.0.21\n"
                                "      port: 20160\n"
                                "      status_port: 20180\n"
                                "  tidb_servers:\n"
                                "    - host: 127.0.0.31\n"
                                "      port: 4000\n"
                                "      status_port: 10080\n";

/* meta.yaml, payload/{a.txt, bin/tool (0755), etc/empty.conf}, an empty work folder. */
static void fixtures(void)
{
	tt_tmpdir();
	tt_write_str("meta.yaml", meta_yaml);
	assert_int_equal(mkdir("payload", 0755), 0);
	assert_int_equal(mkdir("payload/bin", 0755), 0);
	assert_int_equal(mkdir("payload/etc", 0755), 0);
	assert_int_equal(mkdir("work", 0700), 0);
	tt_write_str("payload/a.txt", "enable TLS\n");
	tt_write_str("payload/bin/tool", "#!/bin/sh\necho tool\n");
	assert_int_equal(chmod("payload/bin/tool", 0755), 0);
	tt_write_str("payload/etc/empty.conf", "");
}

static void write_key(const char *path)
{
	struct tf_sigkey *k = NULL;
	struct tf_err err;
	char *pem = NULL;
	size_t len = 0;

	assert_int_equal(tf_sigkey_generate(TF_SIG_ED25519, &k, &err), 0);
	assert_int_equal(tf_sigkey_private_pem(k, NULL, &pem, &len, &err), 0);
	tt_write(path, pem, len);
	tf_wipe(pem, len);
	free(pem);
	tf_sigkey_free(k);
}

static int work_empty(void)
{
	DIR *d = opendir("work");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n == 0;
}

static void scan(const char *path, struct tf_bundle_scan *s, struct tf_manifest *m)
{
	struct tf_err err;

	memset(s, 0, sizeof(*s));
	tf_manifest_init(m);
	assert_int_equal(tf_bundle_scan(path, s, &err), 0);
	assert_int_equal(tf_manifest_parse(s->manifest, s->manifest_len, m, &err), 0);
}

static void test_build_unsigned(void **state)
{
	struct tf_build_opts o = {.spec = "spec.yaml", .out = "b.tar", .tmpdir = "work"};
	struct tf_build_result res;
	struct tf_bundle_scan s;
	struct tf_manifest m;
	const struct tf_manifest_file *f;
	struct tf_err err;

	(void)state;
	fixtures();
	tt_write_str("spec.yaml", "cluster: prod-1\n"
	                          "meta: meta.yaml\n"
	                          "sequence: 7\n"
	                          "validity:\n"
	                          "  days: 30\n"
	                          "payload:\n"
	                          "  - source: payload\n"
	                          "    path: files\n");
	tf_build_result_init(&res);
	assert_int_equal(tf_build(&o, &res, &err), 0);
	assert_string_equal(res.cluster, "prod-1");
	assert_int_equal(res.sequence, 7);
	assert_int_equal(strlen(res.bundle_id), 32);
	assert_string_equal(res.signer, ""); /* the spec names no key */
	assert_true(work_empty());           /* the work folder is wiped */

	scan("b.tar", &s, &m);
	assert_int_equal(s.nsigs, 0);
	assert_string_equal(m.bundle_id, res.bundle_id);
	assert_string_equal(m.cluster, "prod-1");
	assert_int_equal(m.sequence, 7);
	assert_int_equal(m.nfiles, res.nfiles);
	assert_int_equal(m.not_after - m.not_before, 30 * 86400);
	/* the payload as walked, modes kept (executable or not) */
	assert_non_null(f = tf_manifest_find(&m, "payload/files/a.txt"));
	assert_int_equal(f->size, 11);
	assert_int_equal(f->mode, 0644);
	assert_non_null(f = tf_manifest_find(&m, "payload/files/bin/tool"));
	assert_int_equal(f->mode, 0755);
	assert_non_null(f = tf_manifest_find(&m, "payload/files/etc/empty.conf"));
	assert_int_equal(f->size, 0);
	/* the runbook is packed and named by its section; the plan's PD topology is carried */
	assert_non_null(tf_manifest_find(&m, TF_RUNBOOK_MD_PATH));
	assert_non_null(tf_manifest_find(&m, TF_RUNBOOK_HTML_PATH));
	assert_non_null(strstr(tf_manifest_section(&m, "runbook"), TF_RUNBOOK_MD_PATH));
	assert_non_null(tf_manifest_find(&m, "payload/topology/pd.yaml"));
	assert_non_null(tf_manifest_section(&m, "plan"));
	assert_null(tf_manifest_section(&m, "tiup"));
	assert_null(tf_manifest_section(&m, "tls"));
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	tf_build_result_release(&res);

	/* the bundle is never overwritten */
	tf_build_result_init(&res);
	assert_int_not_equal(tf_build(&o, &res, &err), 0);
	assert_null(res.cluster);
	assert_true(work_empty());
	tt_cleanup();
}

static void test_build_signed(void **state)
{
	struct tf_build_opts o = {
	    .spec = "spec.yaml", .out = "b.tar", .tmpdir = "work", .now = 1700000000};
	struct tf_build_result res;
	struct tf_bundle_scan s;
	struct tf_manifest m;
	struct tf_err err;

	(void)state;
	fixtures();
	write_key("builder.key");
	tt_write_str("spec.yaml", "cluster: lab\n"
	                          "meta: meta.yaml\n"
	                          "sequence: 1\n"
	                          "validity:\n"
	                          "  days: 1\n"
	                          "signing_key: builder.key\n"
	                          "payload:\n"
	                          "  - source: payload/a.txt\n"
	                          "    path: notes/a.txt\n");
	tf_build_result_init(&res);
	assert_int_equal(tf_build(&o, &res, &err), 0);
	assert_int_equal(strlen(res.signer), 64);
	scan("b.tar", &s, &m);
	assert_int_equal(s.nsigs, 1);
	assert_string_equal(s.sigs[0].keyid, res.signer);
	assert_int_equal(m.created, 1700000000); /* o->now pins the time */
	assert_non_null(tf_manifest_find(&m, "payload/notes/a.txt"));
	assert_null(tf_manifest_find(&m, "payload/files/a.txt"));
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	tf_build_result_release(&res);
	tt_cleanup();
}

static void test_build_refuses(void **state)
{
	struct tf_build_opts o = {.spec = "spec.yaml", .out = "b.tar", .tmpdir = "work"};
	struct tf_build_result res;
	struct tf_err err;

	(void)state;
	fixtures();
	tf_build_result_init(&res);
	/* a link in the payload: a bundle carries regular files only, and no bundle is left */
	assert_int_equal(symlink("a.txt", "payload/link"), 0);
	tt_write_str("spec.yaml",
	             "cluster: lab\nmeta: meta.yaml\nsequence: 1\nvalidity:\n  days: 1\n"
	             "payload:\n  - source: payload\n    path: files\n");
	assert_int_equal(tf_build(&o, &res, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "links are not packed"));
	assert_int_equal(access("b.tar", F_OK), -1);
	/* a signing key that is not there: the unsigned bundle is removed again */
	assert_int_equal(unlink("payload/link"), 0);
	tt_write_str("spec.yaml",
	             "cluster: lab\nmeta: meta.yaml\nsequence: 1\nvalidity:\n  days: 1\n"
	             "signing_key: no-such.key\n"
	             "payload:\n  - source: payload\n    path: files\n");
	assert_int_not_equal(tf_build(&o, &res, &err), 0);
	assert_int_equal(access("b.tar", F_OK), -1);
	assert_true(work_empty());
	/* the cluster's meta.yaml is required */
	tt_write_str("spec.yaml",
	             "cluster: lab\nmeta: none.yaml\nsequence: 1\nvalidity:\n  days: 1\n"
	             "payload:\n  - source: payload\n    path: files\n");
	assert_int_not_equal(tf_build(&o, &res, &err), 0);
	assert_null(res.cluster);
	tt_cleanup();
}

/* plan.restrict_cn (issue 12 2b): the plan signs the CNs TiUP issues to the nodes (one per
 * component, blackbox_exporter) and the client's (TiUP's default "<cluster>-client" without a
 * tls section); refused with enable_tls false. */
static void test_build_restrict_cn(void **state)
{
	struct tf_build_opts o = {.spec = "spec.yaml", .out = "b.tar", .tmpdir = "work"};
	struct tf_build_result res;
	struct tf_bundle_scan s;
	struct tf_manifest m;
	struct tf_err err;
	const char *plan;

	(void)state;
	fixtures();
	tf_build_result_init(&res);
	tt_write_str("spec.yaml",
	             "cluster: lab\nmeta: meta.yaml\nsequence: 1\nvalidity:\n  days: 1\n"
	             "plan:\n  enable_tls: false\n  restrict_cn: true\n");
	assert_int_equal(tf_build(&o, &res, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "needs plan.enable_tls: true"));
	assert_int_equal(access("b.tar", F_OK), -1);
	tt_write_str("spec.yaml",
	             "cluster: lab\nmeta: meta.yaml\nsequence: 1\nvalidity:\n  days: 1\n"
	             "plan:\n  restrict_cn: true\n");
	assert_int_equal(tf_build(&o, &res, &err), 0);
	scan("b.tar", &s, &m);
	plan = tf_manifest_section(&m, "plan");
	assert_non_null(plan);
	assert_non_null(strstr(
	    plan,
	    "\"restrict_cn\":[\"pd\",\"tikv\",\"tidb\",\"blackbox_exporter\",\"lab-client\"]"));
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	tf_build_result_release(&res);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_unsigned),
	    cmocka_unit_test(test_build_signed),
	    cmocka_unit_test(test_build_refuses),
	    cmocka_unit_test(test_build_restrict_cn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
