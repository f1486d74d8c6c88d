/* Unit tests for the install's planning (installer/install_plan): which steps run for an
 * upgrade-only bundle and for one that enables TLS, what --stop-after refuses, what a resume runs
 * again, and when a failed run leaves nothing to resume. Journals are built as fixtures here. */
#include "tests/unit/testutil.h"

#include "installer/install_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_stop_after(void **state)
{
	static const char *const refused[] = {"mirror-set", "update-self", "update-components"};
	struct tf_err err;
	char want[256];
	size_t i;

	(void)state;
	assert_int_equal(tf_install_stop_after_check(NULL, &err), 0);
	assert_int_equal(tf_install_stop_after_check("nope", &err), TF_E_USAGE);
	assert_string_equal(err.msg, "--stop-after: no step named 'nope' (see --dry-run)");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(tf_install_stop_after_check(refused[i], &err), TF_E_USAGE);
		snprintf(want, sizeof(want),
		         "--stop-after %s would leave TiUP on the bundle's mirror; stop after "
		         "restore-mirror or later",
		         refused[i]);
		assert_string_equal(err.msg, want);
	}
	for (i = 0; i < TF_STEPS_N; i++) {
		const struct tf_step *st = tf_step_get(i);
		int r = tf_install_stop_after_check(st->name, &err);

		assert_int_equal(r, (st->flags & TF_STEPS_NO_STOP_AFTER) ? TF_E_USAGE : 0);
	}
}

/* The steps a fresh run executes, comma-separated. */
static void runs(int enable_tls, char *buf, size_t len)
{
	struct tf_journal j;
	size_t i;

	tf_journal_init(&j);
	buf[0] = '\0';
	for (i = 0; i < TF_STEPS_N; i++) {
		const struct tf_step *st = tf_step_get(i);

		if (tf_install_step_action(st, tf_journal_step(&j, st->name), enable_tls) ==
		    TF_INSTALL_RUN) {
			strncat(buf, buf[0] ? "," : "", len - strlen(buf) - 1);
			strncat(buf, st->name, len - strlen(buf) - 1);
		}
	}
	tf_journal_release(&j);
}

static void test_upgrade_only_bundle(void **state)
{
	char b[1024];

	(void)state;
	runs(0, b, sizeof(b));
	assert_string_equal(b, "check,record-mirror,tiup-preflight,mirror-set,update-self,"
	                       "update-components,restore-mirror,verify-versions,"
	                       "place-certificates,record-sequence,wipe-staging");
	runs(1, b, sizeof(b));
	assert_string_equal(b, "check,record-mirror,tiup-preflight,mirror-set,update-self,"
	                       "update-components,restore-mirror,verify-versions,"
	                       "place-certificates,preflight,scale-in-pd,restrict-cn,tls-enable,"
	                       "tighten-keys,repair-peers,scale-out-pd,tighten-keys-pd,health,"
	                       "record-sequence,wipe-staging");
}

static void test_done_steps(void **state)
{
	struct tf_journal_step s = {.status = TF_STEP_DONE};

	(void)state;
	/* the check runs again whatever the journal says; other done steps are not repeated */
	assert_int_equal(tf_install_step_action(tf_step_get(TF_STEP_ID_CHECK), &s, 1),
	                 TF_INSTALL_RUN);
	assert_int_equal(tf_install_step_action(tf_step_get(TF_STEP_ID_TLS_ENABLE), &s, 1),
	                 TF_INSTALL_DONE_BEFORE);
	assert_int_equal(tf_install_step_action(tf_step_get(TF_STEP_ID_TLS_ENABLE), &s, 0),
	                 TF_INSTALL_DONE_BEFORE);
	s.status = TF_STEP_FAILED;
	assert_int_equal(tf_install_step_action(tf_step_get(TF_STEP_ID_TLS_ENABLE), &s, 0),
	                 TF_INSTALL_SKIP_CLUSTER);
	assert_int_equal(tf_install_step_action(tf_step_get(TF_STEP_ID_TLS_ENABLE), &s, 1),
	                 TF_INSTALL_RUN);
}

/* A journal whose steps up to (not including) the step named upto are done, and upto has
 * status st. */
static void fixture(struct tf_journal *j, const char *upto, enum tf_step_status st)
{
	size_t i;

	tf_journal_init(j);
	for (i = 0; i < TF_STEPS_N; i++) {
		struct tf_journal_step *s = tf_journal_step(j, tf_step_get(i)->name);

		if (strcmp(s->name, upto) == 0) {
			s->status = st;
			break;
		}
		s->status = TF_STEP_DONE;
	}
}

static enum tf_step_status status(struct tf_journal *j, const char *name)
{
	return tf_journal_step(j, name)->status;
}

static void test_resume_reset(void **state)
{
	struct tf_journal j;

	(void)state;
	/* crashed in update-components: the whole upgrade block runs again from mirror-set */
	fixture(&j, "update-components", TF_STEP_RUNNING);
	j.mirror_switched = 1;
	tf_install_resume_reset(&j);
	assert_int_equal(status(&j, "record-mirror"), TF_STEP_DONE);
	assert_int_equal(status(&j, "tiup-preflight"), TF_STEP_DONE);
	assert_int_equal(status(&j, "mirror-set"), TF_STEP_PENDING);
	assert_int_equal(status(&j, "update-self"), TF_STEP_PENDING);
	assert_int_equal(status(&j, "update-components"), TF_STEP_PENDING);
	tf_journal_release(&j);

	/* the upgrade done and the mirror back: a failure in tls-enable resumes at tls-enable */
	fixture(&j, "tls-enable", TF_STEP_FAILED);
	tf_install_resume_reset(&j);
	assert_int_equal(status(&j, "mirror-set"), TF_STEP_DONE);
	assert_int_equal(status(&j, "verify-versions"), TF_STEP_DONE);
	assert_int_equal(status(&j, "scale-in-pd"), TF_STEP_DONE);
	assert_int_equal(status(&j, "tls-enable"), TF_STEP_FAILED);
	tf_journal_release(&j);

	/* verify-versions failed: the block again, the steps after it untouched */
	fixture(&j, "verify-versions", TF_STEP_FAILED);
	tf_install_resume_reset(&j);
	assert_int_equal(status(&j, "mirror-set"), TF_STEP_PENDING);
	assert_int_equal(status(&j, "restore-mirror"), TF_STEP_PENDING);
	assert_int_equal(status(&j, "verify-versions"), TF_STEP_PENDING);
	assert_int_equal(status(&j, "place-certificates"), TF_STEP_PENDING);
	assert_int_equal(status(&j, "tiup-preflight"), TF_STEP_DONE);
	tf_journal_release(&j);
}

static void test_nothing_changed(void **state)
{
	struct tf_journal j;

	(void)state;
	fixture(&j, "check", TF_STEP_FAILED);
	assert_int_equal(tf_install_nothing_changed(&j), 0); /* no journal file yet */
	j.path = strdup("journal.json");
	assert_int_equal(tf_install_nothing_changed(&j), 1);
	j.mirror_switched = 1;
	assert_int_equal(tf_install_nothing_changed(&j), 0);
	tf_journal_release(&j);

	fixture(&j, "tiup-preflight", TF_STEP_FAILED);
	j.path = strdup("journal.json");
	assert_int_equal(tf_install_nothing_changed(&j), 0);
	tf_journal_release(&j);
}

/* The one spelling of tiup commands: a cluster command runs the bundle's binary by --binpath
 * (TiUP #594), anything else is untouched; too many arguments are refused, not cut. */
static void test_tiup_argv(void **state)
{
	const char *argv[10];
	const char *scale[] = {"cluster", "scale-in", "lab", "-N", "127.0.0.12:2379", "-y", NULL};
	const char *start[] = {"cluster", "start", "lab", "-N", "127.0.0.12:2379", NULL};
	const char *list[] = {"list", "pd", NULL};
	const char *pinned[] = {"cluster:v1.16.1", "--version", NULL};
	const char *bin = "/h/components/cluster/v1.16.1/tiup-cluster";

	(void)state;
	assert_int_equal(tf_install_tiup_argv("tiup", bin, start, argv, 9), 8);
	assert_string_equal(argv[0], "tiup");
	assert_string_equal(argv[1], "--binpath");
	assert_string_equal(argv[2], bin);
	assert_string_equal(argv[3], "cluster");
	assert_string_equal(argv[4], "start");
	assert_string_equal(argv[7], "127.0.0.12:2379");
	assert_null(argv[8]);
	/* no room for --binpath and the six arguments: refused */
	assert_int_equal(tf_install_tiup_argv("tiup", bin, scale, argv, 9), 0);
	assert_int_equal(tf_install_tiup_argv("tiup", NULL, scale, argv, 9), 7);
	assert_string_equal(argv[1], "cluster");
	assert_int_equal(tf_install_tiup_argv("tiup", bin, list, argv, 9), 3);
	assert_string_equal(argv[1], "list");
	assert_null(argv[3]);
	/* only the plain component name takes the prefix */
	assert_int_equal(tf_install_tiup_argv("tiup", bin, pinned, argv, 9), 3);
	assert_string_equal(argv[1], "cluster:v1.16.1");
}

/* The binary: the journal's (from `tiup --binary`), else TiUP's install path for the version. */
static void test_cluster_binary(void **state)
{
	struct tf_journal j;
	struct tf_err err;
	char buf[256];

	(void)state;
	tf_journal_init(&j);
	assert_null(tf_install_cluster_binary(&j, "/h", NULL, buf, sizeof(buf)));
	assert_string_equal(tf_install_cluster_binary(&j, "/h", "v1.16.1", buf, sizeof(buf)),
	                    "/h/components/cluster/v1.16.1/tiup-cluster");
	assert_string_equal(tf_install_cluster_binary(NULL, "/h", "v1.16.1", buf, sizeof(buf)),
	                    "/h/components/cluster/v1.16.1/tiup-cluster");
	assert_int_equal(tf_journal_set(&j, TF_INSTALL_CLUSTER_BINARY, "/x/tiup-cluster", &err), 0);
	assert_string_equal(tf_install_cluster_binary(&j, "/h", "v1.16.1", buf, sizeof(buf)),
	                    "/x/tiup-cluster");
	assert_null(tf_install_cluster_binary(&j, "/h", "v1.16.1", buf, 4));
	tf_journal_release(&j);
}

/* A journal fixture of cluster "lab" for bundle id, finished or not, confirmed or not. */
static void journal_of(struct tf_journal *j, const char *id, int finished, int confirmed)
{
	tf_journal_init(j);
	j->cluster = strdup("lab");
	j->bundle = strdup("/b/one.tar");
	j->bundle_id = strdup(id);
	j->finished = finished;
	j->confirmed = confirmed;
	j->opts.trust_dir = strdup("/etc/t");
	assert_non_null(j->bundle_id);
}

/* Issue 13 item 2 and issue 18 bug 2: which journal lets a run start, read before anything is
 * written; a journal never confirmed blocks nothing and is never resumed. */
static void test_start_check(void **state)
{
	struct tf_journal j;
	struct tf_err err;

	(void)state;
	/* nothing there: a new install starts, a resume has nothing to continue */
	assert_int_equal(tf_install_start_check(NULL, "lab", "b1", 0, &err), 0);
	assert_int_equal(tf_install_start_check(NULL, "lab", "b1", 1, &err), TF_E_USAGE);
	assert_string_equal(err.msg, "nothing to resume for cluster 'lab'");
	/* an earlier install finished: a new one starts; nothing to resume */
	journal_of(&j, "b0", 1, 1);
	assert_int_equal(tf_install_start_check(&j, "lab", "b1", 0, &err), 0);
	assert_int_equal(tf_install_start_check(&j, "lab", "b0", 1, &err), TF_E_USAGE);
	tf_journal_release(&j);
	/* a confirmed install did not finish: a new one is refused with the command that
	 * continues it (its options included); a resume of the same bundle goes on */
	journal_of(&j, "b0", 0, 1);
	assert_int_equal(tf_install_start_check(&j, "lab", "b1", 0, &err), TF_E_FAIL);
	assert_string_equal(err.msg, "an install of bundle b0 on 'lab' did not finish; run: "
	                             "tiferry install /b/one.tar --resume --trust /etc/t");
	assert_int_equal(tf_install_start_check(&j, "lab", "b0", 1, &err), 0);
	assert_int_equal(tf_install_start_check(&j, "lab", "b1", 1, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "the unfinished install is of bundle b0, not b1"));
	tf_journal_release(&j);
	/* never confirmed (an older tiferry's, written before the question): it changed nothing,
	 * a new install replaces it and a resume is refused with the way out */
	journal_of(&j, "b0", 0, 0);
	assert_int_equal(tf_install_start_check(&j, "lab", "b1", 0, &err), 0);
	assert_int_equal(tf_install_start_check(&j, "lab", "b0", 0, &err), 0);
	assert_int_equal(tf_install_start_check(&j, "lab", "b0", 1, &err), TF_E_USAGE);
	assert_string_equal(err.msg, "the install of bundle b0 on 'lab' was never confirmed and "
	                             "changed nothing: there is nothing to resume; start it again "
	                             "without --resume (it asks again, or give --yes)");
	tf_journal_release(&j);
}

/* Issue 18 bug 3: the options a resume needs, absolute, and never a passphrase. */
static void test_journal_opts(void **state)
{
	struct tf_install_opts o = {.bundle = "b.tar",
	                            .trust_dir = "trust dir",
	                            .recipient_key = "/etc/r",
	                            .known_hosts = "./kh",
	                            .passin = "file:pw",
	                            .cluster_meta = "m/meta.yaml",
	                            .tiup = "bin/tiup",
	                            .accept_new_host_keys = 1,
	                            .yes = 1,
	                            .last_sequence = 7,
	                            .json = 1,
	                            .stop_after = "place-certificates"};
	static const char *const dropped[] = {"fd:3", "tty", "pass:secret", "file:", "env:"};
	struct tf_journal_opts jo;
	struct tf_err err;
	char cwd[4096], want[4200];
	size_t i;

	(void)state;
	memset(&jo, 0, sizeof(jo));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(tf_install_journal_opts(&o, &jo, &err), 0);
	snprintf(want, sizeof(want), "%s/trust dir", cwd);
	assert_string_equal(jo.trust_dir, want);
	assert_string_equal(jo.recipient, "/etc/r");
	snprintf(want, sizeof(want), "%s/kh", cwd); /* "./kh" */
	assert_string_equal(jo.known_hosts, want);
	snprintf(want, sizeof(want), "file:%s/pw", cwd);
	assert_string_equal(jo.passin, want);
	snprintf(want, sizeof(want), "%s/m/meta.yaml", cwd);
	assert_string_equal(jo.cluster_meta, want);
	snprintf(want, sizeof(want), "%s/bin/tiup", cwd);
	assert_string_equal(jo.tiup, want);
	assert_int_equal(jo.accept_new_host_keys, 1);
	assert_int_equal(jo.yes, 1);
	assert_int_equal(jo.last_sequence, 7);
	/* a program name stays a name (looked up in PATH); env: is kept as given */
	o.tiup = "tiup";
	o.passin = "env:TF_PASS";
	o.trust_dir = NULL;
	assert_int_equal(tf_install_journal_opts(&o, &jo, &err), 0);
	assert_string_equal(jo.tiup, "tiup");
	assert_string_equal(jo.passin, "env:TF_PASS");
	assert_null(jo.trust_dir);
	/* fd:N does not outlive the run, tty is not a source a pasted command reads the same
	 * way, and any other form is not kept */
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
		o.passin = dropped[i];
		assert_int_equal(tf_install_journal_opts(&o, &jo, &err), 0);
		assert_null(jo.passin);
	}
	tf_journal_opts_release(&jo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stop_after),      cmocka_unit_test(test_upgrade_only_bundle),
	    cmocka_unit_test(test_done_steps),      cmocka_unit_test(test_resume_reset),
	    cmocka_unit_test(test_nothing_changed), cmocka_unit_test(test_tiup_argv),
	    cmocka_unit_test(test_cluster_binary),  cmocka_unit_test(test_start_check),
	    cmocka_unit_test(test_journal_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
