/* Helpers shared by the benchmark programs of bench/ (not the library). */
#ifndef ELMAN_BENCH_UTIL_H
#define ELMAN_BENCH_UTIL_H

#include <stdlib.h>

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
