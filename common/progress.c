/* Terminal progress line. */
#include "common/progress.h"
#include "common/log.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double tf_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(char *buf, size_t len, double v)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void draw(struct tf_progress *p, double now)
{
	char done[32], total[32], rate[32];
	double el = now - p->started;

	human(done, sizeof(done), (double)p->done);
	human(rate, sizeof(rate), el > 0 ? (double)p->done / el : 0);
	if (p->total > 0) {
		human(total, sizeof(total), (double)p->total);
		fprintf(stderr, "\r%s: %s / %s (%3.0f%%) %s/s   ", p->label, done, total,
		        100.0 * (double)p->done / (double)p->total, rate);
	} else {
		fprintf(stderr, "\r%s: %s %s/s   ", p->label, done, rate);
	}
	p->last_draw = now;
}

void tf_progress_start(struct tf_progress *p, const char *label, uint64_t total)
{
	p->enabled = tf_log_verbosity() >= TF_NORMAL && isatty(STDERR_FILENO);
	p->label = label;
	p->total = total;
	p->done = 0;
	p->started = tf_monotonic();
	p->last_draw = 0;
	if (p->enabled)
		tf_log_live_hide(); /* the progress line takes the terminal's last line */
}

void tf_progress_add(struct tf_progress *p, uint64_t n)
{
	double now;

	p->done += n;
	if (!p->enabled)
		return;
	now = tf_monotonic();
	if (now - p->last_draw >= 0.1)
		draw(p, now);
}

void tf_progress_finish(struct tf_progress *p)
{
	if (!p->enabled)
		return;
	draw(p, tf_monotonic());
	fputc('\n', stderr);
	tf_log_live_show();
}
