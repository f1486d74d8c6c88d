/* Messages to the operator on stderr, filtered by the global verbosity (-q / -v). */
#ifndef TF_COMMON_LOG_H
#define TF_COMMON_LOG_H

#include "common/err.h"

#include <stdio.h>

enum tf_verbosity { TF_QUIET = 0, TF_NORMAL = 1, TF_VERBOSE = 2 };

void tf_log_set_verbosity(enum tf_verbosity v);
enum tf_verbosity tf_log_verbosity(void);
/* The program name used as the prefix of every message. */
void tf_log_set_prog(const char *prog);

/* "prog: error: msg" - always printed. */
void tf_log_error(const char *fmt, ...) TF_PRINTF(1, 2);
/* "prog: warning: msg" - printed unless quiet. */
void tf_log_warn(const char *fmt, ...) TF_PRINTF(1, 2);
/* "prog: msg" - printed unless quiet. */
void tf_log_info(const char *fmt, ...) TF_PRINTF(1, 2);
/* "prog: msg" - printed only with -v. */
void tf_log_debug(const char *fmt, ...) TF_PRINTF(1, 2);

/* Terminal safety. Text that reaches the operator's terminal may come from unverified input (a
 * bundle's entry names and manifest, a remote endpoint's answer): every byte outside printable
 * ASCII (0x20-0x7e) is written as \xNN, so that no control sequence (ESC, CR, C1 controls such
 * as 0x9b) can move the cursor, erase a line or hide text. The log functions above do it for
 * every message. */

/* Copies in to out (outsz > 0) so escaped, cut to fit, always NUL-terminated; '\n' escaped too.
 * Returns out. */
char *tf_term_escape(const char *in, char *out, size_t outsz);
/* Writes s to f so escaped; a '\n' is kept as a line break only when keep_nl. */
void tf_term_fputs(FILE *f, const char *s, int keep_nl);
/* printf to stdout, so escaped; only a '\n' that ends the formatted text is kept (one line per
 * call, so a newline inside an argument cannot forge a line of its own). */
void tf_out(const char *fmt, ...) TF_PRINTF(1, 2);

/* A display redrawn in place at the bottom of the terminal (the install's step table) registers
 * hide and show: every message is printed with it hidden, then it is drawn again, so that
 * messages scroll above it. Both are called with stderr locked (flockfile). NULL: none. */
struct tf_log_live {
	void (*hide)(void *arg);
	void (*show)(void *arg);
	void *arg;
};
void tf_log_set_live(const struct tf_log_live *live);
/* Hide the live display while something else draws on the terminal (the byte-progress line),
 * and show it again; the calls pair up. No-ops without a live display. */
void tf_log_live_hide(void);
void tf_log_live_show(void);

#endif
