/* Unit tests for installer/journal and installer/audit. */
#include "tests/unit/testutil.h"

#include "common/fsutil.h"
#include "installer/audit.h"
#include "installer/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void test_round_trip(void **state)
{
	struct tf_journal j, back;
	struct tf_journal_step *s;
	struct tf_err err;
	struct stat st;

	(void)state;
	tt_tmpdir();
	tf_journal_init(&j);
	j.path = strdup("./journal.json");
	j.cluster = strdup("lab");
	j.bundle = strdup("/tmp/b.tar");
	j.bundle_id = strdup("00112233445566778899aabbccddeeff");
	j.sequence = 4;
	j.staging = strdup("/var/lib/tiferry/lab/staging-x");
	j.mirror_switched = 1;
	s = tf_journal_step(&j, "check");
	s->status = TF_STEP_DONE;
	s->started = 100;
	s->ended = 200;
	s = tf_journal_step(&j, "update-self");
	s->status = TF_STEP_FAILED;
	snprintf(s->detail, sizeof(s->detail), "tiup exited 1");
	assert_ptr_equal(tf_journal_step(&j, "check"), &j.steps[0]);
	assert_int_equal(tf_journal_set(&j, "removed_pd", "127.0.0.12:2379", &err), 0);
	assert_int_equal(tf_journal_set(&j, "removed_pd", "127.0.0.13:2379", &err), 0);
	assert_int_equal(tf_journal_set(&j, "leader", "pd-127.0.0.11-2379", &err), 0);
	assert_int_equal(tf_journal_save(&j, &err), 0);
	assert_int_equal(stat("journal.json", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tf_journal_load(".", &back, &err), 0);
	assert_string_equal(back.cluster, "lab");
	assert_string_equal(back.bundle_id, j.bundle_id);
	assert_int_equal(back.sequence, 4);
	assert_int_equal(back.mirror_switched, 1);
	assert_int_equal(back.nsteps, 2);
	assert_int_equal(back.steps[0].status, TF_STEP_DONE);
	assert_int_equal(back.steps[0].ended, 200);
	assert_int_equal(back.steps[1].status, TF_STEP_FAILED);
	assert_string_equal(back.steps[1].detail, "tiup exited 1");
	assert_string_equal(tf_journal_get(&back, "removed_pd"), "127.0.0.13:2379");
	assert_string_equal(tf_journal_get(&back, "leader"), "pd-127.0.0.11-2379");
	assert_null(tf_journal_get(&back, "nothing"));
	assert_string_equal(tf_journal_resume_command(&back),
	                    "tiferry install '/tmp/b.tar' --resume");
	tf_journal_release(&back);
	tf_journal_release(&j);
	assert_int_equal(tf_journal_load("nowhere", &back, &err), TF_E_NOTFOUND);
	tf_journal_release(&back);
	tt_write_str("journal.json", "{\"cluster\": 1");
	assert_int_equal(tf_journal_load(".", &back, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "damaged"));
	tf_journal_release(&back);
	tt_cleanup();
}

static void test_audit(void **state)
{
	struct tf_audit_entry e = {.step = "update-self",
	                           .event = "command",
	                           .command = "tiup update --self",
	                           .exit_code = 0,
	                           .seconds = 1.5};
	struct tf_err err;
	char *buf = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	tt_tmpdir();
	assert_int_equal(tf_audit_append(".", &e, &err), 0);
	e.command = NULL;
	e.event = "note";
	e.detail = "mirror restored";
	assert_int_equal(tf_audit_append(".", &e, &err), 0);
	assert_int_equal(tf_read_file("audit.log", 1 << 20, &buf, &len, &err), 0);
	assert_non_null(strstr(
	    buf, "\"command\":\"tiup update --self\",\"exit_code\":0,\"duration_s\":1.5}\n"));
	assert_non_null(strstr(buf, "\"detail\":\"mirror restored\"}\n"));
	assert_int_equal(stat("audit.log", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(buf);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_audit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
