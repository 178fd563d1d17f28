/*
 * Reading the input files: X and H0 as float or double arrays, LENGTHS as
 * ints, an ONNX model, with one-line messages naming the file and what was
 * expected.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
/* numpy's name of a .npy array's dtype. */
static const char *npy_name(int dtype)
{
    return dtype == ELMAN_DTYPE_F32   ? "float32"
           : dtype == ELMAN_DTYPE_F64 ? "float64"
           : dtype == ELMAN_DTYPE_I32 ? "int32"
                                      : "int64";
}

/* elman_io's message for a dtype it does not read names what it reads;
 * the tool says what this argument takes. Returns 1 if it printed. */
static int dtype_error(const char *path, const char *option, const char *accepts,
                       const char *err)
{
    const char *d = strstr(err, "dtype '");
    if (d == NULL)
        return 0;
    d += strlen("dtype '");
    const char *end = strchr(d, '\'');
    if (end == NULL || end - d > 32)
        return 0;
    print_error("%s: dtype '%.*s'; %s takes %s", path, (int)(end - d), d, option, accepts);
    return 1;
}

int read_reals(const char *path, const char *what, int f64, elman_array *a, void **buf)
{
    char err[ELMAN_IO_ERROR_SIZE];
    static const char accepts[] = "float32 or float64 ('<f4', '<f8')";
    if (elman_npy_read(path, a, err, sizeof(err)) != ELMAN_OK) {
        if (!dtype_error(path, what, accepts, err))
            print_error("%s", err);
        return 0;
    }
    if (a->dtype != ELMAN_DTYPE_F32 && a->dtype != ELMAN_DTYPE_F64) {
        print_error("%s: dtype %s; %s takes %s", path, npy_name(a->dtype), what, accepts);
        return 0;
    }
    /* Held once, in the run's element type: the array's own buffer when it
     * has that type, else a converted copy and the array freed. */
    const int want = f64 ? ELMAN_DTYPE_F64 : ELMAN_DTYPE_F32;
    if (a->dtype == want && a->data != NULL) {
        *buf = a->data;
        a->data = NULL;
        return 1;
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
            d[i] = (double)((const float *)a->data)[i]; /* float32 converts exactly */
    }
    free(a->data);
    a->data = NULL;
    return 1;
}


int read_lengths(const char *path, int batched, size_t B, size_t T, elman_array *arr,
                 int **len)
{
    char err[ELMAN_IO_ERROR_SIZE], s1[128];
    static const char accepts[] = "int32 or int64 ('<i4', '<i8')";
    if (elman_npy_read(path, arr, err, sizeof(err)) != ELMAN_OK) {
        if (!dtype_error(path, "--lengths", accepts, err))
            print_error("%s", err);
        return 0;
    }
    if (arr->dtype != ELMAN_DTYPE_I32 && arr->dtype != ELMAN_DTYPE_I64) {
        print_error("%s: dtype %s; --lengths takes %s (expected int32 or int64)", path,
                    npy_name(arr->dtype), accepts);
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

int check_input(const char *path, const char *option, cli_file *f)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd;
    do
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        print_error("%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 0;
    }
    close(fd);
    if (!S_ISREG(st.st_mode)) {
        print_error("%s: %s is a %s, not a regular file; elman reads only files", path, option,
                    S_ISDIR(st.st_mode)    ? "directory"
                    : S_ISFIFO(st.st_mode) ? "FIFO"
                    : S_ISCHR(st.st_mode)  ? "character device"
                    : S_ISBLK(st.st_mode)  ? "block device"
                                           : "socket");
        return 0;
    }
    f->path = path;
    f->option = option;
    f->dev = (unsigned long long)st.st_dev;
    f->ino = (unsigned long long)st.st_ino;
    return 1;
}

int read_onnx(const cli_args *a, const char *path, elman_onnx **m, elman_rnn_info *info)
{
    char err[ELMAN_IO_ERROR_SIZE];
    *m = NULL;
    const char *prefix = a->value[OPT_PREFIX];
    if (prefix != NULL && prefix[0] != '\0') {
        print_error("%s: --prefix names safetensors tensors; this is an ONNX model", path);
        return 0;
    }
    if (elman_onnx_read(path, m, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s", err); /* it names the file */
        return 0;
    }
    if (elman_rnn_info_from_onnx(*m, info, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s: %s", path, err);
        elman_onnx_free(*m);
        *m = NULL;
        return 0;
    }
    return 1;
}
