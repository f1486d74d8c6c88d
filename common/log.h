/* Messages to the operator on stderr, filtered by the global verbosity (-q / -v). */
#ifndef TF_COMMON_LOG_H
#define TF_COMMON_LOG_H

#include "common/err.h"

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

#endif
