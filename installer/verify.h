/* tiferry verify: the checks that prove the fix (docs/verify.md). Endpoints come from TiUP's
 * meta.yaml (--cluster) or the command line (--pd, --scan); every endpoint's checks, taken from
 * one table in verify.c, run in a bounded pool of threads; each check gives pass, warn, fail,
 * skip or unknown with one line of detail and its evidence as JSON. Rendering (table, lines,
 * JSON, the receipt's bytes) is here too; printing is the caller's. */
#ifndef TF_INSTALLER_VERIFY_H
#define TF_INSTALLER_VERIFY_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "cluster/scan.h"

/* unknown: the check found no evidence either way (a scan probe timed out, an answer was cut
 * short or not well-formed HTTP); it never counts as a pass. */
enum tf_vstatus { TF_V_PASS = 0, TF_V_WARN, TF_V_FAIL, TF_V_SKIP, TF_V_UNKNOWN, TF_V_NSTATUS };

/* What an endpoint is; a check applies to the kinds in its mask. */
enum tf_vkind {
	TF_VK_PD = 0, /* PD's client port: etcd's API and PD's */
	TF_VK_TIKV,   /* status ports (status_port) */
	TF_VK_TIDB,
	TF_VK_TIFLASH,
	TF_VK_SCAN,    /* --scan HOST:PORT: the scanner's unauthenticated probes */
	TF_VK_CONTROL, /* the control host: the tls/ folder */
	TF_VK_NODE,    /* an instance's host over SSH: its <deploy_dir>/tls/ (verify_host.h) */
	TF_VK_NKINDS
};

#define TF_VERIFY_TIMEOUT_MS 5000
#define TF_VERIFY_THREADS 16
#define TF_VERIFY_CERT_WARN_DAYS 30

struct tf_verify_opts {
	const char *cluster;        /* --cluster NAME: meta.yaml and tls/ under TiUP's storage */
	const char *tiup_home;      /* NULL: $TIUP_HOME, else $HOME/.tiup */
	const char *const *pd_urls; /* --pd: https://HOST:PORT (or HOST:PORT) */
	size_t npd;
	const char *ca_file, *cert_file, *key_file; /* with --pd (else from tls/) */
	const char *const *scan;                    /* --scan HOST:PORT */
	size_t nscan;
	int timeout_ms;  /* 0: TF_VERIFY_TIMEOUT_MS */
	int deadline_ms; /* each probe's whole exchange; 0: TF_PROBE_DEADLINE_FACTOR x timeout */
	int threads;     /* 0: TF_VERIFY_THREADS */
	time_t now;      /* 0: tf_time_now() (certificate days left) */
	/* --cluster only: also each instance's tls/ folder over SSH and the control host's TiUP
	 * versions and mirror against the install journal. 0 leaves those checks "skip". */
	int host_checks;
	const char *known_hosts; /* the nodes' host keys, strict; NULL: $HOME/.ssh/known_hosts */
};

struct tf_vcheck {
	char *id;     /* "tls.handshake", "pd.members", "scan.plain.v3-kv-range", ... */
	char *target; /* "pd pd-127.0.0.11-2379 127.0.0.11:2379" */
	enum tf_vkind kind;
	char *endpoint; /* "127.0.0.11:2379", or "control" */
	enum tf_vstatus status;
	char *detail;   /* one line for people */
	char *evidence; /* a JSON object (compact text), NULL when none */
};

struct tf_verify_report {
	char *cluster; /* NULL without --cluster */
	time_t created;
	double seconds; /* wall time of the checks */
	size_t nendpoints;
	size_t nchecks;
	struct tf_vcheck *checks; /* endpoint order, then table order */
	size_t counts[TF_V_NSTATUS];
};

void tf_verify_report_init(struct tf_verify_report *rep);
void tf_verify_report_release(struct tf_verify_report *rep);

/* Collects the endpoints and runs every check. 0 when the checks ran, whatever their verdicts
 * (see tf_verify_exit_code); TF_E_USAGE / TF_E_INPUT / TF_E_NOTFOUND when they could not (bad
 * URL, no meta.yaml, unreadable certificate). */
int tf_verify_run(const struct tf_verify_opts *o, struct tf_verify_report *rep,
                  struct tf_err *err) TF_MUST_CHECK;

/* TF_EXIT_FAIL (1) when a check failed, else TF_EXIT_UNKNOWN (4) when one could not decide,
 * else 0 (warn and skip are fine). */
int tf_verify_exit_code(const struct tf_verify_report *rep);
const char *tf_vstatus_name(enum tf_vstatus s);
const char *tf_vkind_name(enum tf_vkind k);

/* Text for people: an aligned table (table = 1) or one plain line per check; colour = 1 adds
 * ANSI colours; verbosity 0 shows only failures and warnings, 2 adds the evidence. Ends with the
 * scan verdicts and a summary line. *out is NUL-terminated; caller frees. */
int tf_verify_render_text(const struct tf_verify_report *rep, int table, int colour, int verbosity,
                          char **out, struct tf_err *err) TF_MUST_CHECK;

/* The signer of a receipt as it is written into it. */
struct tf_verify_signer {
	const char *keyid;
	const char *alg;
	const char *public_key; /* PEM */
};

/* The report as pretty JSON ending in a newline. With signer (a receipt), adds format,
 * bundle_id (NULL: null), control_host and signer. *out is NUL-terminated; caller frees. */
int tf_verify_render_json(const struct tf_verify_report *rep, const char *bundle_id,
                          const struct tf_verify_signer *signer, char **out, size_t *len,
                          struct tf_err *err) TF_MUST_CHECK;

/* Renders rep as a receipt for bundle_id (NULL: none) signed by key, and writes path and
 * "<path>.sig" (manifests/receipt.h). */
struct tf_sigkey;
int tf_verify_write_receipt(const struct tf_verify_report *rep, const char *bundle_id,
                            const struct tf_sigkey *key, const char *path,
                            struct tf_err *err) TF_MUST_CHECK;

#endif
