/* Threads of one forward call (POSIX threads). */
#define _POSIX_C_SOURCE 200809L
#include "team.h"

#include <pthread.h>
#include <sched.h>

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
