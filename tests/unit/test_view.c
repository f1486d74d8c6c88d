/* Unit tests for installer/view: the time format, the lines, the JSON events and the terminal
 * table (drawn into memory: its moves up must match the lines it drew, and it must fit). */
#include "tests/unit/testutil.h"

#include "common/log.h"
#include "installer/view.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *const names3[] = {"alpha", "preflight", "gamma"};

/* The view's output so far, as a string (the stream stays open). */
struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static void cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static const char *cap_text(struct capture *c)
{
	fflush(c->f);
	return c->buf ? c->buf : "";
}

static void cap_close(struct capture *c)
{
	fclose(c->f);
	free(c->buf);
}

/* Line n (0-based) of text matches the fnmatch pattern. */
static void assert_line(const char *text, int n, const char *pattern)
{
	const char *p = text, *end;
	char line[1024];

	while (n-- > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	end = strchr(p, '\n');
	assert_non_null(end);
	snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
	if (fnmatch(pattern, line, 0) != 0)
		fail_msg("line '%s' does not match '%s'", line, pattern);
}

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void test_seconds(void **state)
{
	char b[32];
	static const struct {
		double s;
		const char *want;
	} cases[] = {{-1, "0.0s"},     {0, "0.0s"},     {0.44, "0.4s"},   {9.94, "9.9s"},
	             {9.96, "10s"},    {59.4, "59s"},   {59.6, "1m00s"},  {185, "3m05s"},
	             {3599, "59m59s"}, {3725, "1h02m"}, {90061, "25h01m"}};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tf_view_format_seconds(cases[i].s, b, sizeof(b));
		assert_string_equal(b, cases[i].want);
	}
	assert_string_equal(tf_view_state_name(TF_VIEW_RUNNING, 0), "started");
	assert_string_equal(tf_view_state_name(TF_VIEW_RUNNING, 1), "running");
	assert_string_equal(tf_view_state_name(TF_VIEW_FIXED, 1), "fixed");
}

static void test_null_and_off(void **state)
{
	(void)state;
	assert_null(tf_view_new(TF_VIEW_OFF, names3, 3, NULL));
	tf_view_step(NULL, 0, TF_VIEW_RUNNING, NULL);
	tf_view_host(NULL, "h", TF_VIEW_OK, "x %d", 1);
	tf_view_free(NULL);
}

static void test_lines(void **state)
{
	struct capture c;
	struct tf_view *v;
	const char *t;

	(void)state;
	cap_open(&c);
	v = tf_view_new(TF_VIEW_LINES, names3, 3, c.f);
	assert_non_null(v);
	tf_view_step(v, 0, TF_VIEW_SKIPPED, "done in an earlier run");
	tf_view_step(v, 1, TF_VIEW_RUNNING, NULL);
	tf_view_host(v, "10.0.1.11:22", TF_VIEW_RUNNING, "checking");
	tf_view_host(v, "10.0.1.12:22", TF_VIEW_RUNNING, NULL);
	/* a remote host's text: no newline, no escape reaches the output */
	tf_view_host(v, "10.0.1.11:22", TF_VIEW_WARN, "node_exporter: %s", "dup\n\033[2Jx");
	tf_view_step(v, 1, TF_VIEW_FAILED, "refused on 1 host");
	tf_view_host(v, "late", TF_VIEW_OK, NULL); /* no step running: dropped */
	tf_view_free(v);
	t = cap_text(&c);
	assert_int_equal(count_lines(t), 7);
	assert_line(t, 0, "step 1/3 alpha: skipped: done in an earlier run");
	assert_line(t, 1, "step 2/3 preflight: started");
	assert_line(t, 2, "host 10.0.1.11:22 preflight: running: checking");
	assert_line(t, 3, "host 10.0.1.12:22 preflight: running");
	assert_line(t, 4, "host 10.0.1.11:22 preflight: warn (*.*s): node_exporter: dup \\?\\[2Jx");
	/* the host the step left running ends with it, before the step's own result */
	assert_line(t, 5, "host 10.0.1.12:22 preflight: failed (*s): the step failed before *");
	assert_line(t, 6, "step 2/3 preflight: failed (*s): refused on 1 host");
	assert_null(strchr(t, '\033'));
	cap_close(&c);
}

static void test_lines_order(void **state)
{
	struct capture c;
	struct tf_view *v;
	const char *t;

	(void)state;
	cap_open(&c);
	v = tf_view_new(TF_VIEW_LINES, names3, 3, c.f);
	tf_view_step(v, 2, TF_VIEW_RUNNING, NULL);
	tf_view_host(v, "pd-1", TF_VIEW_RUNNING, NULL);
	tf_view_step(v, 2, TF_VIEW_OK, "");
	tf_view_free(v);
	t = cap_text(&c);
	assert_int_equal(count_lines(t), 4);
	assert_line(t, 0, "step 3/3 gamma: started");
	assert_line(t, 1, "host pd-1 gamma: running");
	assert_line(t, 2, "host pd-1 gamma: ok (*s)");
	assert_line(t, 3, "step 3/3 gamma: ok (*s)");
	cap_close(&c);
}

static void test_json(void **state)
{
	struct capture c;
	struct tf_view *v;
	const char *t, *p;
	int n = 0;

	(void)state;
	cap_open(&c);
	v = tf_view_new(TF_VIEW_JSON, names3, 3, c.f);
	tf_view_step(v, 1, TF_VIEW_RUNNING, NULL);
	tf_view_host(v, "10.0.1.11:22", TF_VIEW_FIXED, "stopped \"node_exporter-9100-dup\"\t\x01");
	tf_view_step(v, 1, TF_VIEW_OK, NULL);
	tf_view_free(v);
	t = cap_text(&c);
	for (p = t; *p; p = strchr(p, '\n') + 1, n++) {
		cJSON *o = cJSON_ParseWithLength(p, (size_t)(strchr(p, '\n') - p));
		const cJSON *host, *el;

		assert_non_null(o);
		assert_int_equal(fnmatch("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T??:??:??.???Z",
		                         cJSON_GetObjectItem(o, "time")->valuestring, 0),
		                 0);
		assert_string_equal(cJSON_GetObjectItem(o, "step")->valuestring, "preflight");
		assert_int_equal(cJSON_GetObjectItem(o, "index")->valueint, 2);
		assert_int_equal(cJSON_GetObjectItem(o, "total")->valueint, 3);
		assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "detail")));
		host = cJSON_GetObjectItem(o, "host");
		el = cJSON_GetObjectItem(o, "elapsed_s");
		assert_true(cJSON_IsNumber(el));
		assert_true(el->valuedouble >= 0);
		switch (n) {
		case 0:
			assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring, "step");
			assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring,
			                    "started");
			assert_true(cJSON_IsNull(host));
			assert_true(el->valuedouble == 0);
			break;
		case 1:
			assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring, "host");
			assert_string_equal(host->valuestring, "10.0.1.11:22");
			assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "fixed");
			assert_string_equal(cJSON_GetObjectItem(o, "detail")->valuestring,
			                    "stopped \"node_exporter-9100-dup\" ?");
			break;
		case 2:
			assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "ok");
			assert_string_equal(cJSON_GetObjectItem(o, "detail")->valuestring, "");
			break;
		default:
			fail_msg("more events than expected");
		}
		cJSON_Delete(o);
	}
	assert_int_equal(n, 3);
	cap_close(&c);
}

/* Every "move up N lines" must go up over exactly the lines drawn since the last one, and no
 * frame may be taller than the terminal (24 rows when the size is unknown) or a line wider. */
static void check_frames(const char *t, size_t max_frame)
{
	const char *p = t, *line = t;
	size_t since = 0;

	for (; *p; p++) {
		int up = 0, used = 0;

		if (*p == '\n') {
			since++;
			assert_true((size_t)(p - line) <= 79);
			line = p + 1;
			continue;
		}
		if (*p == '\r' && sscanf(p, "\r\033[%dA\033[J%n", &up, &used) == 1 && used > 0) {
			assert_int_equal(up, (int)since);
			assert_true(since <= max_frame);
			since = 0;
			p += used - 1;
			line = p + 1;
		}
	}
}

static void test_terminal(void **state)
{
	static const char *const names17[] = {
	    "check",           "record-mirror",   "tiup-preflight",
	    "mirror-set",      "update-self",     "update-components",
	    "restore-mirror",  "verify-versions", "place-certificates",
	    "preflight",       "scale-in-pd",     "tls-enable",
	    "repair-peers",    "scale-out-pd",    "health",
	    "record-sequence", "wipe-staging"};
	struct capture c;
	struct tf_view *v;
	const char *t, *fin;
	char host[32];
	size_t i;

	(void)state;
	cap_open(&c);
	v = tf_view_new(TF_VIEW_TERMINAL, names17, 17, c.f);
	assert_non_null(v);
	for (i = 0; i < 9; i++) {
		tf_view_step(v, i, TF_VIEW_RUNNING, NULL);
		tf_view_step(v, i, TF_VIEW_OK, NULL);
	}
	tf_view_step(v, 9, TF_VIEW_RUNNING, NULL);
	/* more hosts than the terminal has rows for */
	for (i = 0; i < 30; i++) {
		snprintf(host, sizeof(host), "10.0.1.%zu:22", i + 10);
		tf_view_host(v, host, TF_VIEW_RUNNING, "checking");
	}
	tf_view_host(v, "10.0.1.12:22", TF_VIEW_FAILED,
	             "reachable: a detail long enough to be cut at the terminal's width, which is "
	             "eighty columns when it is not known");
	/* a message scrolls above the table: hidden, printed, drawn again */
	tf_log_info("a message from a step");
	tf_log_live_hide(); /* the byte-progress line takes over... */
	tf_view_host(v, "10.0.1.13:22", TF_VIEW_OK, NULL);
	tf_log_live_show(); /* ...and gives the terminal back */
	t = cap_text(&c);
	check_frames(t, 23);
	assert_non_null(strstr(t, "running 10/17  preflight"));
	assert_non_null(strstr(t, "10.0.1.12:22"));
	assert_non_null(strstr(t, "more hosts ("));
	tf_view_step(v, 9, TF_VIEW_FAILED, "refused on 1 host");
	tf_view_free(v);
	t = cap_text(&c);
	check_frames(t, 23);
	/* the final table: every step, the failed step's hosts, all of them */
	fin = strrchr(t, '\033');
	assert_non_null(fin);
	assert_non_null(strstr(fin, "ok       1/17  check"));
	assert_non_null(strstr(fin, "FAILED  10/17  preflight"));
	assert_non_null(strstr(fin, "refused on 1 host"));
	assert_non_null(strstr(fin, "-       17/17  wipe-staging"));
	assert_non_null(strstr(fin, "10.0.1.39:22"));
	assert_non_null(strstr(fin, "the step failed before"));
	assert_null(strstr(fin, "more hosts"));
	cap_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seconds), cmocka_unit_test(test_null_and_off),
	    cmocka_unit_test(test_lines),   cmocka_unit_test(test_lines_order),
	    cmocka_unit_test(test_json),    cmocka_unit_test(test_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
