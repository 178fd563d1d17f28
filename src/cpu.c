/* Run-time choice of kernels: detect once per model, dispatch by pointer. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#if defined(ELMAN_HAVE_AVX2_KERNELS)
static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
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
#endif
    return NULL;
}

const elman_kernels *elman_select_kernels(void)
{
    const elman_kernels *forced = elman_find_kernels(getenv("ELMAN_KERNELS"));
    if (forced != NULL)
        return forced;
#if defined(ELMAN_HAVE_AVX2_KERNELS)
    if (cpu_has_avx2())
        return &elman_kernels_avx2;
#endif
    return &elman_kernels_portable;
}
