/* tiferry verify's host checks: the node command, its parsing, and the verdicts on a node's
 * tls/ folder and on the control host's TiUP versions and mirror. */
#include "installer/verify_host.h"
#include "crypto/x509.h"
#include "common/hex.h"
#include "cluster/ssh.h"
#include "mirror/tiupmeta.h"
#include "mirror/tiupstate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

/* sha256sum of empty input: what the node prints when openssl could not read a key. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

void tf_vhost_node_init(struct tf_vhost_node *n)
{
	memset(n, 0, sizeof(*n));
}

void tf_vhost_node_release(struct tf_vhost_node *n)
{
	if (n == NULL)
		return;
	free(n->ca_pem);
	free(n->cert_pem);
	memset(n, 0, sizeof(*n));
}

static int plain_word(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 32)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

char *tf_vhost_node_command(const char *deploy_dir, const char *role)
{
	char *dir = NULL, *tls = NULL, *cmd = NULL;
	size_t dl;

	if (!plain_word(role) || deploy_dir == NULL)
		return NULL;
	dl = strlen(deploy_dir);
	if (asprintf(&tls, "%.*s/tls", (int)(dl > 1 && deploy_dir[dl - 1] == '/' ? dl - 1 : dl),
	             deploy_dir) < 0)
		return NULL;
	dir = tf_ssh_quote(tls);
	free(tls);
	if (dir == NULL)
		return NULL;
	/* The key is read on the host: only the hash of its public half is printed. An unreadable
	 * key hashes the empty input, which the parser takes as "not read". */
	if (asprintf(
	        &cmd,
	        "cd %s 2>/dev/null || { echo TF-NODIR; exit 0; }; echo TF-DIR; "
	        "for f in ca.crt %s.crt %s.pem; do if [ -e \"$f\" ] || [ -L \"$f\" ]; then "
	        "stat -c 'TF-FILE %%n %%a %%U %%F' \"$f\"; else echo \"TF-MISSING $f\"; fi; done; "
	        "echo TF-CA; cat ca.crt 2>/dev/null; echo; echo TF-CERT; cat %s.crt 2>/dev/null; "
	        "echo; echo \"TF-KEYPUB $(openssl pkey -in %s.pem -pubout 2>/dev/null | "
	        "sha256sum)\"; echo \"TF-CERTPUB $(openssl x509 -in %s.crt -noout -pubkey "
	        "2>/dev/null | sha256sum)\"",
	        dir, role, role, role, role, role) < 0)
		cmd = NULL;
	free(dir);
	return cmd;
}

static int append(char **buf, const char *line, size_t n)
{
	size_t have = *buf ? strlen(*buf) : 0;
	char *p = realloc(*buf, have + n + 2);

	if (p == NULL)
		return -1;
	memcpy(p + have, line, n);
	p[have + n] = '\n';
	p[have + n + 1] = '\0';
	*buf = p;
	return 0;
}

/* The hex digest at the start of a sha256sum line ("<64 hex>  -"); "" when absent or the
 * digest of nothing. */
static void digest_of(const char *s, char out[TF_SHA256_HEX])
{
	char d[TF_SHA256_HEX];

	while (*s == ' ')
		s++;
	out[0] = '\0';
	if (strlen(s) < 64)
		return;
	memcpy(d, s, 64);
	d[64] = '\0';
	if (tf_hex_is_lower(d, 64) && strcmp(d, EMPTY_SHA256) != 0)
		memcpy(out, d, sizeof(d));
}

int tf_vhost_node_parse(const char *out, const char *role, struct tf_vhost_node *n,
                        struct tf_err *err)
{
	const char *p = out, *nl;
	char **into = NULL;
	int seen_end = 0;

	if (out == NULL || n == NULL || !plain_word(role))
		return tf_err_set(err, TF_E_INPUT, "bad role '%s'", role ? role : "");
	snprintf(n->files[TF_VHOST_CA].name, sizeof(n->files[0].name), "ca.crt");
	snprintf(n->files[TF_VHOST_CERT].name, sizeof(n->files[0].name), "%s.crt", role);
	snprintf(n->files[TF_VHOST_KEY].name, sizeof(n->files[0].name), "%s.pem", role);
	for (; *p != '\0'; p = *nl ? nl + 1 : nl) {
		size_t len;
		char line[512] = "";

		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (strncmp(p, "TF-", 3) != 0 || len >= sizeof(line)) {
			if (into != NULL && len > 0 && append(into, p, len) != 0)
				return tf_err_nomem(err);
			continue;
		}
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (strcmp(line, "TF-NODIR") == 0) {
			n->dir_present = 0;
			return 0;
		}
		if (strcmp(line, "TF-DIR") == 0) {
			n->dir_present = 1;
		} else if (strncmp(line, "TF-FILE ", 8) == 0 ||
		           strncmp(line, "TF-MISSING ", 11) == 0) {
			int missing = line[3] == 'M';
			char *name = line + (missing ? 11 : 8), *rest = strchr(name, ' '), *type;
			size_t i;

			if (rest != NULL)
				*rest++ = '\0';
			for (i = 0; i < 3; i++) {
				struct tf_vhost_file *f = &n->files[i];
				unsigned long m;
				char *end = NULL;

				if (strcmp(f->name, name) != 0)
					continue;
				if (missing || rest == NULL)
					break;
				m = strtoul(rest, &end, 8);
				if (end == rest || *end != ' ' ||
				    (type = strchr(end + 1, ' ')) == NULL)
					return tf_err_set(err, TF_E_INPUT, "bad stat line '%s'", p);
				f->present = 1;
				f->mode = (unsigned)m & 07777;
				snprintf(f->owner, sizeof(f->owner), "%.*s", (int)(type - end - 1),
				         end + 1);
				snprintf(f->type, sizeof(f->type), "%s", type + 1);
			}
		} else if (strcmp(line, "TF-CA") == 0) {
			into = &n->ca_pem;
		} else if (strcmp(line, "TF-CERT") == 0) {
			into = &n->cert_pem;
		} else if (strncmp(line, "TF-KEYPUB", 9) == 0) {
			into = NULL;
			digest_of(line + 9, n->key_pub);
		} else if (strncmp(line, "TF-CERTPUB", 10) == 0) {
			digest_of(line + 10, n->cert_pub);
			seen_end = 1;
		}
	}
	if (!n->dir_present || !seen_end)
		return tf_err_set(err, TF_E_INPUT, "the node's answer is cut short");
	return 0;
}

enum tf_vstatus tf_vhost_judge_dir(const struct tf_vhost_node *n, char *detail, size_t len)
{
	char bad[300] = "";
	size_t i;

	if (!n->dir_present) {
		snprintf(detail, len, "no tls/ folder");
		return TF_V_FAIL;
	}
	for (i = 0; i < 3; i++) {
		const struct tf_vhost_file *f = &n->files[i];

		if (!f->present)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s missing",
			         bad[0] ? ", " : "", f->name);
		else if (strcmp(f->type, "regular file") != 0 &&
		         strcmp(f->type, "regular empty file") != 0)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s is a %s",
			         bad[0] ? ", " : "", f->name, f->type);
	}
	if (bad[0]) {
		snprintf(detail, len, "tls/: %s", bad);
		return TF_V_FAIL;
	}
	snprintf(detail, len, "tls/ has %s, %s and %s", n->files[0].name, n->files[1].name,
	         n->files[2].name);
	return TF_V_PASS;
}

enum tf_vstatus tf_vhost_judge_key_mode(const struct tf_vhost_node *n, const char *user,
                                        char *detail, size_t len)
{
	const struct tf_vhost_file *k = &n->files[TF_VHOST_KEY];

	if (!n->dir_present || !k->present) {
		snprintf(detail, len, "no key %s to look at (see node.tls-dir)",
		         k->name[0] ? k->name : "file");
		return TF_V_SKIP;
	}
	if ((k->mode & 044) != 0) {
		snprintf(detail, len, "%s has mode %04o: readable by %s", k->name, k->mode,
		         (k->mode & 004) ? "others" : "its group");
		return TF_V_FAIL;
	}
	if ((k->mode & 022) != 0) {
		snprintf(detail, len, "%s has mode %04o: writable by %s", k->name, k->mode,
		         (k->mode & 002) ? "others" : "its group");
		return TF_V_FAIL;
	}
	if (user != NULL && strcmp(k->owner, user) != 0) {
		snprintf(detail, len, "%s is owned by %s, not the deploy user %s", k->name,
		         k->owner[0] ? k->owner : "?", user);
		return TF_V_FAIL;
	}
	snprintf(detail, len, "%s has mode %04o: readable by its owner%s%s only", k->name, k->mode,
	         user ? " " : "", user ? user : "");
	return TF_V_PASS;
}

enum tf_vstatus tf_vhost_judge_cert(const struct tf_vhost_node *n, const char *ca_file,
                                    const char *ca_sha256, struct tf_vhost_cert *facts,
                                    char *detail, size_t len)
{
	const char *crt = n->files[TF_VHOST_CERT].name, *key = n->files[TF_VHOST_KEY].name;
	struct tf_x509_anchor anchor = {.file = ca_file};
	struct tf_x509_info ca;
	struct tf_err e;
	enum tf_vstatus s;

	memset(facts, 0, sizeof(*facts));
	if (!n->dir_present || !n->files[TF_VHOST_CERT].present) {
		snprintf(detail, len, "no certificate %s to check (see node.tls-dir)",
		         crt[0] ? crt : "file");
		return TF_V_SKIP;
	}
	if (n->cert_pem == NULL ||
	    tf_x509_info_pem(n->cert_pem, strlen(n->cert_pem), &facts->x509, &e) != 0) {
		snprintf(detail, len, "%s is not a PEM certificate", crt);
		return TF_V_FAIL;
	}
	if (n->ca_pem != NULL && tf_x509_info_pem(n->ca_pem, strlen(n->ca_pem), &ca, &e) == 0)
		memcpy(facts->node_ca_sha256, ca.sha256, sizeof(facts->node_ca_sha256));
	/* Chained to the certificates in ca_file, as the TLS checks do for servers. */
	if (tf_x509_verify_pem(n->cert_pem, strlen(n->cert_pem), &anchor, &facts->chain_ok,
	                       facts->chain_error, &e) != 0) {
		facts->chain_ok = 0;
		snprintf(facts->chain_error, sizeof(facts->chain_error), "%s", e.msg);
	}
	facts->key_matches = n->key_pub[0] != '\0' && strcmp(n->key_pub, n->cert_pub) == 0;
	if (!facts->chain_ok) {
		snprintf(detail, len, "%s (issuer %s) does not chain to the control host's CA: %s",
		         crt, facts->x509.issuer, facts->chain_error);
		s = TF_V_FAIL;
	} else if (ca_sha256 == NULL || strcmp(facts->node_ca_sha256, ca_sha256) != 0) {
		snprintf(detail, len, "the node's ca.crt (%.16s...) is not the control host's CA",
		         facts->node_ca_sha256[0] ? facts->node_ca_sha256 : "unreadable");
		s = TF_V_FAIL;
	} else if (n->key_pub[0] == '\0') {
		snprintf(detail, len, "the host could not read the key in %s", key);
		s = TF_V_FAIL;
	} else if (!facts->key_matches) {
		snprintf(detail, len, "%s does not hold the key of %s", key, crt);
		s = TF_V_FAIL;
	} else {
		snprintf(detail, len, "%s %.16s... chains to the CA %.16s..., %s holds its key",
		         crt, facts->x509.sha256, ca_sha256, key);
		s = TF_V_PASS;
	}
	return s;
}

int tf_vhost_find_version(const char *out, char *buf, size_t len)
{
	const char *p;

	for (p = out; p != NULL && *p != '\0'; p++) {
		const char *q = p, *e;

		/* a word start: "1.16.1" or "v1.16.1" */
		if (p != out && !isspace((unsigned char)p[-1]))
			continue;
		if (*q == 'v')
			q++;
		if (!isdigit((unsigned char)*q))
			continue;
		for (e = q; isalnum((unsigned char)*e) || *e == '.' || *e == '-' || *e == '+'; e++)
			;
		{
			size_t n = (size_t)(e - q), dots = 0, i;

			for (i = 0; i < n; i++)
				dots += q[i] == '.';
			if (dots < 2 || (*e != '\0' && !isspace((unsigned char)*e) && *e != ','))
				continue;
			if (n + 2 > len)
				return -1;
			snprintf(buf, len, "v%.*s", (int)n, q);
			return 0;
		}
	}
	return -1;
}

enum tf_vstatus tf_vhost_judge_version(const char *what, const char *out, int status,
                                       const char *want, char *found, size_t flen, char *detail,
                                       size_t len)
{
	char w[64];
	const char *last = out ? out : "";

	found[0] = '\0';
	snprintf(w, sizeof(w), "%s%s", want[0] == 'v' ? "" : "v", want);
	if (status != 0) {
		/* its last line says why, usually */
		size_t n = strlen(last);

		while (n > 0 && (last[n - 1] == '\n' || last[n - 1] == ' '))
			n--;
		{
			size_t s = n;

			while (s > 0 && last[s - 1] != '\n')
				s--;
			snprintf(detail, len, "'%s' exited with %d (%.*s); the bundle has %s", what,
			         status, (int)(n - s > 200 ? 200 : n - s), last + s, w);
		}
		return TF_V_FAIL;
	}
	if (tf_vhost_find_version(last, found, flen) != 0) {
		snprintf(detail, len, "'%s' reports no version; the bundle has %s", what, w);
		return TF_V_FAIL;
	}
	if (tf_tiup_version_cmp(found, w) < 0) {
		snprintf(detail, len, "'%s' reports %s, older than the bundle's %s", what, found,
		         w);
		return TF_V_FAIL;
	}
	snprintf(detail, len, "'%s' reports %s, at least the bundle's %s", what, found, w);
	return TF_V_PASS;
}

enum tf_vstatus tf_vhost_judge_mirror(const struct tf_tiup_state *before,
                                      const struct tf_tiup_state *now, const char *restore,
                                      char *detail, size_t len)
{
	const char *mb = tf_tiup_state_mirror(before), *mn = tf_tiup_state_mirror(now);

	if (restore != NULL) {
		if (strcmp(restore, mn) != 0) {
			snprintf(
			    detail, len,
			    "TiUP uses mirror %s; expected %s, the bundle's tiup.restore address "
			    "(before the install it used %s)",
			    mn, restore, mb);
			return TF_V_FAIL;
		}
		snprintf(detail, len,
		         "mirror %s: the bundle's tiup.restore address, as expected (before the "
		         "install TiUP used %s)",
		         mn, mb);
		return TF_V_PASS;
	}

	if (strcmp(mb, mn) != 0) {
		snprintf(detail, len, "TiUP uses mirror %s; before the install it used %s", mn, mb);
		return TF_V_FAIL;
	}
	if (before->has_root != now->has_root || before->root_len != now->root_len ||
	    (before->has_root && memcmp(before->root, now->root, before->root_len) != 0)) {
		snprintf(detail, len,
		         "mirror %s as before, but bin/root.json %s (the mirror's trusted root "
		         "changed)",
		         mn,
		         !now->has_root      ? "is gone"
		         : !before->has_root ? "is new"
		                             : "differs");
		return TF_V_FAIL;
	}
	snprintf(detail, len, "mirror %s and bin/root.json as recorded before the install", mn);
	return TF_V_PASS;
}
