/*
 * AVX-512 kernels (x86-64: AVX512F/BW/DQ/VL + FMA). This file alone is
 * compiled with those ISA flags; nothing in it runs unless
 * elman_select_kernels() saw them and the OS saves the ZMM state.
 *
 * A panel (ELMAN_PANEL = 16 columns) is one ZMM register. Every element is
 * two multiply-add chains, over the even and over the odd k in order (k =
 * K-1 joins the even chain when K is odd), added at the end, then the
 * projection, the bias and the activation: the same operations for every
 * row count, row order, panel range and thread count, so a row's bits
 * never depend on what it is computed with. Two chains per element halve
 * the latency of a step of one sequence, which is bound by it (a 64-column
 * step has only 4 panels: 8 chains keep both FMA units busy, 4 would not).
 */
#include "kernel.h"

#if defined(ELMAN_HAVE_KERNELS_AVX512)
#include <immintrin.h>
#include <stdint.h>

#include "tanh_coeffs.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
/* Complete unrolling of the loops over a block's rows and panels, whose
 * trip counts are constants once block() is inlined: what keeps the
 * accumulators in registers. clang does not take GCC's pragma for it (the
 * accumulators stayed in memory: 4.5x slower). */
#define PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define UNROLL(n) PRAGMA(clang loop unroll(full))
#else
#define UNROLL(n) PRAGMA(GCC unroll n)
#endif

/* tanh of 16 floats: the operations of the AVX2 tanh, in the same order,
 * so the two agree bit for bit (tests/test_kernel.c), with three exact
 * replacements that AVX-512 allows: the truncation to an integer in
 * floating point (roundscale for cvtt + cvt), the scaling by 2^n (scalef
 * for building the exponent bits and multiplying) and the sign (one
 * ternary logic for and + or). Four operations fewer of 34: on a Zen 4
 * the one-row step of H = 64 took 2-4% less, stream's whole call 0-2%. */
ALWAYS_INLINE __m512 tanh16(__m512 x)
{
    const __m512 ax = _mm512_abs_ps(x);
    const __m512 z = _mm512_mul_ps(ax, ax);
    __m512 q = _mm512_set1_ps(ELMAN_TANH_Q4);
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(ELMAN_TANH_Q3));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(ELMAN_TANH_Q2));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(ELMAN_TANH_Q1));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(ELMAN_TANH_Q0));
    const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(ax, z), q, ax);

    /* min returns its second operand for NaN: y stays finite; NaN is put
     * back at the end. */
    const __m512 y = _mm512_min_ps(_mm512_add_ps(ax, ax), _mm512_set1_ps(ELMAN_TANH_YMAX));
    /* y log2(e) + 0.5 is in [0.5, 29.4]: truncated, an exact integer */
    const __m512 n =
        _mm512_roundscale_ps(_mm512_fmadd_ps(y, _mm512_set1_ps(ELMAN_LOG2E), _mm512_set1_ps(0.5f)),
                             _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_fnmadd_ps(n, _mm512_set1_ps(ELMAN_LN2_HI), y);
    f = _mm512_fnmadd_ps(n, _mm512_set1_ps(ELMAN_LN2_LO), f);
    __m512 p = _mm512_set1_ps(ELMAN_EXP_P0);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ELMAN_EXP_P1));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ELMAN_EXP_P2));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ELMAN_EXP_P3));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ELMAN_EXP_P4));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ELMAN_EXP_P5));
    __m512 e = _mm512_fmadd_ps(p, _mm512_mul_ps(f, f), _mm512_add_ps(f, _mm512_set1_ps(1.0f)));
    e = _mm512_scalef_ps(e, n); /* e 2^n, exact: 0 <= n <= 29 */
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 large =
        _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));

    const __mmask16 is_small =
        _mm512_cmp_ps_mask(ax, _mm512_set1_ps(ELMAN_TANH_SMALL), _CMP_LT_OQ);
    const __m512 m = _mm512_mask_blend_ps(is_small, large, small);
    /* m | (x & sign): 0xF8 is A | (B & C) */
    const __m512 r = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
        _mm512_castps_si512(m), _mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN), 0xF8));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), r, x);
}

/* Whether the clip and activation a are computed in vector registers
 * (activate16_vector), with no call. */
ALWAYS_INLINE int vector_activation(const elman_act *a)
{
    return a->act == ELMAN_TANH || a->act == ELMAN_RELU || a->act == ELMAN_ACT_NONE;
}

/* Clip and activation of 16 values, for an activation that
 * vector_activation() accepts. */
ALWAYS_INLINE __m512 activate16_vector(const elman_act *a, __m512 v)
{
    const int act = a->act;
    if (a->clip > 0) {
        const __m512 c = _mm512_set1_ps((float)a->clip);
        /* max/min return their second operand for NaN: NaN stays */
        v = _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), c), v);
        v = _mm512_min_ps(c, v);
    }
    if (act == ELMAN_TANH)
        return tanh16(v);
    if (act == ELMAN_RELU)
        return _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN: max returns v */
    return v;
}

/* Clip and activation of 16 values; tanh and relu vectorized, the rest
 * through the scalar functions of activation.h. */
ALWAYS_INLINE __m512 activate16(const elman_act *a, __m512 v)
{
    if (vector_activation(a))
        return activate16_vector(a, v);
    float tmp[16];
    _mm512_storeu_ps(tmp, v);
    for (int i = 0; i < 16; i++)
        tmp[i] = elman_activate_f(a, tmp[i]);
    return _mm512_loadu_ps(tmp);
}

static void tanh_avx512(float *v, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(v + i, tanh16(_mm512_loadu_ps(v + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(v + i, m, tanh16(_mm512_maskz_loadu_ps(m, v + i)));
    }
}

/* The epilogue of panel p of row i: v holds its 16 sums. VECTOR: the
 * activation is one of vector_activation()'s, so no call is made. */
ALWAYS_INLINE void finish16(const elman_gemm_args *g, int i, int p, __m512 v, const int VECTOR)
{
    const int j = p * ELMAN_PANEL, valid = g->N - j;
    const __mmask16 m = valid >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << valid) - 1u);
    if (g->add != NULL)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, g->add[i] + j));
    if (g->bias != NULL)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, g->bias + j));
    v = VECTOR ? activate16_vector(g->act, v) : activate16(g->act, v);
    _mm512_mask_storeu_ps(g->out[i] + j, m, v);
}

/* MR rows from i0, NP panels from p: 2*MR*NP accumulators acc (the even
 * and the odd chain of each), which the caller declares with exactly that
 * size (BLOCK): the loops over r and q unroll completely, and an array no
 * larger than its use is what lets the compiler keep every accumulator in
 * a register (a larger one left one in memory, on the critical path of a
 * step of one sequence). */
#define ACC(r, q, c) acc[((r) * NP + (q)) * 2 + (c)]
ALWAYS_INLINE void block(const elman_gemm_args *g, int i0, const int MR, int p, const int NP,
                         __m512 *acc)
{
    const float *a[6];
UNROLL(6)
    for (int r = 0; r < MR; r++) {
        a[r] = g->a[i0 + r];
UNROLL(8)
        for (int q = 0; q < NP; q++) {
            ACC(r, q, 0) = _mm512_setzero_ps();
            ACC(r, q, 1) = _mm512_setzero_ps();
        }
    }
    /* the projection rows were written a whole layer earlier: ask for them
     * while the loop runs (as the AVX2 kernel does) */
    if (g->add != NULL)
UNROLL(6)
        for (int r = 0; r < MR; r++)
UNROLL(8)
            for (int q = 0; q < NP; q++)
                _mm_prefetch((const char *)(g->add[i0 + r] + (p + q) * ELMAN_PANEL),
                             _MM_HINT_T0);
    const size_t K = (size_t)g->K;
    const size_t stride = ELMAN_W_PSTRIDE(g), ks = ELMAN_W_KSTRIDE(g);
    const float *w = g->w + (size_t)p * stride;
    size_t k = 0;
    for (; k + 2 <= K; k += 2) {
UNROLL(6)
        for (int r = 0; r < MR; r++) {
            const __m512 a0 = _mm512_set1_ps(a[r][k]), a1 = _mm512_set1_ps(a[r][k + 1]);
UNROLL(8)
            for (int q = 0; q < NP; q++) {
                const float *wq = w + q * stride + k * ks;
                ACC(r, q, 0) = _mm512_fmadd_ps(a0, _mm512_loadu_ps(wq), ACC(r, q, 0));
                ACC(r, q, 1) = _mm512_fmadd_ps(a1, _mm512_loadu_ps(wq + ks), ACC(r, q, 1));
            }
        }
    }
    if (k < K)
UNROLL(6)
        for (int r = 0; r < MR; r++) {
            const __m512 a0 = _mm512_set1_ps(a[r][k]);
UNROLL(8)
            for (int q = 0; q < NP; q++)
                ACC(r, q, 0) = _mm512_fmadd_ps(
                    a0, _mm512_loadu_ps(w + q * stride + k * ks), ACC(r, q, 0));
        }
    /* tanh, relu or none: the sums go from registers to the epilogue,
     * unrolled. */
    if (vector_activation(g->act)) {
UNROLL(6)
        for (int r = 0; r < MR; r++)
UNROLL(8)
            for (int q = 0; q < NP; q++)
                finish16(g, i0 + r, p + q, _mm512_add_ps(ACC(r, q, 0), ACC(r, q, 1)), 1);
        return;
    }
    /* The other activations: the sums go through memory to the epilogue.
     * The scalar activations are calls, which clobber every vector
     * register, and with the accumulators live across them the compiler
     * kept one in memory inside the k loop. */
    __m512 sum[6 * 8];
UNROLL(6)
    for (int r = 0; r < MR; r++)
UNROLL(8)
        for (int q = 0; q < NP; q++)
            sum[r * NP + q] = _mm512_add_ps(ACC(r, q, 0), ACC(r, q, 1));
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < NP; q++)
            finish16(g, i0 + r, p + q, sum[r * NP + q], 0);
}
#undef ACC

#define BLOCK(g, i0, MR, p, NP)                                                                \
    do {                                                                                       \
        __m512 acc_[2 * (MR) * (NP)];                                                          \
        block(g, i0, MR, p, NP, acc_);                                                         \
    } while (0)

/* One row, up to 8 panels at once: 16 chains, enough to hide the FMA
 * latency. */
static void rows1(const elman_gemm_args *g, int i)
{
    int p = g->panel_begin;
    const int p_end = g->panel_end;
    for (; p + 8 <= p_end; p += 8)
        BLOCK(g, i, 1, p, 8);
    switch (p_end - p) {
    case 7: BLOCK(g, i, 1, p, 7); break;
    case 6: BLOCK(g, i, 1, p, 6); break;
    case 5: BLOCK(g, i, 1, p, 5); break;
    case 4: BLOCK(g, i, 1, p, 4); break;
    case 3: BLOCK(g, i, 1, p, 3); break;
    case 2: BLOCK(g, i, 1, p, 2); break;
    case 1: BLOCK(g, i, 1, p, 1); break;
    default: break;
    }
}

/* mr rows from i0 against np (1 or 2) panels from p. */
static void tile(const elman_gemm_args *g, int i0, int mr, int p, int np)
{
    if (np == 2) {
        switch (mr) {
        case 6: BLOCK(g, i0, 6, p, 2); break;
        case 5: BLOCK(g, i0, 5, p, 2); break;
        case 4: BLOCK(g, i0, 4, p, 2); break;
        case 3: BLOCK(g, i0, 3, p, 2); break;
        case 2: BLOCK(g, i0, 2, p, 2); break;
        default: BLOCK(g, i0, 1, p, 2); break;
        }
        return;
    }
    switch (mr) {
    case 6: BLOCK(g, i0, 6, p, 1); break;
    case 5: BLOCK(g, i0, 5, p, 1); break;
    case 4: BLOCK(g, i0, 4, p, 1); break;
    case 3: BLOCK(g, i0, 3, p, 1); break;
    case 2: BLOCK(g, i0, 2, p, 1); break;
    default: BLOCK(g, i0, 1, p, 1); break;
    }
}

/* Rows of the next tile when r rows remain: 6 where that leaves no tile of
 * 1 to 3 rows, else 4. */
static int next_tile(int r)
{
    if (r <= 6)
        return r;
    return r % 6 == 0 || r % 6 >= 4 ? 6 : 4;
}

/* Bytes of W that a group of panels may take (gemm_avx512): a quarter of
 * the smallest L2 of the processors with AVX-512 that this was measured
 * on (1 MiB). */
#define W_GROUP_BYTES ((size_t)256 * 1024)

static void gemm_avx512(const elman_gemm_args *g)
{
    const int n = g->n_rows;
    if (n == 1) {
        rows1(g, 0);
        return;
    }
    /* Groups of panels whose W (K x 16 floats a panel) fits in
     * W_GROUP_BYTES, which stay in L2 while every tile of rows passes over
     * them, two panels at a time: a tile's rows stay in L1 across the
     * group. On a Zen 4 this ran the steps of `batch` 3-6% faster than two
     * panels outer and rows inner (whose rows and panels overflowed L1),
     * alternating in one process; `large` was no slower. */
    const size_t fit = W_GROUP_BYTES / ((size_t)g->K * ELMAN_PANEL * sizeof(float));
    const int group = fit > 2 ? (int)fit & ~1 : 2;
    for (int p0 = g->panel_begin; p0 < g->panel_end; p0 += group) {
        const int p1 = g->panel_end - p0 > group ? p0 + group : g->panel_end;
        for (int i = 0; i < n;) {
            const int mr = next_tile(n - i);
            for (int p = p0; p < p1; p += 2)
                tile(g, i, mr, p, p1 - p >= 2 ? 2 : 1);
            i += mr;
        }
    }
}

/* ---- float64 ----
 *
 * A panel is two ZMM registers of 8 doubles. The sums are computed as for
 * float (two chains, even and odd k, added at the end); the epilogue is
 * the portable kernel's, element by element (add, bias, then
 * elman_activate_d: the C library's tanh), so only the sums differ from
 * the portable path. The same operations for every row count, row order,
 * panel range and thread count, as for float. */

/* MR rows from i0, NP panels from p: 8*MR*NP accumulators (row, panel,
 * half of the panel, chain), declared by the caller with exactly that
 * size (BLOCK_F64), as for float. */
#define ACC(r, q, v, c) acc[(((r) * NP + (q)) * 2 + (v)) * 2 + (c)]
ALWAYS_INLINE void block_f64(const elman_gemm_args_f64 *g, int i0, const int MR, int p,
                             const int NP, __m512d *acc)
{
    const double *a[6];
UNROLL(6)
    for (int r = 0; r < MR; r++) {
        a[r] = g->a[i0 + r];
UNROLL(3)
        for (int q = 0; q < NP; q++)
UNROLL(2)
            for (int v = 0; v < 2; v++) {
                ACC(r, q, v, 0) = _mm512_setzero_pd();
                ACC(r, q, v, 1) = _mm512_setzero_pd();
            }
    }
    const size_t K = (size_t)g->K;
    const size_t stride = ELMAN_W_PSTRIDE(g), ks = ELMAN_W_KSTRIDE(g);
    const double *w = g->w + (size_t)p * stride;
    size_t k = 0;
    for (; k + 2 <= K; k += 2) {
UNROLL(6)
        for (int r = 0; r < MR; r++) {
            const __m512d a0 = _mm512_set1_pd(a[r][k]), a1 = _mm512_set1_pd(a[r][k + 1]);
UNROLL(3)
            for (int q = 0; q < NP; q++)
UNROLL(2)
                for (int v = 0; v < 2; v++) {
                    const double *wq = w + q * stride + k * ks + v * 8;
                    ACC(r, q, v, 0) = _mm512_fmadd_pd(a0, _mm512_loadu_pd(wq), ACC(r, q, v, 0));
                    ACC(r, q, v, 1) =
                        _mm512_fmadd_pd(a1, _mm512_loadu_pd(wq + ks), ACC(r, q, v, 1));
                }
        }
    }
    if (k < K)
UNROLL(6)
        for (int r = 0; r < MR; r++) {
            const __m512d a0 = _mm512_set1_pd(a[r][k]);
UNROLL(3)
            for (int q = 0; q < NP; q++)
UNROLL(2)
                for (int v = 0; v < 2; v++)
                    ACC(r, q, v, 0) = _mm512_fmadd_pd(
                        a0, _mm512_loadu_pd(w + q * stride + k * ks + v * 8), ACC(r, q, v, 0));
        }
    /* through memory to the epilogue, whose activation is a call */
    double sum[6 * 3][ELMAN_PANEL];
UNROLL(6)
    for (int r = 0; r < MR; r++)
UNROLL(3)
        for (int q = 0; q < NP; q++)
UNROLL(2)
            for (int v = 0; v < 2; v++)
                _mm512_storeu_pd(sum[r * NP + q] + v * 8,
                                 _mm512_add_pd(ACC(r, q, v, 0), ACC(r, q, v, 1)));
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < NP; q++)
            elman_finish_panel_f64(g, i0 + r, p + q, sum[r * NP + q]);
}
#undef ACC

#define BLOCK_F64(g, i0, MR, p, NP)                                                            \
    do {                                                                                       \
        __m512d acc_[8 * (MR) * (NP)];                                                         \
        block_f64(g, i0, MR, p, NP, acc_);                                                     \
    } while (0)

/* One row, up to 3 panels at once (24 chains). */
static void rows1_f64(const elman_gemm_args_f64 *g, int i)
{
    int p = g->panel_begin;
    const int p_end = g->panel_end;
    for (; p + 3 <= p_end; p += 3)
        BLOCK_F64(g, i, 1, p, 3);
    if (p_end - p == 2)
        BLOCK_F64(g, i, 1, p, 2);
    else if (p_end - p == 1)
        BLOCK_F64(g, i, 1, p, 1);
}

/* mr rows from i0 against panel p. */
static void tile_f64(const elman_gemm_args_f64 *g, int i0, int mr, int p)
{
    switch (mr) {
    case 6: BLOCK_F64(g, i0, 6, p, 1); break;
    case 5: BLOCK_F64(g, i0, 5, p, 1); break;
    case 4: BLOCK_F64(g, i0, 4, p, 1); break;
    case 3: BLOCK_F64(g, i0, 3, p, 1); break;
    case 2: BLOCK_F64(g, i0, 2, p, 1); break;
    default: BLOCK_F64(g, i0, 1, p, 1); break;
    }
}

static void gemm_avx512_f64(const elman_gemm_args_f64 *g)
{
    const int n = g->n_rows;
    if (n == 1) {
        rows1_f64(g, 0);
        return;
    }
    /* a panel outer (K x 16 doubles, in cache), rows inner */
    for (int p = g->panel_begin; p < g->panel_end; p++)
        for (int i = 0; i < n;) {
            const int mr = next_tile(n - i);
            tile_f64(g, i, mr, p);
            i += mr;
        }
}

const elman_kernels elman_kernels_avx512 = {"avx512", gemm_avx512, gemm_avx512_f64,
                                             tanh_avx512};

#endif /* ELMAN_HAVE_KERNELS_AVX512 */
