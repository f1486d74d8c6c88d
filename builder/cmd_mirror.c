/* tiferry-build mirror: verify a TiUP mirror or offline package, cut a minimal subset of it. */
#include "builder/commands.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mirror/subset.h"
#include "mirror/verify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: tiferry-build mirror verify PATH [--root ROOT.json] [--at RFC3339]\n"
    "                                        [--manifests-only] [--json]\n"
    "       tiferry-build mirror subset PATH --out DIR [--component C]... [--version C=V]...\n"
    "                                        [--platform OS/ARCH]... [--root ROOT.json]\n"
    "                                        [--at RFC3339] [--sha256 HEX] [--json]\n"
    "\n"
    "PATH is a TiUP mirror folder, an offline package (tidb-community-server-*.tar.gz, one\n"
    "top folder, read without unpacking), or a TIUP_HOME (bin/root.json and manifests/).\n"
    "\n"
    "verify checks the chain as the TiUP client does: root against its own threshold and\n"
    "every N+1.root.json rotation, timestamp.json, snapshot.json, the index, each component\n"
    "manifest by its owner's keys, and each tarball's sha256 and length; expiries at --at.\n"
    "It prints a line per manifest and tarball; each failure names the file and the rule.\n"
    "\n"
    "subset verifies, then writes a minimal mirror into DIR (absent or empty): the signed\n"
    "manifests byte for byte, the selected tarballs and tiup-OS-ARCH.tar.gz, never keys/ or\n"
    "local_install.sh. It prints the versions picked and the full and subset sizes.\n"
    "\n"
    "  --root ROOT.json    trust anchor (as `tiup mirror set --root`); default: the mirror's\n"
    "                      own root.json\n"
    "  --at RFC3339        check expiries at this time instead of now\n"
    "  --manifests-only    verify: skip absent tarballs (and say so)\n"
    "  --json              print the report as JSON\n"
    "  --out DIR           subset: the folder to write\n"
    "  --component C       subset: a component to carry (repeatable; default tiup, cluster,\n"
    "                      ctl)\n"
    "  --version C=V       subset: an exact version (default: newest not yanked)\n"
    "  --platform OS/ARCH  subset: a platform (repeatable; default linux/amd64, linux/arm64)\n"
    "  --sha256 HEX        subset: the sha256 the PATH file must have\n"
    "  -q, -v              quieter, or more detail\n"
    "\n"
    "Exit codes: 0 all checks hold, 1 a check failed, 2 usage or input error.\n";

static void print_report(const struct tf_mirror_report *rep, const char *path, int json)
{
	size_t i, absent = 0;

	if (json) {
		char *s = tf_mirror_report_json(rep, path);

		if (s != NULL)
			printf("%s\n", s); /* JSON: its own escapes */
		free(s);
		return;
	}
	for (i = 0; i < rep->n; i++) {
		const struct tf_mirror_check *c = &rep->checks[i];

		switch (c->status) {
		case TF_MIRROR_OK:
			if (tf_log_verbosity() >= TF_NORMAL)
				tf_out("ok    %s: %s\n", c->file, c->detail);
			break;
		case TF_MIRROR_FAIL:
			tf_out("FAIL  %s: [%s] %s\n", c->file, c->rule, c->detail);
			break;
		case TF_MIRROR_NOTE:
			if (tf_log_verbosity() >= TF_NORMAL)
				tf_out("note  %s: %s\n", c->file, c->detail);
			break;
		case TF_MIRROR_SKIP:
			if (tf_log_verbosity() >= TF_VERBOSE)
				tf_out("skip  %s: [%s] %s\n", c->file, c->rule, c->detail);
			else
				absent++;
			break;
		}
	}
	if (absent > 0 && tf_log_verbosity() >= TF_NORMAL)
		tf_out("skip  %zu file(s) not checked (absent, yanked or not carried; -v lists "
		       "them)\n",
		       absent);
	tf_out("%s: %zu manifest(s) and %zu tarball(s) verified, %zu skipped, %zu failure(s)\n",
	       rep->failures ? "FAILED" : "verified", rep->manifests_ok, rep->tarballs_ok,
	       rep->skipped, rep->failures);
}

static int parse_at(const char *s, time_t *at)
{
	return tf_time_parse(s, at, NULL) == 0 ? 0 : -1;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
	                                     {"at", required_argument, NULL, 'a'},
	                                     {"manifests-only", no_argument, NULL, 'm'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     TF_CLI_OPTIONS_END};
	struct tf_mirror_verify_opts vo = {0};
	struct tf_mirror_report rep;
	struct tf_err err = {0};
	int cli_rc, c, json = 0, r;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "mirror verify", usage_text, &cli_rc)) !=
	       -1) {
		switch (c) {
		case 'r':
			vo.root = optarg;
			break;
		case 'a':
			if (parse_at(optarg, &vo.at) != 0)
				return tf_cli_usage_error("mirror verify",
				                          "--at takes an RFC 3339 time");
			break;
		case 'm':
			vo.manifests_only = 1;
			break;
		case 'j':
			json = 1;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (optind + 1 != argc)
		return tf_cli_usage_error("mirror verify", "needs exactly one PATH");
	tf_mirror_report_init(&rep);
	r = tf_mirror_verify(argv[optind], &vo, &rep, NULL, &err);
	if (r == 0 || r == TF_E_FAIL)
		print_report(&rep, argv[optind], json);
	if (r != 0)
		tf_log_error("mirror verify: %s", err.msg);
	tf_mirror_report_release(&rep);
	if (r == 0)
		return TF_EXIT_OK;
	return r == TF_E_FAIL ? TF_EXIT_FAIL : tf_err_exit_code(r);
}

static int push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc((void *)*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return -1;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

static void print_subset(const struct tf_mirror_subset_report *rep, const char *out, int json)
{
	size_t i;

	if (json) {
		printf("%s\n", rep->summary_json ? rep->summary_json : "{}");
		return;
	}
	for (i = 0; i < rep->npicks; i++)
		tf_out("carry %-10s %-10s %-12s %s\n", rep->picks[i].component,
		       rep->picks[i].version, rep->picks[i].platform, rep->picks[i].file);
	tf_out("subset '%s': %zu files, %llu bytes (the full mirror has %llu bytes)\n", out,
	       rep->nfiles, (unsigned long long)rep->subset_size,
	       (unsigned long long)rep->full_size);
}

static int cmd_subset(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"component", required_argument, NULL, 'c'},
	                                     {"version", required_argument, NULL, 'V'},
	                                     {"platform", required_argument, NULL, 'p'},
	                                     {"root", required_argument, NULL, 'r'},
	                                     {"at", required_argument, NULL, 'a'},
	                                     {"sha256", required_argument, NULL, 's'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     TF_CLI_OPTIONS_END};
	struct tf_mirror_subset_opts so = {0};
	struct tf_mirror_subset_report rep;
	const char **comps = NULL, **vers = NULL, **plats = NULL, *out = NULL;
	struct tf_err err = {0};
	int c, json = 0, r = 0;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "mirror subset", usage_text, &r)) != -1) {
		switch (c) {
		case TF_CLI_RETURN:
			goto out;
		case 'o':
			out = optarg;
			break;
		case 'c':
			r = push(&comps, &so.ncomponents, optarg);
			break;
		case 'V':
			r = push(&vers, &so.nversions, optarg);
			break;
		case 'p':
			r = push(&plats, &so.nplatforms, optarg);
			break;
		case 'r':
			so.root = optarg;
			break;
		case 's':
			so.expect_sha256 = optarg;
			break;
		case 'a':
			if (parse_at(optarg, &so.at) != 0) {
				r = tf_cli_usage_error("mirror subset",
				                       "--at takes an RFC 3339 time");
				goto out;
			}
			break;
		case 'j':
			json = 1;
			break;
		}
		if (r != 0) {
			tf_log_error("mirror subset: out of memory");
			r = TF_EXIT_FAIL;
			goto out;
		}
	}
	if (optind + 1 != argc || out == NULL) {
		r = tf_cli_usage_error("mirror subset", "needs one PATH and --out DIR");
		goto out;
	}
	so.source = argv[optind];
	so.components = comps;
	so.versions = vers;
	so.platforms = plats;
	tf_mirror_subset_report_init(&rep);
	r = tf_mirror_subset_build(&so, out, &rep, &err);
	if (r == 0) {
		print_subset(&rep, out, json);
	} else {
		if (rep.verify.failures > 0)
			print_report(&rep.verify, so.source, 0);
		tf_log_error("mirror subset '%s': %s", so.source, err.msg);
		r = r == TF_E_FAIL ? TF_EXIT_FAIL : tf_err_exit_code(r);
	}
	tf_mirror_subset_report_release(&rep);
out:
	free((void *)comps);
	free((void *)vers);
	free((void *)plats);
	return r;
}

int tf_cmd_mirror(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return TF_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return TF_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "subset") == 0)
		return cmd_subset(argc - 1, argv + 1);
	return tf_cli_usage_error("mirror", "the subcommands are verify and subset");
}
