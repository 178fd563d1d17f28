/* Portable kernels: plain C, the reference for every other path. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "kernel.h"
#include "tanh_coeffs.h"

void elman_pack_panels(float *dst, const float *w, int N, int K)
{
    const int P = elman_num_panels(N);
    for (int p = 0; p < P; p++)
        for (int k = 0; k < K; k++) {
            float *d = dst + ((size_t)p * (size_t)K + (size_t)k) * ELMAN_PANEL;
            for (int c = 0; c < ELMAN_PANEL; c++) {
                const int j = p * ELMAN_PANEL + c;
                d[c] = j < N ? w[(size_t)j * (size_t)K + (size_t)k] : 0.0f;
            }
        }
}

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

static inline float activate(int act, float v)
{
    if (act == ELMAN_TANH)
        return elman_tanh_portable(v);
    if (act == ELMAN_RELU)
        return v < 0.0f ? 0.0f : v; /* NaN passes through, as in PyTorch */
    return v;
}

static void gemm_portable(const elman_gemm_args *g)
{
    const size_t K = (size_t)g->K;
    for (int p = g->panel_begin; p < g->panel_end; p++) {
        const float *w = g->w + (size_t)p * K * ELMAN_PANEL;
        const int j0 = p * ELMAN_PANEL;
        const int nc = g->N - j0 < ELMAN_PANEL ? g->N - j0 : ELMAN_PANEL;
        for (int i = 0; i < g->n_rows; i++) {
            const float *a = g->a[i];
            float acc[ELMAN_PANEL] = {0};
            for (size_t k = 0; k < K; k++) {
                const float ak = a[k];
                const float *wk = w + k * ELMAN_PANEL;
                for (int c = 0; c < ELMAN_PANEL; c++)
                    acc[c] += ak * wk[c];
            }
            float *o = g->out[i] + j0;
            const float *add = g->add != NULL ? g->add[i] + j0 : NULL;
            const float *bias = g->bias != NULL ? g->bias + j0 : NULL;
            for (int c = 0; c < nc; c++) {
                float v = acc[c];
                if (add != NULL)
                    v += add[c];
                if (bias != NULL)
                    v += bias[c];
                o[c] = activate(g->act, v);
            }
        }
    }
}

const elman_kernels elman_kernels_portable = {"portable", gemm_portable, tanh_portable};
