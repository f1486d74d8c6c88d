/* Prints the addresses getaddrinfo() finds for a name: proves that a static binary resolves
 * host names from /etc/hosts with no libc, NSS or nsswitch.conf on the host. */
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "labhost";
	struct addrinfo hints = {0}, *res = NULL;
	int r;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(name, NULL, &hints, &res)) != 0) {
		fprintf(stderr, "resolve: '%s': %s\n", name, gai_strerror(r));
		return 1;
	}
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		char host[NI_MAXHOST];

		if ((r = getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0,
		                     NI_NUMERICHOST)) != 0) {
			fprintf(stderr, "resolve: '%s': %s\n", name, gai_strerror(r));
			freeaddrinfo(res);
			return 1;
		}
		printf("%s\n", host);
	}
	freeaddrinfo(res);
	return 0;
}
