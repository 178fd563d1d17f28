/* Run-time choice of kernels: detect once per model, dispatch by pointer. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#if defined(ELMAN_HAVE_AVX2_KERNELS)
#include <cpuid.h>

static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* Whether the OS saves the AVX-512 state (opmask, upper ZMM halves, ZMM
 * 16-31) on a context switch: XCR0 bits 1, 2, 5, 6 and 7 set. */
static int os_saves_zmm(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return 0;
    unsigned int lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xe6) == 0xe6;
}

static int cpu_has_avx512(void)
{
    return cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && os_saves_zmm();
}
#endif

const elman_kernels *elman_find_kernels(const char *name)
{
    if (name == NULL)
        return NULL;
    if (strcmp(name, "portable") == 0)
        return &elman_kernels_portable;
#if defined(ELMAN_HAVE_AVX2_KERNELS)
    if (strcmp(name, "avx2") == 0 && cpu_has_avx2())
        return &elman_kernels_avx2;
    if (strcmp(name, "avx512") == 0 && cpu_has_avx512())
        return &elman_kernels_avx512;
#endif
    return NULL;
}

const elman_kernels *elman_select_kernels(void)
{
    const elman_kernels *forced = elman_find_kernels(getenv("ELMAN_KERNELS"));
    if (forced != NULL)
        return forced;
#if defined(ELMAN_HAVE_AVX2_KERNELS)
    if (cpu_has_avx512())
        return &elman_kernels_avx512;
    if (cpu_has_avx2())
        return &elman_kernels_avx2;
#endif
    return &elman_kernels_portable;
}

/* Measured before the AVX-512 path kept its projections, elman-bench with
 * and without --deterministic alternating, 1 thread, Zen 5 shared by other
 * work: batch (3200 x 256 x 256) 15-29 ms on the kernel against 24-29 ms
 * on OpenBLAS 0.3.21's Haswell sgemm, large (3200 x 1024 x 512) 172-302 ms
 * against 200-308 ms (with OpenBLAS's Cooperlake sgemm 23-29 ms and
 * 200-261 ms). The AVX2 kernel does not beat OpenBLAS there. */
int elman_kernels_project_faster(const elman_kernels *k)
{
    return strcmp(k->name, "avx512") == 0;
}
