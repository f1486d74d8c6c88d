/* Unit tests for common/: errors, time, hex, files. */
#include "tests/unit/testutil.h"

#include "common/err.h"
#include "common/fsutil.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_err_prefix_and_exit(void **state)
{
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_err_set(&err, TF_E_REJECT, "entry '%s' differs", "a"), TF_E_REJECT);
	tf_err_prefix(&err, "check '%s'", "b.tar");
	assert_string_equal(err.msg, "check 'b.tar': entry 'a' differs");
	assert_int_equal(tf_err_exit_code(TF_E_REJECT), 3);
	assert_int_equal(tf_err_exit_code(TF_E_USAGE), 2);
	assert_int_equal(tf_err_exit_code(TF_E_INPUT), 2);
	assert_int_equal(tf_err_exit_code(TF_E_IO), 1);
	assert_int_equal(tf_err_exit_code(0), 0);
	assert_int_equal(tf_err_exit_code(TF_E_SSH_HOSTKEY), 1);
	assert_int_equal(tf_err_nomem(&err), TF_E_NOMEM);
	assert_string_equal(err.msg, "out of memory");
	assert_string_equal(tf_err_str(TF_E_REJECT), "bundle rejected");
	assert_string_equal(tf_err_str(TF_E_SSH_AUTH), "SSH authentication refused");
	assert_string_equal(tf_err_str(-99), "unknown error");
}

static void test_time(void **state)
{
	struct tf_err err;
	time_t t;
	char buf[32];

	(void)state;
	assert_int_equal(tf_time_parse("1970-01-01T00:00:00Z", &t, &err), 0);
	assert_int_equal(t, 0);
	assert_int_equal(tf_time_parse("2026-07-26T11:18:30+08:00", &t, &err), 0);
	tf_time_format(t, buf, sizeof(buf));
	assert_string_equal(buf, "2026-07-26T03:18:30Z");
	assert_int_equal(tf_time_parse("2031-10-21T12:00:00.123456789Z", &t, &err), 0);
	tf_time_format(t, buf, sizeof(buf));
	assert_string_equal(buf, "2031-10-21T12:00:00Z");
	assert_int_equal(tf_time_parse("2024-02-29T00:00:00-01:30", &t, &err), 0);
	tf_time_format(t, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T01:30:00Z");
	assert_int_equal(tf_time_parse("2026-13-01T00:00:00Z", &t, &err), TF_E_INPUT);
	assert_int_equal(tf_time_parse("2026-01-01 00:00:00", &t, &err), TF_E_INPUT);
	assert_int_equal(tf_time_parse("2026-01-01T00:00:00Zjunk", &t, &err), TF_E_INPUT);
	assert_int_equal(tf_time_parse("", &t, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "RFC 3339"));
}

/* The test build's clock: TIFERRY_NOW replaces it, so the suites can check validity windows
 * (test_timeutil_release.c: a release build ignores it). */
static void test_time_pinned(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(tf_time_test_clock(), 1);
	assert_int_equal(setenv("TIFERRY_NOW", "2020-01-01T12:00:00Z", 1), 0);
	assert_int_equal(tf_time_parse("2020-01-01T12:00:00Z", &t, NULL), 0);
	assert_int_equal(tf_time_now(), t);
	assert_int_equal(setenv("TIFERRY_NOW", "not a time", 1), 0);
	assert_true(tf_time_now() > t);
	unsetenv("TIFERRY_NOW");
}

static void test_hex(void **state)
{
	uint8_t in[3] = {0x00, 0xab, 0xff}, back[3];
	char out[7];

	(void)state;
	tf_hex_encode(in, 3, out);
	assert_string_equal(out, "00abff");
	assert_int_equal(tf_hex_decode("00ABff", back, 3), 0);
	assert_memory_equal(in, back, 3);
	assert_int_equal(tf_hex_decode("00abf", back, 3), -1);
	assert_int_equal(tf_hex_decode("00abfg", back, 3), -1);
	assert_true(tf_hex_is_lower("00abff", 6));
	assert_false(tf_hex_is_lower("00ABff", 6));
}

static void test_files(void **state)
{
	struct tf_err err;
	char *buf = NULL, *dir = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	tt_tmpdir();
	assert_int_equal(tf_write_file_atomic("f", "hello", 5, 0600, &err), 0);
	assert_int_equal(stat("f", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tf_read_file("f", 100, &buf, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	assert_int_equal(tf_read_file("f", 4, &buf, &len, &err), TF_E_INPUT);
	assert_int_equal(tf_read_file("missing", 4, &buf, &len, &err), TF_E_NOTFOUND);
	assert_int_equal(tf_mkdir_p("a/b/c", 0755, &err), 0);
	assert_int_equal(symlink("/etc", "a/b/link"), 0);
	assert_int_equal(tf_mkdtemp_private(".", "stage-", &dir, &err), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(dir);
	/* rmtree removes the link, never what it points to */
	assert_int_equal(tf_rmtree("a", &err), 0);
	assert_int_not_equal(access("a", F_OK), 0);
	assert_int_equal(access("/etc/hostname", F_OK) == 0 || access("/etc", F_OK) == 0, 1);
	assert_int_equal(tf_rmtree("never-there", &err), 0);
	tt_cleanup();
}

static void test_strbuf(void **state)
{
	struct tf_strbuf b = {0}, small = {.max = 8};
	size_t i;

	(void)state;
	tf_strbuf_puts(&b, "");
	assert_non_null(b.s); /* an empty append still gives a string */
	assert_string_equal(b.s, "");
	for (i = 0; i < 1000; i++) /* grows past the first allocation */
		tf_strbuf_printf(&b, "%zu,", i % 10);
	assert_int_equal(b.len, 2000);
	assert_int_equal(strlen(b.s), 2000);
	assert_memory_equal(b.s + 1996, "8,9,", 4);
	assert_false(b.failed);
	tf_strbuf_release(&b);
	assert_null(b.s);
	tf_strbuf_putn(&small, "12345678", 8);
	assert_false(small.failed);
	tf_strbuf_puts(&small, "9"); /* past max: failed, contents kept as they were */
	assert_true(small.failed);
	assert_string_equal(small.s, "12345678");
	tf_strbuf_puts(&small, "");
	assert_int_equal(small.len, 8);
	tf_strbuf_release(&small);
	assert_int_equal(small.max, 8);
}

/* Issue 13, item 5: what reaches a terminal holds no control sequence. */
static void test_term_escape(void **state)
{
	char out[64], small[8];
	FILE *f;
	char buf[128];
	size_t n;

	(void)state;
	assert_string_equal(tf_term_escape("ok: a-z ~", out, sizeof(out)), "ok: a-z ~");
	assert_string_equal(tf_term_escape("a\rb\x1b[2Kc\x7f\n\t", out, sizeof(out)),
	                    "a\\x0db\\x1b[2Kc\\x7f\\x0a\\x09");
	/* C1 controls and every other non-ASCII byte: U+009B (CSI) is c2 9b in UTF-8 */
	assert_string_equal(tf_term_escape("\xc2\x9b"
	                                   "31m\xe9",
	                                   out, sizeof(out)),
	                    "\\xc2\\x9b31m\\xe9");
	assert_string_equal(tf_term_escape(NULL, out, sizeof(out)), "");
	/* cut to fit, never half an escape */
	assert_string_equal(tf_term_escape("abcd\x1b", small, sizeof(small)), "abcd");
	assert_string_equal(tf_term_escape("abcdefghij", small, sizeof(small)), "abcdefg");
	/* to a stream: newlines kept only when asked */
	f = tmpfile();
	assert_non_null(f);
	tf_term_fputs(f, "x\ny\x1b", 1);
	tf_term_fputs(f, "|x\ny", 0);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, "x\ny\\x1b|x\\x0ay");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_prefix_and_exit),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_time_pinned),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_strbuf),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_term_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
