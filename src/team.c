/* Threads of one forward call (POSIX threads). */
#define _POSIX_C_SOURCE 200809L
#include "team.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

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

typedef struct member {
    void (*fn)(void *, int, int);
    void *arg;
    int tid;
    atomic_int *go; /* the number of threads that run, once known */
} member;

static void *member_main(void *p)
{
    member *m = p;
    int nt;
    while ((nt = atomic_load_explicit(m->go, memory_order_acquire)) == 0)
        sched_yield();
    if (m->tid < nt)
        m->fn(m->arg, m->tid, nt);
    return NULL;
}

void elman_team_run(int nt, void (*init)(void *arg, int nt),
                    void (*fn)(void *arg, int tid, int nt), void *arg)
{
    if (nt > MAX_THREADS)
        nt = MAX_THREADS;
    if (nt <= 1) {
        init(arg, 1);
        fn(arg, 0, 1);
        return;
    }
    pthread_t threads[MAX_THREADS];
    member members[MAX_THREADS];
    atomic_int go;
    atomic_init(&go, 0);
    int started = 1;
    for (int t = 1; t < nt; t++) {
        members[t] = (member){fn, arg, t, &go};
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

enum { PROBE_BLOCKS = 9, PROBE_BLOCK = 8, PROBE_BUDGET_NS = 2000000 };

typedef struct probe {
    elman_barrier bar;
    atomic_int stop; /* set by the caller before the barrier that ends a block */
} probe;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *probe_main(void *p)
{
    probe *pr = p;
    elman_barrier_wait(&pr->bar);
    do {
        for (int i = 0; i < PROBE_BLOCK; i++)
            elman_barrier_wait(&pr->bar);
        elman_barrier_wait(&pr->bar); /* the caller has decided */
    } while (!atomic_load(&pr->stop));
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double elman_barrier_cost_ns(void)
{
    probe pr;
    elman_barrier_init(&pr.bar, 2);
    atomic_init(&pr.stop, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, probe_main, &pr) != 0)
        return INFINITY;
    elman_barrier_wait(&pr.bar); /* both running */
    double block_ns[PROBE_BLOCKS];
    const double start = now_ns();
    int done = 0, stop;
    do {
        const double t0 = now_ns();
        for (int i = 0; i < PROBE_BLOCK; i++)
            elman_barrier_wait(&pr.bar);
        const double t1 = now_ns();
        block_ns[done++] = (t1 - t0) / PROBE_BLOCK;
        stop = done == PROBE_BLOCKS || t1 - start > PROBE_BUDGET_NS;
        atomic_store(&pr.stop, stop);
        elman_barrier_wait(&pr.bar);
    } while (!stop);
    pthread_join(t, NULL);
    qsort(block_ns, (size_t)done, sizeof(double), cmp_double);
    return block_ns[done / 2];
}
