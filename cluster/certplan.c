/* The node certificate plan: what `tiup cluster tls <name> enable` will issue for each instance. */
#include "cluster/certplan.h"
#include "crypto/certs.h"
#include "common/strbuf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TiUP's component name for a meta.yaml list ("monitoring_servers" holds Prometheus). */
static const char *component_of(const char *role, char *buf, size_t len)
{
	size_t i;

	if (strcmp(role, "monitoring") == 0)
		return "prometheus";
	snprintf(buf, len, "%s", role);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = '-';
	return buf;
}

static uint64_t main_port(const struct tf_topo_instance *in)
{
	static const char *const names[] = {"client_port", "port", "tcp_port", "web_port",
	                                    "status_port"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (tf_topo_port(in, names[i]) != 0)
			return tf_topo_port(in, names[i]);
	return in->nports > 0 ? in->ports[0].value : 0;
}

static int is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int plan_warn_dns(struct tf_certplan *p, size_t upto)
{
	const struct tf_certplan_entry *e = &p->entries[upto];
	char roles[256] = "";
	size_t i, used = 0;

	for (i = 0; i < upto; i++)
		if (!p->entries[i].host_is_ip && strcmp(p->entries[i].host, e->host) == 0)
			return 0; /* warned already */
	for (i = upto; i < p->n; i++) {
		const struct tf_certplan_entry *o = &p->entries[i];

		if (strcmp(o->host, e->host) != 0 || strstr(roles, o->component) != NULL)
			continue;
		used += (size_t)snprintf(roles + used, sizeof(roles) - used, "%s%s",
		                         used ? ", " : "", o->component);
		if (used >= sizeof(roles))
			break;
	}
	return tf_strv_addf(&p->warnings, &p->nwarnings,
	                    "host '%s' (%s) is a DNS name, not an IP address: TiUP names it in "
	                    "the node certificates as a DNS name, so every host and client must "
	                    "resolve '%s' to the same address",
	                    e->host, roles, e->host);
}

int tf_certplan_make(const struct tf_topology *t, struct tf_certplan **out, struct tf_err *err)
{
	struct tf_certplan *p = NULL;
	size_t i;
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (t->ninstances > 0 &&
	     (p->entries = calloc(t->ninstances, sizeof(*p->entries))) == NULL)) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < t->ninstances; i++) {
		const struct tf_topo_instance *in = &t->instances[i];
		struct tf_certplan_entry *e = &p->entries[i];
		char buf[64];
		const char *sans[3];
		size_t j, k;

		if (in->role == NULL || in->host == NULL || in->host[0] == '\0') {
			r = tf_err_set(err, TF_E_INPUT, "instance %zu of the topology has no host",
			               i + 1);
			goto out;
		}
		p->n++;
		e->host_is_ip = is_ip(in->host);
		e->port = main_port(in);
		sans[0] = "localhost";
		sans[1] = "127.0.0.1";
		sans[2] = in->host;
		if ((e->component = strdup(component_of(in->role, buf, sizeof(buf)))) == NULL ||
		    (e->host = strdup(in->host)) == NULL ||
		    (in->deploy_dir != NULL && (e->deploy_dir = strdup(in->deploy_dir)) == NULL)) {
			r = tf_err_nomem(err);
			goto out;
		}
		for (j = 0; j < 3; j++) {
			for (k = 0; k < e->nsans; k++)
				if (strcmp(e->sans[k], sans[j]) == 0)
					break;
			if (k < e->nsans)
				continue;
			if ((e->sans[e->nsans] = strdup(sans[j])) == NULL) {
				r = tf_err_nomem(err);
				goto out;
			}
			e->nsans++;
		}
	}
	for (i = 0; i < p->n; i++)
		if (!p->entries[i].host_is_ip && plan_warn_dns(p, i) != 0) {
			r = tf_err_nomem(err);
			goto out;
		}
	*out = p;
	p = NULL; /* transferred */
	r = 0;
out:
	tf_certplan_free(p);
	return r;
}
