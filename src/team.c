/* Threads of forward calls: the model's pool, per-call teams, barriers
 * (POSIX threads). */
#define _GNU_SOURCE /* sched_getcpu, pthread_{get,set}affinity_np (Linux only) */
#include "team.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

enum { MAX_THREADS = ELMAN_TEAM_MAX_THREADS, SPINS_BEFORE_YIELD = 2000 };

void elman_barrier_init(elman_barrier *b, int size)
{
    atomic_init(&b->count, 0);
    atomic_init(&b->generation, 0);
    b->size = size;
}

void elman_barrier_wait(elman_barrier *b)
{
    if (b->size <= 1)
        return;
    const int gen = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) == b->size - 1) {
        atomic_store_explicit(&b->count, 0, memory_order_relaxed);
        atomic_store_explicit(&b->generation, gen + 1, memory_order_release);
        return;
    }
    /* Spin briefly (steps are short), then give the core away so an
     * oversubscribed machine still makes progress. */
    for (int spins = 0; atomic_load_explicit(&b->generation, memory_order_acquire) == gen;) {
        if (spins < SPINS_BEFORE_YIELD) {
            spins++;
            cpu_relax();
        } else {
            sched_yield();
        }
    }
}

/* Where the threads a call starts run. Linux often starts a new thread on
 * its creator's CPU and leaves it there for milliseconds even when another
 * CPU is idle (seen on the 2-core machines of the benchmarks: in 3 of 4
 * tries a new spinning thread was still on the creator's CPU 5 ms later),
 * and two threads on one CPU meet at a barrier only by time-slicing (tens
 * of microseconds each). So a thread that finds itself on the CPU of the
 * thread it works with moves off it (a per-call thread when it starts, a
 * pool's worker before each job): it narrows its affinity to the other
 * allowed CPUs, which migrates it, and at once restores the mask it had.
 * It is never pinned. Elsewhere (not Linux) threads are left where they
 * start. */
static int current_cpu(void)
{
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

static void move_off_cpu(int cpu)
{
#if defined(__linux__)
    if (cpu < 0 || sched_getcpu() != cpu)
        return;
    cpu_set_t allowed, others;
    if (pthread_getaffinity_np(pthread_self(), sizeof(allowed), &allowed) != 0)
        return;
    others = allowed;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0)
        return;
    if (pthread_setaffinity_np(pthread_self(), sizeof(others), &others) == 0)
        pthread_setaffinity_np(pthread_self(), sizeof(allowed), &allowed);
#else
    (void)cpu;
#endif
}

/* ---- threads started for one call ---- */

typedef struct member {
    void (*fn)(void *, int, int);
    void *arg;
    int tid;
    int creator_cpu;
    atomic_int *go; /* the number of threads that run, once known */
} member;

static void *member_main(void *p)
{
    member *m = p;
    move_off_cpu(m->creator_cpu);
    int nt;
    while ((nt = atomic_load_explicit(m->go, memory_order_acquire)) == 0)
        sched_yield();
    if (m->tid < nt)
        m->fn(m->arg, m->tid, nt);
    return NULL;
}

static void team_run_started(int nt, void (*init)(void *arg, int nt),
                             void (*fn)(void *arg, int tid, int nt), void *arg)
{
    pthread_t threads[MAX_THREADS];
    member members[MAX_THREADS];
    atomic_int go;
    atomic_init(&go, 0);
    const int cpu = current_cpu();
    int started = 1;
    for (int t = 1; t < nt; t++) {
        members[t] = (member){fn, arg, t, cpu, &go};
        if (pthread_create(&threads[t], NULL, member_main, &members[t]) != 0)
            break;
        started++;
    }
    init(arg, started);
    atomic_store_explicit(&go, started, memory_order_release);
    fn(arg, 0, started);
    for (int t = 1; t < started; t++)
        pthread_join(threads[t], NULL);
}

/* ---- the pool of a model ---- */

struct elman_pool {
    pthread_mutex_t lock; /* guards the sleep of idle workers */
    pthread_cond_t wake;
    atomic_int busy;      /* a call holds the workers */
    atomic_uint job;      /* number of the current job; a new one wakes them */
    atomic_int sleepers;  /* workers asleep (or about to be) on wake */
    atomic_int done;      /* workers finished with the current job */
    atomic_int stop;
    void (*fn)(void *, int, int); /* the current job, written before job */
    void *arg;
    int nt;
    int caller_cpu; /* where the current job's caller runs */
    pid_t owner; /* the process whose threads the workers are */
    int workers;
    pthread_t threads[MAX_THREADS];
    struct pool_worker {
        elman_pool *pool;
        int tid;
    } ids[MAX_THREADS];
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Waits until pool->job differs from seen: spins ELMAN_POOL_SPIN_US, then
 * sleeps. The caller publishes a job then reads sleepers; a worker counts
 * itself in sleepers then reads job (both sequentially consistent), so at
 * least one of them sees the other: the caller broadcasts or the worker
 * does not sleep. */
static unsigned wait_for_job(elman_pool *pool, unsigned seen)
{
    unsigned job;
    const double until = now_ns() + ELMAN_POOL_SPIN_US * 1000.0;
    for (int spins = 0; (job = atomic_load(&pool->job)) == seen; spins++) {
        cpu_relax();
        if (spins % 64 == 63 && now_ns() > until)
            break;
    }
    if (job != seen)
        return job;
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->sleepers, 1);
    while ((job = atomic_load(&pool->job)) == seen)
        pthread_cond_wait(&pool->wake, &pool->lock);
    atomic_fetch_sub(&pool->sleepers, 1);
    pthread_mutex_unlock(&pool->lock);
    return job;
}

static void *pool_worker_main(void *p)
{
    const struct pool_worker *me = p;
    elman_pool *pool = me->pool;
    unsigned seen = 0;
    for (;;) {
        seen = wait_for_job(pool, seen);
        if (atomic_load(&pool->stop))
            return NULL;
        /* a worker woken from its sleep may have been put on its waker's
         * CPU (seen: a whole 2-thread call time-sliced on one CPU, 35x
         * slower); leave it before the job (a sched_getcpu when not) */
        move_off_cpu(pool->caller_cpu);
        if (me->tid < pool->nt)
            pool->fn(pool->arg, me->tid, pool->nt);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
    }
}

/* Publishes job fn(arg, *, nt) to every worker. */
static void pool_publish(elman_pool *pool, void (*fn)(void *, int, int), void *arg, int nt)
{
    pool->fn = fn;
    pool->arg = arg;
    pool->nt = nt;
    pool->caller_cpu = current_cpu();
    atomic_store(&pool->done, 0);
    atomic_fetch_add(&pool->job, 1);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
}

/* Waits until every worker has finished the current job. */
static void pool_wait_done(elman_pool *pool)
{
    for (int spins = 0;
         atomic_load_explicit(&pool->done, memory_order_acquire) < pool->workers; spins++) {
        if (spins < SPINS_BEFORE_YIELD)
            cpu_relax();
        else
            sched_yield();
    }
}

elman_pool *elman_pool_create(int nt)
{
    if (nt > MAX_THREADS)
        nt = MAX_THREADS;
    if (nt <= 1)
        return NULL;
    elman_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return NULL;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return NULL;
    }
    if (pthread_cond_init(&pool->wake, NULL) != 0) {
        pthread_mutex_destroy(&pool->lock);
        free(pool);
        return NULL;
    }
    atomic_init(&pool->busy, 0);
    atomic_init(&pool->job, 0);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->done, 0);
    atomic_init(&pool->stop, 0);
    pool->owner = getpid();
    for (int t = 1; t < nt; t++) {
        pool->ids[pool->workers] = (struct pool_worker){pool, t};
        if (pthread_create(&pool->threads[pool->workers], NULL, pool_worker_main,
                           &pool->ids[pool->workers]) != 0)
            break;
        pool->workers++;
    }
    if (pool->workers == 0) {
        elman_pool_free(pool);
        return NULL;
    }
    return pool;
}

void elman_pool_free(elman_pool *pool)
{
    if (pool == NULL)
        return;
    if (pool->workers > 0 && pool->owner == getpid()) {
        atomic_store(&pool->stop, 1);
        pool_publish(pool, NULL, NULL, 0);
        for (int t = 0; t < pool->workers; t++)
            pthread_join(pool->threads[t], NULL);
        pthread_cond_destroy(&pool->wake);
        pthread_mutex_destroy(&pool->lock);
    }
    /* in a child after fork() the workers do not exist and the lock's
     * state is unknown: only the memory is released */
    free(pool);
}

int elman_pool_threads(const elman_pool *pool)
{
    return pool == NULL ? 1 : pool->workers + 1;
}

/* Takes the workers of pool for one call, if it has nt - 1 of them, they
 * exist in this process and no other call holds them. */
static int pool_acquire(elman_pool *pool, int nt)
{
    if (pool == NULL || pool->workers + 1 < nt || pool->owner != getpid())
        return 0;
    int expected = 0;
    return atomic_compare_exchange_strong(&pool->busy, &expected, 1);
}

int elman_team_run(elman_pool *pool, int nt, void (*init)(void *arg, int nt),
                   void (*fn)(void *arg, int tid, int nt), void *arg)
{
    if (nt > MAX_THREADS)
        nt = MAX_THREADS;
    if (nt <= 1) {
        init(arg, 1);
        fn(arg, 0, 1);
        return 0;
    }
    if (!pool_acquire(pool, nt)) {
        team_run_started(nt, init, fn, arg);
        return 0;
    }
    init(arg, nt);
    pool_publish(pool, fn, arg, nt);
    fn(arg, 0, nt);
    pool_wait_done(pool);
    atomic_store(&pool->busy, 0);
    return 1;
}

enum { PROBE_BLOCKS = 9, PROBE_BLOCK = 8, PROBE_BUDGET_NS = 2000000 };
/* what each thread hands the other at a barrier: two cache lines */
enum { PROBE_LINES = 2, PROBE_FLOATS = PROBE_LINES * 16 };

/* The probe, a job of the pool on two threads: tid 1 meets tid 0 at the
 * barrier until tid 0 says stop. */
typedef struct probe {
    elman_barrier bar;
    atomic_int stop; /* set by tid 0 before the barrier that ends a block */
    /* each thread's half of a state, in two generations as a step's
     * h_{t-1} and h_t: at its step n a thread reads the other's half of
     * generation (n - 1) % 2, written before the last barrier, and writes
     * its own of generation n % 2, which the other reads only after the
     * next barrier and overwrites only after the one after it */
    _Alignas(64) float half[2][2][PROBE_FLOATS];
    double block_ns[PROBE_BLOCKS];
    int blocks;
    /* per thread, written by that thread only: steps made, and steps whose
     * read of the other's half did not find what it wrote the step before */
    unsigned steps[2], stale[2];
} probe;

static void probe_init(void *arg, int nt)
{
    probe *pr = arg;
    memset(pr->half, 0, sizeof(pr->half));
    elman_barrier_init(&pr->bar, nt < 2 ? nt : 2);
    atomic_init(&pr->stop, 0);
    pr->blocks = 0;
    memset(pr->steps, 0, sizeof(pr->steps));
    memset(pr->stale, 0, sizeof(pr->stale));
}

/* What thread tid writes into every float of its half at step n: the
 * other thread can tell a step's and a thread's values from another's
 * (0, before any step, is what the halves start as). */
static float probe_value(int tid, unsigned n)
{
    return (float)(2 * (n + 1) + (unsigned)tid);
}

/* Step n of the probe on thread tid: read the other thread's half
 * (written before the last barrier: it must hold the other's values of
 * step n - 1), write this thread's, meet at the barrier. */
static void probe_step(probe *pr, int tid, unsigned n)
{
    const volatile float *other = pr->half[(n + 1) % 2][1 - tid];
    volatile float *mine = pr->half[n % 2][tid];
    const float expect = n == 0 ? 0.0f : probe_value(1 - tid, n - 1);
    float got = 0.0f; /* one float of each of the other's lines */
    int stale = 0;
    for (int j = 0; j < PROBE_FLOATS; j += 16) {
        got = other[j];
        stale |= got != expect;
    }
    /* written from what was read, as h_t is from h_{t-1}: a thread that
     * read nothing, or the wrong lines, hands the other wrong values */
    const float v = probe_value(tid, n) + (got - expect);
    for (int j = 0; j < PROBE_FLOATS; j++)
        mine[j] = v;
    pr->steps[tid]++;
    pr->stale[tid] += (unsigned)stale;
    elman_barrier_wait(&pr->bar);
}

static void probe_run(void *arg, int tid, int nt)
{
    probe *pr = arg;
    if (tid >= 2)
        return;
    elman_barrier_wait(&pr->bar); /* both running */
    if (tid == 1) {
        unsigned n = 0;
        do {
            for (int i = 0; i < PROBE_BLOCK; i++)
                probe_step(pr, 1, n++);
            elman_barrier_wait(&pr->bar); /* tid 0 has decided */
        } while (!atomic_load(&pr->stop));
        return;
    }
    (void)nt;
    const double start = now_ns();
    unsigned n = 0;
    int stop;
    do {
        const double t0 = now_ns();
        for (int i = 0; i < PROBE_BLOCK; i++)
            probe_step(pr, 0, n++);
        const double t1 = now_ns();
        pr->block_ns[pr->blocks++] = (t1 - t0) / PROBE_BLOCK;
        stop = pr->blocks == PROBE_BLOCKS || t1 - start > PROBE_BUDGET_NS;
        atomic_store(&pr->stop, stop);
        elman_barrier_wait(&pr->bar);
    } while (!stop);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int elman_pool_probe(elman_pool *pool, elman_probe_report *report)
{
    report->ns = INFINITY;
    report->steps = report->stale = 0;
    if (elman_pool_threads(pool) < 2 || !pool_acquire(pool, 2))
        return 0;
    probe pr;
    probe_init(&pr, 2);
    pool_publish(pool, probe_run, &pr, 2);
    probe_run(&pr, 0, 2);
    pool_wait_done(pool);
    atomic_store(&pool->busy, 0);
    qsort(pr.block_ns, (size_t)pr.blocks, sizeof(double), cmp_double);
    report->ns = pr.block_ns[pr.blocks / 2];
    report->steps = pr.steps[0] < pr.steps[1] ? pr.steps[0] : pr.steps[1];
    report->stale = pr.stale[0] + pr.stale[1];
    return 1;
}

double elman_pool_barrier_cost_ns(elman_pool *pool)
{
    elman_probe_report report;
    elman_pool_probe(pool, &report);
    return report.ns;
}

double elman_barrier_cost_ns(void)
{
    elman_pool *pool = elman_pool_create(2);
    const double ns = elman_pool_barrier_cost_ns(pool);
    elman_pool_free(pool);
    return ns;
}
