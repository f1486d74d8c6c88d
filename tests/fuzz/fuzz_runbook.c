/* Fuzz target: the runbook rendered from any manifest that parses (sections are free-form JSON
 * there), in every format, with approvals inserted. Nothing may crash, and the HTML must never
 * carry a '<' that the renderer did not write. */
#include "manifests/runbook.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tf_runbook_signer s = {"0123456789abcdef0123", "h<b>", "r", "valid"};
	struct tf_runbook_approvals a = {1, &s, "1 r", NULL, "t"};
	struct tf_manifest m;
	struct tf_err err;
	int f;

	if (tf_manifest_parse((const char *)data, size, &m, &err) != 0)
		return 0;
	for (f = TF_RUNBOOK_MD; f <= TF_RUNBOOK_JSON; f++) {
		char *doc = NULL, *out = NULL;
		size_t len = 0, olen = 0;

		if (tf_runbook_render(&m, (enum tf_runbook_format)f, &doc, &len, &err) != 0)
			continue;
		if (strlen(doc) != len)
			abort();
		if (f == TF_RUNBOOK_HTML && (strstr(doc, "<script") || strstr(doc, "<img")))
			abort();
		if (tf_runbook_with_approvals(doc, len, (enum tf_runbook_format)f, &a, &out, &olen,
		                              &err) != 0)
			abort(); /* a rendered runbook always has its place for the approvals */
		free(out);
		free(doc);
	}
	tf_manifest_release(&m);
	return 0;
}
