/* tiferry verify's host checks: each node's tls/ folder as its host reported it over SSH, and
 * the control host's TiUP versions and mirror against the install journal (the judging is in
 * verify_host.c). */
#include "installer/verify_int.h"
#include "common/fsutil.h"
#include "common/paths.h"
#include "installer/install_plan.h"
#include "common/proc.h"
#include "crypto/digest.h"
#include "mirror/tiupstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define TIUP_VERSION_TIMEOUT_S 120

static int node_ready(struct job *j, struct tf_vcheck *c, int first)
{
	struct endpoint *ep = j->ep;

	if (!j->run->topo_enable_tls) {
		tf_vcheck_set(c, TF_V_SKIP, NULL,
		              "TLS not enabled (meta.yaml has no global.enable_tls)");
		return 0;
	}
	if (ep->node_ran)
		return 1;
	if (first)
		tf_vcheck_set(c, TF_V_FAIL, NULL, "no answer from %s over SSH: %s", ep->hostport,
		              ep->node_error[0] ? ep->node_error : "not asked");
	else
		tf_vcheck_set(c, TF_V_SKIP, NULL,
		              "not checked: no answer from %s (see node.tls-dir)", ep->hostport);
	return 0;
}

void tf_vcheck_node_dir(struct job *j, struct tf_vcheck *c)
{
	const struct tf_vhost_node *n = &j->ep->node;
	char d[400];
	cJSON *e, *files;
	enum tf_vstatus s;
	size_t i;

	if (!node_ready(j, c, 1))
		return;
	s = tf_vhost_judge_dir(n, d, sizeof(d));
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "deploy_dir", j->ep->in->deploy_dir);
	cJSON_AddBoolToObject(e, "tls_dir", n->dir_present);
	files = cJSON_AddArrayToObject(e, "files");
	for (i = 0; n->dir_present && i < 3; i++) {
		cJSON *f = cJSON_CreateObject();
		char mode[8];

		snprintf(mode, sizeof(mode), "%04o", n->files[i].mode);
		cJSON_AddStringToObject(f, "name", n->files[i].name);
		cJSON_AddBoolToObject(f, "present", n->files[i].present);
		if (n->files[i].present) {
			cJSON_AddStringToObject(f, "mode", mode);
			cJSON_AddStringToObject(f, "type", n->files[i].type);
		}
		cJSON_AddItemToArray(files, f);
	}
	tf_vcheck_set(c, s, e, "%s: %s", j->ep->in->deploy_dir, d);
}

void tf_vcheck_node_key_mode(struct job *j, struct tf_vcheck *c)
{
	const struct tf_vhost_file *k = &j->ep->node.files[TF_VHOST_KEY];
	const char *user;
	char d[300], mode[8];
	cJSON *e = NULL;
	enum tf_vstatus s;

	if (!node_ready(j, c, 0))
		return;
	user = j->run->topo != NULL ? j->run->topo->user : NULL;
	s = tf_vhost_judge_key_mode(&j->ep->node, user, d, sizeof(d));
	if (k->present) {
		e = cJSON_CreateObject();
		snprintf(mode, sizeof(mode), "%04o", k->mode);
		cJSON_AddStringToObject(e, "file", k->name);
		cJSON_AddStringToObject(e, "mode", mode);
		cJSON_AddStringToObject(e, "owner", k->owner);
	}
	/* TiUP writes every node key 0644 (docs/tiup.md §8): say what fixes it */
	if (s == TF_V_FAIL)
		tf_vcheck_set(c, s, e,
		              "%s; fix: on the host, chmod 0600 %s/tls/%s && chown %s %s/tls/%s "
		              "(tiferry install does this in its tighten-keys step)",
		              d, j->ep->in->deploy_dir, k->name, user ? user : "<deploy user>",
		              j->ep->in->deploy_dir, k->name);
	else
		tf_vcheck_set(c, s, e, "%s", d);
}

void tf_vcheck_node_cert(struct job *j, struct tf_vcheck *c)
{
	struct tf_vhost_cert f;
	char d[600];
	cJSON *e = NULL;
	enum tf_vstatus s;

	if (!node_ready(j, c, 0))
		return;
	s = tf_vhost_judge_cert(&j->ep->node, j->run->ca_file, j->run->ca_sha256, &f, d, sizeof(d));
	if (f.x509.sha256[0] != '\0') {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "sha256", f.x509.sha256);
		cJSON_AddStringToObject(e, "subject", f.x509.subject);
		cJSON_AddStringToObject(e, "issuer", f.x509.issuer);
		cJSON_AddBoolToObject(e, "chains_to_ca", f.chain_ok);
		cJSON_AddStringToObject(e, "ca_sha256", j->run->ca_sha256);
		cJSON_AddStringToObject(e, "node_ca_sha256", f.node_ca_sha256);
		cJSON_AddBoolToObject(e, "key_matches", f.key_matches);
		cJSON_AddStringToObject(e, "key_public_sha256", j->ep->node.key_pub);
		cJSON_AddStringToObject(e, "cert_public_sha256", j->ep->node.cert_pub);
	}
	tf_vcheck_set(c, s, e, "%s", d);
}

/* Control-host checks compare with the install journal; without one they are "skip". */
static int control_ready(struct job *j, struct tf_vcheck *c)
{
	struct run *rn = j->run;

	if (rn->o->cluster == NULL) {
		tf_vcheck_set(c, TF_V_SKIP, NULL,
		              "needs --cluster (the install journal is per cluster)");
		return 0;
	}
	if (!rn->o->host_checks) {
		tf_vcheck_set(c, TF_V_SKIP, NULL, "host checks not asked");
		return 0;
	}
	if (rn->journal_error[0] != '\0') {
		tf_vcheck_set(c, TF_V_FAIL, NULL, "install journal: %s", rn->journal_error);
		return 0;
	}
	if (!rn->journal_found) {
		tf_vcheck_set(c, TF_V_SKIP, NULL,
		              "no install journal in %s: nothing installed to compare with",
		              rn->state_dir);
		return 0;
	}
	return 1;
}

/* which: 0 TiUP itself, 1 the cluster component: the bundle's binary, run by its path
 * (`tiup --binpath <bin> cluster --version`), since `tiup cluster:<v>` fails once the restored
 * mirror lacks <v> (TiUP issue #594, docs/tiup.md §2). The binary is the install journal's
 * cluster_binary, else <TIUP_HOME>/components/cluster/<v>/tiup-cluster. */
void tf_vcheck_tiup_version(struct job *j, struct tf_vcheck *c, size_t which)
{
	struct run *rn = j->run;
	const char *comp = which ? "cluster" : "tiup", *want;
	cJSON *vs = NULL, *e;
	const cJSON *w;
	struct tf_proc_result res;
	struct tf_err err = {0};
	char bin[4200], what[4300], found[64], d[600], env_home[4200];
	const char *argv[6] = {"tiup", "--version", NULL, NULL, NULL, NULL};
	const char *why = NULL;
	char *home = NULL;
	const char *envs[2] = {NULL, NULL};
	struct tf_proc_opts po;
	enum tf_vstatus s;

	if (!control_ready(j, c))
		return;
	if (rn->tiup_versions == NULL) {
		tf_vcheck_set(
		    c, TF_V_SKIP, NULL,
		    "no install journal records the bundle's TiUP versions (tiup_versions)");
		return;
	}
	vs = cJSON_Parse(rn->tiup_versions);
	w = cJSON_GetObjectItemCaseSensitive(vs, comp);
	if (!cJSON_IsString(w) || w->valuestring[0] == '\0') {
		tf_vcheck_set(c, TF_V_SKIP, NULL, "the bundle brought no %s version", comp);
		cJSON_Delete(vs);
		return;
	}
	want = w->valuestring;
	if (which) {
		const char *h = rn->o->tiup_home;

		if (rn->cluster_binary != NULL && rn->cluster_binary[0] == '/') {
			snprintf(bin, sizeof(bin), "%s", rn->cluster_binary);
			why = "the install journal's cluster_binary";
		} else if (h == NULL && tf_paths_tiup_home(&home, &err) != 0) {
			tf_vcheck_set(c, TF_V_FAIL, NULL, "TiUP's home: %s", err.msg);
			cJSON_Delete(vs);
			return;
		} else {
			(void)tf_install_cluster_binary(NULL, h ? h : home, want, bin, sizeof(bin));
			why = "TiUP's install folder for the bundle's version (no cluster_binary "
			      "in the "
			      "journal)";
		}
		free(home);
		argv[1] = "--binpath";
		argv[2] = bin;
		argv[3] = "cluster";
		argv[4] = "--version";
	}
	if (which)
		snprintf(what, sizeof(what), "tiup --binpath %s cluster --version", bin);
	else
		snprintf(what, sizeof(what), "tiup --version");
	memset(&po, 0, sizeof(po));
	po.timeout_s = TIUP_VERSION_TIMEOUT_S;
	if (rn->o->tiup_home != NULL) {
		snprintf(env_home, sizeof(env_home), "TIUP_HOME=%s", rn->o->tiup_home);
		envs[0] = env_home;
		po.env_set = envs;
	}
	memset(&res, 0, sizeof(res));
	if (tf_proc_run(argv, &po, &res, &err) != 0) {
		tf_vcheck_set(c, TF_V_FAIL, NULL, "cannot run '%s': %s", what, err.msg);
		cJSON_Delete(vs);
		return;
	}
	s = tf_vhost_judge_version(what, res.out, res.timed_out ? -1 : res.status, want, found,
	                           sizeof(found), d, sizeof(d));
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "command", what);
	cJSON_AddStringToObject(e, "reported", found);
	cJSON_AddStringToObject(e, "bundle", want);
	if (why != NULL) {
		cJSON_AddStringToObject(e, "binary", bin);
		cJSON_AddStringToObject(e, "binary_from", why);
	}
	if (rn->bundle_id != NULL)
		cJSON_AddStringToObject(e, "bundle_id", rn->bundle_id);
	tf_vcheck_set(c, s, e, "%s", d);
	tf_proc_result_release(&res);
	cJSON_Delete(vs);
}

static void add_root_hash(cJSON *e, const char *key, const struct tf_tiup_state *st)
{
	char hex[TF_SHA256_HEX];

	if (st->has_root && tf_sha256_hex(st->root, st->root_len, hex) == 0)
		cJSON_AddStringToObject(e, key, hex);
	else
		cJSON_AddNullToObject(e, key);
}

void tf_vcheck_mirror(struct job *j, struct tf_vcheck *c)
{
	struct run *rn = j->run;
	struct tf_tiup_state before, now;
	struct tf_err err = {0};
	char *path = NULL, d[600];
	cJSON *e;
	enum tf_vstatus s;

	if (!control_ready(j, c))
		return;
	memset(&before, 0, sizeof(before));
	memset(&now, 0, sizeof(now));
	if ((path = tf_path_join(rn->state_dir, "mirror-before")) == NULL) {
		tf_vcheck_set(c, TF_V_FAIL, NULL, "out of memory");
		return;
	}
	if (access(path, F_OK) != 0) {
		tf_vcheck_set(c, TF_V_SKIP, NULL, "no mirror recorded before the install (%s)",
		              path);
		goto out;
	}
	if (tf_tiup_state_load(path, &before, &err) != 0) {
		tf_vcheck_set(c, TF_V_FAIL, NULL, "the mirror recorded before the install: %s",
		              err.msg);
		goto out;
	}
	if (tf_tiup_state_record(rn->o->tiup_home, &now, &err) != 0) {
		tf_vcheck_set(c, TF_V_FAIL, NULL, "TiUP's mirror now: %s", err.msg);
		goto out;
	}
	s = tf_vhost_judge_mirror(&before, &now, rn->restore_mirror, d, sizeof(d));
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "mirror_expected",
	                        rn->restore_mirror ? rn->restore_mirror
	                                           : tf_tiup_state_mirror(&before));
	cJSON_AddStringToObject(e, "expected_because",
	                        rn->restore_mirror ? "the bundle's tiup.restore address"
	                                           : "recorded before the install");
	cJSON_AddStringToObject(e, "mirror_before", tf_tiup_state_mirror(&before));
	cJSON_AddStringToObject(e, "mirror_now", tf_tiup_state_mirror(&now));
	add_root_hash(e, "root_json_sha256_before", &before);
	add_root_hash(e, "root_json_sha256_now", &now);
	tf_vcheck_set(c, s, e, "%s", d);
out:
	tf_tiup_state_release(&before);
	tf_tiup_state_release(&now);
	free(path);
}

/* TiUP leaves a copy of every node key it issued in clusters/<name>/config-cache/, mode 0644
 * (pkg/cluster/task/tls.go TLSCert.Execute, SaveFileWithBackup); it never reads them back. */
void tf_vcheck_config_cache(struct job *j, struct tf_vcheck *c)
{
	struct run *rn = j->run;
	char dir[PATH_MAX], path[PATH_MAX + 256], first[300] = "";
	const char *slash;
	size_t nkeys = 0, nloose = 0;
	struct dirent *de;
	struct stat st;
	cJSON *e;
	DIR *d;

	if (rn->tls_dir == NULL || (slash = strrchr(rn->tls_dir, '/')) == NULL) {
		tf_vcheck_set(c, TF_V_SKIP, NULL, "needs --cluster (TiUP's cluster folder)");
		return;
	}
	snprintf(dir, sizeof(dir), "%.*s/config-cache", (int)(slash - rn->tls_dir), rn->tls_dir);
	if ((d = opendir(dir)) == NULL) {
		tf_vcheck_set(c, TF_V_PASS, NULL, "no %s: no node key copies", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".pem") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0)
			continue;
		nkeys++;
		if ((st.st_mode & 077) != 0 && nloose++ == 0)
			snprintf(first, sizeof(first), "%s has mode %04o", de->d_name,
			         (unsigned)(st.st_mode & 07777));
	}
	closedir(d);
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "folder", dir);
	cJSON_AddNumberToObject(e, "key_copies", (double)nkeys);
	cJSON_AddNumberToObject(e, "readable_by_others", (double)nloose);
	if (nloose > 0)
		tf_vcheck_set(c, TF_V_FAIL, e,
		              "%zu node key cop%s in %s readable by others (%s): TiUP leaves them "
		              "and never reads them back; fix: rm %s/*.pem (tiferry install does "
		              "this in its tighten-keys step)",
		              nloose, nloose == 1 ? "y" : "ies", dir, first, dir);
	else
		tf_vcheck_set(c, TF_V_PASS, e, "%zu node key copies in %s readable by others",
		              nkeys, dir);
}
