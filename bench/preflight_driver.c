/* bench/preflight.sh's driver: runs cluster/preflight over a meta.yaml and prints
 * "<seconds> <hosts> <failed>" (or the refusal on stderr). Not part of the product.
 *   preflight_driver META KEY KNOWN_HOSTS PARALLEL UNITS_DIR [MAX_HOSTS] */
#include "cluster/preflight.h"
#include "cluster/ssh.h"
#include "cluster/topology.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct tf_topology *t = NULL;
	struct tf_preflight_report *r = NULL;
	struct tf_err err;
	struct tf_ssh_opts o = {0};
	struct tf_preflight_params p = {0};
	size_t keep;
	int rc;

	if (argc < 6) {
		fprintf(stderr, "usage: %s META KEY KNOWN_HOSTS PARALLEL UNITS_DIR [MAX_HOSTS]\n",
		        argv[0]);
		return 2;
	}
	if (tf_ssh_global_init(&err) != 0 || tf_topology_load(argv[1], &t, &err) != 0) {
		fprintf(stderr, "preflight_driver: %s\n", err.msg);
		return 2;
	}
	keep = t->ninstances;
	if (argc > 6 && strtoul(argv[6], NULL, 10) < keep)
		t->ninstances = strtoul(argv[6], NULL, 10);
	o.user = t->user;
	o.identity = argv[2];
	o.known_hosts = argv[3];
	p.topo = t;
	p.ssh = &o;
	p.parallel = (unsigned)strtoul(argv[4], NULL, 10);
	p.units_dir = argv[5];
	p.min_free_kb = 1024;
	rc = tf_preflight_run(&p, &r, &err);
	if (rc != 0 && r == NULL) {
		fprintf(stderr, "preflight_driver: %s\n", err.msg);
	} else {
		printf("%.3f %zu %zu\n", r->seconds, r->nhosts, r->nfailed);
		if (rc != 0)
			fprintf(stderr, "preflight_driver: %s\n", err.msg);
	}
	tf_preflight_report_free(r);
	t->ninstances = keep;
	tf_topology_free(t);
	tf_ssh_global_finalize();
	return rc == 0 ? 0 : 1;
}
