/* Fuzz target: PD's etcd API answers as tiferry reads them (cluster/pdapi.c), through the
 * transport seam: the input is the body of a 200 answer to the member list, maintenance/status,
 * /health, member update and member remove; then what callers do with the members. */
#include "cluster/http.h"
#include "cluster/pdapi.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct answer {
	const uint8_t *data;
	size_t size;
};

static int answer(void *arg, const char *host, unsigned port, const struct tf_tls_client *tls,
                  int timeout_ms, const char *method, const char *path, const char *body,
                  size_t max_body, struct tf_http_response *resp, struct tf_err *err)
{
	const struct answer *a = arg;

	(void)host, (void)port, (void)tls, (void)timeout_ms, (void)method, (void)path, (void)body;
	if (a->size > max_body)
		return tf_err_set(err, TF_E_FAIL, "too long");
	if ((resp->body = malloc(a->size + 1)) == NULL)
		return tf_err_nomem(err);
	memcpy(resp->body, a->data, a->size);
	resp->body[a->size] = '\0';
	resp->body_len = a->size;
	resp->status = 200;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct answer a = {data, size};
	struct tf_pd_api api = {NULL, answer, &a};
	const char *hosts[] = {"127.0.0.11"};
	const unsigned ports[] = {2379};
	const char *urls[] = {"https://127.0.0.11:2380"};
	struct tf_pd_members ms;
	struct tf_err err;
	char lead[32], hex[32];
	int leader = 0;
	size_t i;

	if (tf_pd_members_parse((const char *)data, size, &ms, &err) == 0)
		tf_pd_members_release(&ms);
	if (tf_pd_member_list(&api, hosts, ports, 1, &ms, &err) == 0) {
		for (i = 0; i < ms.n; i++) {
			const struct tf_pd_member *m = &ms.m[i];

			if (tf_pd_member_id_hex(m, hex, sizeof(hex)) == 0 && strlen(hex) > 16)
				abort();
			(void)tf_pd_plain_url(m->peer_urls, m->npeer);
			(void)tf_pd_plain_url(m->client_urls, m->nclient);
			(void)tf_pd_member_started(m);
		}
		(void)tf_pd_member_by_peer(&ms, "127.0.0.11", 2380);
		tf_pd_members_release(&ms);
	}
	if (tf_pd_status(&api, hosts[0], ports[0], &leader, lead, sizeof(lead), &err) == 0 &&
	    strlen(lead) >= sizeof(lead))
		abort();
	/* a refusal always says why */
	if ((tf_pd_health(&api, hosts[0], ports[0], &err) != 0 && err.msg[0] == '\0') ||
	    (tf_pd_update_peers(&api, hosts, ports, 1, "1", urls, 1, &err) != 0 &&
	     err.msg[0] == '\0') ||
	    (tf_pd_member_remove(&api, hosts, ports, 1, "1", &err) != 0 && err.msg[0] == '\0'))
		abort();
	return 0;
}
