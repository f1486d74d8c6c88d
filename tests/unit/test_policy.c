/* Unit tests for manifests/policy: loading policy.yaml, lookups, thresholds and every mistake
 * an operator can make in a trust folder. */
#include "tests/unit/testutil.h"
#include "common/hex.h"

#include "common/fsutil.h"
#include "manifests/policy.h"
#include "crypto/sigkey.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char ids[4][TF_SHA256_HEX];

/* trust/ with b.pub, a1.pub, a2.pub (ed25519) and x.pub (ecdsa); ids[] in that order. */
static void make_keys(void)
{
	static const char *const names[] = {"trust/b.pub", "trust/a1.pub", "trust/a2.pub",
	                                    "trust/x.pub"};
	struct tf_err err;
	size_t i;

	assert_int_equal(mkdir("trust", 0755), 0);
	for (i = 0; i < 4; i++) {
		struct tf_sigkey *k = NULL;
		char *pem = NULL;
		size_t len = 0;

		assert_int_equal(
		    tf_sigkey_generate(i == 3 ? TF_SIG_ECDSA_P256 : TF_SIG_ED25519, &k, &err), 0);
		assert_int_equal(tf_sigkey_public_pem(k, &pem, &len, &err), 0);
		tt_write(names[i], pem, len);
		snprintf(ids[i], sizeof(ids[i]), "%s", tf_sigkey_id(k));
		free(pem);
		tf_sigkey_free(k);
	}
}

static const char good[] = "keys:\n"
                           "  - file: b.pub\n    holder: \"Builder One\"\n    role: builder\n"
                           "  - file: a1.pub\n    holder: \"Approver A\"\n    role: approver\n"
                           "  - {file: a2.pub, holder: Approver B, role: approver}\n"
                           "require:\n  builder: 1\n  approver: 2\n";

static struct tf_policy *load_text(const char *text, int expect, const char *msg)
{
	struct tf_policy *p = NULL;
	struct tf_err err;
	int r = tf_policy_parse(text, strlen(text), "trust", &p, &err);

	if (r != expect)
		fail_msg("policy gave %d (%s), expected %d for:\n%s", r, r ? err.msg : "ok", expect,
		         text);
	if (msg != NULL && strstr(err.msg, msg) == NULL)
		fail_msg("'%s' does not name '%s' for:\n%s", err.msg, msg, text);
	if (r != 0)
		assert_null(p);
	return p;
}

static void test_load(void **state)
{
	struct tf_policy *p = NULL;
	const struct tf_policy_key *k;
	struct tf_err err;
	const char *role;
	unsigned n;

	(void)state;
	tt_tmpdir();
	make_keys();
	tt_write_str("trust/policy.yaml", good);
	assert_int_equal(tf_policy_load("trust", &p, &err), 0);
	k = tf_policy_lookup(p, ids[0]);
	assert_non_null(k);
	assert_string_equal(k->holder, "Builder One");
	assert_string_equal(k->role, "builder");
	assert_string_equal(k->file, "b.pub");
	assert_string_equal(tf_sigkey_id(k->key), ids[0]);
	k = tf_policy_lookup(p, ids[2]);
	assert_non_null(k);
	assert_string_equal(k->holder, "Approver B");
	assert_null(tf_policy_lookup(p, ids[3]));
	assert_null(tf_policy_lookup(p, "0000"));
	assert_int_equal(tf_policy_nroles(p), 2);
	tf_policy_role(p, 0, &role, &n);
	assert_string_equal(role, "builder");
	assert_int_equal(n, 1);
	tf_policy_role(p, 1, &role, &n);
	assert_string_equal(role, "approver");
	assert_int_equal(n, 2);
	tf_policy_free(p);
	tf_policy_free(NULL);
	tt_cleanup();
}

static void test_satisfied(void **state)
{
	struct tf_policy *p;
	struct tf_err err;
	const char *all[] = {ids[0], ids[1], ids[2]};
	const char *dup[] = {ids[0], ids[1], ids[1]};
	const char *stranger[] = {ids[0], ids[1], ids[3]};
	const char *no_builder[] = {ids[1], ids[2]};

	(void)state;
	tt_tmpdir();
	make_keys();
	p = load_text(good, 0, NULL);
	assert_int_equal(tf_policy_satisfied(p, all, 3, &err), 0);
	/* order does not matter */
	{
		const char *rev[] = {ids[2], ids[1], ids[0]};

		assert_int_equal(tf_policy_satisfied(p, rev, 3, &err), 0);
	}
	/* the same key twice counts once */
	assert_int_equal(tf_policy_satisfied(p, dup, 3, &err), TF_E_REJECT);
	/* and it says who signed and what is missing (issue 18) */
	assert_string_equal(
	    err.msg, "policy: role 'approver' needs 2 valid signatures, bundle has 1 (signed "
	             "by Builder One (builder), Approver A (approver); 1 more 'approver' "
	             "signature needed)");
	/* an unknown key counts for nothing */
	assert_int_equal(tf_policy_satisfied(p, stranger, 3, &err), TF_E_REJECT);
	assert_non_null(strstr(err.msg, "role 'approver'"));
	assert_int_equal(tf_policy_satisfied(p, no_builder, 2, &err), TF_E_REJECT);
	assert_string_equal(
	    err.msg, "policy: role 'builder' needs 1 valid signature, bundle has 0 (signed by "
	             "Approver A (approver), Approver B (approver); 1 more 'builder' "
	             "signature needed)");
	assert_int_equal(tf_policy_satisfied(p, NULL, 0, &err), TF_E_REJECT);
	assert_non_null(strstr(err.msg, "no valid signature from a key in the policy"));
	tf_policy_free(p);
	/* roles come from the policy: the same key as approver only */
	p = load_text(
	    "keys:\n  - {file: b.pub, holder: B, role: approver}\nrequire: {approver: 1}\n", 0,
	    NULL);
	assert_int_equal(tf_policy_satisfied(p, all, 1, &err), 0);
	tf_policy_free(p);
	tt_cleanup();
}

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
	    /* the document */
	    {"keys: []\nrequire: {builder: 1}\nextra: 1\n", "unknown field 'extra'"},
	    {"keys: []\nrequre: {builder: 1}\n",
	     "policy.yaml: line 2: unknown field 'requre' (did you mean 'require'?)"},
	    {"- 1\n", "must be a mapping"},
	    {"keys: [\n", "policy.yaml"},
	    {"keys: &a [1]\nrequire: *a\n", "policy.yaml"},
	    {"require: {builder: 1}\n", "'keys' must list at least one key"},
	    {"keys: []\nrequire: {builder: 1}\n", "'keys' must list at least one key"},
	    {"keys: {file: b.pub}\nrequire: {builder: 1}\n", "'keys' must list at least one key"},
	    /* a key entry */
	    {"keys:\n  - {file: b.pub, holder: B}\nrequire: {builder: 1}\n",
	     "needs file, holder and role"},
	    {"keys:\n  - {file: b.pub, role: builder}\nrequire: {builder: 1}\n",
	     "needs file, holder and role"},
	    {"keys:\n  - b.pub\nrequire: {builder: 1}\n", "needs file, holder and role"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder, alg: rsa}\nrequire: {builder: "
	     "1}\n",
	     "unknown field 'alg'"},
	    {"keys:\n  - {file: b.pub, holdr: B, role: builder}\nrequire: {builder: 1}\n",
	     "policy.yaml: line 2: unknown field 'holdr' (did you mean 'holder'?)"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder, rol: x}\nrequire: {builder: 1}\n",
	     "unknown field 'rol' (did you mean 'role'?)"},
	    {"keys:\n  - {file: b.pub, holder: B, role: Builder}\nrequire: {builder: 1}\n",
	     "bad role name 'Builder'"},
	    {"keys:\n  - {file: b.pub, holder: B, role: ''}\nrequire: {builder: 1}\n",
	     "bad role name"},
	    /* key files outside the trust folder */
	    {"keys:\n  - {file: ../b.pub, holder: B, role: builder}\nrequire: {builder: 1}\n",
	     "key file '../b.pub' must be a file name inside the trust folder"},
	    {"keys:\n  - {file: /etc/b.pub, holder: B, role: builder}\nrequire: {builder: 1}\n",
	     "must be a file name inside the trust folder"},
	    {"keys:\n  - {file: sub/b.pub, holder: B, role: builder}\nrequire: {builder: 1}\n",
	     "must be a file name inside the trust folder"},
	    {"keys:\n  - {file: .., holder: B, role: builder}\nrequire: {builder: 1}\n",
	     "must be a file name inside the trust folder"},
	    {"keys:\n  - {file: '', holder: B, role: builder}\nrequire: {builder: 1}\n",
	     "must be a file name inside the trust folder"},
	    /* key files that are not usable */
	    {"keys:\n  - {file: missing.pub, holder: B, role: builder}\nrequire: {builder: 1}\n",
	     "missing.pub"},
	    {"keys:\n  - {file: junk.pub, holder: B, role: builder}\nrequire: {builder: 1}\n",
	     "is not a PEM public key"},
	    /* the same key twice */
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\n  - {file: b.pub, holder: C, "
	     "role: approver}\n"
	     "require: {builder: 1}\n",
	     "key 'b.pub' is the same key as 'b.pub'"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\n  - {file: copy.pub, holder: C, "
	     "role: approver}\n"
	     "require: {builder: 1}\n",
	     "key 'copy.pub' is the same key as 'b.pub'"},
	    /* requirements */
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\n",
	     "'require' must map each role"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\nrequire: {}\n",
	     "'require' must map each role"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\nrequire: [builder]\n",
	     "'require' must map each role"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\nrequire: {builder: 0}\n",
	     "role 'builder' must need at least one signature"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\nrequire: {builder: -1}\n",
	     "policy.yaml"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\nrequire: {builder: two}\n",
	     "policy.yaml"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\nrequire: {builder: 2}\n",
	     "role 'builder' needs 2 signatures but only 1 keys hold it"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\nrequire: {builder: 1, approver: "
	     "1}\n",
	     "role 'approver' needs 1 signatures but only 0 keys hold it"},
	    {"keys:\n  - {file: b.pub, holder: B, role: builder}\nrequire: {Builder: 1}\n",
	     "bad role name 'Builder'"},
	};
	struct tf_policy *p = NULL;
	struct tf_err err;
	size_t i;

	(void)state;
	tt_tmpdir();
	make_keys();
	tt_write_str("trust/junk.pub", "not a key\n");
	assert_int_equal(tt_sh("cp trust/b.pub trust/copy.pub && cp trust/b.pub b.pub && mkdir "
	                       "trust/sub && cp trust/b.pub trust/sub/"),
	                 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = tf_policy_parse(cases[i].text, strlen(cases[i].text), "trust", &p, &err);

		if (r == 0 || (r != TF_E_INPUT && r != TF_E_NOTFOUND))
			fail_msg("case %zu gave %d, expected an input error:\n%s", i, r,
			         cases[i].text);
		if (strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: '%s' does not name '%s'", i, err.msg, cases[i].msg);
		assert_null(p);
	}
	/* no policy.yaml in the folder */
	assert_int_not_equal(tf_policy_load("nowhere", &p, &err), 0);
	assert_non_null(strstr(err.msg, "trust policy"));
	/* a policy.yaml with a mistake names the folder */
	tt_write_str("trust/policy.yaml", "keys: []\n");
	assert_int_equal(tf_policy_load("trust", &p, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "trust folder 'trust'"));
	tt_cleanup();
}

/* Regression (issue 13, item 1): one approver's P-256 key listed again in another encoding
 * (openssl's compressed or hybrid point, explicit curve parameters) is the same key, so four
 * files cannot make one person count as four approvers. */
static void test_same_key_encodings(void **state)
{
	static const char *const forms[] = {"compressed", "hybrid", "explicit"};
	struct tf_policy *p = NULL;
	struct tf_err err;
	char text[512];
	size_t i;

	(void)state;
	tt_tmpdir();
	make_keys();
	assert_int_equal(
	    tt_sh(
	        "cd trust && openssl ec -pubin -in x.pub -conv_form compressed -out compressed.pub"
	        " && openssl ec -pubin -in x.pub -conv_form hybrid -out hybrid.pub"
	        " && openssl ec -pubin -in x.pub -param_enc explicit -out explicit.pub"
	        " 2>/dev/null"),
	    0);
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof(text),
		         "keys:\n  - {file: x.pub, holder: A, role: approver}\n"
		         "  - {file: %s.pub, holder: A again, role: approver}\n"
		         "require: {approver: 2}\n",
		         forms[i]);
		assert_int_equal(tf_policy_parse(text, strlen(text), "trust", &p, &err),
		                 TF_E_INPUT);
		assert_null(p);
		if (strstr(err.msg, "is the same key as 'x.pub'") == NULL)
			fail_msg("%s: %s", forms[i], err.msg);
	}
	load_text("keys:\n  - {file: compressed.pub, holder: A, role: approver}\n"
	          "  - {file: hybrid.pub, holder: A, role: approver}\n"
	          "require: {approver: 2}\n",
	          TF_E_INPUT, "key 'hybrid.pub' is the same key as 'compressed.pub'");
	/* each encoding alone is the key with its usual id */
	p = load_text("keys:\n  - {file: explicit.pub, holder: A, role: approver}\n"
	              "require: {approver: 1}\n",
	              0, NULL);
	assert_non_null(tf_policy_lookup(p, ids[3]));
	tf_policy_free(p);
	tt_cleanup();
}

/* Expects tf_policy_load(dir) to refuse with an input error naming msg. */
static void refused(const char *dir, const char *msg)
{
	struct tf_policy *p = NULL;
	struct tf_err err;
	int r = tf_policy_load(dir, &p, &err);

	if (r != TF_E_INPUT)
		fail_msg("%s: gave %d (%s), expected an input error naming '%s'", dir, r,
		         r ? err.msg : "ok", msg);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("%s: '%s' does not name '%s'", dir, err.msg, msg);
	assert_null(p);
}

static void loads(const char *dir)
{
	struct tf_policy *p = NULL;
	struct tf_err err;

	if (tf_policy_load(dir, &p, &err) != 0)
		fail_msg("%s: %s", dir, err.msg);
	tf_policy_free(p);
}

/* Regression (issue 13, item 8c): a trust folder, policy.yaml or key file that another user
 * could change (owned by them, group- or world-writable, or under such a folder) was used. */
static void test_trust_modes(void **state)
{
	char msg[PATH_MAX + 64], *top;

	(void)state;
	top = realpath(tt_tmpdir(), NULL);
	assert_non_null(top);
	make_keys();
	tt_write_str("trust/policy.yaml", good);
	loads("trust");

	/* group- or world-writable: the folder, policy.yaml, a key file */
	assert_int_equal(chmod("trust", 0775), 0);
	refused("trust", "trust folder 'trust': '");
	refused("trust", "/trust' is writable by group or others (mode 0775)");
	assert_int_equal(chmod("trust", 0757), 0);
	refused("trust", "is writable by group or others (mode 0757)");
	assert_int_equal(chmod("trust", 01777), 0); /* sticky is no excuse for the folder itself */
	refused("trust", "(mode 1777)");
	assert_int_equal(chmod("trust", 0755), 0);
	assert_int_equal(chmod("trust/policy.yaml", 0664), 0);
	refused("trust", "/trust/policy.yaml' is writable by group or others (mode 0664)");
	assert_int_equal(chmod("trust/policy.yaml", 0644), 0);
	assert_int_equal(chmod("trust/a2.pub", 0646), 0);
	refused("trust", "/trust/a2.pub' is writable by group or others (mode 0646)");
	assert_int_equal(chmod("trust/a2.pub", 0600), 0);
	loads("trust");

	/* a key file that is a link into a world-writable folder */
	assert_int_equal(tt_sh("mkdir -m 0777 open && mv trust/a1.pub open/ && "
	                       "ln -s %s/open/a1.pub trust/a1.pub",
	                       top),
	                 0);
	snprintf(msg, sizeof(msg), "folder '%s/open' is writable by group or others (mode 0777)",
	         top);
	refused("trust", msg);
	assert_int_equal(chmod("open", 01777), 0); /* like /tmp: sticky, so allowed above */
	loads("trust");

	/* a folder above the trust folder */
	assert_int_equal(tt_sh("mkdir up && mv trust up/ && chmod 0775 up"), 0);
	snprintf(msg, sizeof(msg), "folder '%s/up' is writable by group or others (mode 0775)",
	         top);
	refused("up/trust", msg);
	assert_int_equal(chmod("up", 0755), 0);
	loads("up/trust");

	/* owned by another user (only root can give a file away) */
	if (geteuid() == 0) {
		assert_int_equal(chown("up/trust/policy.yaml", 12345, 0), 0);
		refused("up/trust", "/up/trust/policy.yaml' is owned by uid 12345: trust files");
		assert_int_equal(chown("up/trust/policy.yaml", 0, 0), 0);
		assert_int_equal(chown("up/trust/b.pub", 12345, 12345), 0);
		refused("up/trust", "/up/trust/b.pub' is owned by uid 12345");
		assert_int_equal(chown("up/trust/b.pub", 0, 0), 0);
		assert_int_equal(chown("up/trust", 12345, 0), 0);
		refused("up/trust", "/up/trust' is owned by uid 12345");
		assert_int_equal(chown("up/trust", 0, 0), 0);
		assert_int_equal(chown("up", 12345, 0), 0);
		snprintf(msg, sizeof(msg), "folder '%s/up' is owned by uid 12345", top);
		refused("up/trust", msg);
		assert_int_equal(chown("up", 0, 0), 0);
		loads("up/trust");
	} else {
		print_message("not root: the other-owner cases are skipped\n");
	}
	free(top);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load),        cmocka_unit_test(test_satisfied),
	    cmocka_unit_test(test_errors),      cmocka_unit_test(test_same_key_encodings),
	    cmocka_unit_test(test_trust_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
