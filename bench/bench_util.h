/* Helpers shared by the benchmark programs of bench/ (not the library). */
#ifndef ELMAN_BENCH_UTIL_H
#define ELMAN_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h> /* clock_gettime: the programs define _POSIX_C_SOURCE */

/* Monotonic time in microseconds. */
static inline double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

/* The weights and inputs every harness draws: one xorshift generator, so
 * elman-bench and onednn-bench see alike values (and torch_bench.py
 * replays it to draw elman-bench's lengths: change both together). */
static uint64_t bench_rng_state = 88172645463325252ULL;

static inline void bench_seed(int seed)
{
    bench_rng_state = (uint64_t)seed * 2654435761ULL + 1;
}

/* Uniform in [-bound, bound). */
static inline float bench_frand(float bound)
{
    bench_rng_state ^= bench_rng_state << 13;
    bench_rng_state ^= bench_rng_state >> 7;
    bench_rng_state ^= bench_rng_state << 17;
    return ((float)(bench_rng_state >> 40) / 16777216.0f * 2.0f - 1.0f) * bound;
}

/* A positive int (at most 10^9) from the command line; anything else calls
 * usage(), which exits. */
static inline int bench_parse_int(const char *s, void (*usage)(void))
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v <= 0 || v > 1000000000)
        usage();
    return (int)v;
}

/* qsort comparison of doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
