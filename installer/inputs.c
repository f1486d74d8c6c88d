/* The operator's inputs checked before an install changes anything: the secrets open, the hosts
 * are pinned (installer/inputs.h). */
#include "installer/inputs.h"
#include "cluster/ssh.h"
#include "cluster/topology.h"
#include "common/fsutil.h"
#include "common/secret.h"
#include "crypto/certs.h"
#include "installer/install.h"
#include "installer/journal.h"
#include "manifests/bundle.h"
#include "manifests/check.h"
#include "manifests/sections.h"
#include "manifests/steps.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_PREFIX "payload/tls/"

/* The problems found, numbered, in one line. */
struct report {
	char text[TF_ERR_MSG_MAX];
	size_t len;
	unsigned n;
};

static void add(struct report *rp, const char *fmt, ...) TF_PRINTF(2, 3);

static void add(struct report *rp, const char *fmt, ...)
{
	va_list ap;
	int w;

	rp->n++;
	if (rp->len + 1 >= sizeof(rp->text))
		return;
	w = snprintf(rp->text + rp->len, sizeof(rp->text) - rp->len, "%s(%u) ",
	             rp->n > 1 ? "; " : "", rp->n);
	if (w > 0)
		rp->len += (size_t)w;
	if (rp->len + 1 >= sizeof(rp->text)) {
		rp->len = sizeof(rp->text) - 1;
		return;
	}
	va_start(ap, fmt);
	w = vsnprintf(rp->text + rp->len, sizeof(rp->text) - rp->len, fmt, ap);
	va_end(ap);
	if (w > 0)
		rp->len += (size_t)w;
	if (rp->len >= sizeof(rp->text))
		rp->len = sizeof(rp->text) - 1;
}

/* The five tls/ files as the signed manifest lists them, read from the bundle (each checked
 * against its size and sha256 again), in tf_certs_seal's order. */
static int read_sealed(const struct tf_inputs_opts *o, struct tf_certs_sealed *s,
                       struct tf_err *err)
{
	static const char *const names[TF_CERTS_NFILES] = {
	    TF_CERTS_CA_CRT, TF_CERTS_CA_KEY TF_SECRETS_SUFFIX, TF_CERTS_CLIENT_CRT,
	    TF_CERTS_CLIENT_KEY TF_SECRETS_SUFFIX, TF_CERTS_CLIENT_PFX TF_SECRETS_SUFFIX};
	size_t i;
	int r;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < TF_CERTS_NFILES; i++) {
		struct tf_certs_sealed_file *f = &s->files[i];
		char entry[64];

		snprintf(f->name, sizeof(f->name), "%s", names[i]);
		snprintf(entry, sizeof(entry), TLS_PREFIX "%s", names[i]);
		if ((r = tf_bundle_read_payload(o->bundle, &o->res->manifest, entry, TF_SECRETS_MAX,
		                                &f->data, &f->len, err)) != 0) {
			tf_certs_sealed_release(s);
			return r;
		}
	}
	return 0;
}

/* Reads the recipient key pair of o into k (key and cert owned by the caller: *key wiped).
 * *found 0 when the default folder has no key (not a problem by itself). */
static int load_recipient(const struct tf_inputs_opts *o, struct tf_secrets_key *k, char **key,
                          char **cert, int *found, struct tf_err *err)
{
	const char *dir = o->recipient_dir ? o->recipient_dir : TF_CERTS_RECIPIENT_DIR;
	char path[PATH_MAX];
	size_t len = 0;
	int r;

	*found = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, TF_CERTS_RECIPIENT_KEY);
	r = tf_read_file(path, 1 << 20, key, &len, err);
	if (r == TF_E_NOTFOUND && o->recipient_dir == NULL)
		return 0;
	if (r != 0)
		return tf_err_prefix(err, "recipient key");
	k->key_pem = *key;
	k->key_len = len;
	snprintf(path, sizeof(path), "%s/%s", dir, TF_CERTS_RECIPIENT_CERT);
	if (tf_read_file(path, 1 << 20, cert, &len, err) != 0)
		return tf_err_prefix(err, "recipient certificate");
	k->cert_pem = *cert;
	k->cert_len = len;
	*found = 1;
	return 0;
}

/* Every secret opens with the recipient key or the passphrase. Problems go into rp; a corrupt
 * bundle returns TF_E_REJECT. */
static int check_secrets(const struct tf_inputs_opts *o, struct report *rp, char **pass_out,
                         struct tf_err *err)
{
	struct tf_certs_sealed s;
	struct tf_secrets_key k;
	struct tf_err e = {0};
	char *key = NULL, *cert = NULL, *pass = NULL;
	int found = 0, r, unusable = 0;

	memset(&k, 0, sizeof(k));
	memset(&s, 0, sizeof(s));
	if (load_recipient(o, &k, &key, &cert, &found, &e) != 0) {
		add(rp, "%s (--recipient DIR: the folder 'tiferry keygen --recipient' wrote)",
		    e.msg);
		unusable = 1;
	}
	if (o->passin != NULL) {
		if (tf_secret_read(o->passin, "bundle secrets passphrase: ", 0, &pass, &e) != 0) {
			add(rp, "--passin: %s", e.msg);
			unusable = 1;
		} else {
			k.passphrase = pass;
		}
	}
	if (unusable) {
		r = 0;
		goto out;
	}
	if (!found && pass == NULL) {
		add(rp,
		    "the bundle's secrets are sealed and there is no recipient key ('%s/%s' does "
		    "not "
		    "exist) and no --passin: give --recipient DIR (from 'tiferry keygen "
		    "--recipient') or --passin",
		    TF_CERTS_RECIPIENT_DIR, TF_CERTS_RECIPIENT_KEY);
		r = 0;
		goto out;
	}
	if ((r = read_sealed(o, &s, err)) != 0)
		goto out;
	if ((r = tf_certs_unseal_check(&s, &k, &e)) != 0) {
		if (r == TF_E_REJECT || r == TF_E_NOMEM || r == TF_E_CRYPTO) {
			r = tf_err_set(err, r, "the bundle's tls/ secrets: %s", e.msg);
			goto out;
		}
		add(rp, "the %s does not open the bundle's secrets: %s",
		    found && pass ? "recipient key or passphrase"
		    : found       ? "recipient key"
		                  : "passphrase",
		    e.msg);
	}
	r = 0;
	if (pass_out != NULL && pass != NULL) {
		*pass_out = pass;
		pass = NULL; /* transferred */
	}
out:
	tf_certs_sealed_release(&s);
	if (key != NULL) {
		tf_wipe(key, strlen(key));
		free(key);
	}
	free(cert);
	tf_secret_free(pass);
	return r;
}

/* Every (host, ssh_port) of meta_path has a key in known_hosts. */
static int check_hosts(const struct tf_inputs_opts *o, struct report *rp, struct tf_err *err)
{
	const char *meta = o->res->meta_path;
	const char *kh = o->known_hosts ? o->known_hosts : "~/.ssh/known_hosts";
	struct tf_topology *t = NULL;
	char missing[700] = "";
	size_t i, j, nmissing = 0, used = 0;
	struct tf_err e = {0};
	int r;

	if (meta == NULL)
		return tf_err_set(err, TF_E_USAGE, "no meta.yaml to read the cluster's hosts from");
	if (tf_topology_load(meta, &t, &e) != 0) {
		add(rp, "the cluster's hosts: %s", e.msg);
		return 0;
	}
	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];
		unsigned port = in->ssh_port ? (unsigned)in->ssh_port : 22;
		int pinned = 0, seen = 0;

		for (j = 0; j < i && !seen; j++)
			seen = strcmp(t->instances[j].host, in->host) == 0 &&
			       (t->instances[j].ssh_port ? t->instances[j].ssh_port : 22) == port;
		if (seen)
			continue;
		if (tf_ssh_host_pinned(o->known_hosts, in->host, port, &pinned, &e) != 0) {
			add(rp,
			    "%s: the cluster's host keys cannot be checked (give --known-hosts "
			    "FILE "
			    "with every host pinned, or --accept-new-host-keys)",
			    e.msg);
			r = 0;
			goto out;
		}
		if (pinned)
			continue;
		if (nmissing++ < 12 && used < sizeof(missing))
			used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s%s:%u",
			                         used ? ", " : "", in->host, port);
	}
	if (nmissing > 0)
		add(rp,
		    "%zu host%s not pinned in known_hosts '%s': %s%s (pin each after checking its "
		    "key's fingerprint with its owner: ssh-keyscan -p PORT HOST >> '%s'; or "
		    "--accept-new-host-keys)",
		    nmissing, nmissing == 1 ? "" : "s", kh, missing, nmissing > 12 ? ", ..." : "",
		    kh);
	r = 0;
out:
	tf_topology_free(t);
	return r;
}

int tf_inputs_check(const struct tf_inputs_opts *o, char **pass, struct tf_err *err)
{
	const struct tf_manifest *m = &o->res->manifest;
	const char *plan_json = tf_manifest_section(m, TF_SECTION_PLAN);
	struct tf_plan plan;
	struct report rp;
	int r;

	memset(&rp, 0, sizeof(rp));
	tf_plan_init(&plan);
	if (!o->skip_secrets && tf_manifest_section(m, TF_SECTION_TLS) != NULL &&
	    (r = check_secrets(o, &rp, pass, err)) != 0)
		goto out;
	/* no plan: the cluster steps do nothing (installer/install.c) */
	if (!o->skip_hosts && !o->accept_new_host_keys && plan_json != NULL) {
		if ((r = tf_plan_parse(plan_json, &plan, err)) != 0)
			goto out;
		if (plan.enable_tls && (r = check_hosts(o, &rp, err)) != 0)
			goto out;
	}
	r = 0;
	if (rp.n > 0)
		r = tf_err_set(err, TF_E_INPUT,
		               "%u input%s missing or wrong, nothing was changed: %s", rp.n,
		               rp.n == 1 ? "" : "s", rp.text);
out:
	if (r != 0 && pass != NULL && *pass != NULL) {
		tf_secret_free(*pass);
		*pass = NULL;
	}
	tf_plan_release(&plan);
	return r;
}

/* 1 when the step id is done in j (read only: tf_journal_step would add a missing entry). */
static int done(const struct tf_journal *j, enum tf_step_id id)
{
	size_t i;

	for (i = 0; j != NULL && i < j->nsteps; i++)
		if (strcmp(j->steps[i].name, tf_step_get(id)->name) == 0)
			return j->steps[i].status == TF_STEP_DONE;
	return 0;
}

int tf_inputs_check_install(const struct tf_install_opts *io, const struct tf_check_result *res,
                            const struct tf_journal *j, char **pass, struct tf_err *err)
{
	struct tf_inputs_opts o = {.bundle = io->bundle,
	                           .res = res,
	                           .recipient_dir = io->recipient_key,
	                           .passin = io->passin,
	                           .known_hosts = io->known_hosts,
	                           .accept_new_host_keys = io->accept_new_host_keys};
	size_t i;

	o.skip_secrets = done(j, TF_STEP_ID_PLACE_CERTIFICATES);
	o.skip_hosts = 1;
	for (i = 0; i < TF_STEPS_N; i++)
		if ((tf_step_get(i)->flags & TF_STEPS_CLUSTER) && !done(j, (enum tf_step_id)i))
			o.skip_hosts = 0;
	return tf_inputs_check(&o, pass, err);
}
