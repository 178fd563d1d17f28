/* One kernel path, named on the command line (ctest registers one test per
 * path of the registry: test_kernel_<path>): its tanh against double
 * precision (and bitwise the AVX2 path's, for the other vector paths),
 * its GEMM against the portable path and a double-precision
 * sum, its float64 GEMM against the portable one, both GEMMs' rows
 * independent of the rows and panels computed with them, and its selection by default and by ELMAN_KERNELS. A path this CPU
 * cannot run is reported as skipped (exit 77, which ctest shows as
 * Skipped); a path CMake built that the registry does not list fails. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "cmocka_wrap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels/kernel.h"
#include "tanh_coeffs.h"
#include "testutil.h"

enum { EXIT_SKIP = 77 };

static const char *g_name;          /* the path under test */
static const elman_kernels *g_path; /* its kernels */

/* The measured maximum (tanh_coeffs.h) and a margin of about 1% for the
 * last bit of the double-precision reference. */
static const double TANH_BOUND = ELMAN_TANH_MAX_ERROR + 1e-9;

/* Largest |tanh_path(x) - tanh(x)| over the n values of x. */
static double tanh_max_error(const float *x, float *v, size_t n, float *where)
{
    memcpy(v, x, n * sizeof(float));
    g_path->tanh(v, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs((double)v[i] - tanh((double)x[i]));
        if (!(e <= worst)) { /* NaN counts as the worst */
            worst = e;
            *where = x[i];
        }
    }
    return worst;
}

/* The bound over a dense sweep of [-12, 12] and over every float of
 * [0.5, 1] (where the maximum lies, across the switch of formulas). */
static void test_tanh_bound(void **state)
{
    (void)state;
    enum { N = 1 << 20 };
    float *v = malloc(N * sizeof(float)), *x = malloc(N * sizeof(float));
    assert_non_null(v);
    assert_non_null(x);
    for (int i = 0; i < N; i++) /* -12 .. 12, denser near 0 */
        x[i] = (float)(12.0 * pow((double)i / N, 2.0) * (i % 2 ? -1 : 1));
    float where = 0;
    double worst = tanh_max_error(x, v, N, &where);
    printf("%s tanh: max abs error %.4g at x = %.9g (dense sweep)\n", g_name, worst,
           (double)where);
    assert_true(worst <= TANH_BOUND);

    uint32_t bits, end;
    const float lo = 0.5f, hi = 1.0f;
    memcpy(&bits, &lo, sizeof(bits));
    memcpy(&end, &hi, sizeof(end));
    double every = 0;
    while (bits <= end) {
        size_t n = 0;
        for (; n < N && bits <= end; n++, bits++)
            memcpy(&x[n], &bits, sizeof(float));
        float w = 0;
        const double e = tanh_max_error(x, v, n, &w);
        if (e > every) {
            every = e;
            where = w;
        }
    }
    printf("%s tanh: max abs error %.4g at x = %.9g (every float of [0.5, 1])\n", g_name,
           every, (double)where);
    assert_true(every <= TANH_BOUND);
    free(v);
    free(x);
}

/* Special values exact, odd symmetry exact. */
static void test_tanh_special(void **state)
{
    (void)state;
    float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 100.0f, -100.0f,
                  0.625f, -0.625f, 9.0f, 1e-45f};
    const size_t ns = sizeof(sp) / sizeof(sp[0]);
    float out[sizeof(sp) / sizeof(sp[0])];
    memcpy(out, sp, sizeof(sp));
    g_path->tanh(out, ns);
    assert_true(out[0] == 0.0f && !signbit(out[0]));
    assert_true(out[1] == 0.0f && signbit(out[1]));
    assert_true(out[2] == 1.0f);
    assert_true(out[3] == -1.0f);
    assert_true(isnan(out[4]));
    assert_true(out[5] == 1e-30f && out[6] == -1e-30f);
    assert_true(out[7] == 1.0f && out[8] == -1.0f);
    for (size_t i = 9; i < ns; i++)
        assert_true(fabs((double)out[i] - tanh((double)sp[i])) <= TANH_BOUND);
    float pair[2] = {0.3f, -0.3f};
    g_path->tanh(pair, 2);
    assert_true(pair[0] == -pair[1]);
}

/* Compares the tanh of the path under test with ref's, bit for bit, on
 * the floats whose bit patterns are first, first + step, ... below end;
 * returns how many. */
static uint64_t tanh_same_bits_over(const elman_kernels *ref, uint64_t first, uint64_t end,
                                    uint64_t step)
{
    enum { N = 1 << 16 };
    static float a[N], b[N];
    uint64_t compared = 0;
    for (uint64_t next = first; next < end;) {
        size_t n = 0;
        for (; n < N && next < end; n++, next += step) {
            const uint32_t bits = (uint32_t)next;
            memcpy(&a[n], &bits, sizeof(float));
        }
        memcpy(b, a, n * sizeof(float));
        g_path->tanh(a, n);
        ref->tanh(b, n);
        for (size_t i = 0; i < n; i++)
            if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
                fail_msg("%s and %s tanh differ: %a and %a", g_name, ref->name, (double)a[i],
                         (double)b[i]);
        compared += n;
    }
    return compared;
}

/* The vector paths' tanh agree bit for bit: each is the AVX2 tanh's
 * operations in the same order (the AVX-512 one with exact replacements,
 * src/kernels/avx512.c). Compared with the AVX2 path where this CPU runs
 * it, over one float in 256 of all 2^32 bit patterns (every exponent,
 * NaN and infinities included) and every float of [0.5, 1]; the portable
 * path (no FMA) is only held to the bound. */
static void test_tanh_same_bits(void **state)
{
    (void)state;
    const elman_kernels *ref = elman_find_kernels("avx2");
    if (g_path == &elman_kernels_portable || ref == NULL || ref == g_path) {
        printf("%s tanh: no other vector path to compare with here\n", g_name);
        return;
    }
    const float lo = 0.5f, hi = 1.0f;
    uint32_t lo_bits, hi_bits;
    memcpy(&lo_bits, &lo, sizeof(lo_bits));
    memcpy(&hi_bits, &hi, sizeof(hi_bits));
    const uint64_t compared = tanh_same_bits_over(ref, 7, UINT64_C(1) << 32, 256) +
                              tanh_same_bits_over(ref, lo_bits, (uint64_t)hi_bits + 1, 1);
    printf("%s tanh: bitwise the avx2 tanh on %llu inputs\n", g_name,
           (unsigned long long)compared);
}

/* out = act(a W^T + add + bias) for rows given in reverse order, through
 * kernels k, into outs (which keeps -777 outside the panels computed);
 * add NULL for none. */
static void run_gemm(const elman_kernels *k, const elman_gemm_args *proto, const float *a,
                     const float *add, float *outs)
{
    const int n = proto->n_rows, K = proto->K, N = proto->N;
    const float **ap = malloc((size_t)n * sizeof(*ap));
    const float **addp = malloc((size_t)n * sizeof(*addp));
    float **outp = malloc((size_t)n * sizeof(*outp));
    assert_true(ap && addp && outp);
    for (int i = 0; i < n * N; i++)
        outs[i] = -777.0f;
    for (int i = 0; i < n; i++) { /* shuffled, as the forward pass passes them */
        const int src = n - 1 - i;
        ap[i] = a + (size_t)src * K;
        addp[i] = add != NULL ? add + (size_t)src * N : NULL;
        outp[i] = outs + (size_t)src * N;
    }
    elman_gemm_args g = *proto;
    g.a = ap;
    g.add = add != NULL ? addp : NULL;
    g.out = outp;
    k->gemm(&g);
    free(ap);
    free(addp);
    free(outp);
}

/* a W^T + add + bias and the activation in double precision. */
static double reference_element(const elman_gemm_args *g, const float *a, const float *w,
                                const float *add, int i, int j)
{
    const int K = g->K, N = g->N;
    double v = 0;
    for (int kk = 0; kk < K; kk++)
        v += (double)a[(size_t)i * K + kk] * w[(size_t)j * K + kk];
    if (add != NULL)
        v += add[(size_t)i * N + j];
    if (g->bias != NULL)
        v += g->bias[j];
    if (g->act->act == ELMAN_TANH)
        return tanh(v);
    if (g->act->act == ELMAN_RELU)
        return v > 0 ? v : 0;
    return v;
}

/* Random GEMM problems: the path agrees with the portable path within the
 * suite's tolerance, and with a double-precision sum. One problem in ten
 * is long and wide (K 600-1500, N 100-300), so that a kernel that blocks
 * W by its bytes (the AVX-512 one: groups of 2 or 4 panels there) works
 * on several blocks of panels, the last one often partial. */
static void test_gemm_against_portable(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 99);
    for (int iter = 0; iter < 300; iter++) {
        const int big = iter % 10 == 9;
        const int n = tu_int(&r, 1, 20);
        const int K = big ? tu_int(&r, 600, 1500) : tu_int(&r, 1, 70);
        const int N = big ? tu_int(&r, 100, 300) : tu_int(&r, 1, 90);
        const int P = elman_num_panels(N);
        const int p0 = tu_int(&r, 0, P - 1), p1 = tu_int(&r, p0 + 1, P);
        const elman_act act = {tu_int(&r, -1, 1), 0, 0, 0}; /* none, tanh, relu */
        const int use_add = tu_int(&r, 0, 1), use_bias = tu_int(&r, 0, 1);
        float *a = tu_random(&r, (size_t)n * K, 1.0f);
        float *w = tu_random(&r, (size_t)N * K, 0.5f);
        float *add = tu_random(&r, (size_t)n * N, 1.0f);
        float *bias = tu_random(&r, (size_t)N, 1.0f);
        float *packed = malloc(elman_packed_size(N, K) * sizeof(float));
        float *got = malloc((size_t)n * N * sizeof(float));
        float *ref = malloc((size_t)n * N * sizeof(float));
        assert_true(packed && got && ref);
        elman_pack_panels(packed, w, N, K);
        /* a, add and out are run_gemm's */
        const elman_gemm_args g = {n, K, N, p0, p1, NULL, packed, NULL, use_bias ? bias : NULL,
                                   NULL, &act, 0, 0};
        const float *addv = use_add ? add : NULL;
        run_gemm(g_path, &g, a, addv, got);
        run_gemm(&elman_kernels_portable, &g, a, addv, ref);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < N; j++) {
                const size_t e = (size_t)i * N + j;
                if (j < p0 * ELMAN_PANEL || j >= p1 * ELMAN_PANEL) {
                    assert_true(got[e] == -777.0f);
                    continue;
                }
                const double v = reference_element(&g, a, w, addv, i, j);
                if (tu_compare(g_name, &got[e], &v, 1) >= 0 ||
                    tu_compare_f("vs portable", &got[e], &ref[e], 1) >= 0)
                    fail_msg("path %s, n=%d K=%d N=%d row %d col %d", g_name, n, K, N, i, j);
            }
        free(a);
        free(w);
        free(add);
        free(bias);
        free(packed);
        free(got);
        free(ref);
    }
}

/* A row's result does not depend on how many rows are computed with it or
 * where: the basis of the bitwise guarantees of the forward pass. */
static void test_gemm_row_independence(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 5);
    enum { K = 37, N = 70, NR = 13 };
    float *a = tu_random(&r, (size_t)NR * K, 1.0f), *w = tu_random(&r, (size_t)N * K, 0.5f);
    float *bias = tu_random(&r, N, 1.0f), *add = tu_random(&r, (size_t)NR * N, 1.0f);
    float *packed = malloc(elman_packed_size(N, K) * sizeof(float));
    float all[NR * N], one[N];
    assert_non_null(packed);
    elman_pack_panels(packed, w, N, K);
    const float *ap[NR], *addp[NR];
    float *outp[NR];
    for (int i = 0; i < NR; i++) {
        ap[i] = a + (size_t)i * K;
        addp[i] = add + (size_t)i * N;
        outp[i] = all + (size_t)i * N;
    }
    const elman_act tanh_act = {ELMAN_TANH, 0, 0, 0};
    elman_gemm_args g = {NR, K, N, 0, elman_num_panels(N), ap, packed, addp, bias, outp,
                         &tanh_act, 0, 0};
    g_path->gemm(&g);
    for (int i = 0; i < NR; i++) {
        float *o = one;
        elman_gemm_args g1 = {1,    K, N, 0, elman_num_panels(N), ap + i, packed, addp + i,
                              bias, &o, &tanh_act, 0, 0};
        g_path->gemm(&g1);
        assert_memory_equal(one, all + (size_t)i * N, sizeof(one));
        for (int pp = 0; pp < elman_num_panels(N); pp++) { /* and panel by panel */
            elman_gemm_args gp = g1;
            gp.panel_begin = pp;
            gp.panel_end = pp + 1;
            g_path->gemm(&gp);
        }
        assert_memory_equal(one, all + (size_t)i * N, sizeof(one));
    }
    free(a);
    free(w);
    free(bias);
    free(add);
    free(packed);
}

/* n*K doubles of tu_random's floats (so the values are exact in float
 * too). */
static double *random_f64(tu_rng *r, size_t n, float bound)
{
    float *f = tu_random(r, n, bound);
    double *d = malloc(n * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = f[i];
    free(f);
    return d;
}

/* The float64 GEMM on random problems (strides of the packed and of the
 * BLAS layout, every activation kind the kernels treat apart): within
 * 1e-13 * (1 + |v|) of the portable path's, whose sums run in another
 * order; the columns outside the panel range untouched. */
static void test_gemm_f64_against_portable(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 64);
    for (int iter = 0; iter < 300; iter++) {
        const int n = tu_int(&r, 1, 20), K = tu_int(&r, 1, 70), N = tu_int(&r, 1, 90);
        const int P = elman_num_panels(N);
        const int p0 = tu_int(&r, 0, P - 1), p1 = tu_int(&r, p0 + 1, P);
        const elman_act act = {tu_int(&r, -1, 1), 0, 0, 0}; /* none, tanh, relu */
        const int use_add = tu_int(&r, 0, 1), use_bias = tu_int(&r, 0, 1);
        const int blas_layout = tu_int(&r, 0, 1);
        double *a = random_f64(&r, (size_t)n * K, 1.0f), *w = random_f64(&r, (size_t)N * K, 0.5f);
        double *add = random_f64(&r, (size_t)n * N, 1.0f), *bias = random_f64(&r, (size_t)N, 1.0f);
        /* packed panels, or W^T row-major with ld = P * 16 (the BLAS layout) */
        const size_t ld = (size_t)P * ELMAN_PANEL;
        double *wl = calloc(elman_packed_size(N, K) > ld * K ? elman_packed_size(N, K) : ld * K,
                            sizeof(double));
        double *got = malloc((size_t)n * N * sizeof(double));
        double *ref = malloc((size_t)n * N * sizeof(double));
        const double **ap = malloc((size_t)n * sizeof(*ap)), **addp = malloc((size_t)n * sizeof(*addp));
        double **gp = malloc((size_t)n * sizeof(*gp)), **rp = malloc((size_t)n * sizeof(*rp));
        assert_true(wl && got && ref && ap && addp && gp && rp);
        if (blas_layout) {
            for (int k = 0; k < K; k++)
                for (int j = 0; j < N; j++)
                    wl[(size_t)k * ld + j] = w[(size_t)j * K + k];
        } else {
            elman_pack_panels_f64(wl, w, N, K);
        }
        for (int i = 0; i < n * N; i++)
            got[i] = ref[i] = -777.0;
        for (int i = 0; i < n; i++) { /* shuffled, as the forward pass passes them */
            const int src = n - 1 - i;
            ap[i] = a + (size_t)src * K;
            addp[i] = add + (size_t)src * N;
            gp[i] = got + (size_t)src * N;
            rp[i] = ref + (size_t)src * N;
        }
        elman_gemm_args_f64 g = {n, K, N, p0, p1, ap, wl, use_add ? addp : NULL,
                                 use_bias ? bias : NULL, gp, &act,
                                 blas_layout ? ELMAN_PANEL : 0, blas_layout ? ld : 0};
        g_path->gemm_f64(&g);
        g.out = rp;
        elman_kernels_portable.gemm_f64(&g);
        for (int e = 0; e < n * N; e++) {
            const int j = e % N;
            if (j < p0 * ELMAN_PANEL || j >= p1 * ELMAN_PANEL) {
                assert_true(got[e] == -777.0);
                continue;
            }
            if (!(fabs(got[e] - ref[e]) <= 1e-13 * (1 + fabs(ref[e]))))
                fail_msg("path %s, float64, n=%d K=%d N=%d element %d: %.17g, portable %.17g",
                         g_name, n, K, N, e, got[e], ref[e]);
        }
        free(a);
        free(w);
        free(add);
        free(bias);
        free(wl);
        free(got);
        free(ref);
        free(ap);
        free(addp);
        free(gp);
        free(rp);
    }
}

/* docs/PERFORMANCE.md ("float64"): the AVX2 and AVX-512 paths have float64
 * kernels of their own, not the portable one. */
static void test_gemm_f64_own_kernel(void **state)
{
    (void)state;
    if (strcmp(g_name, "avx2") != 0 && strcmp(g_name, "avx512") != 0)
        skip();
    assert_true(g_path->gemm_f64 != elman_kernels_portable.gemm_f64);
}

/* float64: a row's bits do not depend on the rows computed with it or on
 * the panel range, as for float. */
static void test_gemm_f64_row_independence(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 6);
    enum { K = 37, N = 70, NR = 13 };
    double *a = random_f64(&r, (size_t)NR * K, 1.0f), *w = random_f64(&r, (size_t)N * K, 0.5f);
    double *bias = random_f64(&r, N, 1.0f), *add = random_f64(&r, (size_t)NR * N, 1.0f);
    double *packed = malloc(elman_packed_size(N, K) * sizeof(double));
    double all[NR * N], one[N];
    assert_non_null(packed);
    elman_pack_panels_f64(packed, w, N, K);
    const double *ap[NR], *addp[NR];
    double *outp[NR];
    for (int i = 0; i < NR; i++) {
        ap[i] = a + (size_t)i * K;
        addp[i] = add + (size_t)i * N;
        outp[i] = all + (size_t)i * N;
    }
    const elman_act tanh_act = {ELMAN_TANH, 0, 0, 0};
    for (int n = 1; n <= NR; n++) { /* the first n rows at once */
        elman_gemm_args_f64 g = {n, K, N, 0, elman_num_panels(N), ap, packed, addp, bias, outp,
                                 &tanh_act, 0, 0};
        g_path->gemm_f64(&g);
        for (int i = 0; i < n; i++) {
            double *o = one;
            elman_gemm_args_f64 g1 = {1, K, N, 0, elman_num_panels(N), ap + i, packed,
                                      addp + i, bias, &o, &tanh_act, 0, 0};
            g_path->gemm_f64(&g1);
            assert_memory_equal(one, all + (size_t)i * N, sizeof(one));
            memset(one, 0, sizeof(one));
            for (int pp = 0; pp < elman_num_panels(N); pp++) { /* and panel by panel */
                elman_gemm_args_f64 gp = g1;
                gp.panel_begin = pp;
                gp.panel_end = pp + 1;
                g_path->gemm_f64(&gp);
            }
            assert_memory_equal(one, all + (size_t)i * N, sizeof(one));
        }
    }
    free(a);
    free(w);
    free(bias);
    free(add);
    free(packed);
}

/* The kernels a new model picks up with ELMAN_KERNELS set to name (NULL:
 * unset). */
static const elman_kernels *model_kernels(const char *name)
{
    if (name != NULL)
        assert_int_equal(setenv("ELMAN_KERNELS", name, 1), 0);
    else
        assert_int_equal(unsetenv("ELMAN_KERNELS"), 0);
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 2;
    cfg.hidden_size = 3;
    elman_rnn *rnn;
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
    const elman_kernels *k = rnn->kernels;
    assert_ptr_equal(k, elman_select_kernels());
    elman_rnn_free(rnn);
    return k;
}

/* The default is the best path this CPU runs (the first runnable row of
 * the registry, and on a CPU with AVX2 and FMA not the portable one);
 * ELMAN_KERNELS selects the path under test; an unknown name, or a path
 * built but not runnable here, falls back to the default. */
static void test_selection(void **state)
{
    (void)state;
    int count;
    const elman_kernel_path *paths = elman_kernel_paths(&count);
    assert_true(count >= 1);
    assert_string_equal(paths[count - 1].name, "portable");
    const elman_kernels *best = NULL;
    for (int i = 0; i < count && best == NULL; i++)
        if (paths[i].supported())
            best = paths[i].kernels;
    const elman_kernels *def = model_kernels(NULL);
    printf("kernel paths built: %d; default here: %s\n", count, def->name);
    assert_ptr_equal(def, best);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        elman_find_kernels("avx2") != NULL)
        assert_string_not_equal(def->name, "portable");
#endif
    assert_ptr_equal(model_kernels(g_name), g_path);
    assert_ptr_equal(elman_find_kernels(g_name), g_path);
    assert_string_equal(g_path->name, g_name);
    assert_ptr_equal(model_kernels("no-such-kernel"), def);
    assert_ptr_equal(model_kernels(""), def);
    for (int i = 0; i < count; i++)
        if (!paths[i].supported()) {
            assert_null(elman_find_kernels(paths[i].name));
            assert_ptr_equal(model_kernels(paths[i].name), def);
        }
    assert_null(elman_find_kernels(NULL));
    assert_null(elman_find_kernels("no-such-kernel"));
    assert_int_equal(unsetenv("ELMAN_KERNELS"), 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_kernel <kernel path>\n");
        return 2;
    }
    g_name = argv[1];
    int count;
    const elman_kernel_path *paths = elman_kernel_paths(&count);
    const elman_kernel_path *row = NULL;
    for (int i = 0; i < count; i++)
        if (strcmp(paths[i].name, g_name) == 0)
            row = &paths[i];
    if (row == NULL) {
        fprintf(stderr, "kernel path %s: built, but src/kernels/registry.c has no row for it\n",
                g_name);
        return 1;
    }
    if (!row->supported()) {
        printf("kernel path %s: this CPU cannot run it: skipped\n", g_name);
        return EXIT_SKIP;
    }
    g_path = row->kernels;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_tanh_bound),
        cmocka_unit_test(test_tanh_special),
        cmocka_unit_test(test_tanh_same_bits),
        cmocka_unit_test(test_gemm_against_portable),
        cmocka_unit_test(test_gemm_row_independence),
        cmocka_unit_test(test_gemm_f64_against_portable),
        cmocka_unit_test(test_gemm_f64_row_independence),
        cmocka_unit_test(test_gemm_f64_own_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
