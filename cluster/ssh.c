/* SSH transport over libssh: strict host keys, public-key login, commands, copies, fan-out. */
#include "cluster/ssh.h"
#include "common/pool.h"
#include "common/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

struct tf_ssh {
	ssh_session session;
	char *host, *user, *identity, *known_hosts;
	unsigned port, connect_timeout_s, command_timeout_s, keepalive_s;
	int pin_unknown;
	char *pinned;
	char name[320];
};

/* known_hosts is read and appended by many connections at once in a fan-out: one lock keeps a
 * reader from seeing half a pinned line and two pins from interleaving. */
static pthread_mutex_t known_hosts_lock = PTHREAD_MUTEX_INITIALIZER;

int tf_ssh_global_init(struct tf_err *err)
{
	if (ssh_init() != SSH_OK)
		return tf_err_set(err, TF_E_CRYPTO, "cannot initialise libssh");
	return 0;
}

void tf_ssh_global_finalize(void)
{
	(void)ssh_finalize();
}

const char *tf_ssh_name(const struct tf_ssh *s)
{
	return s->name;
}

const char *tf_ssh_pinned(const struct tf_ssh *s)
{
	return s->pinned;
}

char *tf_ssh_quote(const char *str)
{
	size_t n = 3;
	const char *c;
	char *q, *p;

	for (c = str; *c; c++)
		n += *c == '\'' ? 4 : 1;
	if ((q = malloc(n)) == NULL)
		return NULL;
	p = q;
	*p++ = '\'';
	for (c = str; *c; c++) {
		if (*c == '\'')
			p = stpcpy(p, "'\\''");
		else
			*p++ = *c;
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

/* A dropped TCP connection leaves libssh's session dead: callers may reconnect and retry. */
static int is_lost(ssh_session session)
{
	return !ssh_is_connected(session) ||
	       (ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

static char *default_known_hosts(void)
{
	const char *home = getenv("HOME");
	struct passwd pw, *res = NULL;
	char buf[4096], *path;

	if ((home == NULL || home[0] == '\0') &&
	    getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		home = pw.pw_dir;
	if (home == NULL)
		home = "/";
	if (asprintf(&path, "%s/.ssh/known_hosts", home) < 0)
		return NULL;
	return path;
}

void tf_ssh_free(struct tf_ssh *s)
{
	if (s == NULL)
		return;
	if (s->session != NULL) {
		ssh_disconnect(s->session);
		ssh_free(s->session);
	}
	free(s->host);
	free(s->user);
	free(s->identity);
	free(s->known_hosts);
	free(s->pinned);
	free(s);
}

/* "host" for port 22, "[host]:port" otherwise: how OpenSSH names the entry in known_hosts. */
static void kh_name(const struct tf_ssh *s, char *buf, size_t n)
{
	if (s->port == 22)
		snprintf(buf, n, "%s", s->host);
	else
		snprintf(buf, n, "[%s]:%u", s->host, s->port);
}

int tf_ssh_host_pinned(const char *known_hosts, const char *host, unsigned port, int *pinned,
                       struct tf_err *err)
{
	ssh_session session = NULL;
	char *dflt = NULL;
	const char *kh = known_hosts;
	int p = port ? (int)port : 22, no = 0, r;
	enum ssh_known_hosts_e state;

	if (kh == NULL && (kh = dflt = default_known_hosts()) == NULL)
		return tf_err_nomem(err);
	/* libssh takes a missing file for one without the host: say which it is */
	if (access(kh, R_OK) != 0) {
		r = tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_INPUT,
		               "known_hosts '%s'", kh);
		goto out;
	}
	if ((session = ssh_new()) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	/* the options tf_ssh_connect sets, so the same file and the same name are looked up */
	if (ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_HOST, host) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_PORT, &p) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, kh) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0) {
		r = tf_err_set(err, TF_E_USAGE, "%s:%d: bad ssh option: %s", host, p,
		               ssh_get_error(session));
		goto out;
	}
	pthread_mutex_lock(&known_hosts_lock);
	state = ssh_session_has_known_hosts_entry(session);
	pthread_mutex_unlock(&known_hosts_lock);
	switch (state) {
	case SSH_KNOWN_HOSTS_OK:
	case SSH_KNOWN_HOSTS_CHANGED: /* not returned without a key, but it is an entry */
	case SSH_KNOWN_HOSTS_OTHER:
		*pinned = 1;
		r = 0;
		break;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND: /* the file was readable above: no entry in it */
		*pinned = 0;
		r = 0;
		break;
	default:
		r = tf_err_set(err, TF_E_INPUT, "known_hosts '%s' cannot be read: %s", kh,
		               ssh_get_error(session));
		break;
	}
out:
	ssh_free(session);
	free(dflt);
	return r;
}

static int check_host_key(struct tf_ssh *s, struct tf_err *err)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL, khn[300], desc[200];
	const char *type;
	enum ssh_known_hosts_e state;
	int r;

	if (ssh_get_server_publickey(s->session, &key) != SSH_OK) {
		r = tf_err_set(err, TF_E_SSH_HOSTKEY, "%s: no host key: %s", s->name,
		               ssh_get_error(s->session));
		goto out;
	}
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) == NULL) {
		r = tf_err_set(err, TF_E_CRYPTO, "%s: cannot hash the host key", s->name);
		goto out;
	}
	type = ssh_key_type_to_char(ssh_key_type(key));
	snprintf(desc, sizeof(desc), "%s %s", type ? type : "unknown", fp);
	kh_name(s, khn, sizeof(khn));

	pthread_mutex_lock(&known_hosts_lock);
	state = ssh_session_is_known_server(s->session);
	switch (state) {
	case SSH_KNOWN_HOSTS_OK:
		r = 0;
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		r = tf_err_set(err, TF_E_SSH_HOSTKEY,
		               "%s: host key does not match '%s' (the host offers %s); refused, "
		               "nothing was run; if the host was reinstalled, check the new "
		               "fingerprint with its owner, then: ssh-keygen -R '%s' -f '%s' && "
		               "ssh-keyscan -p %u -t %s %s >> '%s'",
		               s->name, s->known_hosts, desc, khn, s->known_hosts, s->port,
		               type ? type : "ed25519", s->host, s->known_hosts);
		break;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		if (!s->pin_unknown) {
			r = tf_err_set(err, TF_E_SSH_HOSTKEY,
			               "%s: host key %s is not in '%s'; refused, nothing was run; "
			               "check the fingerprint with the host's owner, then pin it: "
			               "ssh-keyscan -p %u -t %s %s >> '%s' (ssh-keygen -lf '%s' "
			               "lists the pinned fingerprints)",
			               s->name, desc, s->known_hosts, s->port,
			               type ? type : "ed25519", s->host, s->known_hosts,
			               s->known_hosts);
			break;
		}
		if (ssh_session_update_known_hosts(s->session) != SSH_OK) {
			r = tf_err_set(err, TF_E_IO, "%s: cannot pin host key %s in '%s': %s",
			               s->name, desc, s->known_hosts, ssh_get_error(s->session));
			break;
		}
		free(s->pinned);
		r = (s->pinned = strdup(desc)) == NULL ? tf_err_nomem(err) : 0;
		break;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		r = tf_err_set(err, TF_E_SSH_HOSTKEY,
		               "%s: cannot check host key %s against '%s': %s", s->name, desc,
		               s->known_hosts, ssh_get_error(s->session));
		break;
	}
	pthread_mutex_unlock(&known_hosts_lock);
out:
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return r;
}

static void set_keepalive(struct tf_ssh *s)
{
	int fd = ssh_get_fd(s->session), on = 1, idle = (int)s->keepalive_s, intvl = 5, cnt = 3;

	if (fd < 0)
		return;
	/* TCP keep-alive notices a host that vanished while we wait on a long command. */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static int session_open(struct tf_ssh *s, struct tf_err *err)
{
	ssh_session session = NULL;
	ssh_key key = NULL;
	long timeout = (long)s->connect_timeout_s;
	int port = (int)s->port, no = 0, yes = 1, r, rc;

	if ((session = ssh_new()) == NULL)
		return tf_err_nomem(err);
	/* Only what we pass counts: no ~/.ssh/config, no /etc/ssh/ssh_known_hosts; the key is
	 * given explicitly below, so no agent or default identity is tried. */
	if (ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_HOST, s->host) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_USER, s->user) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, s->known_hosts) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_STRICTHOSTKEYCHECK, &yes) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_NODELAY, &yes) != 0 ||
	    ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout) != 0) {
		r = tf_err_set(err, TF_E_USAGE, "%s: bad ssh option: %s", s->name,
		               ssh_get_error(session));
		goto out;
	}
	s->session = session;
	if (ssh_connect(session) != SSH_OK) {
		r = tf_err_set(err, TF_E_SSH_UNREACHABLE, "%s: cannot connect: %s", s->name,
		               ssh_get_error(session));
		goto out;
	}
	set_keepalive(s);
	if ((r = check_host_key(s, err)) != 0)
		goto out;
	rc = ssh_pki_import_privkey_file(s->identity, NULL, NULL, NULL, &key);
	if (rc != SSH_OK) {
		r = tf_err_set(err, TF_E_INPUT, "cannot read ssh key '%s'%s", s->identity,
		               rc == SSH_EOF ? ": no such file" : " (unreadable or encrypted)");
		goto out;
	}
	rc = ssh_userauth_publickey(session, NULL, key);
	if (rc != SSH_AUTH_SUCCESS) {
		r = tf_err_set(
		    err, is_lost(session) ? TF_E_SSH_LOST : TF_E_SSH_AUTH,
		    "%s: user '%s' not let in with key '%s': %s", s->name, s->user, s->identity,
		    rc == SSH_AUTH_ERROR ? ssh_get_error(session) : "public key refused");
		goto out;
	}
	session = NULL; /* transferred (already in s) */
	r = 0;
out:
	ssh_key_free(key);
	if (session != NULL) {
		ssh_disconnect(session);
		ssh_free(session);
		s->session = NULL;
	}
	return r;
}

int tf_ssh_connect(const struct tf_ssh_opts *o, struct tf_ssh **out, struct tf_err *err)
{
	struct tf_ssh *s = NULL;
	int r;

	if (o->host == NULL || o->user == NULL || o->identity == NULL)
		return tf_err_set(err, TF_E_USAGE, "ssh needs a host, a user and a key");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return tf_err_nomem(err);
	s->port = o->port ? o->port : 22;
	s->connect_timeout_s =
	    o->connect_timeout_s ? o->connect_timeout_s : TF_SSH_CONNECT_TIMEOUT_S;
	s->command_timeout_s =
	    o->command_timeout_s ? o->command_timeout_s : TF_SSH_COMMAND_TIMEOUT_S;
	s->keepalive_s = o->keepalive_s ? o->keepalive_s : TF_SSH_KEEPALIVE_S;
	s->pin_unknown = o->pin_unknown;
	snprintf(s->name, sizeof(s->name), "%s:%u", o->host, s->port);
	s->host = strdup(o->host);
	s->user = strdup(o->user);
	s->identity = strdup(o->identity);
	s->known_hosts = o->known_hosts ? strdup(o->known_hosts) : default_known_hosts();
	if (!s->host || !s->user || !s->identity || !s->known_hosts) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((r = session_open(s, err)) != 0)
		goto out;
	*out = s;
	s = NULL; /* transferred */
out:
	tf_ssh_free(s);
	return r;
}

void tf_ssh_result_release(struct tf_ssh_result *r)
{
	free(r->out);
	free(r->errout);
	memset(r, 0, sizeof(*r));
	r->status = -1;
}

struct run_ctx {
	struct tf_ssh_result *res;
	size_t outcap, errcap;
	int eof, closed, exited, nomem;
};

static void append(struct run_ctx *c, int is_stderr, const char *data, size_t len)
{
	char **buf = is_stderr ? &c->res->errout : &c->res->out;
	size_t *n = is_stderr ? &c->res->errlen : &c->res->outlen;
	size_t *cap = is_stderr ? &c->errcap : &c->outcap;
	size_t take = len;

	if (take > TF_SSH_OUT_MAX - *n) {
		take = TF_SSH_OUT_MAX - *n;
		c->res->truncated = 1;
	}
	if (take == 0)
		return;
	if (*n + take + 1 > *cap) {
		size_t ncap = *cap ? *cap : 4096;
		char *p;

		while (ncap < *n + take + 1)
			ncap *= 2;
		if ((p = realloc(*buf, ncap)) == NULL) {
			c->nomem = 1;
			return;
		}
		*buf = p;
		*cap = ncap;
	}
	memcpy(*buf + *n, data, take);
	*n += take;
	(*buf)[*n] = '\0';
}

static int on_data(ssh_session session, ssh_channel ch, void *data, uint32_t len, int is_stderr,
                   void *user)
{
	(void)session;
	(void)ch;
	append(user, is_stderr, data, len);
	return (int)len; /* all consumed: the window keeps open however much is dropped */
}

static void on_eof(ssh_session session, ssh_channel ch, void *user)
{
	(void)session;
	(void)ch;
	((struct run_ctx *)user)->eof = 1;
}

static void on_close(ssh_session session, ssh_channel ch, void *user)
{
	(void)session;
	(void)ch;
	((struct run_ctx *)user)->closed = 1;
}

static void on_exit_status(ssh_session session, ssh_channel ch, int status, void *user)
{
	struct run_ctx *c = user;

	(void)session;
	(void)ch;
	c->res->status = status;
	c->exited = 1;
}

static int signal_number(const char *name)
{
	static const struct {
		const char *name;
		int num;
	} sigs[] = {{"HUP", 1},   {"INT", 2},   {"QUIT", 3},  {"ILL", 4},   {"ABRT", 6},
	            {"FPE", 8},   {"KILL", 9},  {"USR1", 10}, {"SEGV", 11}, {"USR2", 12},
	            {"PIPE", 13}, {"ALRM", 14}, {"TERM", 15}};
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].name) == 0)
			return sigs[i].num;
	return 0;
}

static void on_exit_signal(ssh_session session, ssh_channel ch, const char *sig, int core,
                           const char *msg, const char *lang, void *user)
{
	struct run_ctx *c = user;

	(void)session;
	(void)ch;
	(void)core;
	(void)msg;
	(void)lang;
	c->res->status = 128 + signal_number(sig ? sig : "");
	c->exited = 1;
}

static int lost_or(struct tf_ssh *s, int code, const char *what, const char *cmd,
                   struct tf_err *err)
{
	if (is_lost(s->session))
		return tf_err_set(err, TF_E_SSH_LOST, "%s: connection lost %s '%.200s': %s",
		                  s->name, what, cmd, ssh_get_error(s->session));
	return tf_err_set(err, code, "%s: %s '%.200s' failed: %s", s->name, what, cmd,
	                  ssh_get_error(s->session));
}

static int run_channel(struct tf_ssh *s, const char *cmd, unsigned timeout_s,
                       struct tf_ssh_result *res, struct tf_err *err)
{
	struct run_ctx c = {.res = res};
	struct ssh_channel_callbacks_struct cb = {
	    .userdata = &c,
	    .channel_data_function = on_data,
	    .channel_eof_function = on_eof,
	    .channel_close_function = on_close,
	    .channel_exit_status_function = on_exit_status,
	    .channel_exit_signal_function = on_exit_signal,
	};
	ssh_channel ch = NULL;
	ssh_event ev = NULL;
	double start = tf_monotonic(), limit;
	int r, added = 0;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	if (s->session == NULL || is_lost(s->session))
		return tf_err_set(err, TF_E_SSH_LOST,
		                  "%s: not connected (reconnect to run '%.200s')", s->name, cmd);
	limit = (double)(timeout_s ? timeout_s : s->command_timeout_s);
	ssh_callbacks_init(&cb);
	if ((ch = ssh_channel_new(s->session)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (ssh_channel_open_session(ch) != SSH_OK) {
		r = lost_or(s, TF_E_IO, "opening a channel for", cmd, err);
		goto out;
	}
	if (ssh_set_channel_callbacks(ch, &cb) != SSH_OK) {
		r = tf_err_set(err, TF_E_IO, "%s: cannot watch the channel", s->name);
		goto out;
	}
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		r = lost_or(s, TF_E_IO, "starting", cmd, err);
		goto out;
	}
	if (ssh_channel_send_eof(ch) != SSH_OK) {
		r = lost_or(s, TF_E_IO, "closing the input of", cmd, err);
		goto out;
	}
	if ((ev = ssh_event_new()) == NULL || ssh_event_add_session(ev, s->session) != SSH_OK) {
		r = tf_err_set(err, TF_E_NOMEM, "%s: cannot poll the session", s->name);
		goto out;
	}
	added = 1;
	while (!c.closed && !(c.eof && c.exited)) {
		double left = limit - (tf_monotonic() - start);
		int ms = left > 0.2 ? 200 : (int)(left * 1000) + 1;

		if (left <= 0) {
			/* OpenSSH delivers the signal; the channel's close hangs up on the rest. */
			(void)ssh_channel_request_send_signal(ch, "KILL");
			r = tf_err_set(err, TF_E_SSH_TIMEOUT, "%s: '%.200s' timed out after %us",
			               s->name, cmd, (unsigned)limit);
			goto out;
		}
		if (ssh_event_dopoll(ev, ms) == SSH_ERROR || is_lost(s->session)) {
			r = lost_or(s, TF_E_IO, "while running", cmd, err);
			goto out;
		}
	}
	if (c.nomem) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = 0;
out:
	if (added)
		(void)ssh_event_remove_session(ev, s->session);
	if (ev != NULL)
		ssh_event_free(ev);
	if (ch != NULL) {
		(void)ssh_remove_channel_callbacks(ch, &cb);
		if (!is_lost(s->session))
			(void)ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	/* Callers read res->out and res->errout as strings, even when nothing came. */
	if (res->out == NULL)
		res->out = calloc(1, 1);
	if (res->errout == NULL)
		res->errout = calloc(1, 1);
	if (r == 0 && (res->out == NULL || res->errout == NULL))
		r = tf_err_nomem(err);
	res->seconds = tf_monotonic() - start;
	return r;
}

int tf_ssh_run(struct tf_ssh *s, const char *cmd, unsigned timeout_s, struct tf_ssh_result *res,
               struct tf_err *err)
{
	return run_channel(s, cmd, timeout_s, res, err);
}

char *tf_ssh_sudo_cmd(const char *cmd)
{
	char *q = tf_ssh_quote(cmd), *out = NULL;

	if (q != NULL && asprintf(&out, "%s %s", TF_SUDO, q) < 0)
		out = NULL;
	free(q);
	return out;
}

/* sudo's own refusals: exit 1 with "sudo: ..." on stderr ("a password is required" under -n,
 * "sorry, you must have a tty"), or the shell's 127 when there is no /usr/bin/sudo. A command
 * that sudo ran keeps its own status and words. */
static int sudo_refused(const struct tf_ssh_result *res)
{
	const char *e = res->errout ? res->errout : "";

	return (res->status == 1 && strncmp(e, "sudo: ", 6) == 0) ||
	       (res->status == 127 && strstr(e, "/usr/bin/sudo") != NULL);
}

int tf_ssh_sudo(struct tf_ssh *s, const char *cmd, unsigned timeout_s, struct tf_ssh_result *res,
                struct tf_err *err)
{
	char *full = tf_ssh_sudo_cmd(cmd), line[300];
	size_t i = 0;
	int r;

	if (full == NULL)
		return tf_err_nomem(err);
	r = run_channel(s, full, timeout_s, res, err);
	free(full);
	if (r != 0 || !sudo_refused(res))
		return r;
	while (res->errout[i] && res->errout[i] != '\n' && i + 1 < sizeof(line)) {
		line[i] = res->errout[i];
		i++;
	}
	line[i] = '\0';
	return tf_err_set(err, TF_E_SSH_SUDO,
	                  "%s: sudo refused user '%s' (%s); the deploy user needs passwordless "
	                  "sudo, as TiUP requires: as root on that host, "
	                  "echo '%s ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/%s",
	                  s->name, s->user, line, s->user, s->user);
}

/* The fan-out: the pool runs the tasks, each outcome lands in its own slot. */
struct fanout {
	tf_ssh_task_fn fn;
	void *arg;
	struct tf_err *results;
};

static void fanout_task(void *p, size_t i)
{
	struct fanout *f = p;
	struct tf_err e;

	tf_err_clear(&e);
	e.code = f->fn(f->arg, i, &e);
	if (e.code != 0 && e.msg[0] == '\0')
		snprintf(e.msg, sizeof(e.msg), "task %zu failed (code %d)", i, e.code);
	f->results[i] = e;
}

int tf_ssh_fanout(size_t n, unsigned parallel, tf_ssh_task_fn fn, void *arg, struct tf_err *results,
                  struct tf_err *err)
{
	struct fanout f = {.fn = fn, .arg = arg, .results = results};
	size_t i, failed = 0, first = 0;
	int r;

	for (i = 0; i < n; i++)
		tf_err_clear(&results[i]);
	if ((r = tf_pool_run(n, parallel ? parallel : TF_SSH_FANOUT_DEFAULT, fanout_task, &f,
	                     err)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (results[i].code != 0 && failed++ == 0)
			first = i;
	}
	if (failed > 0)
		return tf_err_set(err, TF_E_FAIL, "%zu of %zu failed; first: %s", failed, n,
		                  results[first].msg);
	return 0;
}
