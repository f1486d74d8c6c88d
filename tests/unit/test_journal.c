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
	char *resume;

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
	assert_int_equal(back.confirmed, 0);
	resume = tf_journal_resume_command(&back);
	assert_string_equal(resume, "tiferry install /tmp/b.tar --resume");
	free(resume);
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

/* Issue 18 bug 3: the options the run started with are kept, and the command printed to continue
 * carries them, quoted for a shell, so that pasted it works; issue 13 item 2: "confirmed". */
static void test_options_and_confirmed(void **state)
{
	struct tf_journal j, back;
	struct tf_err err;
	char *resume, *text = NULL;
	size_t len = 0;

	(void)state;
	tt_tmpdir();
	tf_journal_init(&j);
	j.path = strdup("./journal.json");
	j.cluster = strdup("lab");
	j.bundle = strdup("/tmp/it's a bundle.tar");
	j.bundle_id = strdup("00112233445566778899aabbccddeeff");
	j.confirmed = 1;
	j.opts.trust_dir = strdup("/etc/trust dir");
	j.opts.recipient = strdup("/etc/r");
	j.opts.known_hosts = strdup("/root/.ssh/k$(id)");
	j.opts.passin = strdup("file:/etc/pw");
	j.opts.cluster_meta = strdup("/m/meta.yaml");
	j.opts.tiup = strdup("tiup");
	j.opts.accept_new_host_keys = 1;
	j.opts.last_sequence = 7;
	j.opts.yes = 1;
	assert_int_equal(tf_journal_save(&j, &err), 0);
	assert_int_equal(tf_journal_load(".", &back, &err), 0);
	assert_int_equal(back.confirmed, 1);
	resume = tf_journal_resume_command(&back);
	assert_string_equal(resume, "tiferry install '/tmp/it'\\''s a bundle.tar' --resume "
	                            "--trust '/etc/trust dir' --recipient /etc/r --known-hosts "
	                            "'/root/.ssh/k$(id)' --passin file:/etc/pw --cluster-meta "
	                            "/m/meta.yaml --tiup tiup --accept-new-host-keys "
	                            "--last-sequence 7 --yes");
	assert_int_equal(tf_read_file("journal.json", 1 << 20, &text, &len, &err), 0);
	assert_non_null(strstr(text, "\"confirmed\":\ttrue"));
	assert_non_null(strstr(text, resume + 30)); /* the "resume" field: the same command */
	free(text);
	free(resume);
	tf_journal_release(&back);
	tf_journal_release(&j);

	/* a passphrase never comes back from a journal, whoever wrote it there */
	tt_write_str("journal.json", "{\"cluster\": \"lab\", \"bundle_id\": \"b\", \"confirmed\": "
	                             "true, \"options\": {\"passin\": \"pass:secret\"}}");
	assert_int_equal(tf_journal_load(".", &back, &err), 0);
	assert_null(back.opts.passin);
	resume = tf_journal_resume_command(&back);
	assert_null(strstr(resume, "secret"));
	free(resume);
	tf_journal_release(&back);
	/* a journal from before "confirmed": confirmed when a step started, not when none did */
	tt_write_str("journal.json", "{\"cluster\": \"lab\", \"bundle_id\": \"b\", \"steps\": []}");
	assert_int_equal(tf_journal_load(".", &back, &err), 0);
	assert_int_equal(back.confirmed, 0);
	tf_journal_release(&back);
	tt_write_str("journal.json",
	             "{\"cluster\": \"lab\", \"bundle_id\": \"b\", \"steps\": [{\"name\": "
	             "\"check\", \"status\": \"done\"}, {\"name\": \"mirror-set\", \"status\": "
	             "\"failed\"}]}");
	assert_int_equal(tf_journal_load(".", &back, &err), 0);
	assert_int_equal(back.confirmed, 1);
	tf_journal_release(&back);
	tt_write_str("journal.json", "{\"cluster\": \"lab\", \"bundle_id\": \"b\", \"confirmed\": "
	                             "false, \"steps\": [{\"name\": \"check\", \"status\": "
	                             "\"done\"}]}");
	assert_int_equal(tf_journal_load(".", &back, &err), 0);
	assert_int_equal(back.confirmed, 0);
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
	/* a refused run: its exit code without a command (issue 18 bug 1) */
	free(buf);
	e.step = "install";
	e.event = "refused";
	e.exit_code = 3;
	e.has_exit = 1;
	e.detail = "rejected";
	assert_int_equal(tf_audit_append(".", &e, &err), 0);
	assert_int_equal(tf_read_file("audit.log", 1 << 20, &buf, &len, &err), 0);
	assert_non_null(strstr(buf, "\"step\":\"install\",\"event\":\"refused\",\"host\":"
	                            "\"control\",\"exit_code\":3,\"detail\":\"rejected\"}\n"));
	assert_non_null(strstr(buf, "\"event\":\"note\",\"host\":\"control\",\"detail\""));
	assert_int_equal(stat("audit.log", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(buf);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_options_and_confirmed),
	    cmocka_unit_test(test_audit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
