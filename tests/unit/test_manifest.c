/* Unit tests for manifests/manifest: serialise/parse round trip and every rejection rule. */
#include "tests/unit/testutil.h"

#include "manifests/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B64 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const char base[] =
    "{\n"
    "  \"format\": \"tiferry-bundle/1\",\n"
    "  \"bundle_id\": \"0123456789abcdef0123456789abcdef\",\n"
    "  \"sequence\": 7,\n"
    "  \"created\": \"2026-11-27T00:00:00Z\",\n"
    "  \"not_before\": \"2026-11-27T00:00:00Z\",\n"
    "  \"not_after\": \"2026-12-27T00:00:00Z\",\n"
    "  \"target\": {\"cluster\": \"prod-1\", \"topology\": \"sha256:" Z64 "\"},\n"
    "  \"files\": [\n"
    "    {\"path\": \"payload/z\", \"size\": 6, \"mode\": \"0644\", \"sha256\": \"" A64 "\"},\n"
    "    {\"path\": \"payload/b/c\", \"size\": 0, \"mode\": \"0755\", \"sha256\": \"" B64 "\"}\n"
    "  ],\n"
    "  \"tiup\": {\"version\": \"v1.16.0\", \"components\": [\"cluster\", \"ctl\"]}\n"
    "}\n";

/* base with the first occurrence of from replaced by to (caller frees). */
static char *variant(const char *from, const char *to)
{
	const char *at = strstr(base, from);
	size_t n;
	char *s;

	if (at == NULL)
		fail_msg("'%s' not in the base manifest", from);
	n = strlen(base) - strlen(from) + strlen(to);
	s = malloc(n + 1);
	assert_non_null(s);
	snprintf(s, n + 1, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return s;
}

static void test_parse_base(void **state)
{
	struct tf_manifest m;
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_manifest_parse(base, strlen(base), &m, &err), 0);
	assert_string_equal(m.bundle_id, "0123456789abcdef0123456789abcdef");
	assert_int_equal(m.sequence, 7);
	assert_int_equal(m.created, 1795737600);
	assert_int_equal(m.not_after - m.not_before, 30 * 86400);
	assert_string_equal(m.cluster, "prod-1");
	assert_string_equal(m.topology, "sha256:" Z64);
	assert_int_equal(m.nfiles, 2);
	/* sorted by path */
	assert_string_equal(m.files[0].path, "payload/b/c");
	assert_int_equal(m.files[0].mode, 0755);
	assert_int_equal(m.files[1].size, 6);
	assert_int_equal(m.files[1].sha256[0], 0xaa);
	assert_non_null(tf_manifest_find(&m, "payload/z"));
	assert_null(tf_manifest_find(&m, "payload/y"));
	assert_non_null(tf_manifest_section(&m, "tiup"));
	assert_non_null(strstr(tf_manifest_section(&m, "tiup"), "\"ctl\""));
	assert_null(tf_manifest_section(&m, "tls"));
	tf_manifest_release(&m);
}

static void test_round_trip(void **state)
{
	struct tf_manifest m, m2;
	struct tf_err err;
	char *text = NULL, *text2 = NULL;
	size_t len = 0, len2 = 0, i;
	uint8_t d[TF_SHA256_LEN];

	(void)state;
	tf_manifest_init(&m);
	m.bundle_id = strdup("ffffffffffffffffffffffffffffffff");
	m.sequence = TF_MANIFEST_MAX_SEQUENCE; /* the largest allowed */
	m.created = 0;
	m.not_before = 1;
	m.not_after = 4102444800; /* 2100 */
	m.cluster = strdup("a.b_c-D9");
	m.topology = strdup("sha256:" B64);
	for (i = 0; i < TF_SHA256_LEN; i++)
		d[i] = (uint8_t)i;
	assert_int_equal(tf_manifest_add_file(&m, "payload/z/last", 1ull << 40, 0600, d, &err), 0);
	assert_int_equal(tf_manifest_add_file(&m, "payload/a first", 0, 0, d, &err), 0);
	assert_int_equal(tf_manifest_add_file(&m, "payload/\xc3\xa9t\xc3\xa9", 3, 0777, d, &err),
	                 0);
	assert_int_equal(tf_manifest_set_section(&m, "plan", "{\"steps\": [1, 2]}", &err), 0);
	assert_int_equal(tf_manifest_set_section(&m, "plan", "{\"steps\": [3]}", &err), 0);
	assert_int_equal(tf_manifest_set_section(&m, "tls", "{\"ca\": \"x\"}", &err), 0);
	assert_int_equal(m.nsections, 2);
	assert_int_equal(tf_manifest_sort(&m, &err), 0);
	assert_int_equal(tf_manifest_serialize(&m, &text, &len, &err), 0);
	assert_int_equal(text[len - 1], '\n');
	assert_int_equal(strlen(text), len);
	assert_int_equal(tf_manifest_parse(text, len, &m2, &err), 0);
	assert_string_equal(m2.bundle_id, m.bundle_id);
	assert_int_equal(m2.sequence, m.sequence);
	assert_int_equal(m2.created, m.created);
	assert_int_equal(m2.not_before, m.not_before);
	assert_int_equal(m2.not_after, m.not_after);
	assert_string_equal(m2.cluster, m.cluster);
	assert_string_equal(m2.topology, m.topology);
	assert_int_equal(m2.nfiles, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(m2.files[i].path, m.files[i].path);
		assert_int_equal(m2.files[i].size, m.files[i].size);
		assert_int_equal(m2.files[i].mode, m.files[i].mode);
		assert_memory_equal(m2.files[i].sha256, m.files[i].sha256, TF_SHA256_LEN);
	}
	assert_non_null(strstr(tf_manifest_section(&m2, "plan"), "[3]"));
	assert_non_null(tf_manifest_section(&m2, "tls"));
	/* serialising what was parsed gives the same bytes */
	assert_int_equal(tf_manifest_serialize(&m2, &text2, &len2, &err), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(text2, text, len);
	free(text);
	free(text2);
	tf_manifest_release(&m);
	tf_manifest_release(&m2);
}

/* Regression (found by this suite): cJSON prints numbers with 15 significant digits, so large
 * sequences were written rounded and read back as another number; they are written digit for
 * digit. Regression (issue 13, item 6): a signed sequence of 2^53 blocked every later install;
 * the sequence is capped at TF_MANIFEST_MAX_SEQUENCE by the serialiser, the parser and the spec
 * (docs/bundle-format.md). */
static void test_large_sequence(void **state)
{
	static const uint64_t ok[] = {1, 2026120501ull, 4294967295ull};
	static const uint64_t over[] = {4294967296ull, 8000000000000001ull, 9007199254740992ull,
	                                9007199254740993ull, 18446744073709551615ull};
	struct tf_manifest m, m2;
	struct tf_err err;
	char *text = NULL;
	size_t len = 0, i;

	(void)state;
	tf_manifest_init(&m);
	m.bundle_id = strdup("ffffffffffffffffffffffffffffffff");
	m.not_after = 10;
	m.cluster = strdup("c");
	m.topology = strdup("sha256:" B64);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		m.sequence = ok[i];
		assert_int_equal(tf_manifest_serialize(&m, &text, &len, &err), 0);
		assert_int_equal(tf_manifest_parse(text, len, &m2, &err), 0);
		if (m2.sequence != ok[i])
			fail_msg("sequence %llu reads back as %llu", (unsigned long long)ok[i],
			         (unsigned long long)m2.sequence);
		free(text);
		tf_manifest_release(&m2);
	}
	for (i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
		m.sequence = over[i];
		assert_int_equal(tf_manifest_serialize(&m, &text, &len, &err), TF_E_INPUT);
		assert_non_null(strstr(err.msg, "is above 4294967295"));
	}
	tf_manifest_release(&m);
}

/* Regression (common/timeutil.c, tf_time_format; found by fuzz_manifest): years below 1000 were
 * written without zero padding (strftime "%Y"), e.g. "584-01-01T00:00:10Z", which tf_time_parse
 * refuses, so a manifest that parses serialised to bytes that did not. */
static void test_early_year_round_trip(void **state)
{
	char *s = variant("\"not_before\": \"2026-11-27T00:00:00Z\"",
	                  "\"not_before\": \"0584-01-01T00:00:10Z\"");
	struct tf_manifest m, m2;
	struct tf_err err;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(tf_manifest_parse(s, strlen(s), &m, &err), 0);
	assert_int_equal(tf_manifest_serialize(&m, &text, &len, &err), 0);
	if (tf_manifest_parse(text, len, &m2, &err) != 0)
		fail_msg("serialised manifest does not parse: %s", err.msg);
	assert_int_equal(m2.not_before, m.not_before);
	tf_manifest_release(&m2);
	tf_manifest_release(&m);
	free(text);
	free(s);
}

static void expect_reject(const char *text, size_t len, const char *msg)
{
	struct tf_manifest m;
	struct tf_err err;
	int r = tf_manifest_parse(text, len, &m, &err);

	if (r != TF_E_REJECT)
		fail_msg("parse gave %d for %.300s (expected a rejection naming '%s')", r, text,
		         msg);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("'%s' does not name '%s' (input %.300s)", err.msg, msg, text);
	/* nothing leaks from a failed parse: m is empty */
	assert_null(m.bundle_id);
	assert_int_equal(m.nfiles, 0);
}

static void reject_variant(const char *from, const char *to, const char *msg)
{
	char *s = variant(from, to);

	expect_reject(s, strlen(s), msg);
	free(s);
}

static void test_rejections(void **state)
{
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
	    /* the document */
	    {"{\n  \"format\"", "[{\n  \"format\"", "expected ',' or ']'"},
	    {"\"tiup\": {", "\"tiup\": {,", "expected a key"},
	    {"\"sequence\": 7,", "\"sequence\": 7, \"sequence\": 8,", "repeated key"},
	    {"\"size\": 6,", "\"size\": 6, \"size\": 6,", "repeated key"},
	    {"\"version\"", "\"components\": 1, \"version\"", "repeated key"},
	    {"\"format\"", "\"extra\": 1, \"format\"", "unknown field 'extra'"},
	    {"\"tiup\": {\"version\": \"v1.16.0\", \"components\": [\"cluster\", \"ctl\"]}",
	     "\"tiup\": 5", "unknown field 'tiup'"},
	    {"\"tiup\"", "\"Tiup\"", "unknown field 'Tiup'"},
	    /* format */
	    {"tiferry-bundle/1", "tiferry-bundle/2", "format 'tiferry-bundle/2'"},
	    {"\"format\": \"tiferry-bundle/1\",", "", "format '(missing)'"},
	    {"\"format\": \"tiferry-bundle/1\"", "\"format\": 1", "format"},
	    /* bundle_id */
	    {"0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789abcdef",
	     "bad bundle_id"},
	    {"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcde",
	     "bad bundle_id"},
	    {"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdeg",
	     "bad bundle_id"},
	    {"\"bundle_id\": \"0123456789abcdef0123456789abcdef\",", "", "bad bundle_id"},
	    /* sequence */
	    {"\"sequence\": 7", "\"sequence\": 0", "sequence"},
	    {"\"sequence\": 7", "\"sequence\": -1", "sequence"},
	    {"\"sequence\": 7", "\"sequence\": 1.5", "not a whole number"},
	    {"\"sequence\": 7", "\"sequence\": \"7\"", "sequence"},
	    {"\"sequence\": 7", "\"sequence\": 18014398509481984", "over 2^53"},
	    {"\"sequence\": 7", "\"sequence\": 1e400", "not a whole number"},
	    {"\"sequence\": 7,", "", "sequence"},
	    /* times */
	    {"\"created\": \"2026-11-27T00:00:00Z\"", "\"created\": \"yesterday\"", "RFC 3339"},
	    {"\"not_before\": \"2026-11-27T00:00:00Z\"", "\"not_before\": 1795737600", "RFC 3339"},
	    {"\"not_after\": \"2026-12-27T00:00:00Z\",", "", "RFC 3339"},
	    {"\"not_after\": \"2026-12-27T00:00:00Z\"", "\"not_after\": \"2026-11-27T00:00:00Z\"",
	     "not_after is not after not_before"},
	    {"\"not_after\": \"2026-12-27T00:00:00Z\"", "\"not_after\": \"2026-11-26T00:00:00Z\"",
	     "not_after is not after not_before"},
	    /* target */
	    {"\"cluster\": \"prod-1\"", "\"cluster\": \"prod 1\"", "bad target cluster name"},
	    {"\"cluster\": \"prod-1\"", "\"cluster\": \"../x\"", "bad target cluster name"},
	    {"\"cluster\": \"prod-1\"", "\"cluster\": \".hidden\"", "bad target cluster name"},
	    {"\"cluster\": \"prod-1\"", "\"cluster\": \"\"", "bad target cluster name"},
	    {"\"cluster\": \"prod-1\"",
	     "\"cluster\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	     "bad target cluster name"},
	    {"\"cluster\": \"prod-1\"", "\"cluster\": 1", "bad target cluster name"},
	    {"\"target\": {", "\"target\": [], \"t\": {", "unknown field 't'"},
	    {"\"sha256:" Z64 "\"", "\"sha512:" Z64 "\"", "bad target topology fingerprint"},
	    {"\"sha256:" Z64 "\"", "\"sha256:" Z64 "0\"", "bad target topology fingerprint"},
	    {"\"sha256:" Z64 "\"", "\"" Z64 "\"", "bad target topology fingerprint"},
	    /* files */
	    {"\"files\": [", "\"files\": [1, ", "files[0] is not an object"},
	    {"\"size\": 6,", "\"size\": 6, \"owner\": \"root\",",
	     "files[0] has unknown field 'owner'"},
	    {"\"payload/z\"", "\"other/z\"", "files[0]: bad path 'other/z'"},
	    {"\"payload/z\"", "\"payload/../z\"", "bad path"},
	    {"\"payload/z\"", "\"/payload/z\"", "bad path"},
	    {"\"payload/z\"", "\"payload//z\"", "bad path"},
	    {"\"payload/z\"", "\"payload/./z\"", "bad path"},
	    {"\"payload/z\"", "\"payload/z/\"", "bad path"},
	    {"\"payload/z\"", "\"payload\"", "bad path"},
	    {"\"payload/z\"", "\"payload/a\\\\b\"", "bad path"},
	    {"\"payload/z\"", "\"payload/a\\nb\"", "bad path"},
	    {"\"path\": \"payload/z\", ", "", "bad path '(missing)'"},
	    {"\"size\": 6", "\"size\": -6", "'payload/z': bad size"},
	    {"\"size\": 6", "\"size\": 6.5", "not a whole number"},
	    {"\"size\": 6", "\"size\": \"6\"", "bad size"},
	    {"\"mode\": \"0644\"", "\"mode\": \"644\"", "'payload/z': bad mode"},
	    {"\"mode\": \"0644\"", "\"mode\": \"1644\"", "bad mode"},
	    {"\"mode\": \"0644\"", "\"mode\": \"04755\"", "bad mode"},
	    {"\"mode\": \"0644\"", "\"mode\": \"0648\"", "bad mode"},
	    {"\"mode\": \"0644\"", "\"mode\": \"0-44\"", "bad mode"},
	    {"\"mode\": \"0644\"", "\"mode\": 420", "bad mode"},
	    {"\"sha256\": \"" A64 "\"", "\"sha256\": \"" A64 "a\"", "'payload/z': bad sha256"},
	    {"\"sha256\": \"" A64 "\"",
	     "\"sha256\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
	     "bad sha256"},
	    {"\"payload/b/c\"", "\"payload/z\"", "lists 'payload/z' twice"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		reject_variant(cases[i].from, cases[i].to, cases[i].msg);
}

static void test_limits(void **state)
{
	char *big, *deep;
	size_t n = TF_MANIFEST_MAX + 1, i;

	(void)state;
	/* a NUL inside the given length */
	expect_reject("{\"format\": 1}\0{}", 16, "NUL byte");
	/* trailing bytes after the object */
	{
		char *s = variant("}\n", "}\n");
		size_t len = strlen(s);

		s = realloc(s, len + 3);
		memcpy(s + len, "{}", 3);
		expect_reject(s, len + 2, "bytes after the value");
		free(s);
	}
	expect_reject("", 0, "expected a value");
	{
		char *a = variant("\"files\": [", "\"files\": {\"x\": [");
		char *b;

		a = realloc(a, strlen(a) + 2);
		assert_non_null(a);
		b = strstr(a, "  ],\n  \"tiup\"");
		assert_non_null(b);
		memmove(b + 4, b + 3, strlen(b + 3) + 1);
		b[3] = '}';
		expect_reject(a, strlen(a), "files must be an array");
		free(a);
	}
	expect_reject("null", 4, "not a JSON object");
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	expect_reject(big, n, "larger than");
	free(big);
	/* nesting beyond 32 levels inside a section */
	deep = malloc(200);
	assert_non_null(deep);
	strcpy(deep, "{\"plan\": ");
	for (i = 0; i < 40; i++)
		strcat(deep, "[");
	for (i = 0; i < 40; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	expect_reject(deep, strlen(deep), "nested too deep");
	free(deep);
}

/* Issue 13, item 6: bytes that cJSON read one way and Python's json or jq another (or that
 * cJSON cut short) are refused before anything is read. Each of these parsed before. */
static void test_strict_reader(void **state)
{
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
	    /* "sequence\u0000x" was read as "sequence"; a NUL cut names and paths short */
	    {"\"sequence\": 7", "\"sequence\\u0000x\": 7", "\\u0000 in a string"},
	    {"\"prod-1\"", "\"prod-1\\u0000evil\"", "\\u0000 in a string"},
	    {"\"payload/z\"", "\"payload/z\\u0000/../x\"", "\\u0000 in a string"},
	    /* whole numbers only, exactly readable */
	    {"\"sequence\": 7", "\"sequence\": 7.0", "not a whole number"},
	    {"\"sequence\": 7", "\"sequence\": 7e0", "not a whole number"},
	    {"\"sequence\": 7", "\"sequence\": 70E-1", "not a whole number"},
	    {"\"sequence\": 7", "\"sequence\": 9007199254740993", "over 2^53"},
	    {"\"sequence\": 7", "\"sequence\": 4294967296", "sequence must be a whole number"},
	    {"\"sequence\": 7", "\"sequence\": 07", "leading zero"},
	    /* one key, two spellings */
	    {"\"sequence\": 7,", "\"sequence\": 7, \"s\\u0065quence\": 8,", "repeated key"},
	    /* text: UTF-8 only, no raw controls, whitespace as RFC 8259 says */
	    {"\"payload/z\"", "\"payload/z\xff\"", "invalid UTF-8"},
	    {"\"payload/z\"", "\"payload/z\xc0\xaf\"", "invalid UTF-8"},
	    {"\"payload/z\"", "\"payload/z\xed\xa0\x80\"", "invalid UTF-8"},
	    {"\"payload/z\"", "\"payload/z\xf4\x90\x80\x80\"", "invalid UTF-8"},
	    {"\"v1.16.0\"", "\"v1.16.0\\ud800\"", "unpaired surrogate"},
	    {"\"v1.16.0\"", "\"v1.16.0\\udc00\\ud800\"", "unpaired surrogate"},
	    {"\"prod-1\"", "\"prod\t1\"", "control character"},
	    {"\"sequence\": 7", "\"sequence\":\f7", "not JSON"},
	    {"{\n  \"format\"", "\xef\xbb\xbf{\n  \"format\"", "byte-order mark"},
	    /* calendar dates only */
	    {"2026-12-27T00:00:00Z", "2027-02-29T00:00:00Z", "RFC 3339"},
	    {"2026-12-27T00:00:00Z", "2100-02-29T00:00:00Z", "RFC 3339"},
	};
	struct tf_manifest m;
	struct tf_err err;
	char *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		reject_variant(cases[i].from, cases[i].to, cases[i].msg);
	/* what stays accepted: a leap day, escapes that are not NUL, a pair of surrogates */
	s = variant("2026-12-27T00:00:00Z", "2028-02-29T00:00:00Z");
	assert_int_equal(tf_manifest_parse(s, strlen(s), &m, &err), 0);
	tf_manifest_release(&m);
	free(s);
	s = variant("\"v1.16.0\"", "\"v1.16.0 \\u00e9\\ud83d\\ude00\\/\\t\"");
	if (tf_manifest_parse(s, strlen(s), &m, &err) != 0)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(tf_manifest_section(&m, "tiup"), "\xc3\xa9\xf0\x9f\x98\x80"));
	tf_manifest_release(&m);
	free(s);
}

/* Issue 13, item 4: the repeated-key check compared every pair of keys: 470,000 keys in one
 * object (a 4 MB manifest, read before any signature) took 700 s. Now one pass; this input
 * finishes in a fraction of a second (bench/manifest.sh measures it against a plain parse). */
static void test_many_keys(void **state)
{
	/* printable ASCII but the quote and the backslash: 92 characters */
	static const char alphabet[] =
	    "!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`"
	    "abcdefghijklmnopqrstuvwxyz{|}~";
	size_t n = 470000, i, len = 0, cap = 8 * n + 64;
	char *s = malloc(cap);

	(void)state;
	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len, "{\"plan\": {");
	for (i = 0; i < n; i++) {
		/* three-character keys over 92 printable characters: "<k>":0, is 8 bytes */
		size_t k = i;
		int j;

		if (i > 0)
			s[len++] = ',';
		s[len++] = '"';
		for (j = 0; j < 3; j++, k /= 92)
			s[len++] = alphabet[k % 92];
		len += (size_t)snprintf(s + len, cap - len, "\":0");
	}
	len += (size_t)snprintf(s + len, cap - len, "}}");
	assert_true(len <= TF_MANIFEST_MAX);
	expect_reject(s, len, "format");
	/* the same with the last key repeating the first: found, wherever it is */
	len -= 2;
	len += (size_t)snprintf(s + len, cap - len, ",\"!!!\":1}}");
	assert_true(len <= TF_MANIFEST_MAX);
	expect_reject(s, len, "repeated key");
	free(s);
}

static void test_paths_and_sections(void **state)
{
	struct tf_manifest m;
	struct tf_err err;
	uint8_t d[TF_SHA256_LEN] = {0};
	char longp[TF_PATH_MAX_LEN + 2];

	(void)state;
	assert_true(tf_bundle_path_ok("payload/a"));
	assert_true(tf_bundle_path_ok("a..b/.c/..d"));
	assert_false(tf_bundle_path_ok(""));
	assert_false(tf_bundle_path_ok("/a"));
	assert_false(tf_bundle_path_ok("a/"));
	assert_false(tf_bundle_path_ok("a//b"));
	assert_false(tf_bundle_path_ok("./a"));
	assert_false(tf_bundle_path_ok("a/.."));
	assert_false(tf_bundle_path_ok("a\\b"));
	assert_false(tf_bundle_path_ok("a\x7f"));
	assert_false(tf_bundle_path_ok("a\tb"));
	memset(longp, 'a', sizeof(longp));
	longp[256] = '\0';
	assert_false(tf_bundle_path_ok(longp)); /* a component over NAME_MAX (255) */
	longp[255] = '\0';
	assert_true(tf_bundle_path_ok(longp));
	memset(longp, 'a', sizeof(longp));
	for (size_t k = 200; k < TF_PATH_MAX_LEN; k += 200)
		longp[k] = '/';
	longp[TF_PATH_MAX_LEN] = '\0';
	assert_true(tf_bundle_path_ok(longp));
	longp[TF_PATH_MAX_LEN] = 'a';
	longp[TF_PATH_MAX_LEN + 1] = '\0';
	assert_false(tf_bundle_path_ok(longp));

	tf_manifest_init(&m);
	assert_int_equal(tf_manifest_add_file(&m, "payload/../x", 1, 0644, d, &err), TF_E_INPUT);
	assert_int_equal(tf_manifest_set_section(&m, "evil", "{}", &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "unknown manifest section 'evil'"));
	assert_int_equal(tf_manifest_set_section(&m, "tiup", "[1]", &err), TF_E_INPUT);
	assert_int_equal(tf_manifest_set_section(&m, "tiup", "{", &err), TF_E_INPUT);
	assert_int_equal(m.nsections, 0);
	/* mode bits beyond 0777 are dropped on the way in */
	assert_int_equal(tf_manifest_add_file(&m, "payload/s", 1, 04755, d, &err), 0);
	assert_int_equal(m.files[0].mode, 0755);
	assert_int_equal(tf_manifest_add_file(&m, "payload/s", 1, 0644, d, &err), 0);
	assert_int_equal(tf_manifest_sort(&m, &err), TF_E_REJECT);
	assert_non_null(strstr(err.msg, "'payload/s' twice"));
	tf_manifest_release(&m);
	tf_manifest_release(&m); /* releasing twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_base),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_rejections),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_paths_and_sections),
	    cmocka_unit_test(test_large_sequence),
	    cmocka_unit_test(test_early_year_round_trip),
	    cmocka_unit_test(test_strict_reader),
	    cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
