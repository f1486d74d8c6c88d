/* tiferry install, control-host half (the steps of manifests/steps.c up to place-certificates):
 * check and stage the bundle, record the TiUP mirror, upgrade TiUP from the bundle's mirror, always
 * switch the mirror back, check the versions still resolve, place the certificates. Every step is
 * journaled and idempotent;
 * --resume continues after a crash. One file past 1,000 lines: every step shares the static ctx
 * and the one runner that spells TiUP's commands (run_tiup); what has no side effects is in
 * install_plan.c. */
#include "installer/install.h"
#include "common/fsutil.h"
#include "common/paths.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/timeutil.h"
#include "installer/audit.h"
#include "installer/enable.h"
#include "installer/inputs.h"
#include "installer/install_plan.h"
#include "installer/journal.h"
#include "common/proc.h"
#include "installer/verify_host.h"
#include "installer/view.h"
#include "cluster/topology.h"
#include "manifests/bundle.h"
#include "crypto/certs.h"
#include "manifests/check.h"
#include "manifests/manifest.h"
#include "manifests/runbook.h"
#include "manifests/sections.h"
#include "manifests/steps.h"
#include "crypto/secrets.h"
#include "mirror/tiupmeta.h"
#include "mirror/tiupstate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MIRROR_BEFORE "mirror-before"
#define TIUP_TIMEOUT_S 1800
#define RECIPIENT_DIR_DEFAULT "/etc/tiferry/recipient"

struct ctx {
	const struct tf_install_opts *o;
	char dir[PATH_MAX]; /* <state>/<cluster> */
	char *tiup_home;
	struct tf_journal j;
	struct tf_check_result res;
	int have_res;
	/* the manifest's sections */
	struct tf_tiup_section tiup;
	struct tf_plan plan;
	int has_tiup;
	int has_tls;
	int has_plan;
	int paused;           /* stopped after o->stop_after */
	int enable_tls;       /* the plan changes the cluster (steps preflight..health) */
	struct tf_view *view; /* what the operator sees while run_steps runs (NULL: -q) */
	char *prev;           /* the journal a new install replaced (an earlier install's) */
	size_t prev_len;
	char cluster_bin[PATH_MAX]; /* tf_install_cluster_binary's buffer */
	char *pass;         /* --passin, read once by the inputs check (fd: and tty are one-shot) */
	int inputs_checked; /* a new install checked them before the yes (start_new) */
};

/* A step's name in the one step table, for the journal and the audit log. */
#define NAME(id) (tf_step_get(TF_STEP_ID_##id)->name)

typedef int (*step_fn)(struct ctx *c, struct tf_err *err);

static const char *tiup_prog(const struct ctx *c)
{
	return c->o->tiup ? c->o->tiup : "tiup";
}

/* The upgraded cluster component's binary (journal, else its install path), or NULL when the
 * bundle brings no cluster version. */
static const char *cluster_binpath(struct ctx *c)
{
	return tf_install_cluster_binary(&c->j, c->tiup_home,
	                                 tf_tiup_section_version(&c->tiup, "cluster"),
	                                 c->cluster_bin, sizeof(c->cluster_bin));
}

/* Runs one tiup command as prog, audited; a `cluster …` command runs binpath when not NULL
 * (tf_install_tiup_argv). TIUP_MIRRORS is removed so that `tiup mirror set` is what TiUP
 * follows during the upgrade (docs/tiup.md §2). Nonzero exit -> TF_E_FAIL. */
static int run_tiup_as(struct ctx *c, const char *prog, const char *binpath, const char *step,
                       const char *const *args, struct tf_proc_result *keep, struct tf_err *err)
{
	const char *argv[20];
	const char *unset[] = {"TIUP_MIRRORS", NULL};
	struct tf_proc_opts po = {.env_unset = unset,
	                          .timeout_s = TIUP_TIMEOUT_S,
	                          .echo = tf_log_verbosity() >= TF_VERBOSE};
	struct tf_proc_result res;
	struct tf_audit_entry ae = {.step = step, .event = "command"};
	struct tf_err aerr;
	char *line;
	int r;

	if (tf_install_tiup_argv(prog, binpath, args, argv, sizeof(argv) / sizeof(argv[0])) == 0)
		return tf_err_set(err, TF_E_USAGE, "too many arguments for tiup");
	if ((line = tf_proc_format(argv)) == NULL)
		return tf_err_nomem(err);
	tf_log_debug("run: %s", line);
	if ((r = tf_proc_run(argv, &po, &res, err)) != 0) {
		free(line);
		return r;
	}
	ae.command = line;
	ae.exit_code = res.status;
	ae.seconds = res.seconds;
	if (tf_audit_append(c->dir, &ae, &aerr) != 0)
		tf_log_warn("audit log: %s", aerr.msg);
	if (res.status != 0) {
		/* the last line of its output says why, usually */
		char *last = res.out + res.outlen;

		while (last > res.out && (last[-1] == '\n' || last[-1] == ' '))
			*--last = '\0';
		while (last > res.out && last[-1] != '\n')
			last--;
		r = tf_err_set(err, TF_E_FAIL, "'%s' %s %d%s%s%s", line,
		               res.timed_out ? "timed out, status" : "exited with", res.status,
		               *last ? " (" : "", last, *last ? ")" : "");
	}
	free(line);
	if (r == 0 && keep != NULL) {
		*keep = res;
		return 0;
	}
	tf_proc_result_release(&res);
	return r;
}

/* Every cluster command after the upgrade runs the bundle's cluster component by its path. */
static int run_tiup(struct ctx *c, const char *step, const char *const *args,
                    struct tf_proc_result *keep, struct tf_err *err)
{
	return run_tiup_as(c, tiup_prog(c), cluster_binpath(c), step, args, keep, err);
}

static void note(struct ctx *c, const char *step, const char *detail)
{
	struct tf_audit_entry ae = {.step = step, .event = "note", .detail = detail};
	struct tf_err aerr;

	if (tf_audit_append(c->dir, &ae, &aerr) != 0)
		tf_log_warn("audit log: %s", aerr.msg);
}

static int save(struct ctx *c, struct tf_err *err)
{
	return tf_journal_save(&c->j, err);
}

/* ---- the manifest's sections ---- */

/* The sections the steps read, parsed once (again on a resume: the check runs again). */
static int read_sections(struct ctx *c, const struct tf_manifest *m, struct tf_err *err)
{
	const char *tiup = tf_manifest_section(m, TF_SECTION_TIUP),
	           *plan = tf_manifest_section(m, TF_SECTION_PLAN);
	int r;

	tf_tiup_section_release(&c->tiup);
	tf_plan_release(&c->plan);
	c->has_tls = tf_manifest_section(m, TF_SECTION_TLS) != NULL;
	c->has_plan = plan != NULL;
	c->has_tiup = tiup != NULL;
	if (plan != NULL && (r = tf_plan_parse(plan, &c->plan, err)) != 0)
		return r;
	c->enable_tls = c->plan.enable_tls; /* no plan: 1, and the cluster steps do nothing */
	if (tiup != NULL && (r = tf_tiup_section_parse(tiup, &c->tiup, err)) != 0)
		return r;
	return 0;
}

static const char *comp_version(const struct ctx *c, const char *name)
{
	return tf_tiup_section_version(&c->tiup, name);
}

/* ---- steps ---- */

/* The options of the check, for the verdict before anything is written and for the check step;
 * before has room for the path of the meta.yaml a resume checks the target against. */
static void check_opts(const struct ctx *c, struct tf_check_opts *co, char *before, size_t len)
{
	memset(co, 0, sizeof(*co));
	co->topology_fingerprint = tf_topology_file_fingerprint;
	co->trust_dir = c->o->trust_dir;
	co->cluster_meta = c->o->cluster_meta;
	co->cluster_record_meta = c->o->cluster_meta;
	co->state_dir = c->o->state_dir;
	co->last_sequence = c->o->last_sequence;
	/* Once PD has been scaled in, meta.yaml lists fewer members than the bundle was built for:
	 * a resume checks the target against meta.yaml as the preflight found it (kept in our
	 * private state folder by installer/enable.c). */
	snprintf(before, len, "%s/meta-before.yaml", c->dir);
	if (c->o->resume && co->cluster_meta == NULL &&
	    tf_journal_get(&c->j, "pd_removed") != NULL && access(before, R_OK) == 0)
		co->cluster_meta = before;
}

static int step_check(struct ctx *c, struct tf_err *err)
{
	struct tf_check_opts co;
	struct tf_progress pr;
	char *staging = NULL, before[PATH_MAX + 32];
	int r;

	check_opts(c, &co, before, sizeof(before));
	/* A staging folder left by a crash is not trusted: wipe it and verify again. */
	if (c->j.staging != NULL) {
		if ((r = tf_rmtree(c->j.staging, err)) != 0)
			return r;
		free(c->j.staging);
		c->j.staging = NULL;
	}
	if ((r = tf_mkdtemp_private(c->dir, "staging-", &staging, err)) != 0)
		return r;
	c->j.staging = staging;
	if ((r = save(c, err)) != 0)
		return r;
	tf_progress_start(&pr, "verifying and staging", 0);
	co.progress = &pr;
	co.staging = staging;
	if (c->have_res)
		tf_check_result_release(&c->res);
	tf_check_result_init(&c->res);
	c->have_res = 1; /* released by tf_install_run, also when the check fails half-way */
	r = tf_bundle_check(c->o->bundle, &co, &c->res, err);
	tf_progress_finish(&pr);
	if (r != 0) {
		/* tf_bundle_check removed the staging folder on a payload mismatch; make sure. */
		struct tf_err e2;

		if (tf_rmtree(staging, &e2) != 0)
			tf_log_warn("staging '%s' not removed: %s", staging, e2.msg);
		free(c->j.staging);
		c->j.staging = NULL;
		return r;
	}
	if (strcmp(c->res.manifest.bundle_id, c->j.bundle_id) != 0)
		return tf_err_set(err, TF_E_REJECT,
		                  "the bundle changed while it was being installed");
	if (c->o->last_sequence != 0) {
		char d[128];

		snprintf(d, sizeof(d),
		         "anti-rollback record restored from the operator's word: last sequence "
		         "%" PRIu64,
		         c->o->last_sequence);
		note(c, "check", d);
	}
	if ((r = read_sections(c, &c->res.manifest, err)) != 0)
		return r;
	/* issue 13 item 8d, issue 18 bug 4: the recipient key opens every secret and every host is
	 * pinned, checked before any step changes anything (installer/inputs.c). A new install
	 * checked them before the yes; a resume checks what its steps still need here. */
	if (!c->inputs_checked &&
	    (r = tf_inputs_check_install(c->o, &c->res, &c->j, &c->pass, err)) != 0)
		return r;
	if (c->tiup.has_versions) {
		/* tiferry verify compares TiUP with these after staging (and the manifest) is gone.
		 */
		char *vs = NULL;

		if ((r = tf_tiup_section_versions_json(&c->tiup, &vs, err)) != 0)
			return r;
		r = tf_journal_set(&c->j, "tiup_versions", vs, err);
		free(vs);
	}
	return r;
}

static int step_record_mirror(struct ctx *c, struct tf_err *err)
{
	struct tf_tiup_state st;
	char path[PATH_MAX + 32];
	int r;

	/* Recording while TiUP points at our staging mirror would lose the real one. */
	if (c->j.mirror_switched)
		return tf_err_set(
		    err, TF_E_FAIL,
		    "TiUP still points at the staging mirror; the recorded mirror is kept");
	memset(&st, 0, sizeof(st));
	snprintf(path, sizeof(path), "%s/%s", c->dir, MIRROR_BEFORE);
	if ((r = tf_tiup_state_record(c->tiup_home, &st, err)) != 0)
		return r;
	if ((r = tf_rmtree(path, err)) == 0 && (r = tf_tiup_state_save(&st, path, err)) == 0) {
		char d[600];

		snprintf(d, sizeof(d), "recorded mirror '%s'%s", tf_tiup_state_mirror(&st),
		         st.has_env ? " (from TIUP_MIRRORS)" : "");
		note(c, NAME(RECORD_MIRROR), d);
		tf_log_info("recorded the TiUP mirror: %s", tf_tiup_state_mirror(&st));
	}
	tf_tiup_state_release(&st);
	return r;
}

/* "linux/amd64" for this host, as TiUP names platforms. */
static void host_platform(char *buf, size_t len)
{
	struct utsname u;
	const char *arch = "unknown";

	if (uname(&u) == 0) {
		if (strcmp(u.machine, "x86_64") == 0)
			arch = "amd64";
		else if (strcmp(u.machine, "aarch64") == 0)
			arch = "arm64";
		else
			arch = u.machine;
	}
	snprintf(buf, len, "linux/%s", arch);
}

/* $TIUP_HOME/bin/tiup: `tiup update --self` refuses to run as any other binary
 * (checkTiUPBinary, cmd/update.go, compares it with os.Executable). */
static void home_tiup(const struct ctx *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/bin/tiup", c->tiup_home);
}

static int step_tiup_preflight(struct ctx *c, struct tf_err *err)
{
	const char *args[] = {"--version", NULL};
	char plat[64], self[PATH_MAX];

	if (run_tiup(c, NAME(TIUP_PREFLIGHT), args, NULL, err) != 0)
		return tf_err_prefix(err, "the installed TiUP does not run");
	home_tiup(c, self, sizeof(self));
	if (access(self, X_OK) != 0)
		return tf_err_set(
		    err, TF_E_FAIL,
		    "'%s': %s: 'tiup update --self' upgrades TiUP only when it runs as "
		    "$TIUP_HOME/bin/tiup (a TiUP installed by a package manager is "
		    "upgraded with that); nothing was changed",
		    self, strerror(errno));
	host_platform(plat, sizeof(plat));
	if (c->has_tiup && !tf_tiup_section_has_platform(&c->tiup, plat))
		return tf_err_set(err, TF_E_FAIL,
		                  "the bundle's mirror has no %s packages: TiUP on this host "
		                  "cannot install from it",
		                  plat);
	return 0;
}

static int step_mirror_set(struct ctx *c, struct tf_err *err)
{
	char mirror[PATH_MAX + 16];
	const char *args[] = {"mirror", "set", mirror, NULL};
	int r;

	snprintf(mirror, sizeof(mirror), "%s/mirror", c->j.staging);
	/* Journal first: a crash after the switch must find out that it happened. */
	c->j.mirror_switched = 1;
	if ((r = save(c, err)) != 0)
		return r;
	return run_tiup(c, NAME(MIRROR_SET), args, NULL, err);
}

static int step_update_self(struct ctx *c, struct tf_err *err)
{
	const char *args[] = {"update", "--self", NULL};
	char self[PATH_MAX];

	/* by its path, whatever --tiup says: checkTiUPBinary refuses any other (docs/tiup.md §2) */
	home_tiup(c, self, sizeof(self));
	return run_tiup_as(c, self, NULL, NAME(UPDATE_SELF), args, NULL, err);
}

/* While the bundle's mirror is still TiUP's: `tiup --binary cluster:<v>` prints the upgraded
 * component's binary (cmd/root.go: SelectInstalledVersion and BinaryPath, which need a mirror
 * that lists <v>). Journaled: every cluster command after the restore runs it by --binpath. */
static int record_cluster_binary(struct ctx *c, const char *version, struct tf_err *err)
{
	char spec[96], d[PATH_MAX + 64];
	const char *args[] = {"--binary", spec, NULL};
	struct tf_proc_result res = {0};
	char *p, *end;
	int r;

	snprintf(spec, sizeof(spec), "cluster:%s", version);
	if ((r = run_tiup_as(c, tiup_prog(c), NULL, NAME(UPDATE_COMPONENTS), args, &res, err)) != 0)
		return r;
	if (res.out == NULL) {
		r = tf_err_set(err, TF_E_FAIL, "'tiup --binary %s' printed nothing", spec);
		goto out;
	}
	/* the path is the last line printed */
	for (end = res.out + res.outlen; end > res.out && (end[-1] == '\n' || end[-1] == ' ');)
		*--end = '\0';
	for (p = end; p > res.out && p[-1] != '\n';)
		p--;
	if (p[0] != '/' || access(p, X_OK) != 0) {
		r = tf_err_set(err, TF_E_FAIL,
		               "'tiup --binary %s' printed '%s', not the path of an executable",
		               spec, p);
		goto out;
	}
	if ((r = tf_journal_set(&c->j, TF_INSTALL_CLUSTER_BINARY, p, err)) != 0 ||
	    (r = save(c, err)) != 0)
		goto out;
	snprintf(d, sizeof(d), "cluster %s is %s: later cluster commands run it with --binpath",
	         version, p);
	note(c, NAME(UPDATE_COMPONENTS), d);
out:
	tf_proc_result_release(&res);
	return r;
}

static int step_update_components(struct ctx *c, struct tf_err *err)
{
	size_t i;
	int r;

	for (i = 0; i < c->tiup.ncomponents; i++) {
		/* pinned to the bundle's version: without one, `tiup update` takes the mirror's
		 * newest (LatestStableVersion), which need not be the one the bundle was approved
		 * for */
		const char *name = c->tiup.components[i].name, *v = comp_version(c, name);
		char spec[128];
		const char *args[] = {"update", spec, NULL};

		if (strcmp(name, "tiup") == 0)
			continue;
		if (v != NULL)
			snprintf(spec, sizeof(spec), "%s:%s", name, v);
		else
			snprintf(spec, sizeof(spec), "%s", name);
		if ((r = run_tiup(c, NAME(UPDATE_COMPONENTS), args, NULL, err)) != 0)
			return r;
	}
	if (comp_version(c, "cluster") != NULL)
		return record_cluster_binary(c, comp_version(c, "cluster"), err);
	return 0;
}

static int restore_mirror(struct ctx *c, struct tf_err *err)
{
	struct tf_tiup_state st;
	char path[PATH_MAX + 32];
	int r;

	memset(&st, 0, sizeof(st));
	snprintf(path, sizeof(path), "%s/%s", c->dir, MIRROR_BEFORE);
	if (tf_tiup_state_load(path, &st, err) != 0)
		return tf_err_prefix(err, "load the recorded mirror");
	if ((r = tf_tiup_state_restore(&st, err)) == 0) {
		char d[600];

		c->j.mirror_switched = 0;
		r = save(c, err);
		snprintf(d, sizeof(d), "restored mirror '%s'", tf_tiup_state_mirror(&st));
		note(c, NAME(RESTORE_MIRROR), d);
		tf_log_info("switched the TiUP mirror back to %s", tf_tiup_state_mirror(&st));
	}
	tf_tiup_state_release(&st);
	return r;
}

/* The spec's `restore: <mirror>` (docs/spec.md): after the recorded mirror is back, TiUP is
 * pointed at the mirror the bundle names. After a failure only the recorded one is restored. */
static int step_restore_mirror(struct ctx *c, struct tf_err *err)
{
	const char *mode = c->tiup.restore_mode, *mirror = c->tiup.restore_mirror;
	int r;

	if ((r = restore_mirror(c, err)) == 0 && mode != NULL && strcmp(mode, "mirror") == 0) {
		const char *args[] = {"mirror", "set", mirror, NULL};

		if (mirror == NULL || mirror[0] == '\0')
			r = tf_err_set(err, TF_E_REJECT,
			               "manifest: 'tiup' restore names no mirror");
		else if ((r = run_tiup(c, NAME(RESTORE_MIRROR), args, NULL, err)) == 0 &&
		         (r = tf_journal_set(&c->j, TF_INSTALL_RESTORE_MIRROR, mirror, err)) == 0)
			/* verify's control.mirror-restored expects this one, not the recorded one
			 */
			r = save(c, err);
	}
	return r;
}

/* 1 when a `--version` output reports exactly version (TiUP prints it with or without its
 * 'v'). Read as verify reads it (tf_vhost_find_version, fuzzed by fuzz_tiup_version): one
 * parser for both, and the first version-like word counts, not any mention further on. */
static int reports_version(const char *out, const char *version)
{
	char found[64], want[64];

	snprintf(want, sizeof(want), "%s%s", version[0] == 'v' ? "" : "v", version);
	return tf_vhost_find_version(out ? out : "", found, sizeof(found)) == 0 &&
	       tf_tiup_version_cmp(found, want) == 0;
}

static int step_verify_versions(struct ctx *c, struct tf_err *err)
{
	const char *self[] = {"--version", NULL};
	char pinned[PATH_MAX + 32];
	const char *cluster[] = {"cluster", "--version", NULL};
	struct tf_proc_result res = {0};
	const char *want;
	int r;

	if ((want = comp_version(c, "tiup")) != NULL) {
		if ((r = run_tiup(c, NAME(VERIFY_VERSIONS), self, &res, err)) != 0)
			return r;
		r = reports_version(res.out, want);
		tf_proc_result_release(&res);
		if (!r)
			return tf_err_set(
			    err, TF_E_FAIL,
			    "'tiup --version' does not report %s after the mirror switch-back",
			    want);
	}
	if ((want = comp_version(c, "cluster")) == NULL)
		return 0;
	/* The binary tiferry's later steps run must report the version under the restored mirror
	 * (`tiup cluster:<v>` would fail there when the mirror lacks <v>: TiUP issue #594). */
	snprintf(pinned, sizeof(pinned), "--binpath %s cluster", cluster_binpath(c));
	if ((r = run_tiup(c, NAME(VERIFY_VERSIONS), cluster, &res, err)) != 0)
		return r;
	r = reports_version(res.out, want);
	tf_proc_result_release(&res);
	if (!r)
		return tf_err_set(err, TF_E_FAIL, "'tiup %s --version' does not report %s", pinned,
		                  want);
	/* TiUP issue #594: a plain `tiup cluster` resolves against the restored mirror's manifest,
	 * which may not list the new version. Not fatal (tiferry runs the binary by its path), but
	 * the operator must know before running tiup by hand. */
	if ((r = run_tiup_as(c, tiup_prog(c), NULL, NAME(VERIFY_VERSIONS), cluster, &res, err)) !=
	    0)
		return r;
	r = reports_version(res.out, want);
	tf_proc_result_release(&res);
	if (!r) {
		char d[400];

		snprintf(d, sizeof(d),
		         "plain 'tiup cluster' does not resolve to %s under the restored mirror "
		         "(TiUP issue #594): "
		         "tiferry runs 'tiup %s'; run it so by hand too, or add cluster %s to "
		         "the production mirror",
		         want, pinned, want);
		note(c, NAME(VERIFY_VERSIONS), d);
		tf_log_warn("%s", d);
		snprintf(tf_journal_step(&c->j, NAME(VERIFY_VERSIONS))->detail,
		         sizeof(c->j.steps[0].detail), "warning: %s", d);
	}
	return 0;
}

static int copy_file(const char *from, const char *to, mode_t mode, struct tf_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = tf_read_file(from, TF_SECRETS_MAX, &buf, &len, err)) != 0)
		return r;
	r = tf_write_file_atomic(to, buf, len, mode, err);
	free(buf);
	return r;
}

/* Moves the files TiUP's tls/ folder holds now into a dated backup folder beside it. */
static int backup_tls(struct ctx *c, const char *tls, struct tf_err *err)
{
	static const char *const files[] = {TF_CERTS_CA_CRT, TF_CERTS_CA_KEY, TF_CERTS_CLIENT_CRT,
	                                    TF_CERTS_CLIENT_KEY, TF_CERTS_CLIENT_PFX};
	char backup[PATH_MAX], from[PATH_MAX + 64], to[PATH_MAX + 64], stamp[32];
	size_t i;
	int made = 0, r;

	tf_time_format(tf_time_now(), stamp, sizeof(stamp));
	snprintf(backup, sizeof(backup), "%s/tls-backup-%s-%s", c->dir, c->j.bundle_id, stamp);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(from, sizeof(from), "%s/%s", tls, files[i]);
		if (access(from, F_OK) != 0)
			continue;
		if (!made && (r = tf_mkdir_p(backup, 0700, err)) != 0)
			return r;
		made = 1;
		snprintf(to, sizeof(to), "%s/%s", backup, files[i]);
		if (rename(from, to) != 0 && (r = copy_file(from, to, 0600, err)) != 0)
			return r;
		unlink(from);
	}
	if (made) {
		char d[PATH_MAX + 64];

		snprintf(d, sizeof(d), "previous tls/ files moved to %s", backup);
		note(c, NAME(PLACE_CERTIFICATES), d);
	}
	return 0;
}

static int load_recipient(const struct ctx *c, struct tf_secrets_key *k, char **key, char **cert,
                          struct tf_err *err)
{
	const char *dir = c->o->recipient_key ? c->o->recipient_key : RECIPIENT_DIR_DEFAULT;
	char path[PATH_MAX];
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, TF_CERTS_RECIPIENT_KEY);
	r = tf_read_file(path, 1 << 20, key, &len, err);
	if (r == TF_E_NOTFOUND && c->o->recipient_key == NULL)
		return 0; /* no recipient key here: the passphrase must do */
	if (r != 0)
		return r;
	k->key_pem = *key;
	k->key_len = len;
	snprintf(path, sizeof(path), "%s/%s", dir, TF_CERTS_RECIPIENT_CERT);
	if ((r = tf_read_file(path, 1 << 20, cert, &len, err)) != 0)
		return r;
	k->cert_pem = *cert;
	k->cert_len = len;
	return 0;
}

static int step_place_certificates(struct ctx *c, struct tf_err *err)
{
	char src[PATH_MAX];
	struct tf_secrets_key k;
	char *key = NULL, *cert = NULL, *pass = NULL, *tls = NULL;
	int r, placed = 0;

	if (!c->has_tls)
		return 0;
	memset(&k, 0, sizeof(k));
	snprintf(src, sizeof(src), "%s/tls", c->j.staging);
	if ((r = tf_paths_cluster_file(c->tiup_home, c->j.cluster, TF_PATHS_TLS, &tls, err)) != 0 ||
	    (r = load_recipient(c, &k, &key, &cert, err)) != 0)
		goto out;
	if (c->pass != NULL) {
		k.passphrase = c->pass; /* read by the inputs check */
	} else if (c->o->passin != NULL) {
		if ((r = tf_secret_read(c->o->passin, "bundle secrets passphrase: ", 0, &pass,
		                        err)) != 0)
			goto out;
		k.passphrase = pass;
	}
	if (k.key_pem == NULL && k.passphrase == NULL) {
		r = tf_err_set(err, TF_E_USAGE,
		               "the bundle's keys are encrypted: give --recipient DIR (from "
		               "'tiferry keygen --recipient') or --passin");
		goto out;
	}
	/* Everything is decrypted and checked (PKCS#1 keys matching their certificates, the chain,
	 * the pfx) before anything is written, and ca.crt/client.* last, so an interrupted run
	 * never leaves a set TiUP would reuse. */
	if ((r = tf_mkdir_p(tls, 0700, err)) != 0 || (r = backup_tls(c, tls, err)) != 0)
		goto out;
	if ((r = tf_certs_unseal(src, tls, &k, 1, err)) != 0)
		goto out;
	placed = TF_CERTS_NFILES;
	{
		char dtext[PATH_MAX + 64];

		snprintf(dtext, sizeof(dtext), "%d files placed in %s", placed, tls);
		note(c, NAME(PLACE_CERTIFICATES), dtext);
	}
	r = 0;
out:
	if (key != NULL) {
		tf_wipe(key, strlen(key));
		free(key);
	}
	free(cert);
	free(tls);
	tf_secret_free(pass);
	return r;
}

static int step_record_sequence(struct ctx *c, struct tf_err *err)
{
	const char *root = c->o->state_dir ? c->o->state_dir : tf_paths_state_root();

	return tf_rollback_write(root, c->j.cluster, c->o->cluster_meta, c->j.sequence, err);
}

static int step_wipe_staging(struct ctx *c, struct tf_err *err)
{
	int r;

	if (c->j.staging == NULL)
		return 0;
	if ((r = tf_rmtree(c->j.staging, err)) != 0)
		return r;
	free(c->j.staging);
	c->j.staging = NULL;
	return save(c, err);
}

/* ---- the cluster half (installer/enable.c): struct tf_enable from the bundle's plan ---- */

static int enable_tiup(void *arg, const char *step, const char *const *args, char **out,
                       struct tf_err *err)
{
	struct tf_proc_result res = {0};
	int r;

	if (out == NULL)
		return run_tiup(arg, step, args, NULL, err);
	if ((r = run_tiup(arg, step, args, &res, err)) != 0)
		return r;
	*out = res.out;
	res.out = NULL; /* transferred */
	tf_proc_result_release(&res);
	return 0;
}

static int enable_step(struct ctx *c, int (*fn)(struct tf_enable *, struct tf_err *),
                       struct tf_err *err)
{
	char *meta = NULL, *tls = NULL, *key = NULL;
	char pd[PATH_MAX + 256];
	struct tf_enable e;
	const char *pdt;
	int r;

	if (!c->has_plan)
		return 0; /* a bundle without a plan changes TiUP only */
	if ((r = tf_plan_pd_topology(&c->plan, &pdt, err)) != 0)
		return r;
	snprintf(pd, sizeof(pd), "%s/%s", c->j.staging, pdt);
	if ((r = tf_paths_cluster_file(c->tiup_home, c->j.cluster, TF_PATHS_META, &meta, err)) !=
	        0 ||
	    (r = tf_paths_cluster_file(c->tiup_home, c->j.cluster, TF_PATHS_TLS, &tls, err)) != 0 ||
	    (r = tf_paths_cluster_file(c->tiup_home, c->j.cluster, TF_PATHS_SSH_KEY, &key, err)) !=
	        0)
		goto out;
	memset(&e, 0, sizeof(e));
	e.cluster = c->j.cluster;
	e.tiup_home = c->tiup_home;
	e.meta_path = meta; /* TiUP's own: it changes under the steps */
	e.tls_dir = tls;
	e.ssh_key = key;
	e.known_hosts = c->o->known_hosts;
	e.pin_unknown_hosts = c->o->accept_new_host_keys;
	e.cluster_component = "cluster"; /* run_tiup adds --binpath <the bundle's cluster> */
	e.pd_topology = pd;
	e.stop_duplicate_exporters = c->plan.stop_duplicate_exporters;
	e.min_free_kb = (unsigned long long)c->plan.min_free_mb * 1024ULL;
	e.restrict_cn = c->plan.restrict_cn;
	e.nrestrict_cn = c->plan.nrestrict_cn;
	e.state_dir = c->dir;
	e.journal = &c->j;
	e.run_tiup = enable_tiup;
	e.run_arg = c;
	e.view = c->view;
	r = fn(&e, err);
out:
	free(meta);
	free(tls);
	free(key);
	return r;
}

static int step_enable_preflight(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_preflight, err);
}

static int step_scale_in(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_scale_in, err);
}

static int step_restrict_cn(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_restrict_cn, err);
}

static int step_tls_enable(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_tls, err);
}

static int step_tighten_keys(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_tighten_keys, err);
}

static int step_tighten_keys_pd(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_tighten_keys_pd, err);
}

static int step_repair_peers(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_repair_peers, err);
}

static int step_scale_out(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_scale_out, err);
}

static int step_health(struct ctx *c, struct tf_err *err)
{
	return enable_step(c, tf_enable_health, err);
}

/* What runs each step of the one step table (manifests/steps.h), by its id. */
static const step_fn step_run[TF_STEPS_N] = {
    [TF_STEP_ID_CHECK] = step_check,
    [TF_STEP_ID_RECORD_MIRROR] = step_record_mirror,
    [TF_STEP_ID_TIUP_PREFLIGHT] = step_tiup_preflight,
    [TF_STEP_ID_MIRROR_SET] = step_mirror_set,
    [TF_STEP_ID_UPDATE_SELF] = step_update_self,
    [TF_STEP_ID_UPDATE_COMPONENTS] = step_update_components,
    [TF_STEP_ID_RESTORE_MIRROR] = step_restore_mirror,
    [TF_STEP_ID_VERIFY_VERSIONS] = step_verify_versions,
    [TF_STEP_ID_PLACE_CERTIFICATES] = step_place_certificates,
    [TF_STEP_ID_PREFLIGHT] = step_enable_preflight,
    [TF_STEP_ID_SCALE_IN_PD] = step_scale_in,
    [TF_STEP_ID_RESTRICT_CN] = step_restrict_cn,
    [TF_STEP_ID_TLS_ENABLE] = step_tls_enable,
    [TF_STEP_ID_TIGHTEN_KEYS] = step_tighten_keys,
    [TF_STEP_ID_REPAIR_PEERS] = step_repair_peers,
    [TF_STEP_ID_SCALE_OUT_PD] = step_scale_out,
    [TF_STEP_ID_TIGHTEN_KEYS_PD] = step_tighten_keys_pd,
    [TF_STEP_ID_HEALTH] = step_health,
    [TF_STEP_ID_RECORD_SEQUENCE] = step_record_sequence,
    [TF_STEP_ID_WIPE_STAGING] = step_wipe_staging,
};

/* ---- driver ---- */

static int peek_manifest(const char *bundle, struct tf_manifest *m, struct tf_err *err)
{
	struct tf_bundle_scan s;
	int r;

	/* Unverified: only the cluster name (validated charset) is used, to find the state folder
	 * and its journal; nothing is written for it before the full check passes. */
	if ((r = tf_bundle_scan(bundle, &s, err)) != 0)
		return r;
	r = tf_manifest_parse(s.manifest, s.manifest_len, m, err);
	tf_bundle_scan_release(&s);
	return r;
}

static int take_lock(const char *dir, int *fd, struct tf_err *err)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/lock", dir);
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return tf_err_sys(err, TF_E_IO, "open lock '%s'", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return tf_err_set(err, TF_E_FAIL,
		                  "another tiferry install holds '%s': wait for it to end "
		                  "('tiferry status' shows its steps)",
		                  path);
	return 0;
}

static int dry_run(const struct ctx *c, const struct tf_manifest *m, struct tf_err *err)
{
	char staging[PATH_MAX + 32];
	struct tf_runbook_subst sub = {.tiup = tiup_prog(c), .state = c->dir, .staging = staging};
	size_t i;
	int r;

	snprintf(staging, sizeof(staging), "%s/staging-XXXXXX", c->dir);
	printf("tiferry install --dry-run: bundle %s for cluster '%s' (sequence %llu)\n",
	       m->bundle_id, m->cluster, (unsigned long long)m->sequence);
	printf("the bundle passes every check; these steps would run, in order (the runbook, "
	       "'tiferry plan', says more):\n");
	for (i = 0; i < TF_STEPS_N; i++) {
		char *cmds = NULL, *line, *save = NULL;

		printf("  %2zu. %-19s %s\n", i + 1, tf_step_get(i)->name, tf_step_get(i)->where);
		if ((r = tf_runbook_commands(m, i, &sub, &cmds, err)) != 0)
			return r;
		for (line = strtok_r(cmds, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			printf("      $ %s\n", line);
		free(cmds);
	}
	printf("nothing was changed.\n");
	return 0;
}

static int confirm(const struct ctx *c, const struct tf_manifest *m, struct tf_err *err)
{
	char line[16];

	if (c->o->yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return tf_err_set(err, TF_E_USAGE,
		                  "install changes TiUP and the cluster '%s': add --yes to run it "
		                  "without a terminal",
		                  m->cluster);
	fprintf(stderr, "install bundle %s on cluster '%s'? [y/N] ", m->bundle_id, m->cluster);
	if (fgets(line, sizeof(line), stdin) == NULL || (line[0] != 'y' && line[0] != 'Y'))
		return tf_err_set(err, TF_E_FAIL, "not confirmed; nothing was changed");
	return 0;
}

/* The full check before anything is written (signatures, policy, window, target, anti-rollback,
 * payload), with progress; its result is in c->res. The check step checks again as it stages
 * the payload: the file may change in between, and a resume trusts nothing on disk. */
static int verdict(struct ctx *c, struct tf_err *err)
{
	struct tf_check_opts co;
	struct tf_progress pr;
	char before[PATH_MAX + 32];
	int r;

	check_opts(c, &co, before, sizeof(before));
	tf_progress_start(&pr, "verifying", 0);
	co.progress = &pr;
	tf_check_result_init(&c->res);
	c->have_res = 1;
	r = tf_bundle_check(c->o->bundle, &co, &c->res, err);
	tf_progress_finish(&pr);
	return r;
}

/* A run refused before it changed anything (the bundle rejected, no terminal without --yes, an
 * answer other than yes, a journal that forbids it, the lock held): one audit line, "refused"
 * with the reason and the exit code, and nothing else. It goes to the cluster's audit.log when
 * its state folder exists, else to <state>/audit.log: a refusal never creates a cluster's folder,
 * whose name may come from a manifest that did not pass its check. */
static void audit_refusal(const char *root, const char *cluster, const char *bundle,
                          const struct tf_err *why)
{
	char dir[PATH_MAX], abs[PATH_MAX], detail[TF_ERR_MSG_MAX + 2 * PATH_MAX];
	struct tf_audit_entry ae = {.step = "install",
	                            .event = "refused",
	                            .has_exit = 1,
	                            .exit_code = tf_err_exit_code(why->code),
	                            .detail = detail};
	struct stat st;
	struct tf_err aerr;

	snprintf(detail, sizeof(detail), "bundle '%s'%s%s%s: %s",
	         realpath(bundle, abs) != NULL ? abs : bundle, cluster ? " for cluster '" : "",
	         cluster ? cluster : "", cluster ? "'" : "", why->msg);
	if (cluster == NULL ||
	    (size_t)snprintf(dir, sizeof(dir), "%s/%s", root, cluster) >= sizeof(dir) ||
	    lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", root);
		if (tf_mkdir_p(dir, 0700, &aerr) != 0) {
			tf_log_warn("audit log: %s", aerr.msg);
			return;
		}
	}
	if (tf_audit_append(dir, &ae, &aerr) != 0)
		tf_log_warn("audit log: %s", aerr.msg);
}

/* The cluster's journal as it is now, read only: j is set and *have 1 when there is one. */
static int look_journal(const char *dir, struct tf_journal *j, int *have, struct tf_err *err)
{
	int r;

	tf_journal_release(j);
	r = tf_journal_load(dir, j, err);
	*have = r == 0;
	return r == TF_E_NOTFOUND ? 0 : r;
}

/* Under the lock, after the check and the yes: a new journal, confirmed, with the options a
 * resume needs. The journal it replaces (an earlier finished install's, or one never confirmed)
 * is kept in c->prev and put back as it was if this run ends before changing anything. */
static int new_journal(struct ctx *c, const struct tf_manifest *m, struct tf_err *err)
{
	char abs[PATH_MAX], *path = tf_path_join(c->dir, TF_JOURNAL_FILE);
	int r;

	if (path == NULL)
		return tf_err_nomem(err);
	r = tf_read_file(path, 1u << 20, &c->prev, &c->prev_len, err);
	if (r != 0 && r != TF_E_NOTFOUND) {
		free(path);
		return r;
	}
	tf_journal_release(&c->j);
	tf_journal_init(&c->j);
	c->j.path = path;
	if (realpath(c->o->bundle, abs) == NULL)
		return tf_err_sys(err, TF_E_IO, "resolve '%s'", c->o->bundle);
	c->j.cluster = strdup(m->cluster);
	c->j.bundle = strdup(abs);
	c->j.bundle_id = strdup(m->bundle_id);
	c->j.sequence = m->sequence;
	c->j.confirmed = 1;
	if (c->j.cluster == NULL || c->j.bundle == NULL || c->j.bundle_id == NULL)
		return tf_err_nomem(err);
	if ((r = tf_install_journal_opts(c->o, &c->j.opts, err)) != 0)
		return r;
	return save(c, err);
}

/* When the run ended before changing anything: the journal it wrote goes, the one it replaced
 * comes back byte for byte (an earlier install's record stays as it was). */
static void put_back_journal(struct ctx *c)
{
	struct tf_err e2;

	if (c->prev != NULL) {
		if (tf_write_file_atomic(c->j.path, c->prev, c->prev_len, 0600, &e2) != 0)
			tf_log_warn("journal of the earlier install not put back: %s", e2.msg);
	} else if (unlink(c->j.path) != 0 && errno != ENOENT) {
		tf_log_warn("journal '%s' not removed: %s", c->j.path, strerror(errno));
	}
}

/* What the operator runs next, appended to the one message cmd_install prints; when the command
 * would not fit whole, status prints it (a cut command would not work pasted). */
static void add_resume_hint(const struct ctx *c, struct tf_err *err, const char *lead)
{
	char *cmd = tf_journal_resume_command(&c->j);
	size_t n = strlen(err->msg);
	int w = -1;

	if (cmd != NULL)
		w = snprintf(err->msg + n, sizeof(err->msg) - n, "%s%s", lead, cmd);
	if (cmd == NULL || w < 0 || (size_t)w >= sizeof(err->msg) - n) {
		err->msg[n] = '\0';
		snprintf(err->msg + n, sizeof(err->msg) - n,
		         "%s(the command 'tiferry status --cluster %s' prints)", lead,
		         c->j.cluster);
	}
	free(cmd);
}

static int run_steps(struct ctx *c, struct tf_err *err)
{
	const char *names[TF_STEPS_N];
	size_t i;
	int r = 0;

	for (i = 0; i < TF_STEPS_N; i++)
		names[i] = tf_step_get(i)->name;
	c->view = tf_view_new(tf_view_choose(c->o->json), names, TF_STEPS_N, NULL);
	for (i = 0; i < TF_STEPS_N; i++) {
		const struct tf_step *st = tf_step_get(i);
		struct tf_journal_step *s = tf_journal_step(&c->j, st->name);
		enum tf_install_action act;

		if (s == NULL) {
			r = tf_err_set(err, TF_E_FAIL, "journal is full");
			goto out;
		}
		act = tf_install_step_action(st, s, c->enable_tls);
		if (act == TF_INSTALL_DONE_BEFORE) {
			tf_view_step(c->view, i, TF_VIEW_SKIPPED, "done in an earlier run");
			continue;
		}
		if (act == TF_INSTALL_SKIP_CLUSTER) {
			s->status = TF_STEP_DONE;
			snprintf(s->detail, sizeof(s->detail),
			         "skipped: the bundle's plan does not change the cluster");
			tf_view_step(c->view, i, TF_VIEW_SKIPPED,
			             "the bundle's plan does not change the cluster");
			continue;
		}
		s->status = TF_STEP_RUNNING;
		s->started = tf_time_now();
		s->ended = 0;
		s->detail[0] = '\0';
		if ((r = save(c, err)) != 0)
			goto out;
		tf_view_step(c->view, i, TF_VIEW_RUNNING, NULL);
		r = step_run[i](c, err);
		s = tf_journal_step(&c->j, st->name);
		s->ended = tf_time_now();
		s->status = r == 0 ? TF_STEP_DONE : TF_STEP_FAILED;
		if (r != 0)
			snprintf(s->detail, sizeof(s->detail), "%s", err->msg);
		{
			struct tf_err e2;

			if (save(c, &e2) != 0 && r == 0) {
				tf_view_step(c->view, i, TF_VIEW_FAILED, e2.msg);
				r = tf_err_set(err, e2.code, "%s", e2.msg);
				goto out;
			}
		}
		tf_view_step(c->view, i, r == 0 ? TF_VIEW_OK : TF_VIEW_FAILED, s->detail);
		if (r != 0) {
			tf_err_prefix(err, "step '%s'", st->name);
			/* issue 18 bug 5: a step that failed exits 1, whatever failed inside it;
			 * the check keeps its verdict (3 rejected, 2 an input missing or wrong) */
			if (i != TF_STEP_ID_CHECK && err->code != TF_E_NOMEM)
				err->code = r = TF_E_FAIL;
			goto out;
		}
		if (c->o->stop_after != NULL && strcmp(c->o->stop_after, st->name) == 0) {
			c->paused = 1;
			goto out;
		}
	}
out:
	tf_view_free(c->view); /* the final table stays on the terminal */
	c->view = NULL;
	return r;
}

/* A resume continues a confirmed install in its existing state folder: the lock first, then the
 * journal read again under it; TiUP is switched back to the recorded mirror before anything else
 * (whatever the bundle), and the check step checks the bundle in full. */
static int start_resume(struct ctx *c, const struct tf_manifest *peek, int *lockfd, int *refusal,
                        struct tf_err *err)
{
	struct stat st;
	int have = 0, r;

	*refusal = 1;
	if (lstat(c->dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return tf_install_start_check(NULL, peek->cluster, peek->bundle_id, 1, err);
	if ((r = take_lock(c->dir, lockfd, err)) != 0 ||
	    (r = look_journal(c->dir, &c->j, &have, err)) != 0 ||
	    (r = tf_install_start_check(have ? &c->j : NULL, peek->cluster, peek->bundle_id, 1,
	                                err)) != 0)
		return r;
	/* the options of this run are the ones the next resume needs */
	if ((r = tf_install_journal_opts(c->o, &c->j.opts, err)) != 0 || (r = save(c, err)) != 0)
		return r;
	*refusal = 0;
	tf_log_info("resuming the install of bundle %s on '%s'", c->j.bundle_id, c->j.cluster);
	note(c, "resume", c->j.mirror_switched ? "TiUP was left on the staging mirror" : NULL);
	if (c->j.mirror_switched && restore_mirror(c, err) != 0)
		return tf_err_prefix(err, "switch TiUP's mirror back before resuming");
	tf_install_resume_reset(&c->j);
	return 0;
}

/* A new install writes nothing before the bundle passed every rule and the operator said yes:
 * no state folder, lock or journal (issue 13, item 2). Refusals until then are the caller's to
 * audit; *refusal says whether the error is one. */
static int start_new(struct ctx *c, const struct tf_manifest *peek, int *lockfd, int *refusal,
                     struct tf_err *err)
{
	const struct tf_manifest *m = &c->res.manifest;
	int have = 0, r;

	*refusal = 1;
	/* an unfinished install blocks a new one: said before the bundle is read in full */
	if (!c->o->dry_run && ((r = look_journal(c->dir, &c->j, &have, err)) != 0 ||
	                       (r = tf_install_start_check(have ? &c->j : NULL, peek->cluster,
	                                                   peek->bundle_id, 0, err)) != 0))
		return r;
	if ((r = verdict(c, err)) != 0)
		return r;
	if (strcmp(m->cluster, peek->cluster) != 0 || strcmp(m->bundle_id, peek->bundle_id) != 0)
		return tf_err_set(err, TF_E_REJECT,
		                  "the bundle changed while it was being checked");
	if ((r = read_sections(c, m, err)) != 0)
		return r;
	/* issue 13 item 8d, issue 18 bug 4: the recipient key opens every secret and every host is
	 * pinned (installer/inputs.c), after the verdict and before the yes: a missing or wrong
	 * input is a refusal like the others, audited, nothing written (a dry run checks too) */
	if ((r = tf_inputs_check_install(c->o, &c->res, NULL, c->o->dry_run ? NULL : &c->pass,
	                                 err)) != 0)
		return r;
	c->inputs_checked = 1;
	if (c->o->dry_run) {
		*refusal = 0;
		return dry_run(c, m, err); /* from this check's result: the bundle is read once */
	}
	if ((r = confirm(c, m, err)) != 0)
		return r;
	if ((r = tf_mkdir_p(c->dir, 0700, err)) != 0 || (r = take_lock(c->dir, lockfd, err)) != 0 ||
	    (r = look_journal(c->dir, &c->j, &have, err)) != 0 ||
	    (r = tf_install_start_check(have ? &c->j : NULL, m->cluster, m->bundle_id, 0, err)) !=
	        0)
		return r; /* another install may have started since the first look */
	if ((r = new_journal(c, m, err)) != 0)
		return r;
	*refusal = 0;
	return 0;
}

int tf_install_run(const struct tf_install_opts *o, struct tf_err *err)
{
	struct ctx c;
	struct tf_manifest peek;
	const char *root = o->state_dir ? o->state_dir : tf_paths_state_root();
	int lockfd = -1, refusal = 1, peeked = 0, r;

	memset(&c, 0, sizeof(c));
	c.o = o;
	tf_tiup_section_init(&c.tiup);
	tf_plan_init(&c.plan);
	if ((r = tf_install_stop_after_check(o->stop_after, err)) != 0)
		return r;
	tf_journal_init(&c.j);
	tf_manifest_init(&peek);
	if ((r = peek_manifest(o->bundle, &peek, err)) != 0)
		goto refused;
	peeked = 1;
	if ((size_t)snprintf(c.dir, sizeof(c.dir), "%s/%s", root, peek.cluster) >= sizeof(c.dir)) {
		r = tf_err_set(
		    err, TF_E_INPUT,
		    "state folder '%s/%s' is too long: set TIFERRY_STATE_DIR to a shorter path",
		    root, peek.cluster);
		goto refused;
	}
	if ((r = tf_paths_tiup_home(&c.tiup_home, err)) != 0)
		goto refused;
	if (o->resume)
		r = start_resume(&c, &peek, &lockfd, &refusal, err);
	else
		r = start_new(&c, &peek, &lockfd, &refusal, err);
	if (r != 0 && refusal)
		goto refused;
	if (r != 0 || o->dry_run)
		goto out;
	r = run_steps(&c, err);
	if (r != 0 && c.j.mirror_switched) {
		/* Always switch the mirror back, whatever failed. */
		struct tf_err e2;
		struct tf_journal_step *s = tf_journal_step(&c.j, NAME(RESTORE_MIRROR));

		if (restore_mirror(&c, &e2) != 0) {
			/* the command that continues (and switches it back) follows below */
			tf_err_prefix(err, "and the mirror could not be switched back (%s)",
			              e2.msg);
		} else if (s != NULL) {
			snprintf(s->detail, sizeof(s->detail), "restored after a failure");
			if (save(&c, &e2) != 0)
				tf_log_warn("journal: %s", e2.msg);
		}
	}
	if (r == 0 && c.paused) {
		if ((r = save(&c, err)) == 0) {
			char *cmd = tf_journal_resume_command(&c.j);

			tf_log_info("stopped after step '%s' as asked; continue with: %s",
			            o->stop_after, cmd ? cmd : "(tiferry status prints it)");
			free(cmd);
		}
	} else if (r == 0) {
		c.j.finished = 1;
		if ((r = save(&c, err)) == 0)
			tf_log_info("installed bundle %s on '%s'", c.j.bundle_id, c.j.cluster);
	} else if (tf_install_nothing_changed(&c.j)) {
		/* Refused before any change: there is nothing to resume. */
		struct tf_err e2;

		if (c.j.staging != NULL && tf_rmtree(c.j.staging, &e2) != 0)
			tf_log_warn("staging '%s' not removed: %s", c.j.staging, e2.msg);
		put_back_journal(&c);
		goto refused;
	} else if (c.j.path != NULL && !c.j.finished) {
		char lead[256];

		snprintf(lead, sizeof(lead),
		         "; 'tiferry status --cluster %s' shows where it stopped; after fixing the "
		         "cause, continue with: ",
		         c.j.cluster);
		add_resume_hint(&c, err, lead);
	}
	goto out;
refused:
	if (!o->dry_run)
		audit_refusal(root, peeked ? peek.cluster : NULL, o->bundle, err);
out:
	if (lockfd >= 0)
		close(lockfd);
	tf_tiup_section_release(&c.tiup);
	tf_plan_release(&c.plan);
	if (c.have_res)
		tf_check_result_release(&c.res);
	tf_journal_release(&c.j);
	tf_manifest_release(&peek);
	free(c.prev);
	free(c.tiup_home);
	tf_secret_free(c.pass);
	return r;
}
