/* Unit tests for builder/spec: every spec error names its line in one form ("spec: line N: "),
 * and a misspelt field, at any depth, is refused with the field it is nearest to (issue 18,
 * "Messages"). */
#include "tests/unit/testutil.h"

#include "builder/spec.h"

#include <stdio.h>
#include <string.h>

#define HEAD "cluster: lab\nmeta: meta.yaml\nsequence: 1\nvalidity:\n  days: 1\n"

/* Parses text, which must be refused with TF_E_INPUT and a message holding want. */
static void refused(const char *text, const char *want)
{
	struct tf_spec s;
	struct tf_err err;
	int r = tf_spec_parse(text, strlen(text), "/x/spec.yaml", 1700000000, &s, &err);

	if (r != TF_E_INPUT || strstr(err.msg, want) == NULL) {
		fprintf(stderr, "spec:\n%s\nwanted %d and \"%s\", got %d: \"%s\"\n", text,
		        TF_E_INPUT, want, r, r ? err.msg : "");
		fail();
	}
	/* one prefix form for every error: cmd_build names the spec's path once */
	assert_int_equal(strncmp(err.msg, "spec: line ", 11), 0);
}

static void test_did_you_mean(void **state)
{
	(void)state;
	refused("clustr: lab\nmeta: meta.yaml\nsequence: 1\n",
	        "spec: line 1: unknown field 'clustr' (did you mean 'cluster'?)");
	refused(HEAD "signing_kye: k.key\n",
	        "spec: line 6: unknown field 'signing_kye' (did you mean 'signing_key'?)");
	refused(HEAD "Payload: []\n", "unknown field 'Payload' (did you mean 'payload'?)");
	/* nothing near: no guess */
	refused(HEAD "colour: red\n", "spec: line 6: unknown field 'colour'");
	{
		const char *t = HEAD "colour: red\n";
		struct tf_spec s;
		struct tf_err err;

		assert_int_equal(tf_spec_parse(t, strlen(t), "/x/s.yaml", 0, &s, &err), TF_E_INPUT);
		assert_null(strstr(err.msg, "did you mean"));
	}
	/* below the top: the section named, before anything is built */
	refused("cluster: lab\nmeta: meta.yaml\nsequence: 1\nvalidity:\n  days: 1\n  not_afer: x\n",
	        "spec: line 6: unknown field 'not_afer' in 'validity' (did you mean 'not_after'?)");
	refused(HEAD "tls:\n  ca: generate\n  recipient: [r.crt]\n",
	        "spec: line 8: unknown field 'recipient' in 'tls' (did you mean 'recipients'?)");
	refused(HEAD "tls:\n  ca: import\n  import:\n    cert: c\n    key: k\n    key_passn: tty\n",
	        "spec: line 11: unknown field 'key_passn' in 'tls.import' (did you mean "
	        "'key_passin'?)");
	refused(HEAD "tiup:\n  source: p.tar.gz\n  platfroms: [linux/amd64]\n",
	        "spec: line 8: unknown field 'platfroms' in 'tiup' (did you mean 'platforms'?)");
	refused(HEAD "plan:\n  restrict_nc: true\n",
	        "spec: line 7: unknown field 'restrict_nc' in 'plan' (did you mean "
	        "'restrict_cn'?)");
	/* a payload entry's misspelt mode was dropped silently: the file kept its own mode */
	refused(HEAD "payload:\n  - source: a\n    path: b\n    mdoe: \"0600\"\n",
	        "spec: line 9: unknown field 'mdoe' in 'payload' (did you mean 'mode'?)");
}

static void test_lines(void **state)
{
	(void)state;
	refused("- a\n- b\n", "spec: line 1: must be a mapping");
	refused("cluster: lab\nmeta: [x\n", "spec: line ");
	refused("sequence: 1\n", "spec: line 1: needs 'cluster' and 'meta'");
	refused("cluster: lab\nmeta: m\nsequence: 0\n", "spec: line 3: 'sequence' must be");
	refused("cluster: lab\nmeta: m\nsequence: x\n", "spec: line 3: 'sequence' must be");
	refused("cluster: lab\nmeta: m\nsequence: 2\n", "spec: line 1: 'validity' must give");
	refused("cluster: lab\nmeta: m\nsequence: 2\nvalidity: 5\n",
	        "spec: line 4: 'validity' must be a mapping");
	refused("cluster: lab\nmeta: m\nsequence: 2\nvalidity:\n  days: 1\n  not_after: "
	        "2030-01-01T00:00:00Z\n",
	        "spec: line 5: validity needs exactly one");
	refused("cluster: lab\nmeta: m\nsequence: 2\nvalidity:\n  days: 400\n",
	        "spec: line 5: validity.days over");
	refused("cluster: lab\nmeta: m\nsequence: 2\nvalidity:\n  not_after: soon\n",
	        "spec: line 5: validity.not_after");
	refused("cluster: lab\nmeta: m\nsequence: 2\nvalidity:\n  not_before: soon\n  days: 1\n",
	        "spec: line 5: validity.not_before");
	refused("cluster: lab\nmeta: m\nsequence: 2\nvalidity:\n  not_before: "
	        "2030-01-02T00:00:00Z\n  not_after: 2030-01-01T00:00:00Z\n",
	        "spec: line 5: validity ends before it begins");
	refused(HEAD "payload: x\n", "spec: line 6: 'payload' must be a list");
	refused(HEAD "payload:\n  - x\n", "spec: line 7: a payload entry must be a mapping");
	refused(HEAD "payload:\n  - source: a\n", "spec: line 7: a payload entry needs");
	refused(HEAD "payload:\n  - source: a\n    path: ../b\n", "spec: line 7: payload path");
	refused(HEAD "payload:\n  - source: a\n    path: b\n    mode: \"999\"\n",
	        "spec: line 7: mode '999'");
	refused(HEAD "tls: generate\n", "spec: line 6: 'tls' must be a mapping");
	refused(HEAD "plan: [1]\n", "spec: line 6: 'plan' must be a mapping");
	refused(HEAD "tls:\n  import: x\n", "spec: line 7: 'tls.import' must be a mapping");
}

/* A payload path is refused when it could leave the bundle's payload/ folder, and only then: a
 * name that begins with two dots is an ordinary file (fuzz_spec once took it for '..'). */
static void test_payload_paths(void **state)
{
	static const char *const ok[] = {"..x", "...", "a/..b/c", "x..", ".hidden"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[256];
		struct tf_spec s;
		struct tf_err err;

		snprintf(text, sizeof(text), HEAD "payload:\n  - source: a\n    path: \"%s\"\n",
		         ok[i]);
		if (tf_spec_parse(text, strlen(text), "/x/spec.yaml", 1700000000, &s, &err) != 0) {
			fprintf(stderr, "path %s refused: %s\n", ok[i], err.msg);
			fail();
		}
		assert_int_equal(s.npayload, 1);
		assert_string_equal(s.payload[0].path, ok[i]);
		tf_spec_release(&s);
	}
	refused(HEAD "payload:\n  - source: a\n    path: a/../../b\n",
	        "spec: line 7: payload path");
	refused(HEAD "payload:\n  - source: a\n    path: a/..\n", "spec: line 7: payload path");
	refused(HEAD "payload:\n  - source: a\n    path: /etc/x\n", "spec: line 7: payload path");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_did_you_mean),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_payload_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
