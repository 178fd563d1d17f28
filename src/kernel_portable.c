/* Portable kernels: plain C, the reference for every other path. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "kernel.h"

#define REAL float
#define ARGS elman_gemm_args
#define ACTIVATE elman_activate_f
#define GEMM_NAME gemm_portable
#define PACK_NAME elman_pack_panels
static void gemm_portable(const elman_gemm_args *g);
#include "kernel_portable_gemm.h"
#undef REAL
#undef ARGS
#undef ACTIVATE
#undef GEMM_NAME
#undef PACK_NAME

#define REAL double
#define ARGS elman_gemm_args_f64
#define ACTIVATE elman_activate_d
#define GEMM_NAME elman_gemm_portable_f64
#define PACK_NAME elman_pack_panels_f64
#include "kernel_portable_gemm.h"
#undef REAL
#undef ARGS
#undef ACTIVATE
#undef GEMM_NAME
#undef PACK_NAME

static void tanh_portable(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = elman_tanh_portable(v[i]);
}

const elman_kernels elman_kernels_portable = {"portable", gemm_portable,
                                               elman_gemm_portable_f64, tanh_portable};
