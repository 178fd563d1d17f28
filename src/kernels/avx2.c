/*
 * AVX2 + FMA kernels (x86-64). This file alone is compiled with -mavx2
 * -mfma, and only where CMake builds it (x86-64, gcc or clang); nothing in
 * it runs unless the registry's check saw both on this CPU.
 */
#include <immintrin.h>
#include <stddef.h>

#include "kernel.h"
#include "tanh_coeffs.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE __m256 tanh8(__m256 x)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 ax = _mm256_andnot_ps(sign, x);

    const __m256 z = _mm256_mul_ps(ax, ax);
    __m256 q = _mm256_set1_ps(ELMAN_TANH_Q4);
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(ELMAN_TANH_Q3));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(ELMAN_TANH_Q2));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(ELMAN_TANH_Q1));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(ELMAN_TANH_Q0));
    const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(ax, z), q, ax);

    /* min returns its second operand for NaN: y stays finite; NaN is put
     * back at the end. */
    const __m256 y = _mm256_min_ps(_mm256_add_ps(ax, ax), _mm256_set1_ps(ELMAN_TANH_YMAX));
    const __m256i ni = _mm256_cvttps_epi32(
        _mm256_fmadd_ps(y, _mm256_set1_ps(ELMAN_LOG2E), _mm256_set1_ps(0.5f)));
    const __m256 n = _mm256_cvtepi32_ps(ni);
    __m256 f = _mm256_fnmadd_ps(n, _mm256_set1_ps(ELMAN_LN2_HI), y);
    f = _mm256_fnmadd_ps(n, _mm256_set1_ps(ELMAN_LN2_LO), f);
    __m256 p = _mm256_set1_ps(ELMAN_EXP_P0);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ELMAN_EXP_P1));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ELMAN_EXP_P2));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ELMAN_EXP_P3));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ELMAN_EXP_P4));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ELMAN_EXP_P5));
    __m256 e = _mm256_fmadd_ps(p, _mm256_mul_ps(f, f), _mm256_add_ps(f, _mm256_set1_ps(1.0f)));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23);
    e = _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 large =
        _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));

    __m256 r = _mm256_blendv_ps(large, small,
                                _mm256_cmp_ps(ax, _mm256_set1_ps(ELMAN_TANH_SMALL), _CMP_LT_OQ));
    r = _mm256_or_ps(r, _mm256_and_ps(sign, x));
    return _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* Clip and activation of 8 values; tanh and relu vectorized, the rest
 * through the scalar functions. */
ALWAYS_INLINE __m256 activate8(const elman_act *a, __m256 v)
{
    const int act = a->act;
    if (act != ELMAN_TANH && act != ELMAN_RELU && act != ELMAN_ACT_NONE) {
        float tmp[8];
        _mm256_storeu_ps(tmp, v);
        for (int i = 0; i < 8; i++)
            tmp[i] = elman_activate_f(a, tmp[i]);
        return _mm256_loadu_ps(tmp);
    }
    if (a->clip > 0) {
        const __m256 c = _mm256_set1_ps((float)a->clip);
        /* max/min return their second operand for NaN: NaN stays */
        v = _mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), c), v);
        v = _mm256_min_ps(c, v);
    }
    if (act == ELMAN_TANH)
        return tanh8(v);
    if (act == ELMAN_RELU)
        return _mm256_max_ps(_mm256_setzero_ps(), v); /* NaN: max returns v */
    return v;
}

static void tanh_avx2(float *v, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(v + i, tanh8(_mm256_loadu_ps(v + i)));
    if (i < n) {
        float tmp[8] = {0};
        for (size_t k = i; k < n; k++)
            tmp[k - i] = v[k];
        _mm256_storeu_ps(tmp, tanh8(_mm256_loadu_ps(tmp)));
        for (size_t k = i; k < n; k++)
            v[k] = tmp[k - i];
    }
}

/* Lanes [0, valid) on. */
ALWAYS_INLINE __m256i lane_mask(int valid)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The epilogue of one vector of 8 columns starting at column j of row i. */
ALWAYS_INLINE void finish8(const elman_gemm_args *g, int i, int j, __m256 v)
{
    const int valid = g->N - j;
    if (valid <= 0)
        return;
    if (valid >= 8) {
        if (g->add != NULL)
            v = _mm256_add_ps(v, _mm256_loadu_ps(g->add[i] + j));
        if (g->bias != NULL)
            v = _mm256_add_ps(v, _mm256_loadu_ps(g->bias + j));
        _mm256_storeu_ps(g->out[i] + j, activate8(g->act, v));
    } else {
        const __m256i m = lane_mask(valid);
        if (g->add != NULL)
            v = _mm256_add_ps(v, _mm256_maskload_ps(g->add[i] + j, m));
        if (g->bias != NULL)
            v = _mm256_add_ps(v, _mm256_maskload_ps(g->bias + j, m));
        _mm256_maskstore_ps(g->out[i] + j, m, activate8(g->act, v));
    }
}

/* MR rows from i0, NP panels from p: MR*NP*2 accumulators, one
 * multiply-add chain per element over k in order. The loops over r and q
 * unroll completely, so the accumulators live in registers; they go to a
 * tile buffer once, for the epilogue. */
ALWAYS_INLINE void block(const elman_gemm_args *g, int i0, const int MR, int p, const int NP)
{
    __m256 acc[6][4][2];
    const float *a[6];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        a[r] = g->a[i0 + r];
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++) {
            acc[r][q][0] = _mm256_setzero_ps();
            acc[r][q][1] = _mm256_setzero_ps();
        }
    }
    /* The epilogue's projection rows were written a whole layer earlier and
     * are far out of cache by now: ask for them while the loop runs (the
     * load misses cost 17% of the batch configuration's kernel time), and
     * for the output lines it will write. */
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++) {
            const int j = (p + q) * ELMAN_PANEL;
            if (g->add != NULL) {
                _mm_prefetch((const char *)(g->add[i0 + r] + j), _MM_HINT_T0);
                _mm_prefetch((const char *)(g->add[i0 + r] + j + ELMAN_PANEL - 1), _MM_HINT_T0);
            }
            _mm_prefetch((const char *)(g->out[i0 + r] + j), _MM_HINT_T0);
            _mm_prefetch((const char *)(g->out[i0 + r] + j + ELMAN_PANEL - 1), _MM_HINT_T0);
        }
    const size_t K = (size_t)g->K;
    const size_t stride = ELMAN_W_PSTRIDE(g), ks = ELMAN_W_KSTRIDE(g);
    const float *w = g->w + (size_t)p * stride;
    for (size_t k = 0; k < K; k++) {
        __m256 b[4][2];
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++) {
            b[q][0] = _mm256_loadu_ps(w + q * stride + k * ks);
            b[q][1] = _mm256_loadu_ps(w + q * stride + k * ks + 8);
        }
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            const __m256 av = _mm256_broadcast_ss(a[r] + k);
#pragma GCC unroll 4
            for (int q = 0; q < NP; q++) {
                acc[r][q][0] = _mm256_fmadd_ps(av, b[q][0], acc[r][q][0]);
                acc[r][q][1] = _mm256_fmadd_ps(av, b[q][1], acc[r][q][1]);
            }
        }
    }
    float tile[6][4 * ELMAN_PANEL] __attribute__((aligned(32)));
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++) {
            _mm256_store_ps(tile[r] + q * ELMAN_PANEL, acc[r][q][0]);
            _mm256_store_ps(tile[r] + q * ELMAN_PANEL + 8, acc[r][q][1]);
        }
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NP * ELMAN_PANEL; c += 8)
            finish8(g, i0 + r, p * ELMAN_PANEL + c, _mm256_load_ps(tile[r] + c));
}

/* One row, up to 4 panels at once (8 chains hide the FMA latency). */
static void rows1(const elman_gemm_args *g, int i, int p_end)
{
    int p = g->panel_begin;
    for (; p + 4 <= p_end; p += 4)
        block(g, i, 1, p, 4);
    switch (p_end - p) {
    case 3: block(g, i, 1, p, 3); break;
    case 2: block(g, i, 1, p, 2); break;
    case 1: block(g, i, 1, p, 1); break;
    default: break;
    }
}

static void rows_panel(const elman_gemm_args *g, int i0, int mr, int p)
{
    switch (mr) {
    case 6: block(g, i0, 6, p, 1); break;
    case 5: block(g, i0, 5, p, 1); break;
    case 4: block(g, i0, 4, p, 1); break;
    case 3: block(g, i0, 3, p, 1); break;
    case 2: block(g, i0, 2, p, 1); break;
    default: break;
    }
}

/* Rows of the next tile when r rows remain: 6 where that leaves no tile of
 * 1 to 3 rows (too few chains to hide the FMA latency), else 4. */
static int next_tile(int r)
{
    if (r <= 6)
        return r;
    return r % 6 == 0 || r % 6 >= 4 ? 6 : 4;
}

static void gemm_avx2(const elman_gemm_args *g)
{
    const int n = g->n_rows;
    if (n == 1) {
        rows1(g, 0, g->panel_end);
        return;
    }
    /* Panel outer, rows inner: a panel (K x 16 floats) stays in L1 while
     * every row passes over it. */
    for (int p = g->panel_begin; p < g->panel_end; p++)
        for (int i = 0; i < n;) {
            const int mr = next_tile(n - i);
            rows_panel(g, i, mr, p);
            i += mr;
        }
}

/* ---- float64 ----
 *
 * A panel is four YMM registers of 4 doubles; one multiply-add chain per
 * element over k in order, as for float; the epilogue is the portable
 * kernel's, element by element (add, bias, then elman_activate_d), so only
 * the sums differ from the portable path, and in the same way for every
 * row count, row order and panel range. */

/* MR rows from i0, NP panels from p: 4*MR*NP accumulators (at most 12 of
 * the 16 registers: W is read from memory by the multiply-adds). */
ALWAYS_INLINE void block_f64(const elman_gemm_args_f64 *g, int i0, const int MR, int p,
                             const int NP)
{
    __m256d acc[3][2][4];
    const double *a[3];
#pragma GCC unroll 3
    for (int r = 0; r < MR; r++) {
        a[r] = g->a[i0 + r];
#pragma GCC unroll 2
        for (int q = 0; q < NP; q++)
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++)
                acc[r][q][v] = _mm256_setzero_pd();
    }
    const size_t K = (size_t)g->K;
    const size_t stride = ELMAN_W_PSTRIDE(g), ks = ELMAN_W_KSTRIDE(g);
    const double *w = g->w + (size_t)p * stride;
    for (size_t k = 0; k < K; k++) {
#pragma GCC unroll 3
        for (int r = 0; r < MR; r++) {
            const __m256d av = _mm256_broadcast_sd(a[r] + k);
#pragma GCC unroll 2
            for (int q = 0; q < NP; q++)
#pragma GCC unroll 4
                for (int v = 0; v < 4; v++)
                    acc[r][q][v] = _mm256_fmadd_pd(
                        av, _mm256_loadu_pd(w + q * stride + k * ks + v * 4), acc[r][q][v]);
        }
    }
    double sum[3][2][ELMAN_PANEL];
#pragma GCC unroll 3
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int q = 0; q < NP; q++)
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++)
                _mm256_storeu_pd(sum[r][q] + v * 4, acc[r][q][v]);
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < NP; q++)
            elman_finish_panel_f64(g, i0 + r, p + q, sum[r][q]);
}

static void gemm_avx2_f64(const elman_gemm_args_f64 *g)
{
    const int n = g->n_rows;
    if (n == 1) { /* one row: two panels at once, 8 chains */
        int p = g->panel_begin;
        for (; p + 2 <= g->panel_end; p += 2)
            block_f64(g, 0, 1, p, 2);
        if (p < g->panel_end)
            block_f64(g, 0, 1, p, 1);
        return;
    }
    for (int p = g->panel_begin; p < g->panel_end; p++) {
        int i = 0;
        for (; i + 3 <= n; i += 3)
            block_f64(g, i, 3, p, 1);
        if (n - i == 2)
            block_f64(g, i, 2, p, 1);
        else if (n - i == 1)
            block_f64(g, i, 1, p, 1);
    }
}

const elman_kernels elman_kernels_avx2 = {"avx2", gemm_avx2, gemm_avx2_f64, tanh_avx2};
