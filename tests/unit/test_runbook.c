/* Unit tests for manifests/runbook: the commands per step, rendering (Markdown, HTML escaping,
 * JSON), the approvals inserted at the mark, and a manifest without a plan. */
#include "tests/unit/testutil.h"

#include "manifests/runbook.h"
#include "manifests/steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"

static const char manifest[] =
    "{\"format\": \"tiferry-bundle/1\", \"bundle_id\": \"0123456789abcdef0123456789abcdef\",\n"
    " \"sequence\": 3, \"created\": \"2026-11-27T00:00:00Z\",\n"
    " \"not_before\": \"2026-11-27T00:00:00Z\", \"not_after\": \"2026-12-04T00:00:00Z\",\n"
    " \"target\": {\"cluster\": \"prod-1\", \"topology\": \"sha256:" Z64 "\"},\n"
    " \"files\": [],\n"
    " \"tiup\": {\"versions\": {\"cluster\": \"v1.16.1\", \"ctl\": \"v8.1.0\", \"tiup\": "
    "\"v1.16.1\"},\n"
    "          \"restore\": {\"mode\": \"as-recorded\"}},\n"
    " \"tls\": {\"source\": \"generated\", \"ca\": {\"subject\": \"CN=<script>alert(1)</script> & "
    "co\",\n"
    "          \"fingerprint\": \"sha256:ab\", \"not_after\": \"2076-01-01T00:00:00Z\"}},\n"
    " \"plan\": {\"enable_tls\": true, \"stop_duplicate_exporters\": %s,\n"
    "          \"pd_hosts\": [%s], \"pd_topology\": \"topology/pd.yaml\",\n"
    "          \"hosts\": [{\"host\": \"10.0.0.1\", \"roles\": [\"pd\", \"tikv\"]}],\n"
    "          \"pd_nodes\": [{\"id\": \"10.0.0.1:2379\"}]}}\n";

static void load(struct tf_manifest *m, const char *stop, const char *pd)
{
	char buf[4096];
	struct tf_err err;
	int n = snprintf(buf, sizeof(buf), manifest, stop, pd);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	if (tf_manifest_parse(buf, (size_t)n, m, &err) != 0)
		fail_msg("manifest: %s", err.msg);
}

static size_t step_index(const char *name)
{
	const struct tf_step *st = tf_step_find(name);

	if (st == NULL)
		fail_msg("no step '%s'", name);
	return st->id;
}

static char *cmds(const struct tf_manifest *m, const char *step, const struct tf_runbook_subst *s)
{
	struct tf_err err;
	char *out = NULL;

	assert_int_equal(tf_runbook_commands(m, step_index(step), s, &out, &err), 0);
	return out;
}

static void test_commands(void **state)
{
	struct tf_manifest m;
	struct tf_runbook_subst s = {
	    .tiup = "/opt/tiup", .state = "/st", .staging = "/st/staging-1"};
	char *c;

	(void)state;
	load(&m, "false", "\"10.0.0.1\", \"10.0.0.2\", \"10.0.0.3\"");
	c = cmds(&m, "mirror-set", NULL);
	assert_string_equal(c, "tiup mirror set <staging>/mirror\n");
	free(c);
	c = cmds(&m, "mirror-set", &s);
	assert_string_equal(c, "/opt/tiup mirror set /st/staging-1/mirror\n");
	free(c);
	c = cmds(&m, "update-self", &s); /* only TiUP's own binary updates itself */
	assert_string_equal(c, "$TIUP_HOME/bin/tiup update --self\n");
	free(c);
	/* tiup itself is update --self; the others pinned to the bundle's versions, then the
	 * upgraded cluster's path while the bundle's mirror is set (issue 12 §2a, §2i) */
	c = cmds(&m, "update-components", NULL);
	assert_string_equal(c, "tiup update cluster:v1.16.1\ntiup update ctl:v8.1.0\n"
	                       "tiup --binary cluster:v1.16.1\n");
	free(c);
	c = cmds(&m, "verify-versions", NULL);
	assert_string_equal(
	    c, "tiup --version\ntiup --binpath $TIUP_HOME/components/cluster/v1.16.1/tiup-cluster "
	       "cluster --version\ntiup cluster --version\n");
	free(c);
	c = cmds(&m, "scale-in-pd", NULL);
	assert_string_equal(c, "tiup --binpath $TIUP_HOME/components/cluster/v1.16.1/tiup-cluster "
	                       "cluster scale-in prod-1 -N <pd-but-leader> -y\n");
	free(c);
	c = cmds(&m, "scale-out-pd", &s);
	assert_string_equal(
	    c, "/opt/tiup --binpath $TIUP_HOME/components/cluster/v1.16.1/tiup-cluster cluster "
	       "scale-out prod-1 /st/scale-out-pd.yaml --user <deploy-user> -i <cluster-key> -y\n"
	       "/opt/tiup --binpath $TIUP_HOME/components/cluster/v1.16.1/tiup-cluster cluster "
	       "start prod-1 -N <pd-node>\n");
	free(c);
	c = cmds(&m, "preflight", NULL); /* the plan does not allow stopping duplicates */
	assert_string_equal(c, "tiup list pd\ntiup list tikv\ntiup list tidb\n");
	free(c);
	c = cmds(&m, "check", NULL);
	assert_string_equal(c, "");
	free(c);
	tf_manifest_release(&m);

	/* one PD: nothing to scale; duplicates may be stopped */
	load(&m, "true", "\"10.0.0.1\"");
	c = cmds(&m, "scale-in-pd", NULL);
	assert_string_equal(c, "");
	free(c);
	c = cmds(&m, "preflight", NULL);
	assert_string_equal(c, "tiup list pd\ntiup list tikv\ntiup list tidb\n"
	                       "/usr/bin/sudo -n -H bash -c 'systemctl stop <unit> && systemctl "
	                       "disable <unit>'\n");
	free(c);
	tf_manifest_release(&m);
}

static void test_markdown(void **state)
{
	struct tf_manifest m;
	struct tf_err err;
	char *doc = NULL;
	size_t len = 0;

	(void)state;
	load(&m, "false", "\"10.0.0.1\", \"10.0.0.2\"");
	assert_int_equal(tf_runbook_render(&m, TF_RUNBOOK_MD, &doc, &len, &err), 0);
	assert_int_equal(strlen(doc), len);
	assert_non_null(strstr(doc, "# Enable TLS on TiDB cluster 'prod-1'\n"));
	assert_non_null(strstr(doc, TF_RUNBOOK_MARK));
	assert_non_null(
	    strstr(doc, "```sh\ntiup --binpath $TIUP_HOME/components/cluster/v1.16.1/tiup-cluster "
	                "cluster tls prod-1 enable -y\n```"));
	assert_non_null(strstr(doc, "| `10.0.0.1` | pd, tikv |"));
	assert_non_null(strstr(doc, "`2026-12-04T00:00:00Z`"));
	assert_non_null(strstr(doc, "PD runs as a single member"));
	assert_non_null(strstr(doc, "`tiferry status --cluster prod-1`"));
	free(doc);
	tf_manifest_release(&m);
}

static void test_html_escapes(void **state)
{
	struct tf_manifest m;
	struct tf_err err;
	char *doc = NULL;
	size_t len = 0;

	(void)state;
	load(&m, "false", "\"10.0.0.1\"");
	assert_int_equal(tf_runbook_render(&m, TF_RUNBOOK_HTML, &doc, &len, &err), 0);
	assert_non_null(strstr(doc, "<!DOCTYPE html>"));
	assert_non_null(strstr(doc, "</html>\n"));
	/* a value from the manifest never becomes markup */
	assert_null(strstr(doc, "<script>"));
	assert_non_null(
	    strstr(doc, "<code>CN=&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</code>"));
	/* self-contained: nothing is fetched */
	assert_null(strstr(doc, "href="));
	assert_null(strstr(doc, "url("));
	assert_null(strstr(doc, "src="));
	assert_null(strstr(doc, "<link"));
	free(doc);
	tf_manifest_release(&m);
}

static void test_approvals(void **state)
{
	struct tf_manifest m;
	struct tf_err err;
	struct tf_runbook_signer s[] = {
	    {"aaaaaaaaaaaaaaaabbbbbbbb", "Ann <ops>", "builder", "valid"},
	    {"cccccccccccccccc", NULL, NULL, "unknown key (not counted)"}};
	struct tf_runbook_approvals a = {2, s, "1 builder, 1 approver",
	                                 "policy: role 'approver' needs 1", "/srv/trust"};
	char *doc = NULL, *out = NULL;
	size_t len = 0, olen = 0;

	(void)state;
	load(&m, "false", "\"10.0.0.1\"");
	assert_int_equal(tf_runbook_render(&m, TF_RUNBOOK_MD, &doc, &len, &err), 0);
	assert_int_equal(tf_runbook_with_approvals(doc, len, TF_RUNBOOK_MD, &a, &out, &olen, &err),
	                 0);
	assert_null(strstr(out, TF_RUNBOOK_MARK));
	assert_non_null(strstr(out, "Required by the trust policy: 1 builder, 1 approver. Not met "
	                            "yet: role 'approver' needs 1. (Trust folder: `/srv/trust`.)"));
	assert_null(strstr(out, "/etc/tiferry/trust/policy.yaml")); /* issue 18: not hard-coded */
	assert_non_null(strstr(out, "| `aaaaaaaaaaaaaaaa` | Ann <ops> | builder | valid |"));
	assert_non_null(strstr(out, "| `cccccccccccccccc` | - | - | unknown key (not counted) |"));
	free(out);
	free(doc);
	assert_int_equal(tf_runbook_render(&m, TF_RUNBOOK_HTML, &doc, &len, &err), 0);
	assert_int_equal(
	    tf_runbook_with_approvals(doc, len, TF_RUNBOOK_HTML, &a, &out, &olen, &err), 0);
	assert_non_null(strstr(out, "<td>Ann &lt;ops&gt;</td>"));
	assert_non_null(strstr(out, "class=\"not-approved\""));
	free(out);
	free(doc);
	assert_int_equal(tf_runbook_render(&m, TF_RUNBOOK_JSON, &doc, &len, &err), 0);
	assert_int_equal(
	    tf_runbook_with_approvals(doc, len, TF_RUNBOOK_JSON, &a, &out, &olen, &err), 0);
	assert_non_null(strstr(out, "\"satisfied\":\tfalse"));
	assert_non_null(strstr(out, "\"holder\":\t\"Ann <ops>\""));
	assert_non_null(strstr(out, "\"name\":\t\"wipe-staging\""));
	free(out);
	free(doc);
	/* a document without the mark is refused, not printed without the approvals */
	assert_int_equal(
	    tf_runbook_with_approvals("# x\n", 4, TF_RUNBOOK_MD, &a, &out, &olen, &err),
	    TF_E_INPUT);
	tf_manifest_release(&m);
}

static void test_no_plan(void **state)
{
	static const char bare[] =
	    "{\"format\": \"tiferry-bundle/1\", \"bundle_id\": "
	    "\"0123456789abcdef0123456789abcdef\","
	    " \"sequence\": 1, \"created\": \"2026-11-27T00:00:00Z\","
	    " \"not_before\": \"2026-11-27T00:00:00Z\", \"not_after\": \"2026-12-04T00:00:00Z\","
	    " \"target\": {\"cluster\": \"c\", \"topology\": \"sha256:" Z64 "\"}, \"files\": []}";
	struct tf_manifest m;
	struct tf_err err;
	char *doc = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(tf_manifest_parse(bare, strlen(bare), &m, &err), 0);
	assert_int_equal(tf_runbook_render(&m, TF_RUNBOOK_MD, &doc, &len, &err), 0);
	assert_non_null(strstr(doc, "# Upgrade TiUP on TiDB cluster 'c'"));
	assert_non_null(strstr(
	    doc, "For this bundle: skipped: the bundle's plan does not change the cluster."));
	assert_null(strstr(doc, "tls c enable"));
	/* nothing promised that an upgrade-only bundle does not do */
	assert_null(strstr(doc, "writes a receipt"));
	assert_null(strstr(doc, "PD runs as a single member"));
	assert_non_null(strstr(doc, "The cluster is not changed"));
	free(doc);
	tf_manifest_release(&m);
}

static void test_format_parse(void **state)
{
	enum tf_runbook_format f;
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_runbook_format_parse("html", &f, &err), 0);
	assert_int_equal(f, TF_RUNBOOK_HTML);
	assert_int_equal(tf_runbook_format_parse("pdf", &f, &err), TF_E_USAGE);
	assert_non_null(strstr(err.msg, "'pdf'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands),     cmocka_unit_test(test_markdown),
	    cmocka_unit_test(test_html_escapes), cmocka_unit_test(test_approvals),
	    cmocka_unit_test(test_no_plan),      cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
