/* The one thread pool: runs n independent tasks on a bounded number of threads. */
#ifndef TF_COMMON_POOL_H
#define TF_COMMON_POOL_H

#include <stddef.h>

#include "common/err.h"

/* One task: works on item i. Called from worker threads, so it must touch only item i's data
 * (or take its own locks). */
typedef void (*tf_pool_fn)(void *arg, size_t i);

/* Runs fn(arg, i) for i = 0..n-1 on at most nthreads threads (0: one); each thread takes the
 * next index until none is left, so fewer threads than asked still finish the work. Returns 0
 * once every task ran, or TF_E_IO when no thread could be started (then no task ran). */
int tf_pool_run(size_t n, unsigned nthreads, tf_pool_fn fn, void *arg,
                struct tf_err *err) TF_MUST_CHECK;

#endif
