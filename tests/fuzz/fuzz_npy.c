/* libFuzzer target: the .npy reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "elman_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ELMAN_IO_ERROR_SIZE];
    elman_array a;
    if (elman_npy_parse(data, size, &a, err, sizeof(err)) != ELMAN_OK)
        return 0;
    size_t count = 1;
    for (int i = 0; i < a.ndim; i++)
        count *= a.shape[i];
    if (count != a.count || (a.count > 0 && a.data == NULL))
        abort();
    if (a.dtype == ELMAN_DTYPE_F32 || a.dtype == ELMAN_DTYPE_F64) {
        float *f = malloc((a.count ? a.count : 1) * sizeof(float));
        if (f != NULL && elman_array_to_float(&a, f, err, sizeof(err)) != ELMAN_OK)
            abort();
        free(f);
    }
    elman_array_free(&a);
    return 0;
}
