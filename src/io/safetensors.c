/*
 * safetensors reader.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON (an
 * object mapping tensor names to {dtype, shape, data_offsets} plus an
 * optional "__metadata__" map of strings, possibly padded with spaces),
 * then the data; data_offsets are relative to the start of the data.
 *
 * The file is treated as hostile: every number is checked before it is
 * used, and the rules are those of the reference implementation (header at
 * most 100 MB and starting with '{', names unique, byte ranges exactly
 * shape x dtype size, covering the data with no gap, overlap or trailing
 * byte). Floating-point tensors are converted to double once, here, so
 * that every later consumer (float32 today, float64 later) reads the same
 * exact values.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "io_internal.h"

#define MAX_HEADER ((uint64_t)100000000)
/* Largest integer a JSON number (a double in cJSON) holds exactly. */
#define MAX_EXACT 9007199254740992.0

typedef struct st_entry {
    elman_tensor t; /* t.name and t.data owned */
    uint64_t begin, end;
    _Atomic(double *) values; /* elman_safetensors_values() of a read file */
} st_entry;

typedef struct st_meta {
    char *key, *value;
} st_meta;

struct elman_safetensors {
    size_t count;
    st_entry *entries; /* sorted by name */
    size_t meta_count;
    st_meta *meta; /* sorted by key */
    /* Where the data is: a copy (parsed from memory) or the open file. */
    unsigned char *mem;
    int fd;              /* -1 if none */
    uint64_t data_start; /* offset of the data in the file */
};

void elman_safetensors_free(elman_safetensors *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->count; i++) {
        free((char *)st->entries[i].t.name);
        free((double *)st->entries[i].t.data);
        free(atomic_load(&st->entries[i].values));
    }
    for (size_t i = 0; i < st->meta_count; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->entries);
    free(st->meta);
    free(st->mem);
    if (st->fd >= 0)
        close(st->fd);
    free(st);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* A JSON number that is an exact non-negative integer, into *out. */
static int json_uint(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double v = item->valuedouble;
    if (!(v >= 0.0 && v <= MAX_EXACT) || floor(v) != v)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* The child of obj called key, or NULL; *dups is set if it occurs twice. */
static const cJSON *member(const cJSON *obj, const char *key, int *dups)
{
    const cJSON *found = NULL, *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (it->string != NULL && strcmp(it->string, key) == 0) {
            if (found != NULL)
                *dups = 1;
            else
                found = it;
        }
    }
    return found;
}

typedef struct parse_ctx {
    char *err;
    size_t err_size;
    char name[160]; /* escaped name of the entry being parsed */
} parse_ctx;

static int fail_entry(parse_ctx *c, int status, const char *what)
{
    return io_fail(c->err, c->err_size, status, "tensor \"%s\": %s", c->name, what);
}

static int parse_metadata(parse_ctx *c, const cJSON *obj, elman_safetensors *st)
{
    if (!cJSON_IsObject(obj))
        return io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT,
                       "__metadata__ is not an object of strings");
    size_t n = (size_t)cJSON_GetArraySize(obj);
    st->meta = calloc(n ? n : 1, sizeof(*st->meta));
    if (st->meta == NULL)
        return io_fail(c->err, c->err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        char esc[160];
        const char *k = it->string != NULL ? it->string : "";
        if (!cJSON_IsString(it) || it->valuestring == NULL)
            return io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT,
                           "__metadata__ value of \"%s\" is not a string",
                           io_escape(esc, sizeof(esc), k, strlen(k)));
        st_meta *m = &st->meta[st->meta_count];
        m->key = dup_str(k);
        m->value = dup_str(it->valuestring);
        st->meta_count++;
        if (m->key == NULL || m->value == NULL)
            return io_fail(c->err, c->err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    }
    return ELMAN_OK;
}

/* Parses one tensor entry into e (name already set). data_size is the
 * number of bytes after the header. */
static int parse_entry(parse_ctx *c, const cJSON *obj, uint64_t data_size, st_entry *e)
{
    if (!cJSON_IsObject(obj))
        return fail_entry(c, ELMAN_ERR_FORMAT, "entry is not an object");
    int dups = 0;
    const cJSON *dtype = member(obj, "dtype", &dups);
    const cJSON *shape = member(obj, "shape", &dups);
    const cJSON *offs = member(obj, "data_offsets", &dups);
    if (dups)
        return fail_entry(c, ELMAN_ERR_FORMAT, "a key occurs twice in its entry");
    if (dtype == NULL || shape == NULL || offs == NULL)
        return fail_entry(c, ELMAN_ERR_FORMAT,
                          dtype == NULL   ? "no \"dtype\""
                          : shape == NULL ? "no \"shape\""
                                          : "no \"data_offsets\"");
    if (!cJSON_IsString(dtype) || dtype->valuestring == NULL)
        return fail_entry(c, ELMAN_ERR_FORMAT, "\"dtype\" is not a string");
    e->t.dtype = io_dtype_from_name(dtype->valuestring);
    if (e->t.dtype < 0) {
        char esc[64], msg[128];
        snprintf(msg, sizeof(msg), "unknown dtype \"%s\"",
                 io_escape(esc, sizeof(esc), dtype->valuestring, strlen(dtype->valuestring)));
        return fail_entry(c, ELMAN_ERR_UNSUPPORTED, msg);
    }

    if (!cJSON_IsArray(shape))
        return fail_entry(c, ELMAN_ERR_FORMAT, "\"shape\" is not an array");
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > ELMAN_MAX_DIMS) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%d dimensions, at most %d are supported", ndim,
                 ELMAN_MAX_DIMS);
        return fail_entry(c, ELMAN_ERR_UNSUPPORTED, msg);
    }
    e->t.ndim = ndim;
    size_t count = 1;
    int k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, shape)
    {
        uint64_t d;
        if (!json_uint(it, &d))
            return fail_entry(c, ELMAN_ERR_FORMAT,
                              "\"shape\" holds something other than a non-negative integer");
        if (d > (uint64_t)SIZE_MAX || !elman_mul_size(count, (size_t)d, &count))
            return fail_entry(c, ELMAN_ERR_FORMAT, "\"shape\" is too large");
        e->t.shape[k++] = (size_t)d;
    }
    e->t.count = count;

    uint64_t b, en;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !json_uint(offs->child, &b) ||
        !json_uint(offs->child->next, &en))
        return fail_entry(c, ELMAN_ERR_FORMAT,
                          "\"data_offsets\" is not a pair of non-negative integers");
    char msg[240], shp[96];
    if (b > en || en > data_size) {
        snprintf(msg, sizeof(msg), "data_offsets [%llu, %llu] out of range of the %llu data bytes",
                 (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_size);
        return fail_entry(c, ELMAN_ERR_FORMAT, msg);
    }
    size_t bytes;
    if (!elman_mul_size(count, elman_dtype_size(e->t.dtype), &bytes))
        return fail_entry(c, ELMAN_ERR_FORMAT, "\"shape\" is too large");
    if ((uint64_t)bytes != en - b) {
        snprintf(msg, sizeof(msg),
                 "data_offsets [%llu, %llu] hold %llu bytes, but shape %s of %s needs %zu",
                 (unsigned long long)b, (unsigned long long)en, (unsigned long long)(en - b),
                 io_shape_str(shp, sizeof(shp), e->t.shape, e->t.ndim), elman_dtype_name(e->t.dtype), bytes);
        return fail_entry(c, ELMAN_ERR_FORMAT, msg);
    }
    e->begin = b;
    e->end = en;
    return ELMAN_OK;
}

static int cmp_entry_name(const void *a, const void *b)
{
    return strcmp(((const st_entry *)a)->t.name, ((const st_entry *)b)->t.name);
}

static int cmp_meta_key(const void *a, const void *b)
{
    return strcmp(((const st_meta *)a)->key, ((const st_meta *)b)->key);
}

static int cmp_entry_offset(const void *a, const void *b)
{
    const st_entry *x = *(const st_entry *const *)a, *y = *(const st_entry *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* The byte ranges must tile [0, data_size) exactly. */
static int check_coverage(parse_ctx *c, elman_safetensors *st, uint64_t data_size)
{
    const st_entry **order = malloc((st->count ? st->count : 1) * sizeof(*order));
    if (order == NULL)
        return io_fail(c->err, c->err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < st->count; i++)
        order[i] = &st->entries[i];
    if (st->count > 1)
        qsort(order, st->count, sizeof(*order), cmp_entry_offset);
    uint64_t pos = 0;
    const st_entry *prev = NULL;
    int rc = ELMAN_OK;
    for (size_t i = 0; i < st->count && rc == ELMAN_OK; i++) {
        const st_entry *e = order[i];
        char a[120], b[120];
        if (e->begin < pos) {
            rc = io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT,
                         "tensors \"%s\" and \"%s\" overlap (data_offsets [%llu, %llu] and "
                         "[%llu, %llu])",
                         io_escape(a, sizeof(a), prev->t.name, strlen(prev->t.name)),
                         io_escape(b, sizeof(b), e->t.name, strlen(e->t.name)),
                         (unsigned long long)prev->begin, (unsigned long long)prev->end,
                         (unsigned long long)e->begin, (unsigned long long)e->end);
        } else if (e->begin > pos) {
            rc = io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT,
                         "data bytes [%llu, %llu) belong to no tensor (a gap before \"%s\")",
                         (unsigned long long)pos, (unsigned long long)e->begin,
                         io_escape(b, sizeof(b), e->t.name, strlen(e->t.name)));
        }
        if (e->end > pos || prev == NULL) {
            pos = e->end;
            prev = e;
        }
    }
    if (rc == ELMAN_OK && pos != data_size)
        rc = io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT,
                     "%llu data bytes after the last tensor belong to no tensor",
                     (unsigned long long)(data_size - pos));
    free(order);
    return rc;
}

/* Fills every floating-point tensor's data (elman_safetensors_parse). */
static int convert(parse_ctx *c, elman_safetensors *st)
{
    for (size_t i = 0; i < st->count; i++) {
        st_entry *e = &st->entries[i];
        if (!io_dtype_is_real(e->t.dtype) || e->t.count == 0)
            continue;
        size_t bytes;
        if (!elman_mul_size(e->t.count, sizeof(double), &bytes))
            return io_fail(c->err, c->err_size, ELMAN_ERR_SIZE_OVERFLOW, "tensor too large");
        double *d = malloc(bytes);
        if (d == NULL)
            return io_fail(c->err, c->err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
        const size_t es = elman_dtype_size(e->t.dtype);
        const unsigned char *p = st->mem + e->begin;
        for (size_t j = 0; j < e->t.count; j++)
            d[j] = io_load_real(e->t.dtype, p + j * es);
        e->t.data = d;
    }
    return ELMAN_OK;
}

static int parse_header(parse_ctx *c, const cJSON *root, uint64_t data_size,
                        elman_safetensors *st)
{
    if (!cJSON_IsObject(root))
        return io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT, "the header is not a JSON object");
    size_t n = (size_t)cJSON_GetArraySize(root);
    st->entries = calloc(n ? n : 1, sizeof(*st->entries));
    if (st->entries == NULL)
        return io_fail(c->err, c->err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    int seen_meta = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        const char *name = it->string != NULL ? it->string : "";
        if (strcmp(name, "__metadata__") == 0) {
            if (seen_meta++)
                return io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT,
                               "__metadata__ occurs twice");
            int rc = parse_metadata(c, it, st);
            if (rc != ELMAN_OK)
                return rc;
            continue;
        }
        io_escape(c->name, sizeof(c->name), name, strlen(name));
        st_entry *e = &st->entries[st->count];
        e->t.name = dup_str(name);
        if (e->t.name == NULL)
            return io_fail(c->err, c->err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
        st->count++;
        int rc = parse_entry(c, it, data_size, e);
        if (rc != ELMAN_OK)
            return rc;
    }

    if (st->count > 1)
        qsort(st->entries, st->count, sizeof(*st->entries), cmp_entry_name);
    for (size_t i = 1; i < st->count; i++)
        if (strcmp(st->entries[i - 1].t.name, st->entries[i].t.name) == 0) {
            const char *nm = st->entries[i].t.name;
            return io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT,
                           "tensor \"%s\" occurs twice in the header",
                           io_escape(c->name, sizeof(c->name), nm, strlen(nm)));
        }
    if (st->meta_count > 1)
        qsort(st->meta, st->meta_count, sizeof(*st->meta), cmp_meta_key);
    for (size_t i = 1; i < st->meta_count; i++)
        if (strcmp(st->meta[i - 1].key, st->meta[i].key) == 0) {
            const char *k = st->meta[i].key;
            return io_fail(c->err, c->err_size, ELMAN_ERR_FORMAT,
                           "__metadata__ key \"%s\" occurs twice",
                           io_escape(c->name, sizeof(c->name), k, strlen(k)));
        }
    return check_coverage(c, st, data_size);
}

/* Length of the UTF-8 sequence at p (at most n bytes), 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    const unsigned c = p[0];
    size_t len;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A number token at p (end e) must be a plain non-negative integer of at
 * most 2^53: every number of a safetensors header is a shape entry or an
 * offset. `key` is the key the number belongs to. */
static int check_number(const char *p, const char *e, size_t at, const char *key, char *err,
                        size_t err_size)
{
    const char *q = p;
    while (q < e && *q >= '0' && *q <= '9')
        q++;
    size_t len = (size_t)(q - p);
    while (q < e && (*q == '-' || *q == '+' || *q == '.' || *q == 'e' || *q == 'E' ||
                     (*q >= '0' && *q <= '9')))
        q++;
    char text[40], esc[48];
    io_escape(text, sizeof(text), p, (size_t)(q - p));
    const char *what = strcmp(key, "shape") == 0          ? "shape entry"
                       : strcmp(key, "data_offsets") == 0 ? "data_offsets entry"
                                                          : "number";
    if (len == 0 || q != p + len)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "%s %s at byte %zu of the header is not a JSON integer (shapes and "
                       "data_offsets hold integers, without '.', exponent or sign)",
                       what, text, at);
    /* 2^53 = 9007199254740992 has 16 digits; a leading zero is no JSON. */
    if (len > 16 || (len == 16 && memcmp(p, "9007199254740992", 16) > 0)) {
        snprintf(esc, sizeof(esc), "%s", text);
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "%s %s exceeds 2^53 (9007199254740992), the largest integer a "
                       "safetensors header holds exactly",
                       what, esc);
    }
    return ELMAN_OK;
}

/* Scans the JSON text of the header before cJSON sees it: it must be
 * UTF-8, and no string may hold the escape \u0000 (cJSON would decode it
 * into a C string that ends early: "weight_ih_l0\u0000junk" would read as
 * weight_ih_l0). Numbers are checked by check_number(). */
static int check_header_text(const char *h, size_t n, char *err, size_t err_size)
{
    const unsigned char *u = (const unsigned char *)h;
    char key[16] = "", last[16] = "";
    size_t klen = 0;
    int in_str = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(u + i, n - i);
        if (len == 0)
            return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                           "the header is not valid UTF-8 (byte %zu): tensor names and "
                           "metadata must be UTF-8",
                           i);
        if (in_str) {
            if (h[i] == '"') {
                in_str = 0;
                memcpy(last, key, sizeof(key));
            } else if (h[i] == '\\' && i + 1 < n) {
                if (h[i + 1] == 'u' && n - i >= 6 && memcmp(h + i + 2, "0000", 4) == 0)
                    return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                                   "a string of the header holds \\u0000 (byte %zu): tensor "
                                   "names and metadata may not contain NUL characters",
                                   i);
                len = 2;
            } else if (klen + 1 < sizeof(key)) {
                key[klen++] = h[i];
                key[klen] = '\0';
            }
        } else if (h[i] == '"') {
            in_str = 1;
            klen = 0;
            key[0] = '\0';
        } else if (h[i] == '-' || (h[i] >= '0' && h[i] <= '9')) {
            const char *p = h + i;
            int rc = check_number(p, h + n, i, last, err, err_size);
            if (rc != ELMAN_OK)
                return rc;
            while (i < n && h[i] >= '0' && h[i] <= '9')
                i++;
            continue;
        }
        i += len;
    }
    return ELMAN_OK;
}

/* Checks the 8-byte header length n of a file of `size` bytes whose first
 * bytes are start[0 .. start_n) (at least min(size, 9) of them). */
static int check_length(const unsigned char *start, size_t start_n, uint64_t size, uint64_t *n,
                        char *err, size_t err_size)
{
    if (size < 8)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "%llu bytes: too short for a safetensors file (8-byte header length)",
                       (unsigned long long)size);
    *n = io_le64(start);
    const int brace = start_n > 8 && start[8] == '{';
    if (*n > MAX_HEADER || *n > size - 8 || *n < 2 || !brace) {
        const char *like = io_sniff(start, start_n);
        if (like != NULL)
            return io_fail(err, err_size, ELMAN_ERR_FORMAT, "not a safetensors file: this is %s",
                           like);
    }
    if (*n > MAX_HEADER)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "header length %llu is absurd (more than %llu bytes; not a safetensors "
                       "file?)",
                       (unsigned long long)*n, (unsigned long long)MAX_HEADER);
    if (*n > size - 8)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "header length %llu exceeds the %llu bytes after it (truncated file?)",
                       (unsigned long long)*n, (unsigned long long)(size - 8));
    if (*n < 2 || !brace)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "the header does not start with '{' (not a safetensors file?)");
    return ELMAN_OK;
}

/* Parses the n bytes of header text of a file with data_size bytes of
 * data into a new *out (nothing converted, no data source yet). */
static int parse_text(const char *hdr, size_t n, uint64_t data_size, elman_safetensors **out,
                      char *err, size_t err_size)
{
    if (memchr(hdr, '\0', n) != NULL)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "the header contains a NUL byte");
    int rc = check_header_text(hdr, n, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, n, &end, 0);
    if (root == NULL) {
        size_t at = end != NULL && end >= hdr && end <= hdr + n ? (size_t)(end - hdr) : 0;
        return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                       "the header is not valid JSON (error at byte %zu of %zu)", at, n);
    }
    for (const char *p = end; p < hdr + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return io_fail(err, err_size, ELMAN_ERR_FORMAT,
                           "the header has bytes after its JSON object (at byte %zu)",
                           (size_t)(p - hdr));
        }
    elman_safetensors *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        cJSON_Delete(root);
        return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    }
    st->fd = -1;
    parse_ctx c = {err, err_size, ""};
    rc = parse_header(&c, root, data_size, st);
    cJSON_Delete(root);
    if (rc != ELMAN_OK) {
        elman_safetensors_free(st);
        return rc;
    }
    *out = st;
    return ELMAN_OK;
}

int elman_safetensors_parse(const void *data, size_t size, elman_safetensors **out, char *err,
                            size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || (data == NULL && size != 0))
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    const unsigned char *bytes = data;
    uint64_t n;
    int rc = check_length(bytes, size, size, &n, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    elman_safetensors *st;
    rc = parse_text((const char *)bytes + 8, (size_t)n, size - 8 - n, &st, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    /* The caller's bytes are not kept: copy the data, convert it. */
    const size_t data_size = size - 8 - (size_t)n;
    st->mem = malloc(data_size ? data_size : 1);
    if (st->mem != NULL)
        memcpy(st->mem, bytes + 8 + n, data_size);
    parse_ctx c = {err, err_size, ""};
    rc = st->mem == NULL ? io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory")
                         : convert(&c, st);
    if (rc != ELMAN_OK) {
        elman_safetensors_free(st);
        return rc;
    }
    io_ok(err, err_size);
    *out = st;
    return ELMAN_OK;
}

/* Reads the header of the open regular file fd (size bytes) and keeps fd
 * as the source of the tensors' data. */
static int read_open_file(int fd, uint64_t size, elman_safetensors **out, char *err,
                          size_t err_size)
{
    unsigned char start[64];
    const size_t k = size < sizeof(start) ? (size_t)size : sizeof(start);
    int rc = io_pread_full(fd, start, k, 0, err, err_size);
    uint64_t n = 0;
    if (rc == ELMAN_OK)
        rc = check_length(start, k, size, &n, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    char *hdr = malloc((size_t)n);
    if (hdr == NULL)
        return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    rc = io_pread_full(fd, hdr, (size_t)n, 8, err, err_size);
    if (rc == ELMAN_OK)
        rc = parse_text(hdr, (size_t)n, size - 8 - n, out, err, err_size);
    free(hdr);
    if (rc == ELMAN_OK) {
        (*out)->fd = fd;
        (*out)->data_start = 8 + n;
    }
    return rc;
}

int elman_safetensors_read(const char *path, elman_safetensors **out, char *err,
                           size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    uint64_t size;
    int fd;
    int rc = io_open_regular(path, &fd, &size, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    rc = read_open_file(fd, size, out, err, err_size);
    if (rc != ELMAN_OK) {
        close(fd);
        return io_context(err, err_size, rc, path);
    }
    io_ok(err, err_size);
    return ELMAN_OK;
}

/* The entry of a tensor of st (t points into st->entries). */
static st_entry *entry_of(const elman_safetensors *st, const elman_tensor *t)
{
    for (size_t lo = 0, hi = st->count; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->entries[mid].t.name, t->name);
        if (c == 0)
            return &st->entries[mid].t == t ? &st->entries[mid] : NULL;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* n bytes of data at offset off (from the start of the data), from the
 * caller's copy or the file. */
static int data_bytes(const elman_safetensors *st, uint64_t off, unsigned char *buf, size_t n,
                      char *err, size_t err_size)
{
    if (st->mem != NULL) {
        memcpy(buf, st->mem + off, n);
        return ELMAN_OK;
    }
    return io_pread_full(st->fd, buf, n, st->data_start + off, err, err_size);
}

int elman_safetensors_tensor_read(const elman_safetensors *st, const elman_tensor *t, int dtype,
                                  void *out, char *err, size_t err_size)
{
    if (st == NULL || t == NULL || (out == NULL && t->count > 0))
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    const st_entry *e = entry_of(st, t);
    if (e == NULL)
        return io_fail(err, err_size, ELMAN_ERR_INVALID_INDEX, "the tensor is not of this file");
    if (dtype != ELMAN_DTYPE_F32 && dtype != ELMAN_DTYPE_F64)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "values are converted to F32 or F64, not %s", elman_dtype_name(dtype));
    if (!io_dtype_is_real(t->dtype))
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "tensor of dtype %s: only F32, F64, F16 and BF16 tensors are converted",
                       elman_dtype_name(t->dtype));
    /* Chunks of whole elements, converted as they arrive: no copy of the
     * tensor's bytes is ever held. */
    unsigned char chunk[1 << 16];
    const size_t es = elman_dtype_size(t->dtype), per = sizeof(chunk) / es;
    for (size_t i = 0; i < t->count; i += per) {
        const size_t m = t->count - i < per ? t->count - i : per;
        int rc = data_bytes(st, e->begin + (uint64_t)i * es, chunk, m * es, err, err_size);
        if (rc != ELMAN_OK)
            return rc;
        for (size_t j = 0; j < m; j++) {
            const double v = io_load_real(t->dtype, chunk + j * es);
            if (dtype == ELMAN_DTYPE_F32)
                ((float *)out)[i + j] = (float)v;
            else
                ((double *)out)[i + j] = v;
        }
    }
    io_ok(err, err_size);
    return ELMAN_OK;
}

int elman_safetensors_values(const elman_safetensors *st, const elman_tensor *t,
                             const double **values, char *err, size_t err_size)
{
    if (values != NULL)
        *values = NULL;
    if (st == NULL || t == NULL || values == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    st_entry *e = entry_of(st, t);
    if (e == NULL)
        return io_fail(err, err_size, ELMAN_ERR_INVALID_INDEX, "the tensor is not of this file");
    if (t->data != NULL || t->count == 0) {
        *values = t->data;
        io_ok(err, err_size);
        return ELMAN_OK;
    }
    double *mine = atomic_load(&e->values);
    if (mine == NULL) {
        size_t bytes;
        if (!elman_mul_size(t->count, sizeof(double), &bytes))
            return io_fail(err, err_size, ELMAN_ERR_SIZE_OVERFLOW, "tensor too large");
        mine = malloc(bytes);
        if (mine == NULL)
            return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
        int rc = elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F64, mine, err, err_size);
        double *expected = NULL;
        if (rc != ELMAN_OK || !atomic_compare_exchange_strong(&e->values, &expected, mine)) {
            free(mine); /* failed, or another thread was first: use its copy */
            if (rc != ELMAN_OK)
                return rc;
            mine = expected;
        }
    }
    *values = mine;
    io_ok(err, err_size);
    return ELMAN_OK;
}

size_t elman_safetensors_count(const elman_safetensors *st)
{
    return st != NULL ? st->count : 0;
}

const elman_tensor *elman_safetensors_tensor(const elman_safetensors *st, size_t index)
{
    return st != NULL && index < st->count ? &st->entries[index].t : NULL;
}

const elman_tensor *elman_safetensors_find(const elman_safetensors *st, const char *name)
{
    if (st == NULL || name == NULL)
        return NULL;
    size_t lo = 0, hi = st->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->entries[mid].t.name, name);
        if (c == 0)
            return &st->entries[mid].t;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *elman_safetensors_metadata(const elman_safetensors *st, const char *key)
{
    if (st == NULL || key == NULL)
        return NULL;
    size_t lo = 0, hi = st->meta_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->meta[mid].key, key);
        if (c == 0)
            return st->meta[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t elman_safetensors_metadata_count(const elman_safetensors *st)
{
    return st != NULL ? st->meta_count : 0;
}

int elman_safetensors_metadata_entry(const elman_safetensors *st, size_t index, const char **key,
                                     const char **value)
{
    if (st == NULL || key == NULL || value == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    if (index >= st->meta_count)
        return ELMAN_ERR_INVALID_INDEX;
    *key = st->meta[index].key;
    *value = st->meta[index].value;
    return ELMAN_OK;
}
