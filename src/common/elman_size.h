/*
 * Size arithmetic shared by libelman and libelman_io. Header-only, never
 * installed, and free of any library's internals, so that both libraries
 * (and nothing else of either) may include it.
 */
#ifndef ELMAN_SIZE_H
#define ELMAN_SIZE_H

#include <stddef.h>

/* Largest value any BLAS dimension may take: Debian's OpenBLAS uses 32-bit
 * integers for sizes. */
#define ELMAN_BLAS_INT_MAX 2147483647

/* a * b into *out; returns 0 on overflow of size_t. */
static inline int elman_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a)
        return 0;
    *out = a * b;
    return 1;
}

/* a + b into *out; returns 0 on overflow of size_t. */
static inline int elman_add_size(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a)
        return 0;
    *out = a + b;
    return 1;
}

#endif /* ELMAN_SIZE_H */
