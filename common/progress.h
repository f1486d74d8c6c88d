/* Byte-count progress (bytes, rate) on a terminal; silent when stderr is not one or when quiet. */
#ifndef TF_COMMON_PROGRESS_H
#define TF_COMMON_PROGRESS_H

#include <stdint.h>

struct tf_progress {
	int enabled;
	const char *label;
	uint64_t total; /* 0 when unknown */
	uint64_t done;
	double started; /* monotonic seconds */
	double last_draw;
};

/* Starts a progress line labelled label for total bytes (0 = unknown). */
void tf_progress_start(struct tf_progress *p, const char *label, uint64_t total);
/* Adds n bytes; redraws at most ten times a second. */
void tf_progress_add(struct tf_progress *p, uint64_t n);
/* Draws the final figures and ends the line. */
void tf_progress_finish(struct tf_progress *p);
/* Seconds from a monotonic clock. */
double tf_monotonic(void);

#endif
