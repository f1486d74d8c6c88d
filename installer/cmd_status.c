/* tiferry status: the journal of the last install: steps done, the step in progress or failed,
 * and the command that continues. */
#include "common/cli.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/timeutil.h"
#include "installer/commands.h"
#include "installer/journal.h"
#include "manifests/steps.h"

#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --cluster as given; longer is cut, then refused or not found as any other name. */
#define CLUSTER_ARG_MAX 256

static void show_step(const struct tf_journal_step *s)
{
	char t[TF_TIME_TEXT] = "";

	if (s->ended)
		tf_time_format(s->ended, t, sizeof(t));
	else if (s->started)
		tf_time_format(s->started, t, sizeof(t));
	tf_out("  %-20s %-8s %s%s%s\n", s->name, tf_step_status_name(s->status), t,
	       s->detail[0] ? "  " : "", s->detail);
}

static void show(const struct tf_journal *j)
{
	size_t i, k;

	tf_out("cluster:   %s\n", j->cluster);
	tf_out("bundle:    %s (%s, sequence %llu)\n", j->bundle ? j->bundle : "?", j->bundle_id,
	       (unsigned long long)j->sequence);
	tf_out("state:     %s\n", j->finished ? "finished" : "not finished");
	if (j->mirror_switched)
		tf_out("mirror:    TiUP STILL POINTS AT THE STAGING MIRROR (resume to switch it "
		       "back)\n");
	/* In the order the install runs them (the journal holds them in the order they were
	 * first recorded, e.g. restore-mirror early after a failure), then any it does not know. */
	for (i = 0; i < TF_STEPS_N; i++) {
		const struct tf_step *st = tf_step_get(i);

		for (k = 0; k < j->nsteps; k++)
			if (strcmp(j->steps[k].name, st->name) == 0)
				show_step(&j->steps[k]);
	}
	for (k = 0; k < j->nsteps; k++)
		if (tf_step_find(j->steps[k].name) == NULL)
			show_step(&j->steps[k]);
	if (!j->finished && !j->confirmed) {
		tf_out("continue:  nothing to resume: this install was never confirmed and changed "
		       "nothing; start it again: tiferry install BUNDLE\n");
	} else if (!j->finished) {
		char *cmd = tf_journal_resume_command(j);

		tf_out("continue:  %s\n", cmd ? cmd : "(out of memory)");
		free(cmd);
	}
}

/* The one cluster under root that has a journal, when no --cluster is given. */
static int find_cluster(const char *root, char *out, size_t len)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int found = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/%s", root, e->d_name, TF_JOURNAL_FILE);
		if (stat(p, &st) == 0) {
			if (found++ == 0)
				snprintf(out, len, "%s", e->d_name);
		}
	}
	closedir(d);
	return found;
}

static const char usage_text[] =
    "usage: tiferry status [--cluster NAME]\n"
    "\n"
    "Shows the journal of the last install on a cluster: the steps done, the step in progress or\n"
    "failed with its reason, and the command that continues. Without --cluster, the one cluster\n"
    "with a journal under $TIFERRY_STATE_DIR (default /var/lib/tiferry). Exit 0 when the install\n"
    "finished, 1 when it did not, 2 when there is no journal.\n"
    "\n"
    "  --cluster NAME  the cluster whose journal to show\n"
    "  -q, -v          quieter, or more detail\n";

int tf_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {{"cluster", required_argument, NULL, 'c'},
	                                     TF_CLI_OPTIONS_END};
	const char *root = tf_paths_state_root();
	char cluster[CLUSTER_ARG_MAX] = "", dir[PATH_MAX];
	struct tf_journal j;
	struct tf_err err = {0};
	int cli_rc, c, r;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "status", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 'c':
			snprintf(cluster, sizeof(cluster), "%s", optarg);
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (optind != argc)
		return tf_cli_usage_error("status", "takes no arguments");
	if (cluster[0] == '\0') {
		int n = find_cluster(root, cluster, sizeof(cluster));

		if (n == 0) {
			tf_log_error(
			    "status: no install journal under '%s' (no install ran here; set "
			    "TIFERRY_STATE_DIR if the state is kept elsewhere)",
			    root);
			return 2;
		}
		if (n > 1)
			return tf_cli_usage_error("status",
			                          "several clusters have journals: give --cluster");
	}
	if (strchr(cluster, '/') != NULL || cluster[0] == '.') {
		char why[CLUSTER_ARG_MAX + 48];

		snprintf(why, sizeof(why), "--cluster '%s' is not a cluster name", cluster);
		return tf_cli_usage_error("status", why);
	}
	snprintf(dir, sizeof(dir), "%s/%s", root, cluster);
	r = tf_journal_load(dir, &j, &err);
	if (r == TF_E_NOTFOUND) {
		tf_log_error(
		    "status '%s': no install journal in '%s' (no install of that cluster ran "
		    "here, or the state is elsewhere: set TIFERRY_STATE_DIR)",
		    cluster, dir);
		tf_journal_release(&j);
		return 2;
	}
	if (r != 0) {
		tf_log_error("status '%s': %s", cluster, err.msg);
		tf_journal_release(&j);
		return 2;
	}
	show(&j);
	r = j.finished ? 0 : 1;
	tf_journal_release(&j);
	return r;
}
