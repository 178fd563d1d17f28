/*
 * Size arithmetic shared by libelman, libelman_io and the elman tool.
 * Header-only, never installed, and free of any library's internals, so
 * that all three (and nothing else of either library) may include it.
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

/* n rounded up to a multiple of align (> 0) into *out; returns 0 on
 * overflow of size_t. */
static inline int elman_round_up_size(size_t n, size_t align, size_t *out)
{
    if (!elman_add_size(n, align - 1, &n))
        return 0;
    *out = n - n % align;
    return 1;
}

#endif /* ELMAN_SIZE_H */
