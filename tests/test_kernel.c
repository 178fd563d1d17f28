/* Kernels: every path this CPU can run against the portable one, and the
 * tanh approximation against double precision. */
#include "cmocka_wrap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "testutil.h"

static const char *const PATHS[] = {"portable", "avx2", "avx512"};
#define NPATHS (sizeof(PATHS) / sizeof(PATHS[0]))

/* |tanh_approx(x) - tanh(x)| <= 2e-7 over a dense sweep, special values
 * exact, odd symmetry exact. */
static void check_tanh(const elman_kernels *k)
{
    enum { N = 1 << 20 };
    float *v = malloc(N * sizeof(float)), *x = malloc(N * sizeof(float));
    assert_non_null(v);
    assert_non_null(x);
    for (int i = 0; i < N; i++) /* -12 .. 12, denser near 0 */
        x[i] = (float)(12.0 * pow((double)i / N, 2.0) * (i % 2 ? -1 : 1));
    memcpy(v, x, N * sizeof(float));
    k->tanh(v, N);
    double worst = 0;
    float worst_x = 0;
    for (int i = 0; i < N; i++) {
        double e = fabs((double)v[i] - tanh((double)x[i]));
        if (e > worst) {
            worst = e;
            worst_x = x[i];
        }
    }
    printf("%s tanh: max abs error %.3g at x = %.9g\n", k->name, worst, (double)worst_x);
    assert_true(worst <= 2e-7);

    float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 100.0f, -100.0f,
                  0.625f, -0.625f, 9.0f, 1e-45f};
    const size_t ns = sizeof(sp) / sizeof(sp[0]);
    float out[sizeof(sp) / sizeof(sp[0])];
    memcpy(out, sp, sizeof(sp));
    k->tanh(out, ns);
    assert_true(out[0] == 0.0f && !signbit(out[0]));
    assert_true(out[1] == 0.0f && signbit(out[1]));
    assert_true(out[2] == 1.0f);
    assert_true(out[3] == -1.0f);
    assert_true(isnan(out[4]));
    assert_true(out[5] == 1e-30f && out[6] == -1e-30f);
    assert_true(out[7] == 1.0f && out[8] == -1.0f);
    for (size_t i = 9; i < ns; i++)
        assert_true(fabs((double)out[i] - tanh((double)sp[i])) <= 2e-7);
    free(v);
    free(x);
}

static void test_tanh_every_path(void **state)
{
    (void)state;
    for (size_t p = 0; p < NPATHS; p++) {
        const elman_kernels *k = elman_find_kernels(PATHS[p]);
        if (k == NULL) {
            printf("kernel path %s: not runnable on this CPU, skipped\n", PATHS[p]);
            continue;
        }
        check_tanh(k);
    }
    /* the scalar function the portable path uses agrees with itself */
    assert_true(elman_tanh_portable(0.3f) == -elman_tanh_portable(-0.3f));
}

/* Random GEMM problems through every path: each agrees with the portable
 * path within the suite's tolerance, and with a double-precision sum. */
static void test_gemm_every_path(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 99);
    for (int iter = 0; iter < 300; iter++) {
        const int n = tu_int(&r, 1, 20), K = tu_int(&r, 1, 70), N = tu_int(&r, 1, 90);
        const int P = elman_num_panels(N);
        const int p0 = tu_int(&r, 0, P - 1), p1 = tu_int(&r, p0 + 1, P);
        const elman_act act = {tu_int(&r, -1, 1), 0, 0, 0}; /* none, tanh, relu */
        const int use_add = tu_int(&r, 0, 1), use_bias = tu_int(&r, 0, 1);
        float *a = tu_random(&r, (size_t)n * K, 1.0f);
        float *w = tu_random(&r, (size_t)N * K, 0.5f);
        float *add = tu_random(&r, (size_t)n * N, 1.0f);
        float *bias = tu_random(&r, (size_t)N, 1.0f);
        float *packed = malloc(elman_packed_size(N, K) * sizeof(float));
        assert_non_null(packed);
        elman_pack_panels(packed, w, N, K);
        /* rows in a shuffled order, as the forward pass passes them */
        const float **ap = malloc((size_t)n * sizeof(*ap));
        const float **addp = malloc((size_t)n * sizeof(*addp));
        float **outp = malloc((size_t)n * sizeof(*outp));
        float *outs[NPATHS];
        assert_true(ap && addp && outp);
        for (size_t p = 0; p < NPATHS; p++) {
            outs[p] = malloc((size_t)n * N * sizeof(float));
            assert_non_null(outs[p]);
            for (int i = 0; i < n * N; i++)
                outs[p][i] = -777.0f; /* columns outside [p0, p1) stay */
        }
        for (size_t p = 0; p < NPATHS; p++) {
            const elman_kernels *k = elman_find_kernels(PATHS[p]);
            if (k == NULL)
                continue;
            for (int i = 0; i < n; i++) {
                const int src = n - 1 - i;
                ap[i] = a + (size_t)src * K;
                addp[i] = add + (size_t)src * N;
                outp[i] = outs[p] + (size_t)src * N;
            }
            elman_gemm_args g = {n, K, N, p0, p1, ap, packed, use_add ? addp : NULL,
                                 use_bias ? bias : NULL, outp, &act};
            k->gemm(&g);
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < N; j++) {
                const int inside = j >= p0 * ELMAN_PANEL && j < p1 * ELMAN_PANEL;
                double v = 0;
                for (int kk = 0; kk < K; kk++)
                    v += (double)a[(size_t)i * K + kk] * w[(size_t)j * K + kk];
                if (use_add)
                    v += add[(size_t)i * N + j];
                if (use_bias)
                    v += bias[j];
                if (act.act == ELMAN_TANH)
                    v = tanh(v);
                else if (act.act == ELMAN_RELU)
                    v = v > 0 ? v : 0;
                for (size_t p = 0; p < NPATHS; p++) {
                    if (elman_find_kernels(PATHS[p]) == NULL)
                        continue;
                    const float got = outs[p][(size_t)i * N + j];
                    if (!inside) {
                        assert_true(got == -777.0f);
                        continue;
                    }
                    if (tu_compare(PATHS[p], &got, &v, 1) >= 0)
                        fail_msg("path %s, n=%d K=%d N=%d row %d col %d", PATHS[p], n, K, N, i,
                                 j);
                    if (p > 0 && tu_compare_f("vs portable", &got, &outs[0][(size_t)i * N + j],
                                              1) >= 0)
                        fail();
                }
            }
        for (size_t p = 0; p < NPATHS; p++)
            free(outs[p]);
        free(a);
        free(w);
        free(add);
        free(bias);
        free(packed);
        free(ap);
        free(addp);
        free(outp);
    }
}

/* A row's result does not depend on how many rows are computed with it or
 * where: the basis of the bitwise guarantees of the forward pass. */
static void test_gemm_row_independence(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 5);
    const int K = 37, N = 70, n = 13;
    float *a = tu_random(&r, (size_t)n * K, 1.0f), *w = tu_random(&r, (size_t)N * K, 0.5f);
    float *bias = tu_random(&r, N, 1.0f), *add = tu_random(&r, (size_t)n * N, 1.0f);
    float *packed = malloc(elman_packed_size(N, K) * sizeof(float));
    float all[13 * 70], one[70];
    assert_non_null(packed);
    elman_pack_panels(packed, w, N, K);
    for (size_t p = 0; p < NPATHS; p++) {
        const elman_kernels *k = elman_find_kernels(PATHS[p]);
        if (k == NULL)
            continue;
        const float *ap[13], *addp[13];
        float *outp[13];
        for (int i = 0; i < n; i++) {
            ap[i] = a + (size_t)i * K;
            addp[i] = add + (size_t)i * N;
            outp[i] = all + (size_t)i * N;
        }
        const elman_act tanh_act = {ELMAN_TANH, 0, 0, 0};
        elman_gemm_args g = {n, K, N, 0, elman_num_panels(N), ap, packed, addp, bias, outp,
                             &tanh_act};
        k->gemm(&g);
        for (int i = 0; i < n; i++) {
            float *o = one;
            elman_gemm_args g1 = {1, K, N, 0, elman_num_panels(N), ap + i, packed, addp + i,
                                  bias, &o, &tanh_act};
            k->gemm(&g1);
            assert_memory_equal(one, all + (size_t)i * N, sizeof(one));
            /* and panel by panel */
            for (int pp = 0; pp < elman_num_panels(N); pp++) {
                elman_gemm_args gp = g1;
                gp.panel_begin = pp;
                gp.panel_end = pp + 1;
                k->gemm(&gp);
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

static void test_selection(void **state)
{
    (void)state;
    assert_non_null(elman_find_kernels("portable"));
    assert_null(elman_find_kernels("no-such-kernel"));
    assert_null(elman_find_kernels(NULL));
    const elman_kernels *k = elman_select_kernels();
    assert_non_null(k);
    printf("selected kernels: %s\n", k->name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_tanh_every_path),
        cmocka_unit_test(test_gemm_every_path),
        cmocka_unit_test(test_gemm_row_independence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
