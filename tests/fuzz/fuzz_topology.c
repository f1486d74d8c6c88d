/* Fuzz target: TiUP's meta.yaml (cluster/topology.c), read from the control host's TiUP home:
 * the instances, their ports, and the topology fingerprint over them. */
#include "cluster/topology.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_topology *t = NULL;
	struct tf_err err;
	char fp[TF_FINGERPRINT_LEN];
	size_t i;

	if (tf_topology_parse((const char *)data, size, "fuzz-meta.yaml", &t, &err) != 0)
		return 0;
	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];

		if (in->role == NULL || in->host == NULL || in->nports > TF_TOPO_MAX_PORTS)
			abort();
		(void)tf_topo_port(in, "client_port");
		(void)tf_topo_port(in, "peer_port");
	}
	if (tf_topology_fingerprint(t, fp, &err) == 0 && strncmp(fp, "sha256:", 7) != 0)
		abort();
	tf_topology_free(t);
	return 0;
}
