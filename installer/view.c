/* The install's progress view: the state of each step and host, and its three renderers. */
#include "installer/view.h"
#include "common/log.h"
#include "common/progress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define HOST_MAX 96
#define DETAIL_MAX 240
#define LINE_MAX_ 512
#define NO_STEP SIZE_MAX

struct vhost {
	char name[HOST_MAX];
	enum tf_view_state st;
	double t0, t1; /* first event; end (0 while running) */
	char detail[DETAIL_MAX];
};

struct vstep {
	enum tf_view_state st;
	double t0, t1;
	char detail[DETAIL_MAX];
	struct vhost *hosts;
	size_t nhosts, cap;
};

struct tf_view {
	enum tf_view_mode mode;
	FILE *out;
	const char *const *names;
	size_t n;
	struct vstep *steps;
	size_t cur; /* the running step, or NO_STEP */
	pthread_mutex_t lock;
	/* terminal */
	struct tf_log_live live;
	int lines;  /* lines of the table on the screen now (the cursor is below them) */
	int hidden; /* depth of tf_log_live_hide */
	int ticking, stop;
	pthread_cond_t wake;
	pthread_t ticker;
};

const char *tf_view_state_name(enum tf_view_state st, int host)
{
	switch (st) {
	case TF_VIEW_PENDING:
		return "pending";
	case TF_VIEW_RUNNING:
		return host ? "running" : "started";
	case TF_VIEW_OK:
		return "ok";
	case TF_VIEW_WARN:
		return "warn";
	case TF_VIEW_FIXED:
		return "fixed";
	case TF_VIEW_FAILED:
		return "failed";
	case TF_VIEW_SKIPPED:
		return "skipped";
	}
	return "?";
}

void tf_view_format_seconds(double s, char *buf, size_t len)
{
	long t;

	if (s < 0)
		s = 0;
	if (s < 9.95) {
		snprintf(buf, len, "%.1fs", s);
		return;
	}
	t = (long)(s + 0.5);
	if (t < 60)
		snprintf(buf, len, "%lds", t);
	else if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t % 3600 / 60);
}

/* Details come from remote hosts' output too: one line of printable ASCII, so that neither a
 * line nor the table nor a JSON reader can be thrown off by it. */
static void copy_clean(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src != NULL && src[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c < 0x20 || c >= 0x7f ? (c == '\t' || c == '\n' ? ' ' : '?') : (char)c;
	}
	dst[i] = '\0';
}

static int final_state(enum tf_view_state st)
{
	return st != TF_VIEW_PENDING && st != TF_VIEW_RUNNING;
}

enum tf_view_mode tf_view_choose(int json)
{
	const char *term = getenv("TERM");

	if (json)
		return TF_VIEW_JSON;
	if (tf_log_verbosity() == TF_QUIET)
		return TF_VIEW_OFF;
	if (tf_log_verbosity() < TF_VERBOSE && isatty(STDERR_FILENO) && term != NULL &&
	    term[0] != '\0' && strcmp(term, "dumb") != 0)
		return TF_VIEW_TERMINAL;
	return TF_VIEW_LINES;
}

/* ---- lines and JSON: one per event ---- */

static void emit_line(struct tf_view *v, size_t idx, const struct vhost *h, enum tf_view_state st,
                      double elapsed, const char *detail)
{
	char line[LINE_MAX_], secs[32] = "";
	size_t n;

	if (h != NULL)
		n = (size_t)snprintf(line, sizeof(line), "host %s %s: %s", h->name, v->names[idx],
		                     tf_view_state_name(st, 1));
	else
		n = (size_t)snprintf(line, sizeof(line), "step %zu/%zu %s: %s", idx + 1, v->n,
		                     v->names[idx], tf_view_state_name(st, 0));
	if (final_state(st) && st != TF_VIEW_SKIPPED)
		tf_view_format_seconds(elapsed, secs, sizeof(secs));
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "%s%s%s%s%s", secs[0] ? " (" : "", secs,
		         secs[0] ? ")" : "", detail[0] ? ": " : "", detail);
	tf_term_fputs(v->out, line, 0);
	putc('\n', v->out);
}

static void now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", s, ts.tv_nsec / 1000000L);
}

static void emit_json(struct tf_view *v, size_t idx, const struct vhost *h, enum tf_view_state st,
                      double elapsed, const char *detail)
{
	cJSON *o = cJSON_CreateObject();
	char when[40], *text = NULL;

	now_rfc3339(when, sizeof(when));
	if (o == NULL || cJSON_AddStringToObject(o, "time", when) == NULL ||
	    cJSON_AddStringToObject(o, "event", h ? "host" : "step") == NULL ||
	    cJSON_AddStringToObject(o, "step", v->names[idx]) == NULL ||
	    cJSON_AddNumberToObject(o, "index", (double)(idx + 1)) == NULL ||
	    cJSON_AddNumberToObject(o, "total", (double)v->n) == NULL ||
	    (h ? cJSON_AddStringToObject(o, "host", h->name) : cJSON_AddNullToObject(o, "host")) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "state", tf_view_state_name(st, h != NULL)) == NULL ||
	    cJSON_AddNumberToObject(
	        o, "elapsed_s",
	        final_state(st) ? (double)(long long)(elapsed * 1000 + 0.5) / 1000 : 0) == NULL ||
	    cJSON_AddStringToObject(o, "detail", detail) == NULL ||
	    (text = cJSON_PrintUnformatted(o)) == NULL)
		goto out; /* out of memory: the event is lost, the install goes on */
	fprintf(v->out, "%s\n", text);
	fflush(v->out);
out:
	cJSON_free(text);
	cJSON_Delete(o);
}

/* ---- the terminal table ---- */

static void term_size(const struct tf_view *v, int *cols, int *rows)
{
	struct winsize ws;
	int fd = fileno(v->out);

	*cols = 80;
	*rows = 24;
	if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* One line of the table, cut to the terminal's width so that no line wraps (a wrapped line
 * would throw off the count of lines to move up over). */
static void put_line(FILE *f, int cols, const char *fmt, ...) TF_PRINTF(3, 4);

static void put_line(FILE *f, int cols, const char *fmt, ...)
{
	char raw[LINE_MAX_], line[LINE_MAX_];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* escaped before it is cut to the width: one byte, one column */
	tf_term_escape(raw, line, sizeof(line));
	n = strlen(line);
	if (cols > 1 && n > (size_t)(cols - 1))
		n = (size_t)(cols - 1);
	while (n > 0 && line[n - 1] == ' ')
		n--;
	fprintf(f, "%.*s\n", (int)n, line);
}

static const char *step_mark(enum tf_view_state st)
{
	switch (st) {
	case TF_VIEW_PENDING:
		return "-";
	case TF_VIEW_RUNNING:
		return "running";
	case TF_VIEW_FAILED:
		return "FAILED";
	default:
		return tf_view_state_name(st, 0);
	}
}

static double elapsed_of(double t0, double t1, double now)
{
	return (t1 > 0 ? t1 : now) - t0;
}

static void put_step(const struct tf_view *v, FILE *f, int cols, size_t i, double now)
{
	const struct vstep *s = &v->steps[i];
	char secs[32] = "";

	if (s->st == TF_VIEW_RUNNING || (final_state(s->st) && s->st != TF_VIEW_SKIPPED))
		tf_view_format_seconds(elapsed_of(s->t0, s->t1, now), secs, sizeof(secs));
	put_line(f, cols, "%-7s %2zu/%zu  %-18s %6s  %s", step_mark(s->st), i + 1, v->n,
	         v->names[i], secs, s->detail);
}

/* The hosts of step s, at most room lines: the ones not ok first, then a line that counts the
 * rest. */
static int put_hosts(const struct vstep *s, FILE *f, int cols, int room, double now)
{
	size_t i, shown = 0, rest[TF_VIEW_SKIPPED + 1] = {0};
	int lines = 0, pass, all = s->nhosts <= (size_t)room;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < s->nhosts; i++) {
			const struct vhost *h = &s->hosts[i];
			char secs[32];

			/* all fit: one pass; else the hosts not ok, then the ok ones */
			if (!all && (pass == 0) == (h->st == TF_VIEW_OK))
				continue;
			if (all && pass == 1)
				break;
			if (!all && lines >= room - 1) {
				rest[h->st]++;
				continue;
			}
			tf_view_format_seconds(elapsed_of(h->t0, h->t1, now), secs, sizeof(secs));
			put_line(f, cols, "%17s%-22s %-7s %6s  %s", "", h->name,
			         tf_view_state_name(h->st, 1), secs, h->detail);
			lines++;
			shown++;
		}
	}
	if (shown < s->nhosts) {
		char sum[200] = "";
		size_t k, n;

		for (k = 0; k <= TF_VIEW_SKIPPED; k++) {
			n = strlen(sum);
			if (rest[k] > 0)
				snprintf(sum + n, sizeof(sum) - n, "%s%zu %s", n ? ", " : "",
				         rest[k], tf_view_state_name((enum tf_view_state)k, 1));
		}
		put_line(f, cols, "%17s... %zu more host%s (%s)", "", s->nhosts - shown,
		         s->nhosts - shown == 1 ? "" : "s", sum);
		lines++;
	}
	return lines;
}

/* The table into f: every step, the hosts of the running step (and, at the end, of a failed
 * one). Live, it fits in rows - 1 lines: the steps before the running one fold into one line
 * first, then the pending ones at the bottom. Returns the number of lines. */
static int render(const struct tf_view *v, FILE *f, int final)
{
	int cols, rows, room, lines = 0;
	size_t i, top = 0, bottom = 0, nhosts = 0;
	double now = tf_monotonic();

	term_size(v, &cols, &rows);
	for (i = 0; i < v->n; i++)
		if (v->steps[i].st == TF_VIEW_RUNNING ||
		    (final && v->steps[i].st == TF_VIEW_FAILED))
			nhosts += v->steps[i].nhosts;
	room = final ? INT32_MAX : rows - 1 - (int)v->n;
	if (room < 4)
		room = 4;
	if (!final) {
		size_t cur = v->cur == NO_STEP ? v->n : v->cur;
		long over =
		    (long)v->n + (long)(nhosts < (size_t)room ? nhosts : (size_t)room) - (rows - 1);

		/* folding k steps into one line saves k - 1 lines */
		if (over > 0 && cur >= 2) {
			top = (size_t)over + 1 < cur ? (size_t)over + 1 : cur;
			over -= (long)top - 1;
		}
		if (over > 0 && v->n - cur >= 3) {
			bottom =
			    (size_t)over + 1 < v->n - cur - 1 ? (size_t)over + 1 : v->n - cur - 1;
		}
	}
	if (top > 0) {
		put_line(f, cols, "%-7s %2zu-%zu  %s", "...", (size_t)1, top, "(done or skipped)");
		lines++;
	}
	for (i = top; i < v->n - bottom; i++) {
		const struct vstep *s = &v->steps[i];

		put_step(v, f, cols, i, now);
		lines++;
		if (s->st == TF_VIEW_RUNNING || (final && s->st == TF_VIEW_FAILED))
			lines += put_hosts(s, f, cols, room, now);
	}
	if (bottom > 0) {
		put_line(f, cols, "%-7s %2zu-%zu  %s", "...", v->n - bottom + 1, v->n, "(to come)");
		lines++;
	}
	return lines;
}

/* Erases the table drawn last: up over its lines, clear to the end of the screen. */
static void erase(struct tf_view *v)
{
	if (v->lines > 0)
		fprintf(v->out, "\r\033[%dA\033[J", v->lines);
	v->lines = 0;
}

/* Redraws the table in place, in one write. Called with out and the lock held. */
static void draw(struct tf_view *v, int final)
{
	char *frame = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&frame, &len);
	int n;

	if (f == NULL)
		return;
	n = render(v, f, final);
	if (fclose(f) != 0) {
		free(frame);
		return;
	}
	erase(v);
	fwrite(frame, 1, len, v->out);
	fflush(v->out);
	v->lines = final ? 0 : n;
	free(frame);
}

static void live_hide(void *arg)
{
	struct tf_view *v = arg;

	pthread_mutex_lock(&v->lock);
	if (v->hidden++ == 0) {
		erase(v);
		fflush(v->out);
	}
	pthread_mutex_unlock(&v->lock);
}

static void live_show(void *arg)
{
	struct tf_view *v = arg;

	pthread_mutex_lock(&v->lock);
	if (v->hidden > 0 && --v->hidden == 0)
		draw(v, 0);
	pthread_mutex_unlock(&v->lock);
}

/* Keeps the elapsed times moving during long steps (tls-enable restarts the whole cluster). */
static void *tick(void *arg)
{
	struct tf_view *v = arg;

	for (;;) {
		struct timespec ts;
		int stop;

		pthread_mutex_lock(&v->lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		while (!v->stop)
			if (pthread_cond_timedwait(&v->wake, &v->lock, &ts) != 0)
				break; /* timed out */
		stop = v->stop;
		pthread_mutex_unlock(&v->lock);
		if (stop)
			return NULL;
		/* the same order as every writer: the stream, then the view */
		flockfile(v->out);
		pthread_mutex_lock(&v->lock);
		if (v->hidden == 0 && v->cur != NO_STEP)
			draw(v, 0);
		pthread_mutex_unlock(&v->lock);
		funlockfile(v->out);
	}
}

/* ---- the view ---- */

struct tf_view *tf_view_new(enum tf_view_mode mode, const char *const *names, size_t nsteps,
                            FILE *out)
{
	struct tf_view *v = NULL;
	pthread_condattr_t ca;

	if (mode == TF_VIEW_OFF)
		return NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->steps = calloc(nsteps ? nsteps : 1, sizeof(*v->steps))) == NULL) {
		free(v);
		return NULL;
	}
	v->mode = mode;
	v->out = out ? out : mode == TF_VIEW_JSON ? stdout : stderr;
	v->names = names;
	v->n = nsteps;
	v->cur = NO_STEP;
	if (pthread_mutex_init(&v->lock, NULL) != 0) {
		free(v->steps);
		free(v);
		return NULL;
	}
	if (mode != TF_VIEW_TERMINAL)
		return v;
	v->live.hide = live_hide;
	v->live.show = live_show;
	v->live.arg = v;
	tf_log_set_live(&v->live);
	/* No ticker when out is not a real terminal (the unit tests draw into memory). */
	if (isatty(fileno(v->out)) && pthread_condattr_init(&ca) == 0) {
		if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		    pthread_cond_init(&v->wake, &ca) == 0) {
			if (pthread_create(&v->ticker, NULL, tick, v) == 0)
				v->ticking = 1;
			else
				pthread_cond_destroy(&v->wake);
		}
		pthread_condattr_destroy(&ca);
	}
	return v;
}

void tf_view_free(struct tf_view *v)
{
	size_t i;

	if (v == NULL)
		return;
	if (v->ticking) {
		pthread_mutex_lock(&v->lock);
		v->stop = 1;
		pthread_cond_signal(&v->wake);
		pthread_mutex_unlock(&v->lock);
		pthread_join(v->ticker, NULL);
		pthread_cond_destroy(&v->wake);
	}
	if (v->mode == TF_VIEW_TERMINAL) {
		flockfile(v->out);
		pthread_mutex_lock(&v->lock);
		if (v->hidden > 0)
			fputc('\n', v->out); /* a progress line that did not finish */
		draw(v, 1);
		pthread_mutex_unlock(&v->lock);
		funlockfile(v->out);
		tf_log_set_live(NULL);
	}
	fflush(v->out);
	pthread_mutex_destroy(&v->lock);
	for (i = 0; i < v->n; i++)
		free(v->steps[i].hosts);
	free(v->steps);
	free(v);
}

/* Reports one event; called with out and the lock held. */
static void emit(struct tf_view *v, size_t idx, const struct vhost *h, double now)
{
	const struct vstep *s = &v->steps[idx];

	switch (v->mode) {
	case TF_VIEW_LINES:
		if (h != NULL)
			emit_line(v, idx, h, h->st, elapsed_of(h->t0, h->t1, now), h->detail);
		else
			emit_line(v, idx, NULL, s->st, elapsed_of(s->t0, s->t1, now), s->detail);
		break;
	case TF_VIEW_JSON:
		if (h != NULL)
			emit_json(v, idx, h, h->st, elapsed_of(h->t0, h->t1, now), h->detail);
		else
			emit_json(v, idx, NULL, s->st, elapsed_of(s->t0, s->t1, now), s->detail);
		break;
	case TF_VIEW_TERMINAL:
		if (v->hidden == 0)
			draw(v, 0);
		break;
	case TF_VIEW_OFF:
		break;
	}
}

void tf_view_step(struct tf_view *v, size_t index, enum tf_view_state st, const char *detail)
{
	struct vstep *s;
	double now = tf_monotonic();
	size_t i;

	if (v == NULL || index >= v->n || st == TF_VIEW_PENDING)
		return;
	flockfile(v->out);
	pthread_mutex_lock(&v->lock);
	s = &v->steps[index];
	if (st == TF_VIEW_RUNNING) {
		s->nhosts = 0;
		s->t0 = now;
		s->t1 = 0;
		v->cur = index;
	} else {
		/* A host the step left running ends with it. */
		for (i = 0; i < s->nhosts; i++) {
			struct vhost *h = &s->hosts[i];

			if (h->st != TF_VIEW_RUNNING)
				continue;
			h->st = st == TF_VIEW_FAILED ? TF_VIEW_FAILED : TF_VIEW_OK;
			h->t1 = now;
			copy_clean(h->detail, sizeof(h->detail),
			           st == TF_VIEW_FAILED
			               ? "the step failed before this host's result"
			               : "");
			if (v->mode != TF_VIEW_TERMINAL)
				emit(v, index, h, now);
		}
		if (s->st != TF_VIEW_RUNNING)
			s->t0 = now;
		s->t1 = now;
		if (v->cur == index)
			v->cur = NO_STEP;
	}
	s->st = st;
	copy_clean(s->detail, sizeof(s->detail), detail);
	emit(v, index, NULL, now);
	pthread_mutex_unlock(&v->lock);
	funlockfile(v->out);
}

static struct vhost *host_slot(struct vstep *s, const char *name, double now)
{
	struct vhost *h;
	size_t i;

	for (i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i];
	if (s->nhosts == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct vhost *p = realloc(s->hosts, ncap * sizeof(*p));

		if (p == NULL)
			return NULL;
		s->hosts = p;
		s->cap = ncap;
	}
	h = &s->hosts[s->nhosts++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->t0 = now;
	return h;
}

void tf_view_host(struct tf_view *v, const char *host, enum tf_view_state st, const char *fmt, ...)
{
	char name[HOST_MAX], detail[DETAIL_MAX] = "", raw[DETAIL_MAX];
	struct vhost *h;
	double now = tf_monotonic();
	va_list ap;

	if (v == NULL || host == NULL || st == TF_VIEW_PENDING)
		return;
	copy_clean(name, sizeof(name), host);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		copy_clean(detail, sizeof(detail), raw);
	}
	flockfile(v->out);
	pthread_mutex_lock(&v->lock);
	if (v->cur != NO_STEP && (h = host_slot(&v->steps[v->cur], name, now)) != NULL) {
		h->st = st;
		h->t1 = st == TF_VIEW_RUNNING ? 0 : now;
		memcpy(h->detail, detail, sizeof(h->detail));
		emit(v, v->cur, h, now);
	}
	pthread_mutex_unlock(&v->lock);
	funlockfile(v->out);
}
