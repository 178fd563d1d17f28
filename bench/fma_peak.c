/*
 * fma-peak [--seconds S]
 *
 * The floating-point peak of one core: 12 independent chains of fp32
 * multiply-adds in registers (enough to cover latency x throughput of the
 * FMA units of the processors elman targets), in rounds of about S seconds
 * (default 0.02) per ISA the CPU has, best of 25 rounds: short rounds, so
 * that on a shared machine some of them have the core to themselves. Prints one JSON line:
 * {"impl":"fma-peak","avx2_gflops":...,"avx512_gflops":...} (null where the
 * CPU lacks the ISA). The ceiling that elman's GFLOP/s are compared with.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

enum { CHAINS = 12, INNER = 1000 };

/* Each call does CHAINS * INNER FMAs of `lanes` floats; the result is
 * returned so the compiler cannot drop the loop. */
#define PROBE(NAME, TARGET, VEC, SET1, FMA, ADD, CVT)                                             \
    __attribute__((target(TARGET), noinline)) static float NAME(long reps)                     \
    {                                                                                          \
        VEC acc[CHAINS];                                                                       \
        const VEC m = SET1(0.999999f), c = SET1(1e-7f);                                        \
        for (int i = 0; i < CHAINS; i++)                                                       \
            acc[i] = SET1((float)i);                                                           \
        for (long r = 0; r < reps; r++)                                                        \
            for (int k = 0; k < INNER; k++)                                                    \
                _Pragma("GCC unroll 12") for (int i = 0; i < CHAINS; i++) acc[i] =             \
                    FMA(acc[i], m, c);                                                         \
        VEC s = acc[0];                                                                        \
        for (int i = 1; i < CHAINS; i++)                                                       \
            s = ADD(s, acc[i]);                                                                \
        return CVT(s);                                                                         \
    }

PROBE(probe_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps,
      _mm256_cvtss_f32)
PROBE(probe_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps,
      _mm512_cvtss_f32)

static volatile float sink;

/* GFLOP/s of probe(reps) with `lanes` floats a vector, best of 25. */
static double rate(float (*probe)(long), int lanes, double seconds)
{
    long reps = 1;
    double t;
    for (;;) { /* calibrate */
        double t0 = bench_now_us();
        sink = probe(reps);
        t = (bench_now_us() - t0) * 1e-6;
        if (t > seconds / 10)
            break;
        reps *= 2;
    }
    reps = (long)((double)reps * seconds / t) + 1;
    double best = 0;
    for (int round = 0; round < 25; round++) {
        double t0 = bench_now_us();
        sink = probe(reps);
        double s = (bench_now_us() - t0) * 1e-6;
        double g = 2.0 * CHAINS * INNER * (double)reps * lanes / s * 1e-9;
        if (g > best)
            best = g;
    }
    return best;
}
#endif

int main(int argc, char **argv)
{
    double seconds = 0.02;
    if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
        seconds = atof(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: fma-peak [--seconds S]\n");
        return 2;
    }
    char avx2[32] = "null", avx512[32] = "null";
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        snprintf(avx2, sizeof(avx2), "%.1f", rate(probe_avx2, 8, seconds));
    if (__builtin_cpu_supports("avx512f"))
        snprintf(avx512, sizeof(avx512), "%.1f", rate(probe_avx512, 16, seconds));
#endif
    printf("{\"impl\":\"fma-peak\",\"chains\":12,\"avx2_gflops\":%s,\"avx512_gflops\":%s}\n",
           avx2, avx512);
    return 0;
}
