/*
 * Reading the input files: X and H0 as float or double arrays, LENGTHS as
 * ints, with one-line messages naming the file and what was expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *shape_str(char *buf, size_t n, const size_t *shape, int ndim)
{
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, i ? ", %zu" : "%zu", shape[i]);
    if (o < n)
        snprintf(buf + o, n - o, "]");
    return buf;
}

int same_shape(const elman_array *a, const size_t *want, int ndim)
{
    if (a->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (a->shape[i] != want[i])
            return 0;
    return 1;
}

/* Reads a float32/float64 .npy file into a new buffer of float, or of
 * double when f64 (float32 values convert exactly). */
int read_reals(const char *path, const char *what, int f64, elman_array *a, void **buf)
{
    char err[ELMAN_IO_ERROR_SIZE];
    if (elman_npy_read(path, a, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s", err);
        return 0;
    }
    if (a->dtype != ELMAN_DTYPE_F32 && a->dtype != ELMAN_DTYPE_F64) {
        print_error("%s: %s has dtype %s, expected float32 or float64", path, what,
                    a->dtype == ELMAN_DTYPE_I32 ? "int32" : "int64");
        return 0;
    }
    *buf = malloc((a->count ? a->count : 1) * (f64 ? sizeof(double) : sizeof(float)));
    if (*buf == NULL) {
        print_error("%s: out of memory", path);
        return 0;
    }
    if (!f64) {
        elman_array_to_float(a, *buf, NULL, 0);
    } else {
        double *d = *buf;
        for (size_t i = 0; i < a->count; i++)
            d[i] = a->dtype == ELMAN_DTYPE_F64 ? ((const double *)a->data)[i]
                                               : (double)((const float *)a->data)[i];
    }
    return 1;
}


int read_lengths(const char *path, int batched, size_t B, size_t T, elman_array *arr,
                 int **len)
{
    char err[ELMAN_IO_ERROR_SIZE], s1[128];
    if (elman_npy_read(path, arr, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s", err);
        return 0;
    }
    if (arr->dtype != ELMAN_DTYPE_I32 && arr->dtype != ELMAN_DTYPE_I64) {
        print_error("%s: lengths have dtype %s, expected int32 or int64", path,
                    arr->dtype == ELMAN_DTYPE_F32 ? "float32" : "float64");
        return 0;
    }
    if (!batched) {
        print_error("%s: lengths need batched input, but the input is unbatched (T, I)", path);
        return 0;
    }
    if (!same_shape(arr, &B, 1)) {
        print_error("%s: lengths shape %s, expected [%zu] (one per sequence)", path,
                    shape_str(s1, sizeof(s1), arr->shape, arr->ndim), B);
        return 0;
    }
    *len = malloc(B * sizeof(int));
    if (*len == NULL) {
        print_error("out of memory");
        return 0;
    }
    for (size_t b = 0; b < B; b++) {
        long long v = arr->dtype == ELMAN_DTYPE_I32 ? ((const int *)arr->data)[b]
                                                   : (long long)((const long long *)arr->data)[b];
        if (v < 1 || (unsigned long long)v > T) {
            print_error("%s: lengths[%zu] = %lld is out of range 1..%zu", path, b, v, T);
            return 0;
        }
        (*len)[b] = (int)v;
    }
    return 1;
}
