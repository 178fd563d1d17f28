/* Helpers shared by the benchmark programs of bench/ (not the library). */
#ifndef ELMAN_BENCH_UTIL_H
#define ELMAN_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The processor's model name (at most n-1 bytes, "?" if unknown) and
 * family (-1 if unknown), from /proc/cpuinfo. */
static inline void bench_cpu(char *model, size_t n, int *family)
{
    snprintf(model, n, "?");
    *family = -1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    int have_model = 0;
    while (fgets(line, sizeof(line), f) != NULL && (!have_model || *family < 0)) {
        const char *colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        if (!have_model && strncmp(line, "model name", 10) == 0) {
            snprintf(model, n, "%s", colon + 2);
            model[strcspn(model, "\n\"\\")] = '\0'; /* stays a JSON string */
            have_model = 1;
        } else if (*family < 0 && strncmp(line, "cpu family", 10) == 0) {
            *family = atoi(colon + 1);
        }
    }
    fclose(f);
}

#endif
