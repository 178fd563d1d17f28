/*
 * elman-bench B T I H L D ITERS [--threads N] [--lengths] [--deterministic] [--seed S]
 *             [--dtype float32|float64]
 * elman-bench --info
 *
 * Builds a random model of that shape, times ITERS forward calls (caller
 * workspace, so no allocation in the timed region) after a warm-up, and
 * prints one JSON line with the median and minimum time of one call.
 * FLOPs = sum over layers and directions of 2*T*B*(I_l*H + H*H).
 * --dtype float64 runs a float64 model (the *_f64 functions) on the same
 * random values.
 *
 * --info prints the processor (model name, family), the kernels elman
 * chooses on it (ELMAN_KERNELS applies), OpenBLAS's core and what a
 * barrier between two threads costs now (what decides whether a step
 * splits between threads) and what starting a thread costs. This program
 * links the library's objects, not libelman, to name the kernels.
 *
 * OpenBLAS's own threads are set to 1: elman chooses its threads itself
 * (--threads), and the comparison is of equal thread budgets.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <cblas.h>

#include "bench_util.h"
#undef I /* complex.h, included by cblas.h */

#include "elman.h"
#include "kernels/kernel.h"
#include "team.h"

static float *random_array(size_t n, float bound)
{
    float *p = malloc(n * sizeof(float));
    if (p == NULL) {
        fprintf(stderr, "elman-bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = bench_frand(bound);
    return p;
}

static void usage(void)
{
    fprintf(stderr, "usage: elman-bench B T I H L D ITERS [--threads N] [--lengths] "
                    "[--deterministic] [--seed S] [--dtype float32|float64]\n");
    exit(2);
}

static void *nothing(void *p)
{
    return p;
}

/* Median cost of starting and joining one thread, in us: what a forward
 * call would pay per extra thread if the model did not keep its own
 * (src/team.c): what the pool saves. */
static double thread_start_us(void)
{
    double t[21];
    for (int i = 0; i < 21; i++) {
        pthread_t th;
        const double t0 = bench_now_us();
        if (pthread_create(&th, NULL, nothing, NULL) != 0)
            return -1;
        pthread_join(th, NULL);
        t[i] = bench_now_us() - t0;
    }
    qsort(t, 21, sizeof(double), bench_cmp_double);
    return t[10];
}

static int info(void)
{
    char model[256];
    int family;
    bench_cpu(model, sizeof(model), &family);
    printf("{\"impl\":\"elman\",\"cpu\":\"%s\",\"family\":%d,\"kernels\":\"%s\","
           "\"openblas_core\":\"%s\",\"barrier_ns\":%.0f,\"thread_start_us\":%.1f}\n",
           model, family, elman_select_kernels()->name, openblas_get_corename(),
           elman_barrier_cost_ns(), thread_start_us());
    return 0;
}

/* A double copy of n floats (exits if out of memory). */
static double *to_double(const float *v, size_t n)
{
    double *d = malloc(n * sizeof(double));
    if (d == NULL) {
        fprintf(stderr, "elman-bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        d[i] = v[i];
    return d;
}

static int forward(const elman_rnn *rnn, int f64, int B, int T, const void *x, const int *lengths,
                   void *out, void *hn, void *ws, size_t ws_size)
{
    if (f64)
        return elman_rnn_forward_f64(rnn, B, T, x, lengths, NULL, out, hn, ws, ws_size);
    return elman_rnn_forward(rnn, B, T, x, lengths, NULL, out, hn, ws, ws_size);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--info") == 0)
        return info();
    if (argc < 8)
        usage();
    const int B = bench_parse_int(argv[1], usage);
    const int T = bench_parse_int(argv[2], usage);
    const int In = bench_parse_int(argv[3], usage);
    const int H = bench_parse_int(argv[4], usage);
    const int L = bench_parse_int(argv[5], usage);
    const int D = bench_parse_int(argv[6], usage);
    const int iters = bench_parse_int(argv[7], usage);
    int threads = 1, use_lengths = 0, deterministic = 0, f64 = 0;
    for (int a = 8; a < argc; a++) {
        if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc)
            threads = bench_parse_int(argv[++a], usage);
        else if (strcmp(argv[a], "--lengths") == 0)
            use_lengths = 1;
        else if (strcmp(argv[a], "--deterministic") == 0)
            deterministic = 1;
        else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc)
            bench_seed(bench_parse_int(argv[++a], usage));
        else if (strcmp(argv[a], "--dtype") == 0 && a + 1 < argc) {
            a++;
            if (strcmp(argv[a], "float64") == 0)
                f64 = 1;
            else if (strcmp(argv[a], "float32") != 0)
                usage();
        }
        else
            usage();
    }
    if (D != 1 && D != 2)
        usage();
    openblas_set_num_threads(1);

    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = In;
    cfg.hidden_size = H;
    cfg.num_layers = L;
    cfg.bidirectional = D == 2;
    cfg.num_threads = threads;
    cfg.deterministic = deterministic;
    cfg.dtype = f64 ? ELMAN_FLOAT64 : ELMAN_FLOAT32;
    elman_rnn *rnn;
    int rc = elman_rnn_create(&cfg, &rnn);
    if (rc != ELMAN_OK) {
        fprintf(stderr, "elman-bench: %s\n", elman_strerror(rc));
        return 1;
    }
    const float bound = 1.0f / sqrtf((float)H);
    double flops = 0;
    for (int l = 0; l < L; l++)
        for (int d = 0; d < D; d++) {
            const int in = l == 0 ? In : D * H;
            float *w_ih = random_array((size_t)H * in, bound);
            float *w_hh = random_array((size_t)H * H, bound);
            float *b_ih = random_array((size_t)H, bound), *b_hh = random_array((size_t)H, bound);
            if (f64) {
                double *wi = to_double(w_ih, (size_t)H * in), *wh = to_double(w_hh, (size_t)H * H);
                double *bi = to_double(b_ih, (size_t)H), *bh = to_double(b_hh, (size_t)H);
                elman_rnn_set_weights_f64(rnn, l, d, wi, wh, bi, bh);
                free(wi);
                free(wh);
                free(bi);
                free(bh);
            } else {
                elman_rnn_set_weights(rnn, l, d, w_ih, w_hh, b_ih, b_hh);
            }
            free(w_ih);
            free(w_hh);
            free(b_ih);
            free(b_hh);
            flops += 2.0 * T * B * ((double)in * H + (double)H * H);
        }

    const size_t es = f64 ? sizeof(double) : sizeof(float);
    void *x = random_array((size_t)B * T * In, 1.0f);
    if (f64) {
        double *xd = to_double(x, (size_t)B * T * In);
        free(x);
        x = xd;
    }
    void *out = malloc((size_t)B * T * D * H * es);
    void *hn = malloc((size_t)L * D * B * H * es);
    int *lengths = NULL;
    if (use_lengths) {
        /* uniform in 1..T: on average about half the steps are valid */
        lengths = malloc((size_t)B * sizeof(int));
        for (int b = 0; b < B; b++)
            lengths[b] = 1 + (int)((bench_frand(1.0f) * 0.5f + 0.5f) * (float)(T - 1) + 0.5f);
        lengths[0] = T;
    }
    size_t ws_size = elman_rnn_workspace_size(rnn, B, T);
    void *ws = aligned_alloc(ELMAN_WORKSPACE_ALIGNMENT,
                             (ws_size + ELMAN_WORKSPACE_ALIGNMENT - 1) /
                                 ELMAN_WORKSPACE_ALIGNMENT * ELMAN_WORKSPACE_ALIGNMENT);
    double *times = malloc((size_t)iters * sizeof(double));
    if (!out || !hn || !ws || !times) {
        fprintf(stderr, "elman-bench: out of memory\n");
        return 1;
    }

    /* warm-up: at least 3 calls and 0.2 s */
    double t_end = bench_now_us() + 2e5;
    for (int w = 0; w < 3 || bench_now_us() < t_end; w++) {
        rc = forward(rnn, f64, B, T, x, lengths, out, hn, ws, ws_size);
        if (rc != ELMAN_OK) {
            fprintf(stderr, "elman-bench: %s\n", elman_strerror(rc));
            return 1;
        }
    }
    for (int i = 0; i < iters; i++) {
        double t0 = bench_now_us();
        forward(rnn, f64, B, T, x, lengths, out, hn, ws, ws_size);
        times[i] = bench_now_us() - t0;
    }
    qsort(times, (size_t)iters, sizeof(double), bench_cmp_double);
    const double median = iters % 2 ? times[iters / 2]
                                    : 0.5 * (times[iters / 2 - 1] + times[iters / 2]);
    /* the share of valid steps, which the PyTorch harness checks it drew too */
    double valid = 1.0;
    if (use_lengths) {
        double sum = 0;
        for (int b = 0; b < B; b++)
            sum += lengths[b];
        valid = sum / ((double)B * T);
    }
    printf("{\"impl\":\"elman\",\"B\":%d,\"T\":%d,\"I\":%d,\"H\":%d,\"L\":%d,\"D\":%d,"
           "\"threads\":%d,\"lengths\":%s,\"deterministic\":%s,\"dtype\":\"%s\","
           "\"median_us\":%.3f,"
           "\"min_us\":%.3f,\"gflops\":%.2f,\"valid_frac\":%.9g,\"kernels\":\"%s\"}\n",
           B, T, In, H, L, D, threads, use_lengths ? "true" : "false",
           deterministic ? "true" : "false", f64 ? "float64" : "float32", median, times[0],
           flops / median * 1e-3, valid, elman_select_kernels()->name);

    free(times);
    free(ws);
    free(lengths);
    free(x);
    free(out);
    free(hn);
    elman_rnn_free(rnn);
    return 0;
}
