/* Every path of the forward pass, reached and checked. A white-box test:
 * it links the library's objects and calls elman_forward_with_stats()
 * (src/forward_stats.h), which reports the path each call took, so every
 * case asserts it ran the path it was meant for.
 *
 * - Threads never change the bits: for float32 and float64, with and
 *   without lengths, deterministic or not, one and two layers, one and two
 *   directions, num_threads 1..8 give bitwise the same output and h_n, on
 *   shapes where the input projection goes to BLAS (without lengths, not
 *   deterministic) in several blocks and every stage splits across threads
 *   (the projection's rows, each step's columns).
 * - The matrix: element type x kernels (portable, and the best this CPU
 *   runs) x {BLAS projection, own projection} x {lengths, none} x
 *   {deterministic, default} x threads, each against the double-precision
 *   reference of tests/testutil.c.
 * - The tanh of each kernel path, end to end, within its measured error:
 *   inputs and weights are chosen so that every sum is exact in float,
 *   so the activation is the only error left. */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include "cmocka_wrap.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elman.h"
#include "forward_stats.h"
#include "kernels/kernel.h"
#include "testutil.h"

enum { MAX_NT = 8 };

/* One problem: a model's weights, its input, state and lengths. */
typedef struct problem {
    tu_model m;
    int B, T;
    float *x, *h0;
    int *lengths; /* NULL: every sequence runs T steps */
} problem;

static void problem_make(problem *p, const elman_config *cfg, int B, int T, int with_lengths,
                         uint64_t seed)
{
    tu_rng rng;
    tu_seed(&rng, seed);
    tu_model_random(&p->m, cfg, &rng);
    p->B = B;
    p->T = T;
    p->x = tu_random(&rng, tu_elems_x(cfg, B, T), 1.0f);
    p->h0 = tu_random(&rng, tu_elems_state(cfg, B), 1.0f);
    p->lengths = NULL;
    if (with_lengths) {
        p->lengths = malloc((size_t)B * sizeof(int));
        assert_non_null(p->lengths);
        for (int b = 0; b < B; b++)
            p->lengths[b] = b == B / 2 ? T : tu_int(&rng, 1, T);
    }
}

static void problem_free(problem *p)
{
    tu_model_free(&p->m);
    free(p->x);
    free(p->h0);
    free(p->lengths);
}

static double *widen_all(const float *p, size_t n)
{
    double *d = malloc(n * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = p[i];
    return d;
}

/* Runs p on a model of its configuration with num_threads nt, the given
 * dtype and deterministic flag; out and hn receive elements of that dtype.
 * Returns what path the call took in *st. */
static void run_stats(const problem *p, int dtype, int deterministic, int nt, void *out, void *hn,
                      elman_forward_stats *st)
{
    tu_model m = p->m;
    m.cfg.deterministic = deterministic;
    m.cfg.num_threads = nt;
    const elman_config *cfg = &m.cfg;
    elman_rnn *rnn = dtype == ELMAN_FLOAT32 ? tu_model_build(&m) : tu_model_build_f64(&m, nt);
    const void *x = p->x, *h0 = p->h0;
    double *xd = NULL, *h0d = NULL;
    if (dtype == ELMAN_FLOAT64) {
        x = xd = widen_all(p->x, tu_elems_x(cfg, p->B, p->T));
        h0 = h0d = widen_all(p->h0, tu_elems_state(cfg, p->B));
    }
    assert_int_equal(
        elman_forward_with_stats(rnn, p->B, p->T, x, p->lengths, h0, out, hn, NULL, 0, st),
        ELMAN_OK);
    free(xd);
    free(h0d);
    elman_rnn_free(rnn);
}

static void run(const problem *p, int dtype, int deterministic, int nt, void *out, void *hn)
{
    elman_forward_stats st;
    run_stats(p, dtype, deterministic, nt, out, hn, &st);
}

static size_t count_differences(const void *a, const void *b, size_t n, size_t es)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += memcmp((const char *)a + i * es, (const char *)b + i * es, es) != 0;
    return k;
}

static int blas_split_seen; /* a BLAS projection shared by threads */

/* Whether the kernels called `kernels` send dtype's large projections to
 * the BLAS (a path that projects faster keeps float32 ones). */
static int blas_path(const char *kernels, int dtype)
{
    const elman_kernels *k = elman_find_kernels(kernels);
    return dtype == ELMAN_FLOAT64 || k == NULL || !elman_kernels_project_faster(k);
}

/* The call of p at nt threads split every stage, and took BLAS when it
 * should. */
static void check_split(const problem *p, int dtype, int det, int nt,
                        const elman_forward_stats *st)
{
    const int L = p->m.cfg.num_layers, D = p->m.D;
    assert_int_equal(st->threads, nt);
    assert_true(st->split_steps);
    /* two directions run side by side; one splits from 3 threads on */
    if (D == 1 || nt >= 3)
        assert_true(st->step_threads > L * D);
    else
        assert_int_equal(st->step_threads, L * D);
    if (!det && p->lengths == NULL && blas_path(st->kernels, dtype)) {
        assert_true(st->blas_calls >= L);
        assert_true(st->kernel_rows == 0);
        blas_split_seen |= st->proj_threads > L;
    } else {
        assert_int_equal(st->blas_calls, 0);
        assert_true(st->proj_threads > L);
    }
}

/* Prints the case of check_threads_bitwise that failed, up to its threads. */
static void print_case(const char *name, const problem *p, int dtype, int det, int nt)
{
    printf("%s %s %s %s, %d threads: ", name, dtype == ELMAN_FLOAT32 ? "float32" : "float64",
           det ? "deterministic" : "default", p->lengths ? "lengths" : "no lengths", nt);
}

/* Every num_threads 1..8 against 1, in both dtypes and modes; returns the
 * number of (dtype, mode, nt) runs that were not bitwise those of one
 * thread, after printing each. */
static int check_threads_bitwise(const char *name, const problem *p)
{
    /* under valgrind, which runs one thread at a time: 1, 2, 5 and 8 */
    const int quick = getenv("ELMAN_TEST_QUICK") != NULL;
    /* every stage splits whatever the barrier measured at creation costs
     * (a busy machine measures barriers that would split nothing) */
    setenv("ELMAN_FORCE_THREADS", "1", 1);
    const elman_config *cfg = &p->m.cfg;
    const size_t n_out = tu_elems_out(cfg, p->B, p->T), n_hn = tu_elems_state(cfg, p->B);
    int failures = 0;
    for (int dtype = ELMAN_FLOAT32; dtype <= ELMAN_FLOAT64; dtype++) {
        const size_t es = dtype == ELMAN_FLOAT32 ? sizeof(float) : sizeof(double);
        char *want_out = malloc(n_out * es), *want_hn = malloc(n_hn * es);
        char *out = malloc(n_out * es), *hn = malloc(n_hn * es);
        assert_true(want_out && want_hn && out && hn);
        for (int det = 0; det <= 1; det++) {
            elman_forward_stats st1;
            run_stats(p, dtype, det, 1, want_out, want_hn, &st1);
            for (int nt = 2; nt <= MAX_NT; nt += quick ? 3 : 1) {
                memset(out, 0xff, n_out * es);
                memset(hn, 0xff, n_hn * es);
                elman_forward_stats st;
                run_stats(p, dtype, det, nt, out, hn, &st);
                check_split(p, dtype, det, nt, &st);
                /* The BLAS calls of the projection are the same blocks of
                 * rows whatever the thread count: what keeps the bits
                 * where the BLAS sums a row differently in products of
                 * other sizes (OpenBLAS's Haswell kernels do; its
                 * Cooperlake dgemm did not, and the bits alone could not
                 * tell). */
                if (st.blas_calls != st1.blas_calls) {
                    print_case(name, p, dtype, det, nt);
                    printf("%d BLAS calls, %d at 1 thread\n", (int)st.blas_calls,
                           (int)st1.blas_calls);
                    failures++;
                }
                const size_t d_out = count_differences(out, want_out, n_out, es);
                const size_t d_hn = count_differences(hn, want_hn, n_hn, es);
                if (d_out != 0 || d_hn != 0) {
                    print_case(name, p, dtype, det, nt);
                    printf("%zu of %zu outputs, %zu of %zu h_n differ from 1 thread\n", d_out,
                           n_out, d_hn, n_hn);
                    failures++;
                }
            }
        }
        free(want_out);
        free(want_hn);
        free(out);
        free(hn);
    }
    unsetenv("ELMAN_FORCE_THREADS");
    return failures;
}

static elman_config config(int I, int H, int L, int bidirectional)
{
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = I;
    cfg.hidden_size = H;
    cfg.num_layers = L;
    cfg.bidirectional = bidirectional;
    return cfg;
}

/* Issue 9's shape: I=64, H=512, B=1, T=64; and a two-layer bidirectional
 * one whose projection holds several blocks of rows. */
static void test_threads_bitwise(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int I, H, L, bi, B, T;
    } shapes[] = {
        {"I64 H512 L1 B1 T64", 64, 512, 1, 0, 1, 64},
        {"I40 H256 L2 bi B8 T33", 40, 256, 2, 1, 8, 33},
    };
    int failures = 0;
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
        for (int with_lengths = 0; with_lengths <= 1; with_lengths++) {
            const elman_config cfg =
                config(shapes[s].I, shapes[s].H, shapes[s].L, shapes[s].bi);
            problem p;
            problem_make(&p, &cfg, shapes[s].B, shapes[s].T, with_lengths, 900 + s);
            failures += check_threads_bitwise(shapes[s].name, &p);
            problem_free(&p);
        }
    assert_int_equal(failures, 0);
    assert_true(blas_split_seen);
}

/* num_threads = INT_MAX is accepted and costs what 64 threads cost: the
 * team never runs more. */
static void test_num_threads_cap(void **state)
{
    (void)state;
    elman_config cfg = config(7, 33, 2, 1);
    problem p;
    problem_make(&p, &cfg, 4, 1, 0, 77);
    const size_t n_out = tu_elems_out(&cfg, 4, 1), n_hn = tu_elems_state(&cfg, 4);
    float *want = malloc(n_out * sizeof(float)), *want_hn = malloc(n_hn * sizeof(float));
    float *out = malloc(n_out * sizeof(float)), *hn = malloc(n_hn * sizeof(float));
    assert_true(want && want_hn && out && hn);
    run(&p, ELMAN_FLOAT32, 0, 1, want, want_hn);

    size_t ws[3];
    const int nts[3] = {64, INT_MAX, 65};
    for (int i = 0; i < 3; i++) {
        p.m.cfg.num_threads = nts[i];
        elman_rnn *rnn = tu_model_build(&p.m);
        ws[i] = elman_rnn_workspace_size(rnn, 4, 1);
        assert_true(ws[i] > 0);
        memset(out, 0xff, n_out * sizeof(float));
        assert_int_equal(elman_rnn_forward(rnn, 4, 1, p.x, NULL, p.h0, out, hn, NULL, 0),
                         ELMAN_OK);
        assert_memory_equal(out, want, n_out * sizeof(float));
        assert_memory_equal(hn, want_hn, n_hn * sizeof(float));
        elman_rnn_free(rnn);
    }
    assert_true(ws[1] == ws[0]);
    assert_true(ws[2] == ws[0]);
    free(want);
    free(want_hn);
    free(out);
    free(hn);
    problem_free(&p);
}

/* The kernels to test: portable, and the best this CPU runs if other. */
static int kernel_paths(const char *names[2])
{
    names[0] = elman_kernels_portable.name;
    char saved[64] = "";
    const char *env = getenv("ELMAN_KERNELS");
    if (env != NULL)
        snprintf(saved, sizeof(saved), "%s", env);
    unsetenv("ELMAN_KERNELS");
    names[1] = elman_select_kernels()->name;
    /* The default is the registry's first path this CPU runs (best first),
     * and an x86-64 CPU with AVX2 and FMA gets SIMD kernels when they are
     * built. */
    int n_paths;
    const elman_kernel_path *paths = elman_kernel_paths(&n_paths);
    int first = 0;
    while (!paths[first].supported())
        first++;
    assert_string_equal(names[1], paths[first].name);
    /* README: the order tried is AVX-512, AVX2, portable (the last). */
    static const char *const order[] = {"avx512", "avx2", "portable"};
    for (int i = 0, o = 0; i < n_paths; i++) {
        while (o < 3 && strcmp(paths[i].name, order[o]) != 0)
            o++;
        if (o == 3)
            fail_msg("kernel path %s is not in README's order", paths[i].name);
    }
    assert_string_equal(paths[n_paths - 1].name, "portable");
    for (int i = 0; i < n_paths; i++) {
        const int simd = strcmp(paths[i].name, "avx2") == 0 ||
                         strcmp(paths[i].name, "avx512") == 0;
        /* README: only the AVX-512 path keeps the projection off BLAS. */
        assert_int_equal(paths[i].project_faster, strcmp(paths[i].name, "avx512") == 0);
#if defined(__x86_64__)
        if (simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            assert_string_not_equal(names[1], names[0]);
#else
        (void)simd;
#endif
    }
    /* A name unknown, or not runnable here, is ignored. */
    setenv("ELMAN_KERNELS", "no-such-kernels", 1);
    assert_string_equal(elman_select_kernels()->name, paths[first].name);
    for (int i = 0; i < n_paths; i++)
        if (!paths[i].supported()) {
            setenv("ELMAN_KERNELS", paths[i].name, 1);
            assert_string_equal(elman_select_kernels()->name, paths[first].name);
        }
    unsetenv("ELMAN_KERNELS");
    if (env != NULL)
        setenv("ELMAN_KERNELS", saved, 1);
    if (strcmp(names[1], names[0]) == 0) {
        printf("this CPU runs the portable kernels only\n");
        return 1;
    }
    return 2;
}

/* One case of the matrix against the reference; asserts the path. */
static void check_path(const problem *p, int dtype, const char *kernels, int det, int nt,
                       int want_blas)
{
    const elman_config *cfg = &p->m.cfg;
    const size_t n_out = tu_elems_out(cfg, p->B, p->T), n_hn = tu_elems_state(cfg, p->B);
    const size_t es = dtype == ELMAN_FLOAT32 ? sizeof(float) : sizeof(double);
    void *out = malloc(n_out * es), *hn = malloc(n_hn * es);
    double *want = malloc(n_out * sizeof(double)), *want_hn = malloc(n_hn * sizeof(double));
    assert_true(out && hn && want && want_hn);
    memset(out, 0xff, n_out * es);
    setenv("ELMAN_KERNELS", kernels, 1);
    if (nt > 1) /* every stage splits, whatever the size */
        setenv("ELMAN_FORCE_THREADS", "1", 1);
    elman_forward_stats st;
    run_stats(p, dtype, det, nt, out, hn, &st);
    unsetenv("ELMAN_KERNELS");
    unsetenv("ELMAN_FORCE_THREADS");
    printf("%s %s %s %s %d threads: %d BLAS calls, %lld kernel rows\n",
           dtype == ELMAN_FLOAT32 ? "float32" : "float64", kernels,
           p->lengths ? "lengths" : "no lengths", det ? "deterministic" : "default", nt,
           (int)st.blas_calls, (long long)st.kernel_rows);
    assert_string_equal(st.kernels, kernels);
    assert_int_equal(st.threads, nt);
    const int L = cfg->num_layers;
    if (want_blas && blas_path(kernels, dtype)) {
        assert_true(st.blas_calls >= L);
        assert_true(st.kernel_rows == 0);
    } else {
        assert_int_equal(st.blas_calls, 0);
        assert_true(st.kernel_rows > 0);
    }
    if (nt > 1) {
        assert_true(st.pooled); /* the model's threads, free: none started */
        assert_true(st.split_steps);
        assert_true(st.proj_threads > L);
        assert_true(st.step_threads > L * p->m.D);
    }
    tu_reference(cfg, (const float *const *)p->m.w_ih, (const float *const *)p->m.w_hh,
                 (const float *const *)p->m.b_ih, (const float *const *)p->m.b_hh, p->B, p->T,
                 p->x, p->lengths, p->h0, want, want_hn);
    if (dtype == ELMAN_FLOAT32) {
        assert_true(tu_compare("output", out, want, n_out) < 0);
        assert_true(tu_compare("h_n", hn, want_hn, n_hn) < 0);
    } else {
        assert_true(tu_compare_d("output", out, want, n_out) < 0);
        assert_true(tu_compare_d("h_n", hn, want_hn, n_hn) < 0);
    }
    free(out);
    free(hn);
    free(want);
    free(want_hn);
}

/* Element type x kernels x {BLAS, own projection} x {lengths, none} x
 * {deterministic, default} x {1, 3 threads}. BLAS takes the projection
 * only without lengths, not deterministic and above its threshold: the
 * large problem then reaches cblas_sgemm / cblas_dgemm; the small one, the
 * lengths and deterministic mode reach the kernel's own projection. */
static void test_path_matrix(void **state)
{
    (void)state;
    const char *names[2];
    const int n_paths = kernel_paths(names);
    const elman_config large_cfg = config(64, 128, 2, 1), small_cfg = config(8, 48, 1, 0);
    for (int with_lengths = 0; with_lengths <= 1; with_lengths++) {
        problem large, small;
        problem_make(&large, &large_cfg, 4, 70, with_lengths, 31);
        problem_make(&small, &small_cfg, 3, 5, with_lengths, 32);
        for (int dtype = ELMAN_FLOAT32; dtype <= ELMAN_FLOAT64; dtype++)
            for (int k = 0; k < n_paths; k++)
                for (int det = 0; det <= 1; det++)
                    for (int nt = 1; nt <= 3; nt += 2) {
                        check_path(&large, dtype, names[k], det, nt, !det && !with_lengths);
                        check_path(&small, dtype, names[k], det, nt, 0);
                    }
        problem_free(&large);
        problem_free(&small);
    }
}

/* k/64 for k uniform in -64..64: products and sums of a few are exact. */
static float dyadic(tu_rng *r)
{
    return (float)tu_int(r, -64, 64) / 64.0f;
}

/* The tanh of each kernel path through elman_rnn_forward(), within the
 * kernels' measured error (TEST_TANH_MAX_ERR), far tighter than the
 * PyTorch tolerance: every weight, input and state is k/64, so every
 * product and sum of the pre-activation is exact in float and the
 * activation is the only error. 16384 pre-activations spread over about
 * [-6, 6] sample the approximation where its error is largest. */
static void test_tanh_error_end_to_end(void **state)
{
    (void)state;
    const char *names[2];
    const int n_paths = kernel_paths(names);
    enum { I = 4, H = 8, B = 2048 };
    elman_config cfg = config(I, H, 1, 0);
    tu_rng r;
    tu_seed(&r, 5);
    problem p;
    problem_make(&p, &cfg, B, 1, 0, 6);
    for (int i = 0; i < H * I; i++)
        p.m.w_ih[0][i] = dyadic(&r);
    for (int i = 0; i < H * H; i++)
        p.m.w_hh[0][i] = dyadic(&r);
    for (int i = 0; i < H; i++) {
        p.m.b_ih[0][i] = dyadic(&r);
        p.m.b_hh[0][i] = dyadic(&r);
    }
    for (int i = 0; i < B * I; i++)
        p.x[i] = dyadic(&r);
    for (int i = 0; i < B * H; i++)
        p.h0[i] = dyadic(&r);
    double want[B * H], want_hn[B * H];
    tu_reference(&cfg, (const float *const *)p.m.w_ih, (const float *const *)p.m.w_hh,
                 (const float *const *)p.m.b_ih, (const float *const *)p.m.b_hh, B, 1, p.x, NULL,
                 p.h0, want, want_hn);
    for (int k = 0; k < n_paths; k++) {
        float out[B * H], hn[B * H];
        setenv("ELMAN_KERNELS", names[k], 1);
        run(&p, ELMAN_FLOAT32, 0, 1, out, hn);
        unsetenv("ELMAN_KERNELS");
        double worst = 0;
        for (int i = 0; i < B * H; i++) {
            const double e = fabs(out[i] - want[i]);
            assert_true(isfinite(out[i]));
            worst = e > worst ? e : worst;
        }
        printf("%s: tanh end to end, max abs error %.3g (bound %.3g)\n", names[k], worst,
               TEST_TANH_MAX_ERR);
        assert_true(worst <= TEST_TANH_MAX_ERR);
    }
    problem_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* quickest first */
        cmocka_unit_test(test_tanh_error_end_to_end),
        cmocka_unit_test(test_num_threads_cap),
        cmocka_unit_test(test_path_matrix),
        cmocka_unit_test(test_threads_bitwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
