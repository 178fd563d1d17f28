/* npy_compare GOT.npy WANT.npy: exits 0 if GOT is float32 with WANT's
 * shape and every element within the test suite's tolerance of WANT
 * (float32 or float64), 1 otherwise (saying why on stderr). Used by the
 * command-line tests. */
#include <stdio.h>
#include <stdlib.h>

#include "elman_io.h"
#include "testutil.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: npy_compare GOT.npy WANT.npy\n");
        return 2;
    }
    char err[ELMAN_IO_ERROR_SIZE];
    elman_array got, want;
    if (elman_npy_read(argv[1], &got, err, sizeof(err)) != ELMAN_OK ||
        elman_npy_read(argv[2], &want, err, sizeof(err)) != ELMAN_OK) {
        fprintf(stderr, "npy_compare: %s\n", err);
        return 1;
    }
    int ok = got.dtype == ELMAN_DTYPE_F32 && got.ndim == want.ndim;
    for (int i = 0; ok && i < got.ndim; i++)
        ok = got.shape[i] == want.shape[i];
    if (!ok) {
        fprintf(stderr, "npy_compare: %s: dtype or shape differs from %s\n", argv[1], argv[2]);
    } else {
        double *w = malloc((want.count ? want.count : 1) * sizeof(double));
        for (size_t i = 0; i < want.count; i++)
            w[i] = want.dtype == ELMAN_DTYPE_F64 ? ((const double *)want.data)[i]
                                                 : ((const float *)want.data)[i];
        ok = tu_compare(argv[1], got.data, w, got.count) < 0;
        free(w);
    }
    elman_array_free(&got);
    elman_array_free(&want);
    return ok ? 0 : 1;
}
