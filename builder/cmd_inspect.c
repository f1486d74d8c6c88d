/* tiferry-build inspect: what a bundle holds and who signed it, for approvers to read. */
#include "builder/commands.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "manifests/bundle.h"
#include "manifests/manifest.h"
#include "manifests/policy.h"
#include "manifests/receipt.h"
#include "manifests/runbook.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

struct sigview {
	const char *keyid;
	const char *status; /* "valid", "INVALID", "unknown key", "not checked" */
	const char *holder;
	const char *role;
};

static const char *validity(const struct tf_manifest *m, time_t now)
{
	if (now < m->not_before)
		return "not yet valid";
	if (now >= m->not_after)
		return "expired";
	return "valid now";
}

static void human_size(uint64_t v, char *buf, size_t len)
{
	if (v >= (1u << 30))
		snprintf(buf, len, "%.1f GiB", (double)v / (1u << 30));
	else if (v >= (1u << 20))
		snprintf(buf, len, "%.1f MiB", (double)v / (1u << 20));
	else if (v >= 1024)
		snprintf(buf, len, "%.1f KiB", (double)v / 1024);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)v);
}

/* Prints a section's JSON as indented "key: value" lines. */
static void print_json(const cJSON *j, int indent)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, j)
	{
		if (c->string != NULL)
			tf_out("%*s%s:", indent, "", c->string);
		else
			tf_out("%*s-", indent, "");
		if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			tf_out("\n");
			print_json(c, indent + 2);
		} else if (cJSON_IsString(c)) {
			tf_out(" %s\n", c->valuestring);
		} else {
			char *t = cJSON_PrintUnformatted(c);

			tf_out(" %s\n", t ? t : "?");
			cJSON_free(t);
		}
	}
}

static void print_human(const char *path, const struct tf_manifest *m, const struct sigview *sv,
                        size_t nsigs, const struct tf_policy *p, const char *policy_msg, time_t now)
{
	char a[TF_TIME_TEXT], b[TF_TIME_TEXT], sz[32];
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		total += m->files[i].size;
	human_size(total, sz, sizeof(sz));
	tf_time_format(m->not_before, a, sizeof(a));
	tf_time_format(m->not_after, b, sizeof(b));
	tf_out("bundle:      %s\n", path);
	tf_out("id:          %s\n", m->bundle_id);
	tf_out("sequence:    %llu\n", (unsigned long long)m->sequence);
	tf_time_format(m->created, a, sizeof(a));
	tf_out("created:     %s\n", a);
	tf_time_format(m->not_before, a, sizeof(a));
	tf_out("valid:       %s to %s (%s)\n", a, b, validity(m, now));
	tf_out("target:      cluster '%s', topology %s\n", m->cluster, m->topology);
	human_size(total, sz, sizeof(sz));
	tf_out("files:       %zu (%s)\n", m->nfiles, sz);
	for (i = 0; i < m->nfiles; i++) {
		char hex[TF_SHA256_HEX];
		size_t k;

		for (k = 0; k < TF_SHA256_LEN; k++)
			snprintf(hex + 2 * k, 3, "%02x", m->files[i].sha256[k]);
		tf_out("  %04o %12llu  %.16s...  %s\n", m->files[i].mode,
		       (unsigned long long)m->files[i].size, hex, m->files[i].path);
	}
	for (i = 0; i < m->nsections; i++) {
		cJSON *j = cJSON_Parse(m->section_json[i]);

		tf_out("%s:\n", m->section_names[i]);
		if (j != NULL)
			print_json(j, 2);
		cJSON_Delete(j);
	}
	tf_out("signatures:  %zu\n", nsigs);
	for (i = 0; i < nsigs; i++) {
		if (sv[i].holder != NULL)
			tf_out("  %s  %s (%s): %s\n", sv[i].keyid, sv[i].holder, sv[i].role,
			       sv[i].status);
		else
			tf_out("  %s  %s\n", sv[i].keyid, sv[i].status);
	}
	if (p != NULL) {
		tf_out("policy:      ");
		for (i = 0; i < tf_policy_nroles(p); i++) {
			const char *role;
			unsigned n;

			tf_policy_role(p, i, &role, &n);
			tf_out("%s%u %s", i ? ", " : "needs ", n, role);
		}
		tf_out(": %s\n", policy_msg ? policy_msg : "met");
	}
}

static int print_json_doc(const char *path, const struct tf_bundle_scan *s,
                          const struct tf_manifest *m, const struct sigview *sv,
                          const struct tf_policy *p, const char *policy_msg, time_t now)
{
	cJSON *root = cJSON_CreateObject(), *sigs, *o;
	char *text;
	size_t i;

	if (root == NULL)
		return TF_E_NOMEM;
	cJSON_AddStringToObject(root, "bundle", path);
	cJSON_AddItemToObject(root, "manifest",
	                      cJSON_ParseWithLength(s->manifest, s->manifest_len));
	cJSON_AddStringToObject(root, "validity", validity(m, now));
	sigs = cJSON_AddArrayToObject(root, "signatures");
	for (i = 0; i < s->nsigs && sigs != NULL; i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddItemToArray(sigs, o);
		cJSON_AddStringToObject(o, "keyid", sv[i].keyid);
		cJSON_AddStringToObject(o, "status", sv[i].status);
		if (sv[i].holder != NULL) {
			cJSON_AddStringToObject(o, "holder", sv[i].holder);
			cJSON_AddStringToObject(o, "role", sv[i].role);
		}
	}
	if (p != NULL && (o = cJSON_AddObjectToObject(root, "policy")) != NULL) {
		cJSON_AddBoolToObject(o, "satisfied", policy_msg == NULL);
		if (policy_msg != NULL)
			cJSON_AddStringToObject(o, "problem", policy_msg);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text == NULL)
		return TF_E_NOMEM;
	printf("%s\n", text);
	cJSON_free(text);
	return 0;
}

/* The signed runbook with the signatures as they stand (checked with the policy p read from the
 * trust folder trust, when given). Its sha256 is
 * checked against the manifest; the signatures over the manifest only with --trust. */
static int print_runbook(const char *path, const struct tf_manifest *m, const struct sigview *sv,
                         size_t nsigs, const struct tf_policy *p, const char *trust,
                         const char *policy_msg, enum tf_runbook_format f, struct tf_err *err)
{
	struct tf_runbook_signer *rs = calloc(nsigs + 1, sizeof(*rs));
	struct tf_runbook_approvals a = {.nsigners = nsigs, .problem = policy_msg};
	char required[256], *out = NULL;
	size_t i, len = 0;
	int r, rendered = 0;

	if (rs == NULL)
		return tf_err_nomem(err);
	for (i = 0; i < nsigs; i++) {
		rs[i].keyid = sv[i].keyid;
		rs[i].holder = sv[i].holder;
		rs[i].role = sv[i].role;
		rs[i].status = sv[i].status;
	}
	a.signers = rs;
	if (p != NULL) {
		tf_policy_describe(p, required, sizeof(required));
		a.required = required;
		a.policy = trust;
	}
	if ((r = tf_runbook_show(path, m, f, &a, &out, &len, &rendered, err)) == 0) {
		if (rendered && f != TF_RUNBOOK_JSON)
			tf_log_warn(
			    "bundle %s carries no signed runbook: this one is rendered from its "
			    "manifest",
			    m->bundle_id);
		if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0)
			r = tf_err_sys(err, TF_E_IO, "write the runbook");
	}
	free(out);
	free(rs);
	return r;
}

static int inspect(const char *path, const char *trust, int json, int runbook,
                   enum tf_runbook_format f, struct tf_err *err)
{
	struct tf_bundle_scan s = {0};
	struct tf_manifest m;
	struct tf_policy *p = NULL;
	struct sigview *sv = NULL;
	const char **valid = NULL;
	struct tf_err perr = {0};
	const char *policy_msg = NULL;
	size_t i, nvalid = 0;
	time_t now = tf_time_now();
	int r;

	tf_manifest_init(&m);
	if ((r = tf_bundle_scan(path, &s, err)) != 0 ||
	    (r = tf_manifest_parse(s.manifest, s.manifest_len, &m, err)) != 0)
		goto out;
	if (trust != NULL && (r = tf_policy_load(trust, &p, err)) != 0)
		goto out;
	if ((sv = calloc(s.nsigs + 1, sizeof(*sv))) == NULL ||
	    (valid = calloc(s.nsigs + 1, sizeof(*valid))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < s.nsigs; i++) {
		const struct tf_policy_key *k = p ? tf_policy_lookup(p, s.sigs[i].keyid) : NULL;

		sv[i].keyid = s.sigs[i].keyid;
		sv[i].status = p ? "unknown key (not counted)" : "not checked (no --trust)";
		if (k == NULL)
			continue;
		sv[i].holder = k->holder;
		sv[i].role = k->role;
		if (tf_sigkey_verify(k->key, s.manifest, s.manifest_len, s.sigs[i].sig,
		                     s.sigs[i].len, &perr) == 0) {
			sv[i].status = "valid";
			valid[nvalid++] = s.sigs[i].keyid;
		} else {
			sv[i].status = "INVALID";
		}
	}
	if (p != NULL && tf_policy_satisfied(p, valid, nvalid, &perr) != 0)
		policy_msg = perr.msg;
	if (runbook) {
		r = print_runbook(path, &m, sv, s.nsigs, p, trust, policy_msg, f, err);
		goto out;
	}
	if (json)
		r = print_json_doc(path, &s, &m, sv, p, policy_msg, now);
	else
		print_human(path, &m, sv, s.nsigs, p, policy_msg, now);
	if (r != 0)
		r = tf_err_set(err, r, "out of memory");
out:
	free(sv);
	free(valid);
	tf_policy_free(p);
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	return r;
}

/* A verify receipt brought back from the control host (docs/verify.md). */
static int inspect_receipt(const char *path, const char *key, struct tf_err *err)
{
	char *summary = NULL;
	int r = tf_receipt_verify(path, key, &summary, err);

	if (r == 0) { /* several lines; the receipt's own fields escaped */
		tf_term_fputs(stdout, summary, 1);
		putchar('\n');
	}
	free(summary);
	return r;
}

static const char usage_text[] =
    "usage: tiferry-build inspect BUNDLE [--trust DIR] [--json]\n"
    "       tiferry-build inspect BUNDLE --runbook [--trust DIR] [--format md|html|json]\n"
    "       tiferry-build inspect --receipt RECEIPT [--key RECEIPT.pub]\n"
    "\n"
    "Shows the manifest (target, validity, files, sections) and the signatures. With --trust,\n"
    "each signature is verified and named by holder and role, and the policy is evaluated.\n"
    "Payload hashes are not checked here: run 'tiferry check' for the full verdict.\n"
    "\n"
    "  --trust DIR     trust folder holding policy.yaml and the public keys\n"
    "  --json          machine-readable output\n"
    "  --runbook       print the bundle's runbook for approvers to read before they sign: the\n"
    "                  signed text (its sha256 checked against the manifest) with the\n"
    "                  signatures as they stand; with --trust they are verified\n"
    "  --format FMT    the runbook as md (default), html (one self-contained page) or json\n"
    "  --receipt FILE  check a receipt from 'tiferry verify --receipt' against FILE.sig and\n"
    "                  summarise it; with --key (the control host's receipt.pub) the signer is\n"
    "                  pinned, without it only integrity is shown. Exit 3 when it does not "
    "verify.\n"
    "  -q, -v          quieter, or more detail\n";

int tf_cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {{"trust", required_argument, NULL, 't'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"receipt", required_argument, NULL, 'r'},
	                                     {"key", required_argument, NULL, 'k'},
	                                     {"runbook", no_argument, NULL, 'b'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     TF_CLI_OPTIONS_END};
	const char *trust = NULL, *receipt = NULL, *key = NULL;
	struct tf_err err = {0};
	enum tf_runbook_format f = TF_RUNBOOK_MD;
	int cli_rc, c, json = 0, runbook = 0, format = 0;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "inspect", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 't':
			trust = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'r':
			receipt = optarg;
			break;
		case 'b':
			runbook = 1;
			break;
		case 'f':
			if (tf_runbook_format_parse(optarg, &f, &err) != 0)
				return tf_cli_usage_error("inspect", err.msg);
			format = 1;
			break;
		case 'k':
			key = optarg;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (receipt != NULL) {
		if (optind != argc)
			return tf_cli_usage_error("inspect", "--receipt takes no BUNDLE");
		if (inspect_receipt(receipt, key, &err) != 0) {
			tf_log_error("inspect receipt '%s': %s", receipt, err.msg);
			return tf_err_exit_code(err.code);
		}
		return 0;
	}
	if (optind != argc - 1)
		return tf_cli_usage_error("inspect", "needs one BUNDLE");
	if (format && !runbook)
		return tf_cli_usage_error("inspect", "--format goes with --runbook");
	if (json && runbook)
		return tf_cli_usage_error("inspect", "--runbook --format json, not --json");
	if (inspect(argv[optind], trust, json, runbook, f, &err) != 0) {
		tf_log_error("inspect '%s': %s", argv[optind], err.msg);
		return tf_err_exit_code(err.code);
	}
	return 0;
}
