/* What the operator sees while tiferry install runs: each step and, within a step, each host it
 * works on. A live table redrawn in place on a terminal, one plain line per event otherwise, or
 * one JSON object per event on stdout (--json). Every function is thread-safe and takes a NULL
 * view (then does nothing), so that modules report without knowing whether anyone looks. */
#ifndef TF_INSTALLER_VIEW_H
#define TF_INSTALLER_VIEW_H

#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

enum tf_view_mode {
	TF_VIEW_OFF = 0,  /* -q: nothing (errors still go through tf_log) */
	TF_VIEW_LINES,    /* "step 10/20 preflight: started", one line per event on stderr */
	TF_VIEW_TERMINAL, /* a table redrawn in place on stderr; a ticker moves the times */
	TF_VIEW_JSON,     /* one JSON object per event on stdout */
};

enum tf_view_state {
	TF_VIEW_PENDING = 0, /* not run yet (the table's idea; never reported) */
	TF_VIEW_RUNNING,     /* a step "started", a host "running" */
	TF_VIEW_OK,
	TF_VIEW_WARN,  /* hosts: passed with something worth a look */
	TF_VIEW_FIXED, /* hosts: something was repaired (a duplicate unit stopped) */
	TF_VIEW_FAILED,
	TF_VIEW_SKIPPED, /* steps: done in an earlier run, or not part of the bundle's plan */
};

struct tf_view;

/* The mode for this run: JSON when json; else OFF with -q; TERMINAL when stderr is a terminal
 * (but not with -v, whose command output runs through it); else LINES. */
enum tf_view_mode tf_view_choose(int json);
/* A view over nsteps steps called names[] (kept, not copied: static tables), written to out
 * (NULL: stdout for JSON, stderr otherwise). The terminal table registers with tf_log so that
 * messages scroll above it, and ticks once a second when out is a terminal. Returns NULL when
 * out of memory (the install then runs without a view). Free with tf_view_free. */
struct tf_view *tf_view_new(enum tf_view_mode mode, const char *const *names, size_t nsteps,
                            FILE *out);
/* Stops the ticker, leaves the final table on the terminal, unregisters from tf_log. */
void tf_view_free(struct tf_view *v);

/* Step index (0-based) is running (TF_VIEW_RUNNING), or ended: TF_VIEW_OK, TF_VIEW_FAILED or
 * TF_VIEW_SKIPPED (a skipped step has no start). detail: a short reason, or NULL. Hosts the
 * step left running end with it (their own event, ok or failed). */
void tf_view_step(struct tf_view *v, size_t index, enum tf_view_state st, const char *detail);
/* A host of the running step (any name: "10.0.1.11:22" for SSH work, "10.0.1.11:2379" for a PD
 * member) is running, or has a result. Its elapsed time counts from its first event in this
 * step. fmt: a short detail, or NULL. */
void tf_view_host(struct tf_view *v, const char *host, enum tf_view_state st, const char *fmt, ...)
    TF_PRINTF(4, 5);

/* The word for a state in the lines and JSON: "started" (a step) or "running" (a host), "ok",
 * "warn", "fixed", "failed", "skipped", "pending". */
const char *tf_view_state_name(enum tf_view_state st, int host);
/* Elapsed seconds as the table and the lines show them: "0.4s", "12s", "3m05s", "1h02m". */
void tf_view_format_seconds(double s, char *buf, size_t len);

#endif
