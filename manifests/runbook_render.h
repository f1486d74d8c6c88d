/* Inside manifests/: the runbook's renderer, which manifests/runbook.c hands its model to. */
#ifndef TF_MANIFESTS_RUNBOOK_RENDER_H
#define TF_MANIFESTS_RUNBOOK_RENDER_H

#include <stddef.h>

#include "common/err.h"
#include "manifests/runbook.h"

/* model (the runbook's JSON model, as tf_runbook_render prints it for TF_RUNBOOK_JSON) rendered
 * as Markdown or HTML in *out, *len bytes, NUL-terminated (caller frees). */
int tf_runbook_render_model(const char *model, enum tf_runbook_format f, char **out, size_t *len,
                            struct tf_err *err) TF_MUST_CHECK;

#endif
