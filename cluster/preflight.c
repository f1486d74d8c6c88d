/* Preflight on every host over SSH: read-only checks everywhere first, then the one change it
 * may make (stopping duplicate node_exporter units) only when all hosts passed. One file: the
 * probe's command, the parsing of its output and both phases share the run and host state
 * (struct run, struct host) that no other module should see. */
#include "cluster/preflight.h"
#include "cluster/topology.h"
#include "common/progress.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DUPS 16

struct host {
	const char *addr;
	unsigned port;
	char name[TF_TOPO_ID_MAX];
	size_t *inst; /* indexes into topo->instances of the instances on this host */
	size_t ninst;
	struct tf_ssh *ssh;
	struct tf_preflight_item *items;
	size_t nitems, cap;
	int nomem;
	char *dups[MAX_DUPS]; /* duplicate units to stop (owned) */
	size_t ndups;
	size_t dup_item; /* index of the node_exporter item */
};

struct run {
	const struct tf_preflight_params *p;
	const char *units_dir;
	uint64_t ne_port, min_free_kb;
	struct host *hosts;
	size_t nhosts;
	int *removing; /* per instance: a PD node to remove */
	int *leader;   /* per instance: 1 leader, 0 follower, -1 unknown */
};

static void add_item(struct host *h, const char *check, enum tf_check_status st, const char *fmt,
                     ...) TF_PRINTF(4, 5);

static void add_item(struct host *h, const char *check, enum tf_check_status st, const char *fmt,
                     ...)
{
	struct tf_preflight_item *it;
	va_list ap;
	int n;

	if (h->nitems == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 8;
		struct tf_preflight_item *p = realloc(h->items, ncap * sizeof(*p));

		if (p == NULL) {
			h->nomem = 1;
			return;
		}
		h->items = p;
		h->cap = ncap;
	}
	it = &h->items[h->nitems];
	it->check = check;
	it->status = st;
	it->host = strdup(h->name);
	va_start(ap, fmt);
	n = vasprintf(&it->detail, fmt, ap);
	va_end(ap);
	if (n < 0)
		it->detail = NULL;
	if (it->host == NULL || it->detail == NULL) {
		free(it->host);
		free(it->detail);
		h->nomem = 1;
		return;
	}
	h->nitems++;
}

static void set_item(struct host *h, size_t i, enum tf_check_status st, const char *fmt, ...)
    TF_PRINTF(4, 5);

static void set_item(struct host *h, size_t i, enum tf_check_status st, const char *fmt, ...)
{
	char *d = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&d, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->nomem = 1;
		return;
	}
	free(h->items[i].detail);
	h->items[i].detail = d;
	h->items[i].status = st;
}

/* Runs cmd; a failure to run it (not its exit status) becomes a failed item of check. */
static int run_cmd(struct host *h, const char *check, const char *cmd, struct tf_ssh_result *res)
{
	struct tf_err e;

	if (tf_ssh_run(h->ssh, cmd, 0, res, &e) != 0) {
		add_item(h, check, TF_CHECK_FAIL, "%s", e.msg);
		return -1;
	}
	return 0;
}

static const char *first_line(const char *s, char *buf, size_t n)
{
	size_t i = 0;

	while (s[i] && s[i] != '\n' && i + 1 < n) {
		buf[i] = s[i];
		i++;
	}
	buf[i] = '\0';
	return buf;
}

/* A unit state that can hold the port now or after a reboot. */
static int unit_live(const char *active, const char *enabled)
{
	int running = active[0] != '\0' && strcmp(active, "inactive") != 0 &&
	              strcmp(active, "failed") != 0 && strcmp(active, "unknown") != 0;
	int on = strncmp(enabled, "enabled", 7) == 0 || strcmp(enabled, "linked") == 0 ||
	         strcmp(enabled, "alias") == 0;

	return running || on;
}

/* TiUP names the unit of the exporter on port P "node_exporter-P.service" (docs/tiup.md
 * §5). Another unit whose name carries the same port, or no port, is a duplicate: it
 * fights for the port and makes TiUP's wait on it time out. A unit for another port belongs to
 * another cluster and is left alone. */
static int is_duplicate(const char *unit, uint64_t port)
{
	const char *p = unit + strlen("node_exporter-");
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)*p))
		return 1;
	n = strtoull(p, &end, 10);
	if (n != port)
		return 0;
	return strcmp(end, ".service") != 0;
}

static char *units_cmd(struct run *run)
{
	char *qdir = tf_ssh_quote(run->units_dir), *cmd = NULL;

	if (qdir != NULL &&
	    asprintf(&cmd,
	             "cd %s 2>/dev/null || exit 0; for u in node_exporter-*.service; do "
	             "[ -e \"$u\" ] || continue; printf '%%s\\t%%s\\t%%s\\n' \"$u\" "
	             "\"$(systemctl is-active \"$u\" 2>/dev/null)\" "
	             "\"$(systemctl is-enabled \"$u\" 2>/dev/null)\"; done",
	             qdir) < 0)
		cmd = NULL;
	free(qdir);
	return cmd;
}

/* out: "unit<TAB>active-state<TAB>enabled-state" lines from units_cmd. */
static void check_units(struct run *run, struct host *h, char *out, int status, const char *errout)
{
	char *line, *save = NULL, found[1024] = "", other[512] = "", expected[64];
	enum tf_check_status st;

	snprintf(expected, sizeof(expected), "node_exporter-%llu.service",
	         (unsigned long long)run->ne_port);
	if (status != 0) {
		char l[300];

		add_item(h, "node_exporter", TF_CHECK_FAIL,
		         "cannot list units in '%s' (exit %d): %s", run->units_dir, status,
		         first_line(errout, l, sizeof(l)));
		return;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *unit = line, *active = strchr(line, '\t'), *enabled;
		size_t len = strlen(found);

		/* only what the glob node_exporter-*.service can list: a host's output is not
		 * trusted to be that (is_duplicate reads past the prefix) */
		if (active == NULL || (enabled = strchr(active + 1, '\t')) == NULL ||
		    strncmp(unit, "node_exporter-", strlen("node_exporter-")) != 0)
			continue;
		*active++ = '\0';
		*enabled++ = '\0';
		if (strcmp(unit, expected) == 0)
			continue;
		if (!is_duplicate(unit, run->ne_port)) {
			size_t ol = strlen(other);

			snprintf(other + ol, sizeof(other) - ol, "%s%s", ol ? ", " : "", unit);
			continue;
		}
		if (!unit_live(active, enabled))
			continue;
		snprintf(found + len, sizeof(found) - len, "%s%s (%s, %s)", len ? ", " : "", unit,
		         active[0] ? active : "?", enabled[0] ? enabled : "?");
		if (h->ndups < MAX_DUPS && (h->dups[h->ndups] = strdup(unit)) != NULL)
			h->ndups++;
	}
	if (h->ndups == 0) {
		add_item(h, "node_exporter", TF_CHECK_OK, "no duplicate of %s%s%s", expected,
		         other[0] ? "; other ports left alone: " : "", other);
		return;
	}
	st = run->p->stop_duplicates ? TF_CHECK_WARN : TF_CHECK_FAIL;
	h->dup_item = h->nitems;
	add_item(h, "node_exporter", st, "duplicate units on port %llu: %s; %s",
	         (unsigned long long)run->ne_port, found,
	         run->p->stop_duplicates ? "to be stopped and disabled (the plan allows it)"
	                                 : "the plan does not allow stopping them");
}

/* "Available" of a `df -Pk` line: the field before the capacity ("NN%"), so that a file system
 * name with spaces still parses. */
static int df_avail(const char *line, unsigned long long *avail)
{
	char buf[1024], *tok, *save = NULL, *prev = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		size_t n = strlen(tok);

		if (n > 1 && tok[n - 1] == '%' && prev != NULL) {
			char *end;

			errno = 0;
			*avail = strtoull(prev, &end, 10);
			return errno == 0 && end != prev && *end == '\0' ? 0 : -1;
		}
		prev = tok;
	}
	return -1;
}

/* The free space of each deploy folder of the host, or of its nearest existing parent (the
 * folder need not exist yet): "dir<TAB><df -Pk line>" lines. NULL when the host has none (then
 * *none is set) or out of memory. */
static char *disk_cmd(struct run *run, struct host *h, int *none)
{
	static const char body[] = "; do e=$d; while [ ! -e \"$e\" ]; do e=$(dirname \"$e\"); "
	                           "done; printf '%s\\t' \"$d\"; df -Pk \"$e\" | tail -n 1; done";
	const struct tf_topology *t = run->p->topo;
	char *cmd = strdup("for d in"), *p;
	size_t i, j, len = strlen("for d in");
	int nd = 0;

	*none = 0;
	for (i = 0; cmd != NULL && i < h->ninst; i++) {
		const char *d = t->instances[h->inst[i]].deploy_dir;
		char *q;
		int seen = 0;

		if (d == NULL || d[0] == '\0')
			continue;
		for (j = 0; j < i; j++) {
			const char *o = t->instances[h->inst[j]].deploy_dir;

			seen |= o != NULL && strcmp(o, d) == 0;
		}
		if (seen)
			continue;
		if ((q = tf_ssh_quote(d)) == NULL ||
		    (p = realloc(cmd, len + strlen(q) + 2)) == NULL) {
			free(q);
			free(cmd);
			return NULL;
		}
		cmd = p;
		len += (size_t)sprintf(cmd + len, " %s", q);
		free(q);
		nd++;
	}
	if (cmd == NULL || nd == 0 || (p = realloc(cmd, len + sizeof(body))) == NULL) {
		*none = cmd != NULL && nd == 0;
		free(cmd);
		return NULL;
	}
	cmd = p;
	memcpy(cmd + len, body, sizeof(body));
	return cmd;
}

static void check_disk(struct run *run, struct host *h, char *out, int status, const char *errout)
{
	char *line, *save = NULL, ok[1024] = "", bad[1024] = "";
	int nlines = 0;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		unsigned long long avail;
		char *buf = ok;
		size_t bl;

		if (tab == NULL)
			continue;
		*tab = '\0';
		nlines++;
		if (df_avail(tab + 1, &avail) != 0) {
			bl = strlen(bad);
			snprintf(bad + bl, sizeof(bad) - bl, "%s%s: cannot read df output",
			         bl ? "; " : "", line);
			continue;
		}
		if (avail < run->min_free_kb)
			buf = bad;
		bl = strlen(buf);
		snprintf(buf + bl, 1024 - bl, "%s%s %llu MiB free", bl ? "; " : "", line,
		         avail / 1024);
	}
	if (nlines == 0 || status != 0) {
		char l[300];
		size_t bl = strlen(bad);

		snprintf(bad + bl, sizeof(bad) - bl, "%sdf failed (exit %d): %s", bl ? "; " : "",
		         status, first_line(errout, l, sizeof(l)));
	}
	if (bad[0] != '\0')
		add_item(h, "disk", TF_CHECK_FAIL, "%s (need %llu MiB per deploy folder)", bad,
		         (unsigned long long)(run->min_free_kb / 1024));
	else
		add_item(h, "disk", TF_CHECK_OK, "%s", ok);
}

/* Whether ss's local address addr ("127.0.0.1:2379", "*:2379", "[::]:2379") listens on port
 * for host: its own address or a wildcard. A host given by name matches any address. */
static int listens(const char *addr, const char *host, uint64_t port, int host_is_ip)
{
	const char *colon = strrchr(addr, ':');
	char a[128];
	size_t n;

	if (colon == NULL || strtoull(colon + 1, NULL, 10) != port)
		return 0;
	n = (size_t)(colon - addr);
	if (n >= sizeof(a))
		return 0;
	memcpy(a, addr, n);
	a[n] = '\0';
	if (!host_is_ip || strcmp(a, "*") == 0 || strcmp(a, "0.0.0.0") == 0 ||
	    strcmp(a, "[::]") == 0 || strcmp(a, host) == 0)
		return 1;
	if (a[0] == '[' && n > 2) {
		a[n - 1] = '\0';
		return strcmp(a + 1, host) == 0 ||
		       (strncmp(a + 1, "::ffff:", 7) == 0 && strcmp(a + 8, host) == 0);
	}
	return 0;
}

/* The listener of port in `ss -Hltnp` output: its process column, "" when none is named, or
 * NULL when nothing listens. */
static const char *find_listener(const char *ss, const char *host, uint64_t port, char *proc,
                                 size_t n)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	int is_ip = inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
	const char *line = ss;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		char buf[1024], *f[7] = {NULL}, *save = NULL;
		size_t len = end ? (size_t)(end - line) : strlen(line), k = 0;

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		for (f[0] = strtok_r(buf, " \t", &save); k < 5 && f[k] != NULL;)
			f[++k] = strtok_r(NULL, " \t", &save);
		if (k >= 4 && listens(f[3], host, port, is_ip)) {
			snprintf(proc, n, "%s", f[5] ? f[5] : "");
			return proc;
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

static int removes_here(struct run *run, struct host *h)
{
	size_t i;

	for (i = 0; i < h->ninst; i++)
		if (run->removing[h->inst[i]])
			return 1;
	return 0;
}

/* out: `ss -Hltnp` */
static void check_pd_ports(struct run *run, struct host *h, const char *out, int status,
                           const char *errout)
{
	const struct tf_topology *t = run->p->topo;
	size_t i;

	if (status != 0) {
		char l[300];

		add_item(h, "pd_ports", TF_CHECK_FAIL,
		         "cannot list listeners with ss (exit %d): %s", status,
		         first_line(errout, l, sizeof(l)));
		return;
	}
	for (i = 0; i < h->ninst; i++) {
		const struct tf_topo_instance *in = &t->instances[h->inst[i]];
		uint64_t cp = tf_topo_port(in, "client_port"), pp = tf_topo_port(in, "peer_port");
		char pc[256], pq[256];
		const char *lc, *lp;

		if (!run->removing[h->inst[i]])
			continue;
		cp = cp ? cp : 2379;
		pp = pp ? pp : 2380;
		lc = find_listener(out, in->host, cp, pc, sizeof(pc));
		lp = find_listener(out, in->host, pp, pq, sizeof(pq));
		/* Before scale-in the member to remove must be up: TiUP removes it through PD, and
		 * the step after waits for exactly these ports to be freed. */
		if (lc != NULL && lp != NULL)
			add_item(h, "pd_ports", TF_CHECK_OK,
			         "%s to remove: client %llu and peer %llu listening%s%s",
			         in->name ? in->name : in->host, (unsigned long long)cp,
			         (unsigned long long)pp, lc[0] ? " by " : "", lc);
		else
			add_item(h, "pd_ports", TF_CHECK_FAIL,
			         "%s to remove: %s%s%s not listening on %s; is the member running?",
			         in->name ? in->name : in->host, lc ? "" : "client_port",
			         !lc && !lp ? " and " : "", lp ? "" : "peer_port", in->host);
	}
}

static void check_pd_health(struct run *run, struct host *h)
{
	const struct tf_topology *t = run->p->topo;
	size_t i;

	for (i = 0; i < h->ninst; i++) {
		const struct tf_topo_instance *in = &t->instances[h->inst[i]];
		struct tf_err e;
		int leader = 0;

		if (strcmp(in->role, "pd") != 0)
			continue;
		if (run->p->pd_check == NULL) {
			add_item(h, "pd_health", TF_CHECK_SKIPPED,
			         "%s: no PD health check configured",
			         in->name ? in->name : in->host);
			continue;
		}
		tf_err_clear(&e);
		if (run->p->pd_check(run->p->pd_check_arg, in, &leader, &e) != 0) {
			add_item(h, "pd_health", TF_CHECK_FAIL, "%s: %s",
			         in->name ? in->name : in->host, e.msg[0] ? e.msg : "unhealthy");
			continue;
		}
		run->leader[h->inst[i]] = leader ? 1 : 0;
		add_item(h, "pd_health", TF_CHECK_OK, "%s healthy%s",
		         in->name ? in->name : in->host, leader ? ", leader" : "");
	}
}

static int host_verdict(struct host *h, struct tf_err *err)
{
	size_t i;

	if (h->nomem)
		return tf_err_nomem(err);
	for (i = 0; i < h->nitems; i++)
		if (h->items[i].status == TF_CHECK_FAIL)
			return tf_err_set(err, TF_E_FAIL, "%s: %s: %s", h->name, h->items[i].check,
			                  h->items[i].detail);
	return 0;
}

/* The host's state for the caller's view: its worst item, with that item's check and detail. */
static void report_host(const struct run *run, const struct host *h)
{
	static const int rank[] = {[TF_CHECK_OK] = 0,
	                           [TF_CHECK_SKIPPED] = 0,
	                           [TF_CHECK_FIXED] = 1,
	                           [TF_CHECK_WARN] = 2,
	                           [TF_CHECK_FAIL] = 3};
	const struct tf_preflight_hooks *hk = &run->p->hooks;
	const struct tf_preflight_item *worst = NULL;
	char d[TF_ERR_MSG_MAX + 64];
	size_t i;

	if (hk->host == NULL)
		return;
	for (i = 0; i < h->nitems; i++)
		if (rank[h->items[i].status] > (worst ? rank[worst->status] : 0))
			worst = &h->items[i];
	if (worst != NULL) {
		snprintf(d, sizeof(d), "%s: %s", worst->check, worst->detail ? worst->detail : "");
		hk->host(hk->arg, h->name, 0, worst->status, d);
	} else {
		snprintf(d, sizeof(d), "%zu checks passed", h->nitems);
		hk->host(hk->arg, h->name, 0, TF_CHECK_OK, d);
	}
}

/* The probe: every read-only check of a host in one command (one channel, one shell), each in
 * its own subshell between marker lines that carry its exit status (kept in r before the echo
 * that ends the section, whose own status $? would be). */
#define MARK "@@tf-preflight@@"

static char *probe_cmd(struct run *run, struct host *h, int *no_disk)
{
	char *units = units_cmd(run), *disk = disk_cmd(run, h, no_disk), *cmd = NULL;
	char *dsec = NULL;

	if (units == NULL || (disk == NULL && !*no_disk))
		goto out;
	if (disk != NULL &&
	    asprintf(&dsec, "echo " MARK " disk; (%s); r=$?; echo; echo " MARK " rc $r; ", disk) <
	        0) {
		dsec = NULL;
		goto out;
	}
	if (asprintf(&cmd, "echo " MARK " units; (%s); r=$?; echo; echo " MARK " rc $r; %s%s",
	             units, dsec ? dsec : "",
	             removes_here(run, h) ? "echo " MARK " ss; (ss -Hltnp); r=$?; echo; echo " MARK
	                                    " rc $r"
	                                  : "true") < 0)
		cmd = NULL;
out:
	free(units);
	free(disk);
	free(dsec);
	return cmd;
}

/* A copy of section name of the probe's output, its exit status in *rc; NULL when the section
 * is missing (or out of memory). */
static char *section(const char *out, const char *name, int *rc)
{
	char head[64];
	const char *start, *end;
	size_t n = (size_t)snprintf(head, sizeof(head), MARK " %s\n", name);

	for (start = out; (start = strstr(start, head)) != NULL; start += n)
		if (start == out || start[-1] == '\n')
			break;
	if (start == NULL)
		return NULL;
	start += n;
	if ((end = strstr(start, "\n" MARK " rc ")) == NULL)
		return NULL;
	*rc = (int)strtol(end + 1 + strlen(MARK " rc "), NULL, 10);
	return strndup(start, (size_t)(end - start));
}

/* The items of host h from what its probe printed (stdout, stderr, exit status, seconds). */
static void judge_probe(struct run *run, struct host *h, int no_disk, const char *user,
                        const char *out, const char *errout, int status, double seconds)
{
	char *units = NULL, *disk = NULL, *ss = NULL;
	int ru = 0, rd = 0, rs = 0;

	out = out ? out : "";
	errout = errout ? errout : "";

	units = section(out, "units", &ru);
	if (!no_disk)
		disk = section(out, "disk", &rd);
	if (removes_here(run, h))
		ss = section(out, "ss", &rs);
	if (units == NULL || (!no_disk && disk == NULL) || (removes_here(run, h) && ss == NULL)) {
		char l[300];

		add_item(h, "reachable", TF_CHECK_FAIL, "the checks did not run (exit %d): %s",
		         status, first_line(errout, l, sizeof(l)));
		goto out;
	}
	add_item(h, "reachable", TF_CHECK_OK, "ssh as %s, checks in %.3fs", user, seconds);
	check_units(run, h, units, ru, errout);
	if (no_disk)
		add_item(h, "disk", TF_CHECK_OK, "no deploy folder on this host");
	else
		check_disk(run, h, disk, rd, errout);
	if (ss != NULL)
		check_pd_ports(run, h, ss, rs, errout);
out:
	free(units);
	free(disk);
	free(ss);
}

static int check_host(void *arg, size_t i, struct tf_err *err)
{
	struct run *run = arg;
	struct host *h = &run->hosts[i];
	struct tf_ssh_opts o = *run->p->ssh;
	struct tf_ssh_result res = {0};
	struct tf_err e;
	char *cmd = NULL;
	int no_disk = 0, r;

	o.host = h->addr;
	o.port = h->port;
	if (run->p->hooks.host != NULL)
		run->p->hooks.host(run->p->hooks.arg, h->name, 1, TF_CHECK_OK, "checking");
	/* PD health is asked from the control host, so it is known even when SSH is not. */
	check_pd_health(run, h);
	if (tf_ssh_connect(&o, &h->ssh, &e) != 0) {
		add_item(h, e.code == TF_E_SSH_HOSTKEY ? "host_key" : "reachable", TF_CHECK_FAIL,
		         "%s", e.msg);
		report_host(run, h);
		return host_verdict(h, err);
	}
	if (tf_ssh_pinned(h->ssh) != NULL)
		add_item(h, "host_key", TF_CHECK_WARN, "pinned %s (accept-and-pin was asked for)",
		         tf_ssh_pinned(h->ssh));
	if ((cmd = probe_cmd(run, h, &no_disk)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (run_cmd(h, "reachable", cmd, &res) != 0) {
		r = host_verdict(h, err);
		goto out;
	}
	judge_probe(run, h, no_disk, o.user, res.out, res.errout, res.status, res.seconds);
	r = host_verdict(h, err);
out:
	report_host(run, h);
	tf_ssh_result_release(&res);
	free(cmd);
	return r;
}

/* A unit name the shell takes as one word as it is (then the audited command reads plainly). */
static int plain_unit(const char *u)
{
	if (*u == '\0')
		return 0;
	for (; *u; u++)
		if (!isalnum((unsigned char)*u) && strchr("@._:-", *u) == NULL)
			return 0;
	return 1;
}

/* One command per unit, each audited with its host: the runbook lists exactly this form. It runs
 * through sudo, as TiUP's own systemctl calls do (pkg/cluster/module/systemd.go): the deploy user
 * is not root, and systemctl refuses it start, stop and disable. */
static int stop_one(struct run *run, struct host *h, const char *unit, struct tf_err *err)
{
	struct tf_ssh_result res = {0};
	char *q = plain_unit(unit) ? strdup(unit) : tf_ssh_quote(unit), *cmd = NULL, *shown = NULL;
	int r;

	if (q == NULL || asprintf(&cmd, "systemctl stop %s && systemctl disable %s", q, q) < 0) {
		free(q);
		return tf_err_nomem(err);
	}
	free(q);
	if ((shown = tf_ssh_sudo_cmd(cmd)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_ssh_sudo(h->ssh, cmd, 0, &res, err)) != 0) {
		if (r == TF_E_SSH_SUDO && run->p->hooks.command != NULL)
			run->p->hooks.command(run->p->hooks.arg, h->name, shown, res.status);
		set_item(h, h->dup_item, TF_CHECK_FAIL, "stopping the duplicates failed: %s",
		         err->msg);
		goto out;
	}
	if (run->p->hooks.command != NULL)
		run->p->hooks.command(run->p->hooks.arg, h->name, shown, res.status);
	if (res.status != 0) {
		char l[300];

		set_item(h, h->dup_item, TF_CHECK_FAIL, "`%s` exited %d: %s", shown, res.status,
		         first_line(res.errout, l, sizeof(l)));
		r = host_verdict(h, err);
	}
out:
	tf_ssh_result_release(&res);
	free(shown);
	free(cmd);
	return r;
}

static int stop_dups(void *arg, size_t i, struct tf_err *err)
{
	struct run *run = arg;
	struct host *h = &run->hosts[i];
	struct tf_ssh_result res = {0};
	char *cmd = NULL, was[1024], *cut;
	size_t k, before, dup_item = h->dup_item;
	int r;

	if (h->ndups == 0)
		return 0;
	if (run->p->hooks.host != NULL) {
		snprintf(was, sizeof(was), "stopping %zu duplicate node_exporter unit%s", h->ndups,
		         h->ndups == 1 ? "" : "s");
		run->p->hooks.host(run->p->hooks.arg, h->name, 1, TF_CHECK_OK, was);
	}
	for (k = 0; k < h->ndups; k++)
		if ((r = stop_one(run, h, h->dups[k], err)) != 0)
			goto out; /* the host's failed item is reported */
	/* Check again: a unit that stays live is reported, never assumed gone. */
	for (k = 0; k < h->ndups; k++)
		free(h->dups[k]);
	h->ndups = 0;
	if ((cmd = units_cmd(run)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = tf_ssh_run(h->ssh, cmd, 0, &res, err)) != 0) {
		set_item(h, h->dup_item, TF_CHECK_FAIL,
		         "checking the stopped duplicates failed: %s", err->msg);
		goto out;
	}
	before = h->nitems;
	snprintf(was, sizeof(was), "%s", h->items[dup_item].detail);
	if ((cut = strstr(was, "; to be stopped")) != NULL)
		*cut = '\0';
	check_units(run, h, res.out, res.status, res.errout);
	if (h->nitems > before) {
		struct tf_preflight_item *now = &h->items[h->nitems - 1];

		if (h->ndups == 0 && now->status == TF_CHECK_OK)
			set_item(h, dup_item, TF_CHECK_FIXED, "stopped and disabled: %s",
			         strstr(was, ": ") ? strstr(was, ": ") + 2 : was);
		else
			set_item(h, dup_item, TF_CHECK_FAIL,
			         "still live after stop and disable: %s", now->detail);
		free(now->host);
		free(now->detail);
		h->nitems--;
	}
	r = host_verdict(h, err);
out:
	report_host(run, h);
	tf_ssh_result_release(&res);
	free(cmd);
	return r;
}

static void release_run(struct run *run)
{
	size_t i, k;

	for (i = 0; run->hosts && i < run->nhosts; i++) {
		struct host *h = &run->hosts[i];

		tf_ssh_free(h->ssh);
		free(h->inst);
		for (k = 0; k < h->nitems; k++) {
			free(h->items[k].host);
			free(h->items[k].detail);
		}
		free(h->items);
		for (k = 0; k < h->ndups; k++)
			free(h->dups[k]);
	}
	free(run->hosts);
	free(run->removing);
	free(run->leader);
}

static int group_hosts(struct run *run, struct tf_err *err)
{
	const struct tf_topology *t = run->p->topo;
	size_t i, j;

	if ((run->hosts = calloc(t->ninstances ? t->ninstances : 1, sizeof(*run->hosts))) == NULL ||
	    (run->removing = calloc(t->ninstances + 1, sizeof(int))) == NULL ||
	    (run->leader = calloc(t->ninstances + 1, sizeof(int))) == NULL)
		return tf_err_nomem(err);
	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];
		unsigned port = in->ssh_port ? (unsigned)in->ssh_port : 22;
		struct host *h = NULL;
		size_t *p;

		run->leader[i] = -1;
		for (j = 0; j < run->nhosts && h == NULL; j++)
			if (strcmp(run->hosts[j].addr, in->host) == 0 && run->hosts[j].port == port)
				h = &run->hosts[j];
		if (h == NULL) {
			h = &run->hosts[run->nhosts++];
			h->addr = in->host;
			h->port = port;
			snprintf(h->name, sizeof(h->name), "%s:%u", in->host, port);
		}
		if ((p = realloc(h->inst, (h->ninst + 1) * sizeof(*p))) == NULL)
			return tf_err_nomem(err);
		h->inst = p;
		h->inst[h->ninst++] = i;
	}
	for (i = 0; run->p->pd_remove && run->p->pd_remove[i]; i++) {
		const char *spec = run->p->pd_remove[i];
		int found = 0;

		for (j = 0; j < t->ninstances; j++) {
			const struct tf_topo_instance *in = &t->instances[j];
			uint64_t cp = tf_topo_port(in, "client_port");
			char id[TF_TOPO_ID_MAX];

			snprintf(id, sizeof(id), "%s:%llu", in->host,
			         (unsigned long long)(cp ? cp : 2379));
			if (strcmp(in->role, "pd") == 0 && strcmp(id, spec) == 0) {
				run->removing[j] = 1;
				found = 1;
			}
		}
		if (!found)
			return tf_err_set(err, TF_E_INPUT,
			                  "PD node to remove '%s' is not in the topology", spec);
	}
	return 0;
}

/* One leader among the PD members, and a word when it is among the nodes to remove. */
static void check_leader(struct run *run)
{
	const struct tf_topology *t = run->p->topo;
	size_t i, leaders = 0, known = 0, npd = 0, first_pd = SIZE_MAX, lead = 0;
	struct host *h = NULL;

	if (run->p->pd_check == NULL)
		return;
	for (i = 0; i < t->ninstances; i++) {
		if (strcmp(t->instances[i].role, "pd") != 0)
			continue;
		npd++;
		if (first_pd == SIZE_MAX)
			first_pd = i;
		if (run->leader[i] >= 0)
			known++;
		if (run->leader[i] == 1) {
			leaders++;
			lead = i;
		}
	}
	if (npd == 0 || known < npd)
		return; /* an unhealthy member already failed the preflight */
	for (i = 0; i < run->nhosts && h == NULL; i++) {
		size_t k;

		for (k = 0; k < run->hosts[i].ninst; k++)
			if (run->hosts[i].inst[k] == (leaders ? lead : first_pd))
				h = &run->hosts[i];
	}
	if (h == NULL)
		return;
	if (leaders != 1)
		add_item(h, "pd_leader", TF_CHECK_FAIL, "%zu PD leaders among %zu members", leaders,
		         npd);
	else if (run->removing[lead])
		add_item(h, "pd_leader", TF_CHECK_WARN,
		         "leader %s is among the nodes to remove; scale-in must keep the leader",
		         t->instances[lead].name ? t->instances[lead].name
		                                 : t->instances[lead].host);
	else
		add_item(h, "pd_leader", TF_CHECK_OK, "leader %s is kept",
		         t->instances[lead].name ? t->instances[lead].name
		                                 : t->instances[lead].host);
	/* the host's verdict was reported from its thread; this item may change it */
	if (leaders != 1 || run->removing[lead])
		report_host(run, h);
}

static int collect(struct run *run, double start, struct tf_preflight_report **out,
                   struct tf_err *err)
{
	struct tf_preflight_report *rep = NULL;
	size_t i, k, n = 0;

	for (i = 0; i < run->nhosts; i++)
		n += run->hosts[i].nitems;
	if ((rep = calloc(1, sizeof(*rep))) == NULL ||
	    (rep->items = calloc(n ? n : 1, sizeof(*rep->items))) == NULL) {
		free(rep);
		return tf_err_nomem(err);
	}
	rep->nhosts = run->nhosts;
	for (i = 0; i < run->nhosts; i++) {
		struct host *h = &run->hosts[i];

		for (k = 0; k < h->nitems; k++) {
			rep->items[rep->nitems] = h->items[k];
			rep->nfailed += h->items[k].status == TF_CHECK_FAIL;
			rep->nfixed += h->items[k].status == TF_CHECK_FIXED;
			rep->nitems++;
		}
		h->nitems = 0; /* the strings are the report's now */
	}
	rep->seconds = tf_monotonic() - start;
	*out = rep;
	rep = NULL; /* transferred */
	return 0;
}

static int run_init(struct run *run, struct tf_err *err)
{
	const struct tf_preflight_params *p = run->p;

	run->units_dir = p->units_dir ? p->units_dir : TF_PREFLIGHT_UNITS_DIR;
	run->ne_port =
	    p->node_exporter_port ? p->node_exporter_port : TF_PREFLIGHT_NODE_EXPORTER_PORT;
	run->min_free_kb = p->min_free_kb ? p->min_free_kb : TF_PREFLIGHT_MIN_FREE_KB;
	return group_hosts(run, err);
}

int tf_preflight_judge_probe(const struct tf_preflight_params *p, const char *out,
                             const char *errout, int status, struct tf_preflight_report **rep,
                             struct tf_err *err)
{
	struct run run = {.p = p};
	char *cmd = NULL;
	int r, no_disk = 0;

	if (p->topo == NULL)
		return tf_err_set(err, TF_E_USAGE, "preflight needs a topology");
	if ((r = run_init(&run, err)) != 0)
		goto out;
	if (run.nhosts == 0) {
		r = tf_err_set(err, TF_E_INPUT, "the topology has no host");
		goto out;
	}
	cmd = disk_cmd(&run, &run.hosts[0], &no_disk);
	if (cmd == NULL && !no_disk) {
		r = tf_err_nomem(err);
		goto out;
	}
	judge_probe(&run, &run.hosts[0], no_disk, p->ssh ? p->ssh->user : "?", out, errout, status,
	            0.0);
	if (run.hosts[0].nomem) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = collect(&run, tf_monotonic(), rep, err);
out:
	free(cmd);
	release_run(&run);
	return r;
}

int tf_preflight_run(const struct tf_preflight_params *p, struct tf_preflight_report **out,
                     struct tf_err *err)
{
	struct run run = {.p = p};
	struct tf_err *results = NULL;
	double start = tf_monotonic();
	size_t i, nfail = 0, ndups = 0;
	char names[600] = "";
	int r, fan;

	if (p->topo == NULL || p->ssh == NULL)
		return tf_err_set(err, TF_E_USAGE, "preflight needs a topology and ssh options");
	if ((r = run_init(&run, err)) != 0)
		goto out;
	if ((results = calloc(run.nhosts ? run.nhosts : 1, sizeof(*results))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	/* Phase 1: read only, everywhere. */
	fan = tf_ssh_fanout(run.nhosts, p->parallel, check_host, &run, results, err);
	if (fan != 0 && fan != TF_E_FAIL) {
		r = fan;
		goto out;
	}
	for (i = 0; i < run.nhosts; i++)
		if (results[i].code == TF_E_NOMEM || run.hosts[i].nomem) {
			r = tf_err_nomem(err);
			goto out;
		}
	check_leader(&run);
	for (i = 0; i < run.nhosts; i++) {
		size_t k;
		int failed = 0;

		for (k = 0; k < run.hosts[i].nitems; k++)
			failed |= run.hosts[i].items[k].status == TF_CHECK_FAIL;
		ndups += run.hosts[i].ndups;
		if (failed) {
			size_t nl = strlen(names);

			if (nfail++ < 8)
				snprintf(names + nl, sizeof(names) - nl, "%s%s", nl ? ", " : "",
				         run.hosts[i].name);
		}
	}
	/* Phase 2, the only change: stop the duplicates, and only when every host passed. */
	if (nfail == 0 && ndups > 0 && p->stop_duplicates) {
		fan = tf_ssh_fanout(run.nhosts, p->parallel, stop_dups, &run, results, err);
		if (fan != 0 && fan != TF_E_FAIL) {
			r = fan;
			goto out;
		}
		for (i = 0; i < run.nhosts; i++) {
			size_t nl = strlen(names);

			if (results[i].code != 0 && nfail++ < 8)
				snprintf(names + nl, sizeof(names) - nl, "%s%s", nl ? ", " : "",
				         run.hosts[i].name);
		}
	}
	if ((r = collect(&run, start, out, err)) != 0)
		goto out;
	if (nfail > 0) {
		struct tf_preflight_report *rep = *out;
		const struct tf_preflight_item *f = NULL;

		for (i = 0; i < rep->nitems && f == NULL; i++)
			if (rep->items[i].status == TF_CHECK_FAIL)
				f = &rep->items[i];
		r = tf_err_set(
		    err, TF_E_FAIL,
		    "preflight refused on %zu host%s (%s%s); nothing was changed%s: %s: %s: %s",
		    nfail, nfail == 1 ? "" : "s", names, nfail > 8 ? ", ..." : "",
		    rep->nfixed ? " but the stopped duplicates" : "", f ? f->host : "?",
		    f ? f->check : "?", f ? f->detail : "?");
	}
out:
	free(results);
	release_run(&run);
	return r;
}
