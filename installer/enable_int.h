/* tiferry install's cluster half, inside: what enable.c (preflight, health, the helpers) and
 * enable_pd.c (PD scale-in, tls enable, peer repair, scale-out) share. Not for other modules. */
#ifndef TF_INSTALLER_ENABLE_INT_H
#define TF_INSTALLER_ENABLE_INT_H

#include <stddef.h>

#include "cluster/pdapi.h"
#include "cluster/topology.h"
#include "installer/enable.h"
#include "manifests/yamldoc.h"

#define KEY_LEADER "pd_leader"   /* "host:client_port" of the PD leader kept */
#define KEY_REMOVED "pd_removed" /* "host:port,host:port": the PD members scaled in */
#define WAIT_DEFAULT_S 120u
#define POLL_MS 500
#define SCALE_OUT_FILE "scale-out-pd.yaml"
#define PREFLIGHT_FILE "preflight.json"
#define VERIFY_FILE "verify.json"
#define META_BEFORE_FILE "meta-before.yaml" /* meta.yaml as the preflight found it */
#define MAX_PD 64

/* One PD instance of the bundle's full PD topology (builder: topology/pd.yaml). */
struct pd_node {
	const char *host;
	unsigned client_port, peer_port;
	char name[TF_TOPO_ID_MAX]; /* member name (TiUP's default "pd-<host>-<client_port>") */
	char id[TF_TOPO_ID_MAX];   /* "host:client_port", TiUP's node id for -N */
	struct tf_yaml *spec;
};

struct pd_topo {
	struct tf_yaml *doc;
	size_t n;
	struct pd_node nodes[MAX_PD];
};

struct api {
	struct tf_tls_client *tls; /* NULL: plain http (before TLS) */
	struct tf_pd_api pd;
};

/* Endpoints of meta.yaml's PD instances. */
struct endpoints {
	size_t n;
	const char *host[MAX_PD];
	unsigned port[MAX_PD];
	const char *name[MAX_PD];
};

void tf_enable_nap_ms(unsigned ms);
unsigned tf_enable_wait_s(const struct tf_enable *e);
void tf_enable_audit_note(const struct tf_enable *e, const char *step, const char *host,
                          const char *detail);
int tf_enable_load_meta(const struct tf_enable *e, struct tf_topology **t, struct tf_err *err);
const struct tf_topo_instance *tf_enable_meta_pd(const struct tf_topology *t, const char *id);
void tf_enable_pd_topo_release(struct pd_topo *p);
int tf_enable_pd_topo_load(const struct tf_enable *e, struct pd_topo *p, struct tf_err *err);
int tf_enable_api_open(const struct tf_enable *e, int tls, struct api *a, struct tf_err *err);
void tf_enable_api_close(struct api *a);
void tf_enable_meta_endpoints(const struct tf_topology *t, struct endpoints *ep);

#endif
