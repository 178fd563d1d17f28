/* The barrier probe of src/team.c, which decides whether a step splits
 * between threads (white-box: it links the library's objects).
 *
 * - A probe on a pool of two threads makes at least a block of steps on
 *   each thread, and at every step each thread finds, in the other's half
 *   of the state, what the other wrote at the step before: the probe
 *   measures a barrier together with the exchange of a step's state, as
 *   the header says (elman_config.num_threads), not a bare barrier.
 * - Its cost is finite and positive, and elman_pool_barrier_cost_ns()
 *   returns a cost of the same kind.
 * - Without a worker (no pool, or a pool of one thread) no probe runs:
 *   infinity, no step. */
#include "cmocka_wrap.h"

#include <math.h>

#include "team.h"

enum { PROBES = 5, MIN_STEPS = 8 /* one block of team.c's probe */ };

static void test_probe_exchanges_state(void **state)
{
    (void)state;
    elman_pool *pool = elman_pool_create(2);
    if (pool == NULL)
        skip(); /* no thread starts here: nothing to probe */
    for (int i = 0; i < PROBES; i++) {
        elman_probe_report r;
        assert_int_equal(elman_pool_probe(pool, &r), 1);
        assert_true(r.steps >= MIN_STEPS);
        if (r.stale != 0)
            fail_msg("probe %d: %u of %u steps found the other thread's half stale", i,
                     r.stale, 2 * r.steps);
        assert_true(isfinite(r.ns) && r.ns > 0);
    }
    const double ns = elman_pool_barrier_cost_ns(pool);
    assert_true(isfinite(ns) && ns > 0);
    elman_pool_free(pool);
}

static void test_no_probe_without_worker(void **state)
{
    (void)state;
    elman_probe_report r;
    assert_int_equal(elman_pool_probe(NULL, &r), 0);
    assert_true(isinf(r.ns) && r.steps == 0 && r.stale == 0);
    assert_true(isinf(elman_pool_barrier_cost_ns(NULL)));
    assert_null(elman_pool_create(1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_exchanges_state),
        cmocka_unit_test(test_no_probe_without_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
