/* Preflight, the install's `preflight` step (docs/operator-guide.md): on every host of the
 * topology, in parallel over SSH, the checks that must pass before the first change:
 * reachability, duplicate node_exporter units, free disk for the deploy folders, the ports of the
 * PD nodes to be removed, and PD health through a hook. All hosts are checked read-only first;
 * duplicates are stopped only when everything else passed and the plan allows it. */
#ifndef TF_CLUSTER_PREFLIGHT_H
#define TF_CLUSTER_PREFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "cluster/ssh.h"
#include "cluster/topology.h"

#define TF_PREFLIGHT_UNITS_DIR "/etc/systemd/system"
#define TF_PREFLIGHT_NODE_EXPORTER_PORT 9100u
#define TF_PREFLIGHT_MIN_FREE_KB ((uint64_t)1024 * 1024) /* 1 GiB per deploy folder */

enum tf_check_status {
	TF_CHECK_OK = 0,
	TF_CHECK_WARN,    /* worth a look, not a refusal (e.g. a host key pinned just now) */
	TF_CHECK_FIXED,   /* a duplicate unit was stopped and disabled as the plan allows */
	TF_CHECK_SKIPPED, /* not checked (host unreachable, or no PD hook) */
	TF_CHECK_FAIL,    /* refuses the install */
};

/* The PD health hook, called from worker threads once per PD instance (the caller asks through
 * cluster/pdapi). Returns 0 when the member is healthy and sets *is_leader; else fills err. */
typedef int (*tf_preflight_pd_fn)(void *arg, const struct tf_topo_instance *pd, int *is_leader,
                                  struct tf_err *err);

/* What the preflight tells its caller as it goes; every hook may be NULL and is called from
 * worker threads. host: a host is being checked (running 1, st unused) or has its result, st
 * being its worst item (TF_CHECK_OK when all passed). command: a command that changed a host
 * ran (the caller audits it). */
struct tf_preflight_hooks {
	void (*host)(void *arg, const char *host, int running, enum tf_check_status st,
	             const char *detail);
	void (*command)(void *arg, const char *host, const char *command, int exit_code);
	void *arg;
};

struct tf_preflight_params {
	const struct tf_topology *topo;
	const struct tf_ssh_opts *ssh; /* user, key, known_hosts, pin flag, timeouts; host and
	                                * port come from each instance */
	unsigned parallel;             /* hosts at once; 0: TF_SSH_FANOUT_DEFAULT */
	/* Where the host keeps its unit files; a relative path is relative to the login's working
	 * folder (tests give each host its own). NULL: TF_PREFLIGHT_UNITS_DIR. */
	const char *units_dir;
	uint64_t node_exporter_port;  /* topology.monitored.node_exporter_port; 0: 9100 */
	int stop_duplicates;          /* the plan allows `systemctl stop` + `disable` */
	uint64_t min_free_kb;         /* free space needed per deploy folder; 0: the default */
	const char *const *pd_remove; /* "host:client_port" of the PD nodes to remove, NULL-ended */
	tf_preflight_pd_fn pd_check;  /* NULL: PD health is reported as skipped */
	void *pd_check_arg;
	struct tf_preflight_hooks hooks; /* each host's state and the commands that change one */
};

struct tf_preflight_item {
	char *host;        /* "host:ssh_port" */
	const char *check; /* "reachable", "host_key", "node_exporter", "disk",
	                    * "pd_ports", "pd_health", "pd_leader" */
	enum tf_check_status status;
	char *detail;
};

struct tf_preflight_report {
	size_t nhosts;
	size_t nitems;
	struct tf_preflight_item *items; /* by host in topology order, then by check */
	size_t nfailed;
	size_t nfixed; /* duplicate units stopped */
	double seconds;
};

/* Runs the preflight. Returns 0 when every check passed (duplicates may have been stopped:
 * TF_CHECK_FIXED items); TF_E_FAIL naming the failing hosts when any check failed, in which case
 * nothing was changed on any host (the one exception: stopping a duplicate failed after all
 * checks passed; the FIXED items then name what was stopped elsewhere). In both cases *out
 * receives the report (freed with tf_preflight_report_free) for the journal; on other errors
 * *out is untouched. */
int tf_preflight_run(const struct tf_preflight_params *p, struct tf_preflight_report **out,
                     struct tf_err *err) TF_MUST_CHECK;
void tf_preflight_report_free(struct tf_preflight_report *r);
/* What tf_preflight_run makes of one host's probe without SSH: the items of the first host of
 * p->topo (its PD health asked of no one) from the probe command's stdout out, stderr errout
 * and exit status, as a report (*rep, freed with tf_preflight_report_free). p->ssh may be NULL.
 * The parsing of systemctl's, df's and ss's output, for tests and the fuzz target. */
int tf_preflight_judge_probe(const struct tf_preflight_params *p, const char *out,
                             const char *errout, int status, struct tf_preflight_report **rep,
                             struct tf_err *err) TF_MUST_CHECK;
/* The report as a JSON object {"ok","hosts","failed","fixed","seconds","checks":[{host,check,
 * status,detail}]} (caller frees). */
int tf_preflight_report_json(const struct tf_preflight_report *r, char **out,
                             struct tf_err *err) TF_MUST_CHECK;
const char *tf_check_status_name(enum tf_check_status s);

#endif
