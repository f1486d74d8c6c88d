/* The cluster's CA and client certificate for TiUP's tls/ folder (docs/tiup.md §5):
 * generated, or imported from the bank's PKI and checked, and the recipient key pair for
 * secrets (certs.c); the folder sealed for the bundle and placed on the control host, and the
 * manifest's "tls" section with the node certificate plan TiUP will follow (tlsdir.c).
 * OpenSSL stays inside the .c files. Files, refusals and the auditor's commands:
 * docs/certificates.md. */
#ifndef TF_CRYPTO_CERTS_H
#define TF_CRYPTO_CERTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/hex.h"
#include "crypto/secrets.h"
#include "crypto/x509.h"

#define TF_CERTS_NODE_DAYS 3650u      /* TiUP signs node certificates for 10 x 365 days */
#define TF_CERTS_CLIENT_DAYS 3650u    /* and its client certificate likewise */
#define TF_CERTS_CA_DAYS 18250u       /* a generated CA: 50 x 365 days, as TiUP's own */
#define TF_CERTS_PFX_PASSWORD "tiup"  /* TiUP's client.pfx password */
#define TF_CERTS_RECIPIENT_BITS 3072u /* tiferry keygen --recipient */
#define TF_CERTS_RECIPIENT_DAYS 3650u
#define TF_CERTS_RECIPIENT_DIR "/etc/tiferry/recipient" /* keygen writes, install reads */
#define TF_CERTS_RECIPIENT_KEY "recipient.key"
#define TF_CERTS_RECIPIENT_CERT "recipient.crt"

/* TiUP's tls/ folder: $TIUP_HOME/storage/cluster/clusters/<name>/tls/ */
#define TF_CERTS_CA_CRT "ca.crt"
#define TF_CERTS_CA_KEY "ca.pem"
#define TF_CERTS_CLIENT_CRT "client.crt"
#define TF_CERTS_CLIENT_KEY "client.pem"
#define TF_CERTS_CLIENT_PFX "client.pfx"
#define TF_CERTS_NFILES 5

enum tf_certs_source { TF_CERTS_GENERATE = 0, TF_CERTS_IMPORT = 1 };

struct tf_certs_config {
	enum tf_certs_source source;
	const char *cluster;   /* required: the client CN defaults to "<cluster>-client" */
	const char *client_cn; /* NULL: "<cluster>-client", as TiUP names it */
	unsigned rsa_bits;     /* generated CA and the client key: 2048, 3072 or 4096; 0: 2048 */
	/* generate */
	const char *subject;    /* CA subject: "/O=Bank/CN=TiDB CA" or "O=Bank, CN=TiDB CA";
	                         * NULL: "/O=tiferry/OU=TiUP/CN=<cluster> CA" */
	unsigned validity_days; /* CA lifetime; 0: TF_CERTS_CA_DAYS */
	/* import */
	const char *ca_cert_file; /* the bank's CA certificate (PEM; the first one counts) */
	const char *ca_key_file;  /* its RSA key (PEM: PKCS#1 or PKCS#8, maybe encrypted) */
	const char *ca_key_pass;  /* passphrase of an encrypted CA key, or NULL */
	const char *chain_file;   /* for an intermediate CA: its issuers up to the root, or NULL */
	/* both */
	time_t now;        /* 0: tf_time_now() */
	time_t window_end; /* the bundle's not_after: TiUP may issue 10-year node
	                    * certificates until then, so the CA (and its chain) must be
	                    * valid until window_end + TF_CERTS_NODE_DAYS; 0: now */
};

/* The five files of TiUP's tls/ folder. Secrets: ca_pem, client_pem, client_pfx (the pfx's
 * password is public, so it is as secret as the key inside). */
struct tf_certs {
	enum tf_certs_source source;
	char *ca_crt; /* PEM: the CA, then its chain (issuers up to the root) */
	size_t ca_crt_len;
	char *ca_pem; /* PEM "RSA PRIVATE KEY" (PKCS#1): the only form TiUP reads */
	size_t ca_pem_len;
	char *client_crt; /* PEM */
	size_t client_crt_len;
	char *client_pem; /* PEM "RSA PRIVATE KEY" (PKCS#1), as TiUP writes it */
	size_t client_pem_len;
	uint8_t *client_pfx; /* PKCS#12 (password "tiup"): key, certificate, CA and chain */
	size_t client_pfx_len;
	struct tf_x509_info ca, client;
	size_t nchain;
	struct tf_x509_info *chain; /* the CA's issuers, in order */
	size_t nwarnings;
	char **warnings; /* things the operator should read (e.g. no chain given) */
};

struct tf_certs_file {
	const char *name; /* "ca.crt", "ca.pem", ... */
	const void *data;
	size_t len;
	unsigned mode; /* 0644 certificates, 0600 keys and client.pfx */
	int secret;    /* 1: must be encrypted in the bundle (crypto/secrets.h) */
};

void tf_certs_init(struct tf_certs *c);
/* Frees c's contents, wiping the keys and client.pfx. */
void tf_certs_release(struct tf_certs *c);
/* Generates or imports the CA (cfg->source), then issues the client certificate and client.pfx.
 * An imported CA is refused (TF_E_INPUT, naming the file and the reason) when it is not a CA
 * (basicConstraints CA:TRUE absent), its key does not match it, its key is not RSA ("TiUP needs
 * an RSA CA key"), it is not valid now or not until window_end + TF_CERTS_NODE_DAYS, it cannot
 * sign certificates (keyUsage without keyCertSign), its extended key usage excludes
 * serverAuth or clientAuth, or its chain does not verify. */
int tf_certs_make(const struct tf_certs_config *cfg, struct tf_certs *out,
                  struct tf_err *err) TF_MUST_CHECK;
/* The five files in TiUP's order: ca.crt, ca.pem, client.crt, client.pem, client.pfx. */
void tf_certs_files(const struct tf_certs *c, struct tf_certs_file out[TF_CERTS_NFILES]);
/* ---- the tls/ files in the bundle: secrets sealed (builder), opened and placed (installer) ----
 */
struct tf_certs_sealed_file {
	char
	    name[32]; /* "ca.crt", "ca.pem.cms", "client.crt", "client.pem.cms", "client.pfx.cms" */
	char *data;   /* certificates as they are; secrets as CMS PEM (crypto/secrets.h) */
	size_t len;
	unsigned mode; /* 0644 certificates, 0600 the encrypted secrets */
};

struct tf_certs_sealed {
	struct tf_certs_sealed_file files[TF_CERTS_NFILES];
};

/* The five files as they go into the bundle: ca.pem, client.pem and client.pfx encrypted to r
 * (and named with TF_SECRETS_SUFFIX), the certificates as they are. Nothing in *out holds a
 * plaintext key. Release with tf_certs_sealed_release. */
int tf_certs_seal(const struct tf_certs *c, const struct tf_secrets_recipients *r,
                  struct tf_certs_sealed *out, struct tf_err *err) TF_MUST_CHECK;
void tf_certs_sealed_release(struct tf_certs_sealed *s);
/* Reads the sealed files from src_dir, decrypts the secrets with k, checks them (each key is
 * PKCS#1 and matches its certificate, client.crt verifies against ca.crt, client.pfx opens with
 * "tiup") and only then writes the five files into tls_dir (created 0700 when missing; keys and
 * client.pfx 0600, certificates 0644; atomically). Refuses to replace existing files unless
 * replace is set. Every plaintext buffer is wiped. */
int tf_certs_unseal(const char *src_dir, const char *tls_dir, const struct tf_secrets_key *k,
                    int replace, struct tf_err *err) TF_MUST_CHECK;
/* What tf_certs_unseal checks, on sealed files in memory (the bundle's tls/ entries, in
 * tf_certs_seal's order), writing nothing: every secret is decrypted with k into memory that is
 * wiped and freed before returning. TF_E_INPUT (or TF_E_USAGE) when k does not open a secret,
 * the message naming the file and what it is sealed to; TF_E_REJECT when a secret is corrupt or
 * the opened files are not a working set (a key not matching its certificate, ...). */
int tf_certs_unseal_check(const struct tf_certs_sealed *s, const struct tf_secrets_key *k,
                          struct tf_err *err) TF_MUST_CHECK;
/* ---- the node certificate plan: filled from meta.yaml by tf_certplan_make (cluster/certplan.h),
 * written into the manifest here, with the rest of the "tls" section ---- */
struct tf_certplan_entry {
	char *component; /* the certificate's CN and file name: "pd", "tikv", "prometheus", ... */
	char *host;
	uint64_t port;    /* the instance's main port, for display (0 when none) */
	char *deploy_dir; /* NULL when meta.yaml has none */
	size_t nsans;
	char *sans[3];  /* "localhost", "127.0.0.1", host (once) */
	int host_is_ip; /* 0: host is a DNS name (see the plan's warnings) */
};

struct tf_certplan {
	size_t n;
	struct tf_certplan_entry *entries;
	size_t nwarnings;
	char **warnings; /* one per distinct host that is a DNS name */
};

void tf_certplan_free(struct tf_certplan *p);
/* The plan as JSON text (caller frees): {"node_days":3650,"certificates":[...],"warnings":[...]}.
 */
int tf_certplan_json(const struct tf_certplan *p, char **out, struct tf_err *err) TF_MUST_CHECK;

/* The "tls" section of the manifest as JSON text (caller frees): source, CA, chain and client
 * (subject, issuer, serial, fingerprint, validity, key), node_days, warnings, and, under "plan",
 * plan_json (the node certificate plan as JSON text, tf_certplan_json) when it is not NULL.
 * No secret goes into it. */
int tf_certs_summary_json(const struct tf_certs *c, const char *plan_json, char **out,
                          struct tf_err *err) TF_MUST_CHECK;

/* Checks a key before it goes into TiUP's tls/ folder (e.g. just decrypted): key_pem must be one
 * PEM "RSA PRIVATE KEY" (PKCS#1) block, as TiUP reads ca.pem, and match the first certificate of
 * cert_pem. TF_E_INPUT saying which. */
int tf_certs_check_pair(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                        struct tf_err *err) TF_MUST_CHECK;

/* ---- the recipient key pair (`tiferry keygen --recipient`) ---- */
/* RSA TF_CERTS_RECIPIENT_BITS and a self-signed certificate (CN cn, keyEncipherment, valid days
 * from now; 0: TF_CERTS_RECIPIENT_DAYS) because CMS names its recipients by certificate.
 * *key_pem: PKCS#8 PEM (caller wipes and frees); *cert_pem: PEM (caller frees). */
int tf_certs_recipient_keygen(const char *cn, unsigned days, time_t now, char **key_pem,
                              size_t *key_len, char **cert_pem, size_t *cert_len,
                              char fingerprint[TF_FINGERPRINT_LEN],
                              struct tf_err *err) TF_MUST_CHECK;

#endif
