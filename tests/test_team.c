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
 *   infinity, no step.
 * - An idle worker sleeps: once a job is done it spins for about
 *   ELMAN_POOL_SPIN_US (the header: "about 200 microseconds"), then takes
 *   next to no CPU until the next job (its time on a CPU, from
 *   /proc/self/task/<tid>/schedstat, Linux), which wakes it.
 * - A worker found on its caller's CPU moves off it before the job, and
 *   none is pinned (docs/API.md, Threads): a worker put on the CPU of a
 *   caller kept there runs its next job elsewhere, with the affinity it
 *   had; a thread started for one call has the caller's (Linux). */
#define _GNU_SOURCE /* gettid */
#include "cmocka_wrap.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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

/* The one thread of this process other than the caller (a pool's worker),
 * or -1 (no /proc, or not exactly one). */
static long other_thread(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return -1;
    long found = -1;
    int others = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        const long tid = strtol(e->d_name, NULL, 10);
        if (tid > 0 && tid != (long)gettid()) {
            found = tid;
            others++;
        }
    }
    closedir(dir);
    return others == 1 ? found : -1;
}

/* Nanoseconds thread tid of this process has run on a CPU, or -1. */
static double cpu_ns(long tid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    double ns = -1;
    if (fscanf(f, "%lf", &ns) != 1)
        ns = -1;
    fclose(f);
    return ns;
}

static void sleep_ms(int ms)
{
    const struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

enum { SETTLE_MS = 20, IDLE_MS = 300, IDLE_CPU_MS = 30 };

static void test_idle_worker_sleeps(void **state)
{
    (void)state;
    elman_pool *pool = elman_pool_create(2);
    if (pool == NULL)
        skip();
    const long worker = other_thread();
    if (worker < 0 || cpu_ns(worker) < 0) {
        elman_pool_free(pool);
        skip(); /* no /proc/self/task/<tid>/schedstat here */
    }
    elman_probe_report r;
    assert_int_equal(elman_pool_probe(pool, &r), 1);
    /* SETTLE_MS is 100 times ELMAN_POOL_SPIN_US: the spin is over */
    sleep_ms(SETTLE_MS);
    const double before = cpu_ns(worker);
    sleep_ms(IDLE_MS);
    const double idle_ms = (cpu_ns(worker) - before) / 1e6;
    if (idle_ms > IDLE_CPU_MS)
        fail_msg("an idle worker ran %.1f ms of %d (it should sleep)", idle_ms, IDLE_MS);
    /* asleep, it still wakes for the next job */
    assert_int_equal(elman_pool_probe(pool, &r), 1);
    assert_true(r.steps >= MIN_STEPS && r.stale == 0);
    elman_pool_free(pool);
}

/* What the team's first two threads saw as their job began. A worker told
 * to (pin_to >= 0) then pins itself to that CPU, and at once gives itself
 * its affinity back: it stays there, as a woken thread may. */
typedef struct job_view {
    int cpu[2];
    cpu_set_t mask[2];
    int mask_ok[2];
    int pin_to;
} job_view;

static void view_init(void *arg, int nt)
{
    (void)arg;
    (void)nt;
}

static void view_job(void *arg, int tid, int nt)
{
    (void)nt;
    job_view *v = arg;
    if (tid > 1)
        return;
    v->cpu[tid] = sched_getcpu();
    v->mask_ok[tid] =
        pthread_getaffinity_np(pthread_self(), sizeof(v->mask[tid]), &v->mask[tid]) == 0;
    if (tid == 1 && v->pin_to >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(v->pin_to, &one);
        if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0)
            pthread_setaffinity_np(pthread_self(), sizeof(v->mask[1]), &v->mask[1]);
    }
}

enum { MOVE_ROUNDS = 8 };

static void test_worker_moves_off_callers_cpu(void **state)
{
    (void)state;
    cpu_set_t all;
    if (pthread_getaffinity_np(pthread_self(), sizeof(all), &all) != 0 || CPU_COUNT(&all) < 2)
        skip(); /* one CPU allowed: nowhere to move */
    int c = 0;
    while (!CPU_ISSET(c, &all))
        c++;
    elman_pool *pool = elman_pool_create(2);
    if (pool == NULL)
        skip();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    /* the caller kept on CPU c (the pool's worker started before: not) */
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
    for (int round = 0; round < MOVE_ROUNDS; round++) {
        job_view v = {.pin_to = c};
        /* the worker puts itself on c, where the caller is */
        assert_int_equal(elman_team_run(pool, 2, view_init, view_job, &v), 1);
        v.pin_to = -1;
        assert_int_equal(elman_team_run(pool, 2, view_init, view_job, &v), 1);
        assert_int_equal(v.cpu[0], c);
        assert_true(v.mask_ok[1]);
        if (v.cpu[1] == c)
            fail_msg("round %d: the worker ran its job on its caller's CPU %d", round, c);
        if (!CPU_EQUAL(&v.mask[1], &all))
            fail_msg("round %d: the worker is left with %d allowed CPUs of %d", round,
                     CPU_COUNT(&v.mask[1]), CPU_COUNT(&all));
    }
    elman_pool_free(pool);
    /* A thread started for one call, by a caller on c but free to leave
     * it: not pinned either. */
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof(all), &all), 0);
    for (int round = 0; round < MOVE_ROUNDS; round++) {
        job_view v = {.pin_to = -1};
        assert_int_equal(elman_team_run(NULL, 2, view_init, view_job, &v), 0);
        assert_true(v.mask_ok[0] && v.mask_ok[1]);
        if (!CPU_EQUAL(&v.mask[1], &all))
            fail_msg("round %d: a thread of one call is left with %d allowed CPUs of %d", round,
                     CPU_COUNT(&v.mask[1]), CPU_COUNT(&all));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_exchanges_state),
        cmocka_unit_test(test_no_probe_without_worker),
        cmocka_unit_test(test_idle_worker_sleeps),
        cmocka_unit_test(test_worker_moves_off_callers_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
