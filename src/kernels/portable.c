/* Portable kernels: plain C, the reference for every other path. */
#include <stddef.h>

#include "kernel.h"

#define REAL float
#define SFX(name) name
#include "gemm_portable.inc"

#define REAL double
#define SFX(name) name##_f64
#include "gemm_portable.inc"

static void tanh_portable(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = elman_tanh_portable(v[i]);
}

const elman_kernels elman_kernels_portable = {"portable", elman_gemm_portable,
                                               elman_gemm_portable_f64, tanh_portable};
