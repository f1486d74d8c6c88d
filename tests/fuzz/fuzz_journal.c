/* Fuzz target: the install journal (installer/journal.c) as `install --resume`, status and verify
 * read it back: steps, values, the resume command, and the same journal written again. */
#include "installer/journal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_journal j;
	struct tf_err err;
	size_t i;

	if (tf_journal_parse((const char *)data, size, "/fuzz/journal.json", &j, &err) != 0) {
		tf_journal_release(&j);
		return 0;
	}
	if (j.cluster == NULL || j.bundle_id == NULL || j.nsteps > TF_JOURNAL_MAX_STEPS ||
	    j.nvalues > TF_JOURNAL_MAX_VALUES)
		abort();
	for (i = 0; i < j.nsteps; i++) {
		if (strlen(j.steps[i].name) >= TF_JOURNAL_STEP_NAME ||
		    strlen(j.steps[i].detail) >= TF_JOURNAL_DETAIL)
			abort();
		(void)tf_step_status_name(j.steps[i].status);
	}
	for (i = 0; i < j.nvalues; i++)
		if (tf_journal_get(&j, j.keys[i]) == NULL)
			abort();
	free(tf_journal_resume_command(&j));
	tf_journal_release(&j);
	return 0;
}
