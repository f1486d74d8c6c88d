/* The one client of PD's etcd API (PD's client port): the member list, a member's status and
 * health, and the update of a member's peer URLs. JSON stays inside pdapi.c; members come out
 * as our own structs. The transport is a seam: unit tests answer in-process. */
#ifndef TF_CLUSTER_PDAPI_H
#define TF_CLUSTER_PDAPI_H

#include <stddef.h>

#include "common/err.h"

#define TF_PD_CLIENT_PORT 2379u /* PD's client port when meta.yaml gives none */

struct tf_tls_client;
struct tf_http_response;

/* Sends one request and reads its answer into *resp (released by the caller, also after a
 * failure); the contract of tf_probe_http (cluster/tlsprobe.h), which is the default. */
typedef int (*tf_pd_transport)(void *arg, const char *host, unsigned port,
                               const struct tf_tls_client *tls, int timeout_ms, const char *method,
                               const char *path, const char *body, size_t max_body,
                               struct tf_http_response *resp, struct tf_err *err);

struct tf_pd_api {
	const struct tf_tls_client *tls; /* NULL: plain http (before TLS); the caller's */
	tf_pd_transport send;            /* NULL: tf_probe_http */
	void *send_arg;
};

enum tf_pd_id_kind { TF_PD_ID_NONE, TF_PD_ID_TEXT, TF_PD_ID_NUMBER };

/* One member of etcd's member list. URL entries are NULL where the answer had no string. */
struct tf_pd_member {
	enum tf_pd_id_kind id_kind;
	char *id;         /* the ID as the answer wrote it (etcd: a decimal string); NULL: none */
	double id_number; /* TF_PD_ID_NUMBER: the ID given as a JSON number */
	char *name;       /* NULL when absent or empty (a member not started yet) */
	char **peer_urls;
	size_t npeer;
	int has_peer_urls; /* "peerURLs" was an array */
	char **client_urls;
	size_t nclient;
	int has_client_urls; /* "clientURLs" was an array */
};

struct tf_pd_members {
	struct tf_pd_member *m;
	size_t n;
};

/* Parses the answer to POST /v3/cluster/member/list. TF_E_FAIL when it is not JSON with a
 * "members" array. *out is written only on success; release it with tf_pd_members_release. */
int tf_pd_members_parse(const char *body, size_t len, struct tf_pd_members *out,
                        struct tf_err *err) TF_MUST_CHECK;
void tf_pd_members_release(struct tf_pd_members *ms);

/* The member list through the first of hosts[i]:ports[i] that answers. */
int tf_pd_member_list(const struct tf_pd_api *a, const char *const *hosts, const unsigned *ports,
                      size_t n, struct tf_pd_members *out, struct tf_err *err) TF_MUST_CHECK;
/* Whether the member at host:port leads (maintenance/status: leader == own member_id);
 * leader_id (NULL: not wanted) receives the leader's ID. */
int tf_pd_status(const struct tf_pd_api *a, const char *host, unsigned port, int *is_leader,
                 char *leader_id, size_t idlen, struct tf_err *err) TF_MUST_CHECK;
/* 0 when GET /health says true. */
int tf_pd_health(const struct tf_pd_api *a, const char *host, unsigned port,
                 struct tf_err *err) TF_MUST_CHECK;
/* Sets member id's peer URLs to urls through the first of hosts that answers. */
int tf_pd_update_peers(const struct tf_pd_api *a, const char *const *hosts, const unsigned *ports,
                       size_t n, const char *id, const char *const *urls, size_t nurls,
                       struct tf_err *err) TF_MUST_CHECK;

/* Removes member id (the decimal ID of the member list) through the first of hosts that
 * answers (POST /v3/cluster/member/remove). */
int tf_pd_member_remove(const struct tf_pd_api *a, const char *const *hosts, const unsigned *ports,
                        size_t n, const char *id, struct tf_err *err) TF_MUST_CHECK;
/* Writes m's ID in hex, as etcdctl prints and parses it ("8e9e05c52164694d"), into out;
 * returns 0, or -1 (out "?") when the member has no ID that fits 64 bits. Every message that
 * names a member ID for an operator uses this. */
int tf_pd_member_id_hex(const struct tf_pd_member *m, char *out, size_t len);

/* The first of urls that is not https:// ("(not a string)" for a NULL entry), or NULL. */
const char *tf_pd_plain_url(char *const *urls, size_t n);
/* The member whose peer URL is host:port (any scheme), or NULL. */
const struct tf_pd_member *tf_pd_member_by_peer(const struct tf_pd_members *ms, const char *host,
                                                unsigned port);
/* 1 when the member has a name and client URLs: its PD process has started. */
int tf_pd_member_started(const struct tf_pd_member *m);

#endif
