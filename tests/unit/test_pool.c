/* Unit tests for common/pool: every task runs once, on no more threads than asked. */
#include "tests/unit/testutil.h"

#include "common/pool.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define NTASKS 200

struct count {
	pthread_mutex_t lock;
	int ran[NTASKS];
	int running, most;
};

static void task(void *arg, size_t i)
{
	struct count *c = arg;

	pthread_mutex_lock(&c->lock);
	c->ran[i]++;
	if (++c->running > c->most)
		c->most = c->running;
	pthread_mutex_unlock(&c->lock);
	usleep(200);
	pthread_mutex_lock(&c->lock);
	c->running--;
	pthread_mutex_unlock(&c->lock);
}

static void run_with(unsigned nthreads, size_t n, int most_max)
{
	struct count c;
	struct tf_err err;
	size_t i;

	memset(&c, 0, sizeof(c));
	assert_int_equal(pthread_mutex_init(&c.lock, NULL), 0);
	assert_int_equal(tf_pool_run(n, nthreads, task, &c, &err), 0);
	for (i = 0; i < NTASKS; i++)
		assert_int_equal(c.ran[i], i < n ? 1 : 0);
	assert_true(c.most <= most_max);
	assert_int_equal(c.running, 0);
	pthread_mutex_destroy(&c.lock);
}

static void test_every_task_once(void **state)
{
	(void)state;
	run_with(8, NTASKS, 8);
	run_with(0, 10, 1); /* 0: one thread */
	run_with(1, NTASKS, 1);
	run_with(64, 3, 3); /* never more threads than tasks */
	run_with(4, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_task_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
