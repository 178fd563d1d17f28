/* Portable kernels: plain C, the reference for every other path. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "kernel.h"
#include "tanh_coeffs.h"

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

float elman_tanh_portable(float x)
{
    if (x != x)
        return x;
    const float ax = fabsf(x);
    float r;
    if (ax < ELMAN_TANH_SMALL) {
        const float z = ax * ax;
        float q = ELMAN_TANH_Q4;
        q = q * z + ELMAN_TANH_Q3;
        q = q * z + ELMAN_TANH_Q2;
        q = q * z + ELMAN_TANH_Q1;
        q = q * z + ELMAN_TANH_Q0;
        r = ax + (ax * z) * q;
    } else {
        /* 1 - 2 / (exp(2|x|) + 1), exp by Cody-Waite reduction */
        const float y = fminf(2.0f * ax, ELMAN_TANH_YMAX);
        const int ni = (int)(y * ELMAN_LOG2E + 0.5f); /* y >= 0: round to nearest */
        const float n = (float)ni;
        float f = y - n * ELMAN_LN2_HI;
        f = f - n * ELMAN_LN2_LO;
        float p = ELMAN_EXP_P0;
        p = p * f + ELMAN_EXP_P1;
        p = p * f + ELMAN_EXP_P2;
        p = p * f + ELMAN_EXP_P3;
        p = p * f + ELMAN_EXP_P4;
        p = p * f + ELMAN_EXP_P5;
        float e = p * (f * f) + (f + 1.0f);
        const uint32_t bits = (uint32_t)(ni + 127) << 23; /* 2^n, 0 <= n <= 26 */
        float scale;
        memcpy(&scale, &bits, sizeof(scale));
        e *= scale;
        r = 1.0f - 2.0f / (e + 1.0f);
    }
    return copysignf(r, x);
}

static void tanh_portable(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = elman_tanh_portable(v[i]);
}

/* The ONNX parameter defaults for NAN alpha/beta. */
void elman_act_from_config(const elman_config *cfg, elman_act *out)
{
    double alpha = 0, beta = 0;
    switch (cfg->nonlinearity) {
    case ELMAN_AFFINE: alpha = 1.0; beta = 0.0; break;
    case ELMAN_LEAKY_RELU: alpha = 0.01; break;
    case ELMAN_THRESHOLDED_RELU: alpha = 1.0; break;
    case ELMAN_SCALED_TANH: alpha = 1.0; beta = 1.0; break;
    case ELMAN_HARD_SIGMOID: alpha = 0.2; beta = 0.5; break;
    case ELMAN_ELU: alpha = 1.0; break;
    default: break;
    }
    out->act = cfg->nonlinearity;
    out->alpha = isnan(cfg->activation_alpha) ? alpha : cfg->activation_alpha;
    out->beta = isnan(cfg->activation_beta) ? beta : cfg->activation_beta;
    out->clip = cfg->clip;
}

const elman_kernels elman_kernels_portable = {"portable", gemm_portable,
                                               elman_gemm_portable_f64, tanh_portable};
