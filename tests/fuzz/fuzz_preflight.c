/* Fuzz target: what the preflight parses from a host (cluster/preflight.c): the probe's output
 * with its sections of `systemctl is-active/is-enabled` lines, `df -Pk` lines and `ss -Hltnp`
 * listeners, judged for a host that carries a deploy folder and a PD node to remove. The input
 * is the probe's stdout; a NUL byte in it starts its stderr. */
#include "cluster/preflight.h"
#include "cluster/topology.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char meta[] = "user: tidb\n"
                           "tidb_version: v8.1.0\n"
                           "topology:\n"
                           "  global:\n"
                           "    user: tidb\n"
                           "  pd_servers:\n"
                           "  - host: 127.0.0.11\n"
                           "    client_port: 2379\n"
                           "    peer_port: 2380\n"
                           "    deploy_dir: /tidb-deploy/pd-2379\n"
                           "  - host: 127.0.0.11\n"
                           "    client_port: 3379\n"
                           "    peer_port: 3380\n"
                           "    deploy_dir: /tidb deploy/pd-3379\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tf_topology *topo;
	const char *remove[] = {"127.0.0.11:2379", NULL};
	struct tf_preflight_params p;
	struct tf_preflight_report *rep = NULL;
	struct tf_err err;
	char *out, *errout;
	size_t i;

	if (topo == NULL &&
	    tf_topology_parse(meta, sizeof(meta) - 1, "meta.yaml", &topo, &err) != 0)
		abort();
	if ((out = malloc(size + 1)) == NULL)
		return 0;
	memcpy(out, data, size);
	out[size] = '\0';
	errout = strlen(out) < size ? out + strlen(out) + 1 : out + size;
	memset(&p, 0, sizeof(p));
	p.topo = topo;
	p.pd_remove = remove;
	p.stop_duplicates = size % 2;
	if (tf_preflight_judge_probe(&p, out, errout, 0, &rep, &err) == 0) {
		char *json = NULL;

		for (i = 0; i < rep->nitems; i++)
			if (rep->items[i].detail == NULL || rep->items[i].host == NULL)
				abort();
		if (tf_preflight_report_json(rep, &json, &err) == 0)
			free(json);
		tf_preflight_report_free(rep);
	}
	free(out);
	return 0;
}
