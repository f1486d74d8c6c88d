/* Calls into each of tiferry's six libraries so a static link proves every one is complete. */
#include <archive.h>
#include <cjson/cJSON.h>
#include <libssh/libssh.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <yaml.h>
#include <zlib.h>

int main(void)
{
	struct archive *a = archive_write_new();
	int ok = 1;

	/* Beyond the version strings: the gzip filter needs zlib inside libarchive, and
	 * ssh_init() initialises libssh's OpenSSL backend. */
	if (a == NULL || archive_write_add_filter_gzip(a) != ARCHIVE_OK)
		ok = 0;
	archive_write_free(a);
	if (ssh_init() != 0)
		ok = 0;
	printf("%s\n", archive_version_string());
	printf("openssl %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("zlib %s\n", zlibVersion());
	printf("cjson %s\n", cJSON_Version());
	printf("libyaml %s\n", yaml_get_version_string());
	printf("libssh %s\n", ssh_version(0));
	ssh_finalize();
	if (!ok)
		fprintf(stderr, "linkcheck: a library failed to initialise\n");
	return ok ? 0 : 1;
}
