/*
 * Teams of threads for forward calls. Every member of a team runs the same
 * function (SPMD) and meets the others at spin barriers.
 *
 * A model with num_threads > 1 owns a pool (elman_pool): its worker threads
 * are started by elman_rnn_create() and joined by elman_rnn_free(); between
 * calls they wait for the next one, spinning for ELMAN_POOL_SPIN_US, then
 * asleep on a condition variable. One call at a time uses them; a call that
 * finds them busy (another thread's call on the same model), or runs in a
 * child process after fork(), where they do not exist, starts threads of
 * its own for that call and joins them before returning.
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

/* What one barrier between two threads costs on this machine now, in ns,
 * with the exchange a split step makes across it (each thread writes two
 * cache lines before it, the other reads them after it): the median of
 * blocks of such steps between the caller and a thread it starts, within
 * about 2 ms (a partner that loses its core makes it large, as it would
 * make a step's barrier). Infinity if no thread starts. */
double elman_barrier_cost_ns(void);

/* How long an idle worker of a pool spins for the next call before it
 * sleeps: back-to-back calls (a benchmark, a stream of chunks) find it
 * awake; a sleeping one costs a wake-up (a few to tens of microseconds). */
enum { ELMAN_POOL_SPIN_US = 200 };

typedef struct elman_pool elman_pool;

/* A pool of nt - 1 workers (nt capped at ELMAN_TEAM_MAX_THREADS), or NULL
 * when nt <= 1 or no thread starts (calls then start their own). Fewer
 * workers than asked if some fail to start. */
elman_pool *elman_pool_create(int nt);
/* Stops and joins the workers (in the process that created them). */
void elman_pool_free(elman_pool *pool);
/* Threads a call on the pool runs (its workers and the caller). */
int elman_pool_threads(const elman_pool *pool);

/* What a barrier between the caller and a worker of pool costs, in ns,
 * with a split step's exchange (as elman_barrier_cost_ns): the median of
 * blocks of them within about 2 ms. Infinity without a worker. */
double elman_pool_barrier_cost_ns(elman_pool *pool);

/* What the probe of elman_pool_barrier_cost_ns() did. */
typedef struct elman_probe_report {
    double ns;      /* its result (infinity: no probe ran) */
    unsigned steps; /* steps each thread made: at each it read the other's
                       half of the state, wrote its own, met the barrier */
    unsigned stale; /* steps, of both threads, whose read did not find the
                       other's writes of the step before: 0 unless the
                       exchange is broken */
} elman_probe_report;

/* elman_pool_barrier_cost_ns() with its report. Returns 0 (and report's
 * ns infinity, steps 0) if pool has no worker or is busy, else 1. */
int elman_pool_probe(elman_pool *pool, elman_probe_report *report);

/* Runs fn(arg, tid, nt) on nt threads, tid 0 on the caller's thread, and
 * returns when all have returned; nt is capped at ELMAN_TEAM_MAX_THREADS.
 * The threads are pool's when it has enough and is free, else started for
 * this call. If fewer threads can run, runs on those: the nt that
 * init(arg, nt) (called first, once) and fn see is the number that really
 * run. pool may be NULL. Returns 1 if the threads were pool's, else 0. */
int elman_team_run(elman_pool *pool, int nt, void (*init)(void *arg, int nt),
                    void (*fn)(void *arg, int tid, int nt), void *arg);

#endif
