/* The one thread pool: workers take the next index under a lock until none is left. */
#include "common/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct pool {
	pthread_mutex_t lock;
	size_t next, n;
	tf_pool_fn fn;
	void *arg;
};

static void *worker(void *p)
{
	struct pool *pl = p;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&pl->lock);
		i = pl->next < pl->n ? pl->next++ : pl->n;
		pthread_mutex_unlock(&pl->lock);
		if (i >= pl->n)
			return NULL;
		pl->fn(pl->arg, i);
	}
}

int tf_pool_run(size_t n, unsigned nthreads, tf_pool_fn fn, void *arg, struct tf_err *err)
{
	struct pool pl = {.n = n, .fn = fn, .arg = arg};
	pthread_t *threads = NULL;
	size_t want = nthreads ? nthreads : 1, started = 0, i;
	int r;

	if (n == 0)
		return 0;
	if (want > n)
		want = n;
	if (pthread_mutex_init(&pl.lock, NULL) != 0)
		return tf_err_set(err, TF_E_IO, "cannot create a lock");
	if ((threads = calloc(want, sizeof(*threads))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (r = 0; started < want; started++) {
		if ((r = pthread_create(&threads[started], NULL, worker, &pl)) != 0)
			break;
	}
	if (started == 0) {
		errno = r;
		r = tf_err_sys(err, TF_E_IO, "cannot start a thread");
		goto out;
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	r = 0;
out:
	free(threads);
	pthread_mutex_destroy(&pl.lock);
	return r;
}
