/*
 * A team of threads for one forward call: started by the call, joined before
 * it returns, so nothing outlives the call and nothing is shared between
 * calls. Every member runs the same function (SPMD) and meets the others at
 * spin barriers.
 */
#ifndef ELMAN_TEAM_H
#define ELMAN_TEAM_H

#include <stdatomic.h>

typedef struct elman_barrier {
    atomic_int count;
    atomic_int generation;
    int size;
} elman_barrier;

/* Most threads a team runs: larger requests run this many. */
enum { ELMAN_TEAM_MAX_THREADS = 64 };

void elman_barrier_init(elman_barrier *b, int size);
/* Returns when `size` threads have called it. */
void elman_barrier_wait(elman_barrier *b);

/* What one barrier between two threads costs on this machine now, in ns:
 * the median of blocks of barriers between the caller and a thread it
 * starts, within about 2 ms (a partner that loses its core makes it large,
 * as it would make a step's barrier). Infinity if no thread starts. */
double elman_barrier_cost_ns(void);

/* Runs fn(arg, tid, nt) on nt threads, tid 0 on the caller's thread, and
 * returns when all have returned; nt is capped at ELMAN_TEAM_MAX_THREADS.
 * If fewer threads can be started, runs on
 * those: the nt that init(arg, nt) (called first, once) and fn see is the
 * number that really run. */
void elman_team_run(int nt, void (*init)(void *arg, int nt),
                    void (*fn)(void *arg, int tid, int nt), void *arg);

#endif
