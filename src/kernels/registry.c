/*
 * The kernel registry: every path built into this library, best first, with
 * its run-time check. Selection, ELMAN_KERNELS and the tests walk this one
 * table. CMake decides which paths are built (ELMAN_HAVE_KERNELS_<ISA>);
 * the checks are here, in a file compiled without ISA flags, so that they
 * run on any CPU.
 */
#include <stdlib.h>
#include <string.h>

#if defined(ELMAN_HAVE_KERNELS_AVX512)
#include <cpuid.h>
#endif

#include "kernel.h"

#if defined(ELMAN_HAVE_KERNELS_AVX2)
static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

#if defined(ELMAN_HAVE_KERNELS_AVX512)
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
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           os_saves_zmm();
}
#endif

static int always(void)
{
    return 1;
}

/* project_faster, measured before the AVX-512 path kept its projections
 * (elman-bench, 1 thread, Zen 5 shared by other work): batch (3200 x 256 x
 * 256) 15-29 ms on the AVX-512 kernel against 24-29 ms on OpenBLAS 0.3.21's
 * Haswell sgemm, large (3200 x 1024 x 512) 172-302 ms against 200-308 ms.
 * The AVX2 kernel does not beat OpenBLAS there. */
static const elman_kernel_path PATHS[] = {
#if defined(ELMAN_HAVE_KERNELS_AVX512)
    {"avx512", &elman_kernels_avx512, cpu_has_avx512, 1},
#endif
#if defined(ELMAN_HAVE_KERNELS_AVX2)
    {"avx2", &elman_kernels_avx2, cpu_has_avx2, 0},
#endif
    {"portable", &elman_kernels_portable, always, 0},
};

const elman_kernel_path *elman_kernel_paths(int *count)
{
    *count = (int)(sizeof(PATHS) / sizeof(PATHS[0]));
    return PATHS;
}

const elman_kernels *elman_find_kernels(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(PATHS) / sizeof(PATHS[0]); i++)
        if (strcmp(name, PATHS[i].name) == 0)
            return PATHS[i].supported() ? PATHS[i].kernels : NULL;
    return NULL;
}

const elman_kernels *elman_select_kernels(void)
{
    const elman_kernels *forced = elman_find_kernels(getenv("ELMAN_KERNELS"));
    if (forced != NULL)
        return forced;
    for (size_t i = 0; i < sizeof(PATHS) / sizeof(PATHS[0]); i++)
        if (PATHS[i].supported())
            return PATHS[i].kernels;
    return &elman_kernels_portable; /* not reached: portable is always runnable */
}

int elman_kernels_project_faster(const elman_kernels *k)
{
    for (size_t i = 0; i < sizeof(PATHS) / sizeof(PATHS[0]); i++)
        if (PATHS[i].kernels == k)
            return PATHS[i].project_faster;
    return 0;
}
