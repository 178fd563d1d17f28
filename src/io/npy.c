/*
 * .npy reader and writer (numpy's format, versions 1.0 to 3.0).
 *
 * Layout: "\x93NUMPY", major and minor version bytes, the header length
 * (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), then the header:
 * a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n', then the raw data.
 *
 * The header is a Python literal, not JSON, so it has its own small parser
 * here; it accepts exactly what numpy's own reader accepts for these dtypes
 * (a dict with the keys descr, fortran_order and shape, nothing else).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io_internal.h"

static const unsigned char MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* ---- header parser ---- */

typedef struct hdr_parser {
    const char *p, *end;
} hdr_parser;

static void skip_ws(hdr_parser *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int accept(hdr_parser *h, char c)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "...", no escapes needed for these keys and
 * values) into buf; 0 if there is none or it is too long. */
static int parse_string(hdr_parser *h, char *buf, size_t n)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return 0;
    const char q = *h->p++;
    size_t k = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || k + 1 >= n)
            return 0;
        buf[k++] = *h->p++;
    }
    if (h->p >= h->end)
        return 0;
    h->p++;
    buf[k] = '\0';
    return 1;
}

static int parse_word(hdr_parser *h, const char *w)
{
    skip_ws(h);
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
        h->p += n;
        return 1;
    }
    return 0;
}

/* A tuple of non-negative integers: (), (3,), (2, 3), (2, 3,). "(3)" is
 * the integer 3 in Python, not a tuple, and is refused as numpy does. */
static int parse_shape(hdr_parser *h, size_t *shape, int *ndim, int *too_many)
{
    if (!accept(h, '('))
        return 0;
    int k = 0, comma_end = 0;
    if (!accept(h, ')')) {
        for (;;) {
            skip_ws(h);
            if (h->p >= h->end || *h->p < '0' || *h->p > '9')
                return 0;
            size_t v = 0;
            while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
                size_t d = (size_t)(*h->p - '0');
                if (v > (SIZE_MAX - d) / 10)
                    return 0;
                v = v * 10 + d;
                h->p++;
            }
            if (h->p < h->end && *h->p == 'L') /* Python 2 longs */
                h->p++;
            if (k < ELMAN_MAX_DIMS)
                shape[k] = v;
            else
                *too_many = 1;
            k++;
            if (accept(h, ',')) {
                if (accept(h, ')')) {
                    comma_end = 1;
                    break;
                }
            } else if (accept(h, ')')) {
                break;
            } else {
                return 0;
            }
        }
    }
    if (k == 1 && !comma_end)
        return 0;
    *ndim = k;
    return 1;
}

typedef struct npy_header {
    char descr[32];
    int fortran;
    int ndim;
    size_t shape[ELMAN_MAX_DIMS];
} npy_header;

static int parse_header(const char *text, size_t len, npy_header *out, char *err,
                        size_t err_size)
{
    hdr_parser h = {text, text + len};
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0, too_many = 0;
    if (memchr(text, '\0', len) != NULL)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header contains a NUL byte");
    if (!accept(&h, '{'))
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header is not a dict");
    while (!accept(&h, '}')) {
        char key[32];
        if (!parse_string(&h, key, sizeof(key)) || !accept(&h, ':'))
            return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header is not a valid dict");
        if (strcmp(key, "descr") == 0 && !seen_descr++) {
            skip_ws(&h);
            if (h.p < h.end && *h.p == '[')
                return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                               "structured dtypes are not supported");
            if (!parse_string(&h, out->descr, sizeof(out->descr)))
                return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                               "the header's descr is not a dtype string");
        } else if (strcmp(key, "fortran_order") == 0 && !seen_fortran++) {
            if (parse_word(&h, "True"))
                out->fortran = 1;
            else if (parse_word(&h, "False"))
                out->fortran = 0;
            else
                return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                               "the header's fortran_order is not True or False");
        } else if (strcmp(key, "shape") == 0 && !seen_shape++) {
            if (!parse_shape(&h, out->shape, &out->ndim, &too_many))
                return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                               "the header's shape is not a tuple of non-negative integers");
        } else {
            char esc[64];
            return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                           "the header has an unexpected or repeated key '%s'",
                           io_escape(esc, sizeof(esc), key, strlen(key)));
        }
        if (!accept(&h, ',')) {
            if (!accept(&h, '}'))
                return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header is not a valid dict");
            break;
        }
    }
    skip_ws(&h);
    if (h.p != h.end)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header has text after its dict");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header lacks the key '%s'",
                       !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
    if (too_many)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "%d dimensions, at most %d are supported", out->ndim, ELMAN_MAX_DIMS);
    return ELMAN_OK;
}

static int dtype_from_descr(const char *d, int *dtype, char *err, size_t err_size)
{
    char esc[64];
    static const struct {
        const char *code;
        int dtype;
    } known[] = {{"f4", ELMAN_DTYPE_F32}, {"f8", ELMAN_DTYPE_F64},
                 {"i4", ELMAN_DTYPE_I32}, {"i8", ELMAN_DTYPE_I64}};
    const char order = d[0];
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (order != '\0' && strcmp(d + 1, known[i].code) == 0) {
            if (order == '<') {
                *dtype = known[i].dtype;
                return ELMAN_OK;
            }
            if (order == '>')
                return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                               "big-endian data ('%s') is not supported; save it little-endian",
                               io_escape(esc, sizeof(esc), d, strlen(d)));
            break;
        }
    return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                   "dtype '%s' is not supported (float32, float64, int32 or int64, "
                   "little-endian: '<f4', '<f8', '<i4', '<i8')",
                   io_escape(esc, sizeof(esc), d, strlen(d)));
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void elman_array_free(elman_array *a)
{
    if (a == NULL)
        return;
    free(a->data);
    memset(a, 0, sizeof(*a));
}

/* Where a .npy file's parts are and what its header says. */
typedef struct npy_layout {
    size_t pre, hlen; /* the header text is at pre, the data at pre + hlen */
    npy_header h;
    int dtype;
    size_t count, bytes;
} npy_layout;

/* Magic, version and header length, from the first n bytes b of a file of
 * `size` bytes (n = min(size, 12)). */
static int read_prefix(const unsigned char *b, size_t n, uint64_t size, npy_layout *l, char *err,
                       size_t err_size)
{
    if (n < 10 || memcmp(b, MAGIC, sizeof(MAGIC)) != 0) {
        const char *like = io_sniff(b, n);
        if (like == NULL && n >= 9 && b[8] == '{')
            like = "a safetensors file";
        if (like != NULL)
            return io_fail(err, err_size, ELMAN_ERR_FORMAT, "not a .npy file: this is %s", like);
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "not a .npy file (bad magic)");
    }
    const int major = b[6], minor = b[7];
    if (major == 1 && minor == 0) {
        l->pre = 10;
        l->hlen = io_le16(b + 8);
    } else if ((major == 2 || major == 3) && minor == 0) {
        l->pre = 12;
        if (n < l->pre)
            return io_fail(err, err_size, ELMAN_ERR_FORMAT, "truncated .npy header");
        l->hlen = (size_t)io_le32(b + 8); /* size_t has at least 32 bits here */
    } else {
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       ".npy format version %d.%d is not supported (1.0, 2.0, 3.0)", major,
                       minor);
    }
    if (l->hlen > size - l->pre)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "header length %zu exceeds the %llu bytes after it (truncated file?)",
                       l->hlen, (unsigned long long)(size - l->pre));
    return ELMAN_OK;
}

/* The header text (l->hlen bytes) and the data it implies, which must be
 * exactly the rest of the file's `size` bytes. */
static int read_dict(const char *text, uint64_t size, npy_layout *l, char *err, size_t err_size)
{
    npy_header *h = &l->h;
    memset(h, 0, sizeof(*h));
    int rc = parse_header(text, l->hlen, h, err, err_size);
    if (rc == ELMAN_OK)
        rc = dtype_from_descr(h->descr, &l->dtype, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    size_t big = 0;
    l->count = 1;
    for (int i = 0; i < h->ndim; i++) {
        if (!elman_mul_size(l->count, h->shape[i], &l->count))
            return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header's shape is too large");
        big += h->shape[i] > 1;
    }
    /* Fortran order is the same memory as C order when at most one
     * dimension exceeds 1; anything else would need a transpose. */
    if (h->fortran && big > 1)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "Fortran-order arrays are not supported; save a C-order array "
                       "(numpy.ascontiguousarray)");
    char shp[128];
    io_shape_str(shp, sizeof(shp), h->shape, h->ndim);
    if (!elman_mul_size(l->count, elman_dtype_size(l->dtype), &l->bytes))
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header's shape %s is too large",
                       shp);
    const uint64_t have = size - l->pre - l->hlen;
    if ((uint64_t)l->bytes != have)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "the header's shape %s of '%s' needs %zu data bytes, the file holds %llu%s",
                       shp, h->descr, l->bytes, (unsigned long long)have,
                       l->bytes > have ? " (truncated file?)" : "");
    return ELMAN_OK;
}

/* Hands the data (little-endian in the file) to out in the machine's
 * byte order. */
static void fill(const npy_layout *l, unsigned char *data, elman_array *out)
{
    const size_t es = elman_dtype_size(l->dtype);
    if (!host_is_little_endian())
        for (size_t i = 0; i < l->count; i++)
            for (size_t k = 0; k < es / 2; k++) {
                unsigned char t = data[i * es + k];
                data[i * es + k] = data[i * es + es - 1 - k];
                data[i * es + es - 1 - k] = t;
            }
    out->dtype = l->dtype;
    out->ndim = l->h.ndim;
    memcpy(out->shape, l->h.shape, sizeof(out->shape));
    out->count = l->count;
    out->data = data;
}

int elman_npy_parse(const void *data, size_t size, elman_array *out, char *err, size_t err_size)
{
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (out == NULL || (data == NULL && size != 0))
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    const unsigned char *b = data;
    npy_layout l;
    int rc = read_prefix(b, size < 12 ? size : 12, size, &l, err, err_size);
    if (rc == ELMAN_OK)
        rc = read_dict((const char *)b + l.pre, size, &l, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    unsigned char *buf = NULL;
    if (l.count > 0) {
        buf = malloc(l.bytes);
        if (buf == NULL)
            return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
        memcpy(buf, b + l.pre + l.hlen, l.bytes);
    }
    fill(&l, buf, out);
    io_ok(err, err_size);
    return ELMAN_OK;
}

/* Reads the open regular file fd of `size` bytes: the header, then the
 * data straight into the array (no copy of the file is held). */
static int read_open_file(int fd, uint64_t size, elman_array *out, char *err, size_t err_size)
{
    unsigned char head[12];
    const size_t n = size < sizeof(head) ? (size_t)size : sizeof(head);
    npy_layout l;
    int rc = io_pread_full(fd, head, n, 0, err, err_size);
    if (rc == ELMAN_OK)
        rc = read_prefix(head, n, size, &l, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    char *text = malloc(l.hlen ? l.hlen : 1);
    if (text == NULL)
        return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    rc = io_pread_full(fd, text, l.hlen, l.pre, err, err_size);
    if (rc == ELMAN_OK)
        rc = read_dict(text, size, &l, err, err_size);
    free(text);
    if (rc != ELMAN_OK)
        return rc;
    unsigned char *buf = NULL;
    if (l.count > 0) {
        buf = malloc(l.bytes);
        if (buf == NULL)
            return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
        rc = io_pread_full(fd, buf, l.bytes, l.pre + l.hlen, err, err_size);
        if (rc != ELMAN_OK) {
            free(buf);
            return rc;
        }
    }
    fill(&l, buf, out);
    return ELMAN_OK;
}

int elman_npy_read(const char *path, elman_array *out, char *err, size_t err_size)
{
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (path == NULL || out == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    int fd;
    uint64_t size;
    int rc = io_open_regular(path, &fd, &size, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    rc = read_open_file(fd, size, out, err, err_size);
    close(fd);
    if (rc != ELMAN_OK)
        return io_context(err, err_size, rc, path);
    io_ok(err, err_size);
    return ELMAN_OK;
}

int elman_array_to_float(const elman_array *a, float *out, char *err, size_t err_size)
{
    if (a == NULL || (out == NULL && a->count > 0) || (a->data == NULL && a->count > 0))
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    if (a->dtype == ELMAN_DTYPE_F32) {
        if (a->count > 0)
            memcpy(out, a->data, a->count * sizeof(float));
    } else if (a->dtype == ELMAN_DTYPE_F64) {
        const double *d = a->data;
        for (size_t i = 0; i < a->count; i++)
            out[i] = (float)d[i];
    } else {
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "dtype %s is not floating-point (float32 or float64 expected)",
                       elman_dtype_name(a->dtype));
    }
    io_ok(err, err_size);
    return ELMAN_OK;
}

/* ---- writer ---- */

/* Opens a new file next to path, under a name no other file has ("x":
 * fails rather than reuse an existing file). */
static FILE *open_temp(const char *path, char *tmp, size_t n)
{
    unsigned long salt = (unsigned long)time(NULL) ^ (unsigned long)clock() ^
                         (unsigned long)(uintptr_t)tmp;
    for (unsigned i = 0; i < 100; i++) {
        if ((size_t)snprintf(tmp, n, "%s.tmp-%06lx-%u", path, salt & 0xffffff, i) >= n) {
            errno = ENAMETOOLONG;
            return NULL;
        }
        errno = 0;
        FILE *f = fopen(tmp, "wbx");
        if (f != NULL || errno != EEXIST)
            return f;
    }
    return NULL;
}

static void store_le(unsigned char *p, const unsigned char *v, size_t es, int little)
{
    for (size_t k = 0; k < es; k++)
        p[k] = little ? v[k] : v[es - 1 - k];
}

int elman_npy_write(const char *path, int dtype, int ndim, const size_t *shape,
                    const void *data, char *err, size_t err_size)
{
    char esc[256];
    if (path == NULL || (shape == NULL && ndim > 0))
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    io_escape(esc, sizeof(esc), path, strlen(path));
    static const char *const descr[] = {[ELMAN_DTYPE_F32] = "f4", [ELMAN_DTYPE_F64] = "f8",
                                         [ELMAN_DTYPE_I32] = "i4", [ELMAN_DTYPE_I64] = "i8"};
    if (dtype != ELMAN_DTYPE_F32 && dtype != ELMAN_DTYPE_F64 && dtype != ELMAN_DTYPE_I32 &&
        dtype != ELMAN_DTYPE_I64)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "%s: only float32, float64, int32 and int64 arrays can be written", esc);
    if (ndim < 0 || ndim > ELMAN_MAX_DIMS)
        return io_fail(err, err_size, ELMAN_ERR_INVALID_SIZE, "%s: %d dimensions", esc, ndim);
    const size_t es = elman_dtype_size(dtype);
    size_t count = 1, bytes;
    for (int i = 0; i < ndim; i++)
        if (!elman_mul_size(count, shape[i], &count))
            return io_fail(err, err_size, ELMAN_ERR_SIZE_OVERFLOW, "%s: shape too large", esc);
    if (!elman_mul_size(count, es, &bytes))
        return io_fail(err, err_size, ELMAN_ERR_SIZE_OVERFLOW, "%s: shape too large", esc);
    if (data == NULL && count > 0)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");

    /* The header, padded with spaces so that the data starts at a multiple
     * of 64 bytes, as numpy writes it. */
    char dict[512];
    int len = snprintf(dict, sizeof(dict), "{'descr': '<%s', 'fortran_order': False, 'shape': (",
                       descr[dtype]);
    for (int i = 0; i < ndim; i++)
        len += snprintf(dict + len, sizeof(dict) - (size_t)len, i ? ", %zu" : "%zu", shape[i]);
    len += snprintf(dict + len, sizeof(dict) - (size_t)len, "%s), }", ndim == 1 ? "," : "");
    size_t pre = 10, hlen = (size_t)len + 1; /* + '\n' */
    hlen += (64 - (pre + hlen) % 64) % 64;
    unsigned char head[10 + 512 + 64];
    memcpy(head, MAGIC, sizeof(MAGIC));
    head[6] = 1;
    head[7] = 0;
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + pre, dict, (size_t)len);
    memset(head + pre + (size_t)len, ' ', hlen - (size_t)len - 1);
    head[pre + hlen - 1] = '\n';

    char tmp[4096 + 64];
    FILE *f = open_temp(path, tmp, sizeof(tmp));
    if (f == NULL)
        return io_fail(err, err_size, ELMAN_ERR_IO, "%s: cannot create a file there: %s", esc,
                       strerror(errno));
    int ok = fwrite(head, 1, pre + hlen, f) == pre + hlen;
    const int little = host_is_little_endian();
    const unsigned char *src = data;
    unsigned char chunk[1 << 14];
    for (size_t i = 0; ok && i < bytes;) {
        size_t n = bytes - i < sizeof(chunk) ? bytes - i : sizeof(chunk);
        for (size_t k = 0; k < n; k += es)
            store_le(chunk + k, src + i + k, es, little);
        ok = fwrite(chunk, 1, n, f) == n;
        i += n;
    }
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        saved = errno;
        remove(tmp);
        return io_fail(err, err_size, ELMAN_ERR_IO, "%s: cannot write: %s", esc,
                       strerror(saved));
    }
    if (!ok) {
        remove(tmp);
        return io_fail(err, err_size, ELMAN_ERR_IO, "%s: cannot write: %s", esc,
                       saved ? strerror(saved) : "write error");
    }
    io_ok(err, err_size);
    return ELMAN_OK;
}
