/* tiferry install, the key-tightening steps (tighten-keys after tls-enable, tighten-keys-pd after
 * scale-out-pd): TiUP writes every node's <deploy_dir>/tls/<role>.pem with mode 0644 and keeps
 * copies in the control host's config-cache/ (pkg/cluster/task/tls.go TLSCert.Execute,
 * pkg/utils/ioutil.go SaveFileWithBackup, v1.16.1; docs/tiup.md §8). These steps make every key
 * 0600 and owned by the deploy user on each host, and remove the copies. */
#include "installer/enable_int.h"
#include "installer/enable_keys.h"
#include "cluster/ssh.h"
#include "common/log.h"
#include "installer/audit.h"
#include "installer/view.h"
#include "manifests/yamldoc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DIRS 64

char *tf_keys_privileged_command(const char *tls_dir, const char *user)
{
	char *d = tf_ssh_quote(tls_dir), *u = tf_ssh_quote(user), *cmd = NULL;

	/* The one remote command of these steps that needs root where the deploy user is not: the
	 * caller runs it through sudo (tf_ssh_sudo). find's `{} +` form makes find exit non-zero
	 * when chown or chmod fails. */
	if (d != NULL && u != NULL &&
	    asprintf(
	        &cmd,
	        "test ! -d %s || find %s -maxdepth 1 -type f -name '*.pem' -exec chown %s {} + "
	        "-exec chmod 0600 {} +",
	        d, d, u) < 0)
		cmd = NULL;
	free(d);
	free(u);
	return cmd;
}

char *tf_keys_list_command(const char *const *tls_dirs, size_t n)
{
	char *cmd = NULL, *q, *p;
	size_t i;

	if (asprintf(&cmd, "for d in") < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((q = tf_ssh_quote(tls_dirs[i])) == NULL || asprintf(&p, "%s %s", cmd, q) < 0) {
			free(q);
			free(cmd);
			return NULL;
		}
		free(q);
		free(cmd);
		cmd = p;
	}
	if (asprintf(&p,
	             "%s; do test -d \"$d\" && find \"$d\" -maxdepth 1 -name '*.pem' -printf "
	             "'TF-KEY %%m %%u %%y %%p\\n'; done; echo TF-END",
	             cmd) < 0)
		p = NULL;
	free(cmd);
	return p;
}

int tf_keys_judge(const char *out, const char *user, size_t *nkeys, char *bad, size_t blen)
{
	const char *p = out, *nl;
	int seen_end = 0;
	size_t n = 0;

	bad[0] = '\0';
	for (; p != NULL && *p != '\0'; p = *nl ? nl + 1 : nl) {
		char line[PATH_MAX + 200], *f[4] = {NULL}, *save = NULL, *end = NULL;
		unsigned long mode;
		size_t len, k;

		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		if (len >= sizeof(line))
			continue;
		memcpy(line, p, len);
		line[len] = '\0';
		if (strcmp(line, "TF-END") == 0) {
			seen_end = 1;
			continue;
		}
		/* "TF-KEY <octal mode> <owner> <find type> <path>" (the path may hold spaces) */
		if (strncmp(line, "TF-KEY ", 7) != 0)
			continue;
		f[0] = strtok_r(line + 7, " ", &save);
		for (k = 1; k < 3 && f[k - 1] != NULL; k++)
			f[k] = strtok_r(NULL, " ", &save);
		f[3] = f[0] && f[1] && f[2] ? strtok_r(NULL, "", &save) : NULL;
		if (f[3] == NULL)
			continue;
		mode = strtoul(f[0], &end, 8);
		if (end == f[0] || *end != '\0')
			continue;
		n++;
		if (bad[0] != '\0')
			continue;
		if (strcmp(f[2], "f") != 0)
			snprintf(bad, blen, "%s is not a regular file (find type %s)", f[3], f[2]);
		else if ((mode & 077) != 0)
			snprintf(bad, blen, "%s has mode %04lo", f[3], mode);
		else if (strcmp(f[1], user) != 0)
			snprintf(bad, blen, "%s is owned by %s, not the deploy user %s", f[3], f[1],
			         user);
	}
	if (!seen_end) {
		snprintf(bad, blen, "the host's answer is cut short");
		return -1;
	}
	*nkeys = n;
	return bad[0] ? -1 : 0;
}

/* ---- the control host ---- */

/* Removes the node key copies (and SaveFileWithBackup's dated copies of them) from
 * config-cache/: TiUP writes them there only to send them (TLSCert.Execute), reads them never
 * again, and writes new ones at the next `tls enable` or scale-out. */
static int clean_cache(const struct tf_enable *e, size_t *removed, struct tf_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	const char *slash = strrchr(e->tls_dir, '/');
	DIR *d;
	struct dirent *de;

	*removed = 0;
	if (slash == NULL)
		return tf_err_set(err, TF_E_INPUT, "bad tls folder '%s'", e->tls_dir);
	snprintf(dir, sizeof(dir), "%.*s/config-cache", (int)(slash - e->tls_dir), e->tls_dir);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : tf_err_sys(err, TF_E_IO, "open '%s'", dir);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		struct stat st;

		if (l < 5 || strcmp(de->d_name + l - 4, ".pem") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlink(path) != 0) {
			int saved = errno;

			closedir(d);
			errno = saved;
			return tf_err_sys(err, TF_E_IO, "remove '%s'", path);
		}
		(*removed)++;
	}
	closedir(d);
	return 0;
}

/* TiUP writes its own CA key and client key 0644 when it makes them (cacert.go, through
 * SaveFileWithBackup); tiferry's place-certificates writes 0600. Tighten whatever is looser. */
static int tighten_control_keys(const struct tf_enable *e, size_t *changed, struct tf_err *err)
{
	static const char *const names[] = {"ca.pem", "client.pem", "client.pfx"};
	char path[PATH_MAX + 32];
	struct stat st;
	size_t i;

	*changed = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", e->tls_dir, names[i]);
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0)
			continue;
		if (chmod(path, 0600) != 0)
			return tf_err_sys(err, TF_E_IO, "chmod 0600 '%s'", path);
		(*changed)++;
	}
	return 0;
}

/* ---- the hosts ---- */

struct khost {
	const char *host;
	unsigned port;
	const char *dirs[MAX_DIRS]; /* tls folders */
	char *owned[MAX_DIRS];      /* what dirs points to */
	size_t ndirs;
	size_t nkeys;
};

struct krun {
	const struct tf_enable *e;
	const char *step;
	const char *user;
	struct khost *hosts;
	size_t nhosts;
};

static void audit_command(const struct krun *k, const char *host, const char *cmd, int code)
{
	struct tf_audit_entry ae = {.step = k->step, .event = "command", .host = host};
	struct tf_err aerr;

	ae.command = cmd;
	ae.exit_code = code;
	if (k->e->state_dir != NULL && tf_audit_append(k->e->state_dir, &ae, &aerr) != 0)
		tf_log_warn("audit log: %s", aerr.msg);
}

static int tighten_host(void *arg, size_t i, struct tf_err *err)
{
	struct krun *k = arg;
	struct khost *h = &k->hosts[i];
	struct tf_ssh_opts so;
	struct tf_ssh *s = NULL;
	struct tf_ssh_result res = {0};
	char id[300], bad[PATH_MAX + 200], *cmd = NULL, *shown = NULL;
	size_t d;
	int r;

	snprintf(id, sizeof(id), "%s:%u", h->host, h->port ? h->port : 22);
	tf_view_host(k->e->view, id, TF_VIEW_RUNNING, "tightening %zu tls folder%s", h->ndirs,
	             h->ndirs == 1 ? "" : "s");
	memset(&so, 0, sizeof(so));
	so.host = h->host;
	so.port = h->port;
	so.user = k->user;
	so.identity = k->e->ssh_key;
	so.known_hosts = k->e->known_hosts;
	so.pin_unknown = k->e->pin_unknown_hosts;
	if ((r = tf_ssh_connect(&so, &s, err)) != 0) {
		tf_err_prefix(err, "%s: cannot reach the host to tighten its keys", id);
		goto out;
	}
	for (d = 0; d < h->ndirs; d++) {
		if ((cmd = tf_keys_privileged_command(h->dirs[d], k->user)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		/* chown needs root where the deploy user is not: through sudo, as TiUP runs its
		 * privileged commands (the audit shows the sudo form) */
		if ((shown = tf_ssh_sudo_cmd(cmd)) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		if ((r = tf_ssh_sudo(s, cmd, 0, &res, err)) != 0) {
			if (r == TF_E_SSH_SUDO)
				audit_command(k, id, shown, res.status);
			tf_err_prefix(err, "%s: tightening %s", id, h->dirs[d]);
			goto out;
		}
		audit_command(k, id, shown, res.status);
		if (res.status != 0) {
			r = tf_err_set(err, TF_E_FAIL, "%s: `%s` exited %d: %.300s", id, shown,
			               res.status, res.errout ? res.errout : "");
			goto out;
		}
		tf_ssh_result_release(&res);
		free(cmd);
		free(shown);
		cmd = shown = NULL;
	}
	/* Read back: a key that stays readable by others is reported, never assumed fixed. */
	if ((cmd = tf_keys_list_command(h->dirs, h->ndirs)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_ssh_run(s, cmd, 0, &res, err)) != 0) {
		tf_err_prefix(err, "%s: reading the key modes back", id);
		goto out;
	}
	if (tf_keys_judge(res.out, k->user, &h->nkeys, bad, sizeof(bad)) != 0) {
		r = tf_err_set(err, TF_E_FAIL, "%s: after tightening, %s", id, bad);
		goto out;
	}
	r = 0;
out:
	if (r == 0)
		tf_view_host(k->e->view, id, TF_VIEW_OK, "%zu private key%s 0600, owned by %s",
		             h->nkeys, h->nkeys == 1 ? "" : "s", k->user);
	else
		tf_view_host(k->e->view, id, TF_VIEW_FAILED, "%s", err->msg);
	tf_ssh_result_release(&res);
	free(cmd);
	free(shown);
	tf_ssh_free(s);
	return r;
}

static char *abs_dir(const char *user, const char *dir, const char *tail)
{
	char *p = NULL;

	/* TiUP's spec.Abs: a relative folder is under the deploy user's home */
	if (dir[0] == '/' ? asprintf(&p, "%s%s", dir, tail) < 0
	                  : asprintf(&p, "/home/%s/%s%s", user, dir, tail) < 0)
		return NULL;
	return p;
}

static struct khost *host_of(struct krun *k, const char *host, unsigned port)
{
	size_t i;

	for (i = 0; i < k->nhosts; i++)
		if (strcmp(k->hosts[i].host, host) == 0)
			return &k->hosts[i];
	k->hosts[k->nhosts].host = host;
	k->hosts[k->nhosts].port = port;
	return &k->hosts[k->nhosts++];
}

static int add_dir(struct khost *h, const char *user, const char *dir, struct tf_err *err)
{
	char *p;
	size_t i;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	if ((p = abs_dir(user, dir, "/tls")) == NULL)
		return tf_err_nomem(err);
	for (i = 0; i < h->ndirs; i++)
		if (strcmp(h->dirs[i], p) == 0) {
			free(p);
			return 0;
		}
	if (h->ndirs == MAX_DIRS) {
		free(p);
		return tf_err_set(err, TF_E_INPUT, "%s: more than %d tls folders", h->host,
		                  MAX_DIRS);
	}
	h->owned[h->ndirs] = p;
	h->dirs[h->ndirs++] = p;
	return 0;
}

/* The monitored agents' deploy folder from meta.yaml (blackbox_exporter's key is under it):
 * topology.monitored.deploy_dir, else TiUP's default <global deploy_dir>/monitor-<port>. */
static char *monitored_dir(const struct tf_enable *e)
{
	struct tf_yaml *y = NULL;
	const struct tf_yaml *topo, *mon;
	struct tf_err ignore;
	const char *dd, *gd;
	uint64_t port = 9100;
	char *p = NULL;

	if (tf_yaml_load_file(e->meta_path, &y, &ignore) != 0)
		return NULL;
	topo = tf_yaml_get(y, "topology");
	mon = tf_yaml_get(topo, "monitored");
	if ((dd = tf_yaml_get_str(mon, "deploy_dir")) != NULL) {
		p = strdup(dd);
	} else {
		gd = tf_yaml_get_str(tf_yaml_get(topo, "global"), "deploy_dir");
		if (tf_yaml_get_u64(mon, "node_exporter_port", 9100, &port, "meta.yaml", &ignore) !=
		    0)
			port = 9100;
		if (asprintf(&p, "%s/monitor-%llu", gd ? gd : "deploy", (unsigned long long)port) <
		    0)
			p = NULL;
	}
	tf_yaml_free(y);
	return p;
}

static int in_ids(const char *list, const char *id)
{
	size_t n = strlen(id);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, id, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return 0;
}

/* only: NULL for every host of meta.yaml, else a "host:port,..." list of PD ids: their hosts. */
static int tighten(struct tf_enable *e, const char *step, const char *only, struct tf_err *err)
{
	struct tf_topology *t = NULL;
	struct krun k;
	struct tf_err *results = NULL;
	char *mon = NULL, d[600];
	size_t i, removed = 0, changed = 0, nkeys = 0;
	int r;

	memset(&k, 0, sizeof(k));
	if ((r = tf_enable_load_meta(e, &t, err)) != 0)
		goto out;
	k.e = e;
	k.step = step;
	k.user = t->user;
	if ((k.hosts = calloc(t->ninstances ? t->ninstances : 1, sizeof(*k.hosts))) == NULL ||
	    (mon = monitored_dir(e)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];
		struct khost *h;

		if (only != NULL) {
			char id[TF_TOPO_ID_MAX];

			if (strcmp(in->role, "pd") != 0)
				continue;
			snprintf(id, sizeof(id), "%s:%llu", in->host,
			         (unsigned long long)(tf_topo_port(in, "client_port")
			                                  ? tf_topo_port(in, "client_port")
			                                  : 2379));
			if (!in_ids(only, id))
				continue;
		}
		h = host_of(&k, in->host, (unsigned)in->ssh_port);
		if ((r = add_dir(h, t->user, in->deploy_dir, err)) != 0 ||
		    (r = add_dir(h, t->user, mon, err)) != 0)
			goto out;
	}
	if (k.nhosts > 0) {
		if ((results = calloc(k.nhosts, sizeof(*results))) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		if ((r = tf_ssh_fanout(k.nhosts, e->parallel, tighten_host, &k, results, err)) !=
		    0) {
			for (i = 0; i < k.nhosts; i++)
				if (results[i].code != 0)
					tf_log_info("%s: %s", step, results[i].msg);
			goto out;
		}
	}
	for (i = 0; i < k.nhosts; i++)
		nkeys += k.hosts[i].nkeys;
	if ((r = clean_cache(e, &removed, err)) != 0 ||
	    (r = tighten_control_keys(e, &changed, err)) != 0)
		goto out;
	snprintf(d, sizeof(d),
	         "%zu private keys on %zu hosts are 0600 and owned by %s; %zu node key copies "
	         "removed from config-cache/; %zu control-host keys tightened",
	         nkeys, k.nhosts, t->user, removed, changed);
	tf_log_info("%s: %s", step, d);
	tf_enable_audit_note(e, step, NULL, d);
	r = 0;
out:
	for (i = 0; k.hosts != NULL && i < k.nhosts; i++) {
		size_t j;

		for (j = 0; j < k.hosts[i].ndirs; j++)
			free(k.hosts[i].owned[j]);
	}
	free(k.hosts);
	free(results);
	free(mon);
	tf_topology_free(t);
	return r;
}

int tf_enable_tighten_keys(struct tf_enable *e, struct tf_err *err)
{
	return tighten(e, "tighten-keys", NULL, err);
}

int tf_enable_tighten_keys_pd(struct tf_enable *e, struct tf_err *err)
{
	const char *removed = tf_journal_get(e->journal, KEY_REMOVED);

	if (removed == NULL || removed[0] == '\0') {
		tf_log_info("tighten-keys-pd: no PD member was scaled out");
		return 0;
	}
	return tighten(e, "tighten-keys-pd", removed, err);
}
