/*
 * The kernel registry: every path built into this library, best first, with
 * its run-time check. Selection, ELMAN_KERNELS and the tests walk this one
 * table. CMake decides which paths are built (ELMAN_HAVE_KERNELS_<ISA>);
 * the checks are here, in a file compiled without ISA flags, so that they
 * run on any CPU.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#if defined(ELMAN_HAVE_KERNELS_AVX2)
static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

static int always(void)
{
    return 1;
}

static const elman_kernel_path PATHS[] = {
#if defined(ELMAN_HAVE_KERNELS_AVX2)
    {"avx2", &elman_kernels_avx2, cpu_has_avx2},
#endif
    {"portable", &elman_kernels_portable, always},
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
