/* The tarballs of a TiUP mirror, checked by the sha256 and length their signed component
 * manifests give, and the tiup-<os>-<arch>.tar.gz copies that no manifest names (verify.c runs
 * this once the manifest chain holds). */
#include "mirror/verify_int.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *tarball_name(const char *url)
{
	if (url[0] == '/')
		url++;
	if (*url == '\0' || strchr(url, '/') != NULL || strstr(url, "..") != NULL)
		return NULL;
	return url;
}

static int seen_url(char ***seen, size_t *n, const char *url)
{
	size_t i;
	char **ns;

	for (i = 0; i < *n; i++)
		if (strcmp((*seen)[i], url) == 0)
			return 1;
	if ((ns = realloc(*seen, (*n + 1) * sizeof(*ns))) == NULL)
		return -1;
	*seen = ns;
	if ((ns[*n] = strdup(url)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static void check_tarball(struct vctx *c, const struct tf_tiup_manifest *cm,
                          const struct tf_tiup_release *rel)
{
	const char *name = tarball_name(rel->url);
	uint8_t d[TF_SHA256_LEN];
	uint64_t len = 0;
	struct tf_err e;

	if (name == NULL) {
		tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_FAIL, rel->url, "url",
		              "%s %s %s: url is not a file of the mirror", cm->id, rel->version,
		              rel->platform);
		return;
	}
	if (rel->yanked) {
		tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_SKIP, name, "yanked",
		              "%s %s %s is yanked", cm->id, rel->version, rel->platform);
		return;
	}
	if (!tf_mirror_src_exists(c->m->src, name)) {
		if (c->o->manifests_only)
			tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_SKIP, name, "absent",
			              "absent, not checked (--manifests-only)");
		else if (c->m->has_marker && !tf_mirror_carried(c->m, name))
			tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_SKIP, name, "not-carried",
			              "not carried by this subset");
		else
			tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_FAIL, name, "present",
			              "%s %s %s: tarball is absent", cm->id, rel->version,
			              rel->platform);
		return;
	}
	if (!tf_mirror_is_sha256_hex(rel->sha256)) {
		tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_FAIL, name, "sha256",
		              "the manifest gives no sha256 for it");
		return;
	}
	if (tf_mirror_src_digest(c->m->src, name, d, &len, &e) != 0) {
		tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_FAIL, name, "read", "%s", e.msg);
		return;
	}
	c->rep->tarball_bytes += len;
	if (len != rel->length) {
		tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_FAIL, name, "length",
		              "%llu bytes, the manifest says %llu", (unsigned long long)len,
		              (unsigned long long)rel->length);
		return;
	}
	if (!tf_mirror_sha_matches(d, rel->sha256)) {
		tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_FAIL, name, "sha256",
		              "sha256 differs from %s's", cm->name);
		return;
	}
	tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_OK, name, "verified", "%s %s %s, %llu bytes",
	              cm->id, rel->version, rel->platform, (unsigned long long)len);
}

/* tiup-<os>-<arch>.tar.gz is in no manifest (local_install.sh unpacks it unchecked): it
 * passes only when its bytes are those of a signed tiup release for that platform. */
static void check_tiup_copies(struct vctx *c)
{
	const struct tf_tiup_manifest *tiup = tf_mirror_component(c->m, "tiup", NULL);
	char **plats = NULL;
	size_t np = 0, i, j;

	if (tiup == NULL)
		return;
	for (i = 0; i < tiup->nreleases; i++)
		if (seen_url(&plats, &np, tiup->releases[i].platform) < 0)
			c->nomem = 1;
	for (i = 0; i < np; i++) {
		char name[256], *slash;
		uint8_t d[TF_SHA256_LEN];
		uint64_t len = 0;
		struct tf_err e;
		const struct tf_tiup_release *match = NULL;

		if ((slash = strchr(plats[i], '/')) == NULL || strcmp(plats[i], "any/any") == 0)
			continue;
		snprintf(name, sizeof(name), "tiup-%.*s-%s.tar.gz", (int)(slash - plats[i]),
		         plats[i], slash + 1);
		if (!tf_mirror_src_exists(c->m->src, name))
			continue;
		if (tf_mirror_src_digest(c->m->src, name, d, &len, &e) != 0) {
			tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_FAIL, name, "read", "%s",
			              e.msg);
			continue;
		}
		c->rep->tarball_bytes += len;
		for (j = 0; j < tiup->nreleases && match == NULL; j++) {
			const struct tf_tiup_release *rel = &tiup->releases[j];

			if (strcmp(rel->platform, plats[i]) == 0 && rel->length == len &&
			    tf_mirror_sha_matches(d, rel->sha256))
				match = rel;
		}
		if (match != NULL)
			tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_OK, name, "verified",
			              "same bytes as the signed tiup %s %s", match->version,
			              match->platform);
		else
			tf_mirror_add(c, TF_MIRROR_TARBALL, TF_MIRROR_FAIL, name, "unsigned",
			              "its bytes are no signed tiup release for %s", plats[i]);
	}
	for (i = 0; i < np; i++)
		free(plats[i]);
	free(plats);
}

void tf_mirror_verify_tarballs(struct vctx *c)
{
	char **seen = NULL;
	size_t nseen = 0, i, j;

	for (i = 0; i < c->m->ncomps; i++) {
		const struct tf_tiup_manifest *cm = c->m->comps[i];

		for (j = 0; j < cm->nreleases; j++) {
			int s = seen_url(&seen, &nseen, cm->releases[j].url);

			if (s < 0) {
				c->nomem = 1;
				break;
			}
			if (s == 0)
				check_tarball(c, cm, &cm->releases[j]);
		}
	}
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	check_tiup_copies(c);
}
