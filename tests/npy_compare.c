/* npy_compare [--f64 | --exact] [--got AXIS:START:END]... [--want AXIS:START:END]...
 *             GOT.npy WANT.npy
 *
 * Exits 0 if GOT has WANT's shape and matches it, 1 otherwise (saying why
 * on stderr). Used by the command-line tests.
 *   (default)  GOT is float32, every element within the test suite's
 *              tolerance of WANT (float32 or float64)
 *   --f64      GOT is float64, within TEST_F64_TOL of WANT
 *   --exact    GOT and WANT have the same dtype and the same bytes
 *   --got, --want  compare only elements START..END-1 along AXIS of that
 *              array (the axis keeps its place, with END-START entries);
 *              several apply one after the other. E.g. the row of sequence
 *              b of a (T, B, H) output is --got 1:b:b+1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elman_io.h"
#include "testutil.h"

#define MAX_SLICES 8

typedef struct slice {
    int axis;
    size_t start, end;
} slice;

static int parse_slice(const char *s, slice *out)
{
    char tail;
    if (sscanf(s, "%d:%zu:%zu%c", &out->axis, &out->start, &out->end, &tail) != 3)
        return 0;
    return out->start < out->end;
}

/* Keeps elements start..end-1 along one axis. */
static int apply_slice(elman_array *a, const slice *s, const char *path)
{
    if (s->axis < 0 || s->axis >= a->ndim || s->end > a->shape[s->axis]) {
        fprintf(stderr, "npy_compare: %s: slice %d:%zu:%zu out of range\n", path, s->axis,
                s->start, s->end);
        return 0;
    }
    size_t outer = 1, inner = elman_dtype_size(a->dtype);
    for (int i = 0; i < s->axis; i++)
        outer *= a->shape[i];
    for (int i = s->axis + 1; i < a->ndim; i++)
        inner *= a->shape[i];
    const size_t n = s->end - s->start, dim = a->shape[s->axis];
    unsigned char *d = malloc(outer * n * inner + 1);
    if (d == NULL)
        return 0;
    for (size_t o = 0; o < outer; o++)
        memcpy(d + o * n * inner, (unsigned char *)a->data + (o * dim + s->start) * inner,
               n * inner);
    free(a->data);
    a->data = d;
    a->count = a->count / dim * n;
    a->shape[s->axis] = n;
    return 1;
}

int main(int argc, char **argv)
{
    enum { TOLERANCE, F64, EXACT } mode = TOLERANCE;
    slice sl[2][MAX_SLICES];
    int nsl[2] = {0, 0}, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--f64") == 0) {
            mode = F64;
        } else if (strcmp(argv[i], "--exact") == 0) {
            mode = EXACT;
        } else if ((strcmp(argv[i], "--got") == 0 || strcmp(argv[i], "--want") == 0) &&
                   i + 1 < argc) {
            const int w = strcmp(argv[i], "--want") == 0;
            if (nsl[w] == MAX_SLICES || !parse_slice(argv[i + 1], &sl[w][nsl[w]])) {
                fprintf(stderr, "npy_compare: bad slice '%s'\n", argv[i + 1]);
                return 2;
            }
            nsl[w]++;
            i++;
        } else {
            break;
        }
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: npy_compare [--f64 | --exact] [--got AXIS:START:END]... "
                        "[--want AXIS:START:END]... GOT.npy WANT.npy\n");
        return 2;
    }
    const char *paths[2] = {argv[i], argv[i + 1]};
    char err[ELMAN_IO_ERROR_SIZE];
    elman_array arr[2];
    memset(arr, 0, sizeof(arr));
    int ok = 1;
    for (int k = 0; k < 2 && ok; k++) {
        if (elman_npy_read(paths[k], &arr[k], err, sizeof(err)) != ELMAN_OK) {
            fprintf(stderr, "npy_compare: %s\n", err);
            ok = 0;
        }
        for (int j = 0; ok && j < nsl[k]; j++)
            ok = apply_slice(&arr[k], &sl[k][j], paths[k]);
    }
    elman_array *got = &arr[0], *want = &arr[1];
    if (ok) {
        const int want_dtype = mode == EXACT ? want->dtype
                               : mode == F64 ? ELMAN_DTYPE_F64
                                             : ELMAN_DTYPE_F32;
        ok = got->dtype == want_dtype && got->ndim == want->ndim &&
             (mode == EXACT || want->dtype == ELMAN_DTYPE_F32 || want->dtype == ELMAN_DTYPE_F64);
        for (int k = 0; ok && k < got->ndim; k++)
            ok = got->shape[k] == want->shape[k];
        if (!ok)
            fprintf(stderr, "npy_compare: %s: dtype %s or shape differs from %s (dtype %s)\n",
                    paths[0], elman_dtype_name(got->dtype), paths[1],
                    elman_dtype_name(want->dtype));
    }
    if (ok && mode == EXACT) {
        const size_t es = elman_dtype_size(got->dtype);
        for (size_t k = 0; ok && k < got->count; k++)
            if (memcmp((unsigned char *)got->data + k * es, (unsigned char *)want->data + k * es,
                       es) != 0) {
                fprintf(stderr, "npy_compare: %s: element %zu differs from %s's in its bits\n",
                        paths[0], k, paths[1]);
                ok = 0;
            }
    } else if (ok) {
        double *w = malloc((want->count ? want->count : 1) * sizeof(double));
        for (size_t k = 0; k < want->count; k++)
            w[k] = want->dtype == ELMAN_DTYPE_F64 ? ((const double *)want->data)[k]
                                                  : ((const float *)want->data)[k];
        ok = (mode == F64 ? tu_compare_d(paths[0], got->data, w, got->count)
                          : tu_compare(paths[0], got->data, w, got->count)) < 0;
        free(w);
    }
    elman_array_free(got);
    elman_array_free(want);
    return ok ? 0 : 1;
}
