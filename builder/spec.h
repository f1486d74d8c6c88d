/* The build spec (docs/spec.md): what a bundle targets, how long it is valid, what it carries. */
#ifndef TF_BUILDER_SPEC_H
#define TF_BUILDER_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "manifests/yamldoc.h"

struct tf_spec_payload {
	char *source; /* file or folder, resolved against the spec's folder */
	char *path;   /* bundle path below payload/ */
	int has_mode;
	unsigned mode;
};

struct tf_spec {
	char *dir; /* the spec file's folder */
	char *cluster;
	char *meta; /* the cluster's meta.yaml, resolved */
	uint64_t sequence;
	time_t not_before;
	time_t not_after;
	char *signing_key; /* resolved, or NULL */
	size_t npayload;
	struct tf_spec_payload *payload;
	struct tf_yaml *doc; /* the whole spec: later sections ("tiup", "tls") read from it */
};

/* Reads and validates the spec at path; relative paths resolve against its folder, times
 * default from now. */
int tf_spec_load(const char *path, time_t now, struct tf_spec *s, struct tf_err *err) TF_MUST_CHECK;
/* The same from the spec's text (len bytes), as read from path. */
int tf_spec_parse(const char *buf, size_t len, const char *path, time_t now, struct tf_spec *s,
                  struct tf_err *err) TF_MUST_CHECK;
void tf_spec_release(struct tf_spec *s);
/* Resolves p against the spec's folder (caller frees). */
char *tf_spec_path(const struct tf_spec *s, const char *p);

#endif
