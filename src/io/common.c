/* Shared helpers of elman_io: error messages, file reading, dtypes. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_internal.h"

int io_fail(char *err, size_t err_size, int status, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return status;
}

void io_ok(char *err, size_t err_size)
{
    if (err != NULL && err_size > 0)
        err[0] = '\0';
}

int io_context(char *err, size_t err_size, int status, const char *what)
{
    if (err == NULL || err_size == 0 || what == NULL)
        return status;
    char esc[256];
    io_escape(esc, sizeof(esc), what, strlen(what));
    size_t n = strlen(esc) + 2;
    if (n >= err_size) { /* only the start of "what: " fits */
        char head[sizeof(esc) + 2];
        memcpy(head, esc, n - 2);
        memcpy(head + n - 2, ": ", 2);
        memcpy(err, head, err_size - 1);
        err[err_size - 1] = '\0';
        return status;
    }
    size_t old = 0;
    while (old < err_size - 1 && err[old] != '\0')
        old++;
    /* Keep the message's start: shift it right, cutting its end. */
    size_t keep = old + n < err_size ? old : err_size - 1 - n;
    memmove(err + n, err, keep);
    err[n + keep] = '\0';
    memcpy(err, esc, n - 2);
    err[n - 2] = ':';
    err[n - 1] = ' ';
    return status;
}

const char *io_escape(char *buf, size_t n, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (n == 0)
        return buf;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[4];
        size_t k = 0;
        if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"') {
            tmp[k++] = '\\';
            if (c == '\\' || c == '"') {
                tmp[k++] = (char)c;
            } else {
                tmp[k++] = 'x';
                tmp[k++] = hex[c >> 4];
                tmp[k++] = hex[c & 15];
            }
        } else {
            tmp[k++] = (char)c;
        }
        if (o + k + 4 > n) { /* room for "..." and the NUL */
            if (n >= 4) {
                memcpy(buf + (o < n - 4 ? o : n - 4), "...", 4);
            } else {
                buf[0] = '\0';
            }
            return buf;
        }
        memcpy(buf + o, tmp, k);
        o += k;
    }
    buf[o] = '\0';
    return buf;
}

const char *io_shape_str(char *buf, size_t n, const size_t *shape, int ndim)
{
    size_t o = 0;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    o += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, i ? ", %zu" : "%zu", shape[i]);
    if (o < n)
        snprintf(buf + o, n - o, "]");
    return buf;
}

int io_open_regular(const char *path, int *fd, uint64_t *size, char *err, size_t err_size)
{
    char esc[256];
    io_escape(esc, sizeof(esc), path, strlen(path));
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is then
     * refused below like any file that is not regular. */
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0)
        return io_fail(err, err_size, ELMAN_ERR_IO, "%s: cannot open: %s", esc, strerror(errno));
    struct stat sb = {0};
    if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int rc = S_ISDIR(sb.st_mode)
                     ? io_fail(err, err_size, ELMAN_ERR_IO,
                               "%s: cannot read: is a directory, not a regular file", esc)
                     : io_fail(err, err_size, ELMAN_ERR_IO,
                               "%s: is not a regular file (a device, FIFO or socket), which "
                               "could be endless or change as it is read",
                               esc);
        close(*fd);
        *fd = -1;
        return rc;
    }
    *size = (uint64_t)sb.st_size;
    return ELMAN_OK;
}

int io_pread_full(int fd, void *buf, size_t n, uint64_t off, char *err, size_t err_size)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return io_fail(err, err_size, ELMAN_ERR_IO, "cannot read at byte %llu: %s",
                           (unsigned long long)off,
                           got < 0 ? strerror(errno) : "the file is shorter than it was");
        p += got;
        n -= (size_t)got;
        off += (uint64_t)got;
    }
    return ELMAN_OK;
}

int io_same_shape(const elman_config *a, const elman_config *b, char *err, size_t err_size)
{
    if (a->input_size != b->input_size || a->hidden_size != b->hidden_size ||
        a->num_layers != b->num_layers || a->bias != b->bias ||
        a->bidirectional != b->bidirectional)
        return io_fail(err, err_size, ELMAN_ERR_INVALID_CONFIG,
                       "the configuration (input_size %d, hidden_size %d, num_layers %d, bias "
                       "%d, bidirectional %d) does not match the file's (%d, %d, %d, %d, %d)",
                       a->input_size, a->hidden_size, a->num_layers, a->bias, a->bidirectional,
                       b->input_size, b->hidden_size, b->num_layers, b->bias, b->bidirectional);
    return ELMAN_OK;
}

int io_read_file(const char *path, unsigned char **data, size_t *size, char *err,
                 size_t err_size)
{
    int fd;
    uint64_t n;
    *data = NULL;
    *size = 0;
    int rc = io_open_regular(path, &fd, &n, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    unsigned char *buf = n < (uint64_t)SIZE_MAX ? malloc((size_t)n + 1) : NULL;
    if (buf == NULL) {
        close(fd);
        return io_context(err, err_size,
                          io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY,
                                  "cannot hold %llu bytes", (unsigned long long)n),
                          path);
    }
    rc = io_pread_full(fd, buf, (size_t)n, 0, err, err_size);
    close(fd);
    if (rc != ELMAN_OK) {
        free(buf);
        return io_context(err, err_size, rc, path);
    }
    *data = buf;
    *size = (size_t)n;
    return ELMAN_OK;
}

const char *io_sniff(const unsigned char *b, size_t n)
{
    static const unsigned char npy[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (n >= 6 && memcmp(b, npy, 6) == 0)
        return "a .npy array (numpy)";
    if (n >= 4 && memcmp(b, "PK\x03\x04", 4) == 0)
        return "a zip archive (torch.save() writes these): save the state_dict with "
               "tools/export_pytorch.py or safetensors.torch.save_file";
    if (n >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
        return "a Python pickle (torch.save() with the legacy format?): save the state_dict "
               "with tools/export_pytorch.py or safetensors.torch.save_file";
    /* An ONNX ModelProto starts with field 1 (ir_version, a small varint)
     * followed by another field of ModelProto: producer_name (2),
     * producer_version (3), domain (4), model_version (5), doc_string (6),
     * graph (7), opset_import (8). */
    if (n >= 3 && b[0] == 0x08 && b[1] >= 1 && b[1] < 0x40 &&
        (b[2] == 0x12 || b[2] == 0x1a || b[2] == 0x22 || b[2] == 0x28 || b[2] == 0x32 ||
         b[2] == 0x3a || b[2] == 0x42))
        return "an ONNX model (protobuf)";
    return NULL;
}

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [ELMAN_DTYPE_F32] = {"F32", 4},     [ELMAN_DTYPE_F64] = {"F64", 8},
    [ELMAN_DTYPE_F16] = {"F16", 2},     [ELMAN_DTYPE_BF16] = {"BF16", 2},
    [ELMAN_DTYPE_I32] = {"I32", 4},     [ELMAN_DTYPE_I64] = {"I64", 8},
    [ELMAN_DTYPE_I16] = {"I16", 2},     [ELMAN_DTYPE_I8] = {"I8", 1},
    [ELMAN_DTYPE_U8] = {"U8", 1},       [ELMAN_DTYPE_U16] = {"U16", 2},
    [ELMAN_DTYPE_U32] = {"U32", 4},     [ELMAN_DTYPE_U64] = {"U64", 8},
    [ELMAN_DTYPE_BOOL] = {"BOOL", 1},   [ELMAN_DTYPE_F8_E4M3] = {"F8_E4M3", 1},
    [ELMAN_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
};
#define N_DTYPES ((int)(sizeof(dtypes) / sizeof(dtypes[0])))

const char *elman_dtype_name(int dtype)
{
    return dtype >= 0 && dtype < N_DTYPES ? dtypes[dtype].name : "?";
}

size_t elman_dtype_size(int dtype)
{
    return dtype >= 0 && dtype < N_DTYPES ? dtypes[dtype].size : 0;
}

int io_dtype_from_name(const char *name)
{
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(dtypes[i].name, name) == 0)
            return i;
    return -1;
}

int io_dtype_is_real(int dtype)
{
    return dtype == ELMAN_DTYPE_F32 || dtype == ELMAN_DTYPE_F64 || dtype == ELMAN_DTYPE_F16 ||
           dtype == ELMAN_DTYPE_BF16;
}

static double half_to_double(uint16_t h)
{
    const int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp((double)man, -24);
    else if (exp == 31)
        v = man == 0 ? HUGE_VAL : NAN;
    else
        v = ldexp((double)(man | 0x400), exp - 25);
    return sign ? -v : v;
}

double io_load_real(int dtype, const unsigned char *p)
{
    switch (dtype) {
    case ELMAN_DTYPE_F32: {
        uint32_t u = io_le32(p);
        float f;
        memcpy(&f, &u, sizeof(f));
        return f;
    }
    case ELMAN_DTYPE_F64: {
        uint64_t u = io_le64(p);
        double d;
        memcpy(&d, &u, sizeof(d));
        return d;
    }
    case ELMAN_DTYPE_F16: return half_to_double(io_le16(p));
    case ELMAN_DTYPE_BF16: {
        /* bfloat16 is the top half of a float32. */
        uint32_t u = (uint32_t)io_le16(p) << 16;
        float f;
        memcpy(&f, &u, sizeof(f));
        return f;
    }
    default: return NAN;
    }
}
