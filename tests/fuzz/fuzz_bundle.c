/* Fuzz target: reading a bundle archive. The input is written to a temporary file, scanned
 * (tf_bundle_scan), then streamed with tf_bundle_verify_payload check-only against the
 * manifest it carries, or against a fixed one. Inputs that pass are also extracted into a
 * staging folder; any failure must leave no staging folder behind. */
#include "common/fsutil.h"
#include "manifests/bundle.h"
#include "manifests/manifest.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The manifest of the seed bundle tests/fuzz/corpus/bundle/valid.tar (payload/hello.txt). */
static const char fixed[] =
    "{\"format\":\"tiferry-bundle/1\",\"bundle_id\":\"0123456789abcdef0123456789abcdef\","
    "\"sequence\":1,\"created\":\"2026-01-01T00:00:00Z\",\"not_before\":\"2026-01-01T00:00:00Z\","
    "\"not_after\":\"2027-01-01T00:00:00Z\",\"target\":{\"cluster\":\"fuzz\",\"topology\":"
    "\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"},\"files\":["
    "{\"path\":\"payload/hello.txt\",\"size\":6,\"mode\":\"0644\",\"sha256\":"
    "\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\"}]}\n";

static char *dir, *file, *staging;
static struct tf_manifest fixed_m;

static void remove_dir(void)
{
	struct tf_err err;

	if (dir != NULL && tf_rmtree(dir, &err) != 0)
		fprintf(stderr, "fuzz_bundle: %s\n", err.msg);
	tf_manifest_release(&fixed_m);
	free(dir);
	free(file);
	free(staging);
}

static void setup(void)
{
	struct tf_err err;
	const char *tmp = getenv("TMPDIR");

	if (tf_mkdtemp_private(tmp ? tmp : "/tmp", "tf-fuzz-bundle-", &dir, &err) != 0 ||
	    (file = tf_path_join(dir, "b.tar")) == NULL ||
	    (staging = tf_path_join(dir, "stage")) == NULL ||
	    tf_manifest_parse(fixed, strlen(fixed), &fixed_m, &err) != 0)
		abort();
	atexit(remove_dir);
}

/* Entries in dir: only b.tar may be there between inputs. */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void extract(const struct tf_manifest *m, const char *text, size_t len)
{
	struct tf_err err;
	struct stat st;
	int r;

	if (mkdir(staging, 0700) != 0)
		abort();
	r = tf_bundle_verify_payload(file, m, text, len, staging, NULL, &err);
	if (r != 0 && lstat(staging, &st) == 0)
		abort(); /* a failure must remove the staging folder entirely */
	if (r == 0 && tf_rmtree(staging, &err) != 0)
		abort();
}

/* A plain write: no fsync, thousands of inputs a second. */
static void write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(file, "wb");

	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_bundle_scan s;
	struct tf_manifest m;
	struct tf_err err;
	int r;

	if (dir == NULL)
		setup();
	write_input(data, size);
	if (tf_bundle_scan(file, &s, &err) != 0) {
		/* the streaming pass must be as strict as the scan on its own */
		r = tf_bundle_verify_payload(file, &fixed_m, fixed, strlen(fixed), NULL, NULL,
		                             &err);
		(void)r;
	} else {
		if (s.manifest == NULL || s.manifest_len > TF_MANIFEST_MAX || s.nsigs > TF_SIGS_MAX)
			abort();
		if (tf_manifest_parse(s.manifest, s.manifest_len, &m, &err) == 0) {
			if (tf_bundle_verify_payload(file, &m, s.manifest, s.manifest_len, NULL,
			                             NULL, &err) == 0)
				extract(&m, s.manifest, s.manifest_len);
			tf_manifest_release(&m);
		} else {
			r = tf_bundle_verify_payload(file, &fixed_m, fixed, strlen(fixed), NULL,
			                             NULL, &err);
			(void)r;
		}
		tf_bundle_scan_release(&s);
	}
	if (entries() != 1)
		abort(); /* nothing but the input file may be left in the folder */
	return 0;
}
