/*
 * sgemm-rate M N K ITERS [--threads N]
 * sgemm-rate --info
 *
 * The machine's measured sgemm rate, the ceiling the compute-bound configs
 * are compared against: times ITERS calls of C(M,N) = A(M,K) * B(N,K)^T
 * (row-major, the shape of an RNN's input projection x * W_ih^T) with
 * OpenBLAS at N threads after a warm-up, and prints one JSON line with the
 * median time and GFLOP/s (2*M*N*K per call). --info prints OpenBLAS's core
 * name, build configuration and thread count.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include <cblas.h> /* OpenBLAS's: declares openblas_get_corename() & co. */

static void usage(void)
{
    fprintf(stderr, "usage: sgemm-rate M N K ITERS [--threads N] | sgemm-rate --info\n");
    exit(2);
}

static float *filled(size_t n)
{
    float *p = malloc(n * sizeof(float));
    if (p == NULL) {
        fprintf(stderr, "sgemm-rate: out of memory\n");
        exit(1);
    }
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--info") == 0) {
        printf("{\"impl\":\"sgemm\",\"corename\":\"%s\",\"config\":\"%s\",\"default_threads\":%d}\n",
               openblas_get_corename(), openblas_get_config(), openblas_get_num_threads());
        return 0;
    }
    if (argc < 5)
        usage();
    const int M = bench_parse_int(argv[1], usage);
    const int N = bench_parse_int(argv[2], usage);
    const int K = bench_parse_int(argv[3], usage);
    const int iters = bench_parse_int(argv[4], usage);
    int threads = 1;
    for (int a = 5; a < argc; a++) {
        if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc)
            threads = bench_parse_int(argv[++a], usage);
        else
            usage();
    }
    openblas_set_num_threads(threads);

    float *A = filled((size_t)M * K), *Bm = filled((size_t)N * K);
    float *C = filled((size_t)M * N);
    double *times = malloc((size_t)iters * sizeof(double));
    if (times == NULL)
        usage();
    double t_end = bench_now_us() + 2e5;
    for (int w = 0; w < 3 || bench_now_us() < t_end; w++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, Bm, K, 0.0f,
                    C, N);
    for (int i = 0; i < iters; i++) {
        double t0 = bench_now_us();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, Bm, K, 0.0f,
                    C, N);
        times[i] = bench_now_us() - t0;
    }
    qsort(times, (size_t)iters, sizeof(double), bench_cmp_double);
    const double median = iters % 2 ? times[iters / 2]
                                    : 0.5 * (times[iters / 2 - 1] + times[iters / 2]);
    const double flops = 2.0 * M * N * K;
    printf("{\"impl\":\"sgemm\",\"M\":%d,\"N\":%d,\"K\":%d,\"threads\":%d,\"median_us\":%.3f,"
           "\"min_us\":%.3f,\"gflops\":%.2f,\"best_gflops\":%.2f,\"corename\":\"%s\"}\n",
           M, N, K, threads, median, times[0], flops / median * 1e-3, flops / times[0] * 1e-3,
           openblas_get_corename());
    free(times);
    free(A);
    free(Bm);
    free(C);
    return 0;
}
