/*
 * golden - loader for the PyTorch golden data in tests/data/golden/.
 * See golden.h and tests/gen_golden.py for the file format.
 */
#include "golden.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(float) == 4, "golden data needs 4-byte IEEE floats");
_Static_assert(sizeof(int) >= 4, "int must hold an int32");

#define GOLDEN_MAGIC "ELMANGLD"
#define GOLDEN_VERSION 1
#define GOLDEN_NHEADER 14
#define GOLDEN_HEADER_BYTES (8 + 4 * GOLDEN_NHEADER)
#define GOLDEN_MAX_FILE ((size_t)1 << 30) /* 1 GiB: far above any real case */
#define GOLDEN_MAX_DIM (1 << 24)

/* The float arrays are memcpy'd straight from the little-endian file. */
static int host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char b[sizeof one];
    memcpy(b, &one, sizeof one);
    return b[0] == 1;
}

/* Reads the whole file into a malloc'd buffer. */
static int read_file(const char *path, unsigned char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        fclose(f);
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= GOLDEN_MAX_FILE) {
                fprintf(stderr, "%s: file larger than %zu bytes\n", path, (size_t)GOLDEN_MAX_FILE);
                free(buf);
                fclose(f);
                return -1;
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                fprintf(stderr, "%s: out of memory\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                fprintf(stderr, "%s: read error\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            break; /* EOF */
        }
    }
    fclose(f);
    *data = buf;
    *size = n;
    return 0;
}

static int32_t le_i32(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    int32_t v;
    memcpy(&v, &u, sizeof v); /* two's complement reinterpretation, no UB */
    return v;
}

/* a * b with overflow check into *out; returns 0 on success. */
static int mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

static int mul3(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
    uint64_t t;
    return mul_ok(a, b, &t) || mul_ok(t, c, out) ? -1 : 0;
}

static int add_ok(uint64_t *acc, uint64_t v)
{
    if (*acc > UINT64_MAX - v)
        return -1;
    *acc += v;
    return 0;
}

/* Sequential reader over the in-memory file; sizes are pre-validated. */
typedef struct cursor {
    const unsigned char *p;
    size_t pos;
} cursor;

/* n reals of es bytes (4: float, 8: double). */
static void *take_reals(cursor *cur, size_t n, size_t es)
{
    void *a = malloc(n * es);
    if (!a)
        return NULL;
    memcpy(a, cur->p + cur->pos, n * es);
    cur->pos += n * es;
    return a;
}

static const char *base_name(const char *path)
{
    const char *b = path;
    for (const char *s = path; *s; s++)
        if (*s == '/' || *s == '\\')
            b = s + 1;
    return b;
}

void golden_free(golden_case *c)
{
    if (!c)
        return;
    int n = c->num_layers * (c->bidirectional ? 2 : 1);
    void **arrs[4] = {c->w_ih, c->w_hh, c->b_ih, c->b_hh};
    for (int k = 0; k < 4; k++) {
        if (!arrs[k])
            continue;
        for (int i = 0; i < n; i++)
            free(arrs[k][i]);
        free(arrs[k]);
    }
    free(c->x);
    free(c->lengths);
    free(c->h0);
    free(c->output);
    free(c->h_n);
    memset(c, 0, sizeof *c);
}

int golden_load(const char *path, golden_case *c)
{
    memset(c, 0, sizeof *c);
    if (!host_is_little_endian()) {
        fprintf(stderr, "golden_load: this loader assumes a little-endian host; refusing to load %s\n", path);
        return -1;
    }

    unsigned char *data = NULL;
    size_t size = 0;
    if (read_file(path, &data, &size) != 0)
        return -1;

    if (size < GOLDEN_HEADER_BYTES) {
        fprintf(stderr, "%s: truncated header (%zu bytes)\n", path, size);
        goto fail;
    }
    if (memcmp(data, GOLDEN_MAGIC, 8) != 0) {
        fprintf(stderr, "%s: bad magic, not an elman golden file\n", path);
        goto fail;
    }

    int32_t h[GOLDEN_NHEADER];
    for (int i = 0; i < GOLDEN_NHEADER; i++)
        h[i] = le_i32(data + 8 + 4 * i);
    const int32_t version = h[0], I = h[1], H = h[2], L = h[3], nl = h[4], bias = h[5], bf = h[6],
                  bi = h[7], B = h[8], T = h[9], unb = h[10], has_len = h[11], has_h0 = h[12],
                  dtype = h[13];

    if (version != GOLDEN_VERSION) {
        fprintf(stderr, "%s: unsupported version %d (expected %d)\n", path, (int)version, GOLDEN_VERSION);
        goto fail;
    }
    const int32_t dims[5] = {I, H, L, B, T};
    static const char *const dim_names[5] = {"input_size", "hidden_size", "num_layers", "batch", "seq_len"};
    for (int i = 0; i < 5; i++) {
        if (dims[i] <= 0 || dims[i] > GOLDEN_MAX_DIM) {
            fprintf(stderr, "%s: bad %s %d\n", path, dim_names[i], (int)dims[i]);
            goto fail;
        }
    }
    const int32_t flags[7] = {nl, bias, bf, bi, unb, has_len, has_h0};
    static const char *const flag_names[7] = {"nonlinearity", "bias", "batch_first", "bidirectional",
                                              "unbatched", "has_lengths", "has_h0"};
    for (int i = 0; i < 7; i++) {
        if (flags[i] != 0 && flags[i] != 1) {
            fprintf(stderr, "%s: bad %s %d (expected 0 or 1)\n", path, flag_names[i], (int)flags[i]);
            goto fail;
        }
    }
    if (dtype != 0 && dtype != 1) {
        fprintf(stderr, "%s: dtype header field is %d, expected 0 (float) or 1 (double)\n", path,
                (int)dtype);
        goto fail;
    }
    const uint64_t es = dtype == 1 ? 8 : 4;
    if (unb && (B != 1 || has_len)) {
        fprintf(stderr, "%s: unbatched case must have batch 1 and no lengths\n", path);
        goto fail;
    }

    /* Expected file length: reals after the header, plus int32 lengths. */
    const uint64_t D = bi ? 2 : 1;
    uint64_t n_elems = 0, t;
    int overflow = 0;
    for (uint64_t l = 0; l < (uint64_t)L; l++) {
        const uint64_t Il = l == 0 ? (uint64_t)I : D * (uint64_t)H;
        uint64_t per_dir = 0;
        overflow |= mul_ok((uint64_t)H, Il, &t) || add_ok(&per_dir, t);
        overflow |= mul_ok((uint64_t)H, (uint64_t)H, &t) || add_ok(&per_dir, t);
        if (bias)
            overflow |= add_ok(&per_dir, 2 * (uint64_t)H);
        overflow |= mul_ok(per_dir, D, &t) || add_ok(&n_elems, t);
        if (overflow)
            break;
    }
    uint64_t n_x = 0, n_state = 0, n_out = 0;
    overflow |= mul3((uint64_t)B, (uint64_t)T, (uint64_t)I, &n_x);
    overflow |= mul3((uint64_t)L * D, (uint64_t)B, (uint64_t)H, &n_state);
    overflow |= mul3((uint64_t)B, (uint64_t)T, D * (uint64_t)H, &n_out);
    overflow |= add_ok(&n_elems, n_x);
    if (has_h0)
        overflow |= add_ok(&n_elems, n_state);
    overflow |= add_ok(&n_elems, n_out);
    overflow |= add_ok(&n_elems, n_state);
    if (overflow || n_elems > (GOLDEN_MAX_FILE - GOLDEN_HEADER_BYTES) / 8) {
        fprintf(stderr, "%s: sizes in header are absurdly large\n", path);
        goto fail;
    }
    const uint64_t expected =
        GOLDEN_HEADER_BYTES + es * n_elems + (has_len ? 4 * (uint64_t)B : 0);
    if ((uint64_t)size != expected) {
        fprintf(stderr, "%s: file is %zu bytes, header implies %llu\n", path, size,
                (unsigned long long)expected);
        goto fail;
    }

    snprintf(c->name, sizeof c->name, "%s", base_name(path));
    c->input_size = I;
    c->hidden_size = H;
    c->num_layers = L;
    c->nonlinearity = nl;
    c->bias = bias;
    c->batch_first = bf;
    c->bidirectional = bi;
    c->batch = B;
    c->seq_len = T;
    c->unbatched = unb;
    c->dtype = dtype;

    const size_t nld = (size_t)L * (size_t)D;
    c->w_ih = calloc(nld, sizeof *c->w_ih);
    c->w_hh = calloc(nld, sizeof *c->w_hh);
    if (!c->w_ih || !c->w_hh)
        goto oom;
    if (bias) {
        c->b_ih = calloc(nld, sizeof *c->b_ih);
        c->b_hh = calloc(nld, sizeof *c->b_hh);
        if (!c->b_ih || !c->b_hh)
            goto oom;
    }

    cursor cur = {data, GOLDEN_HEADER_BYTES};
    for (size_t l = 0; l < (size_t)L; l++) {
        const size_t Il = l == 0 ? (size_t)I : (size_t)D * (size_t)H;
        for (size_t d = 0; d < (size_t)D; d++) {
            const size_t k = l * (size_t)D + d;
            if (!(c->w_ih[k] = take_reals(&cur, (size_t)H * Il, (size_t)es)))
                goto oom;
            if (!(c->w_hh[k] = take_reals(&cur, (size_t)H * (size_t)H, (size_t)es)))
                goto oom;
            if (bias) {
                if (!(c->b_ih[k] = take_reals(&cur, (size_t)H, (size_t)es)))
                    goto oom;
                if (!(c->b_hh[k] = take_reals(&cur, (size_t)H, (size_t)es)))
                    goto oom;
            }
        }
    }
    if (!(c->x = take_reals(&cur, (size_t)n_x, (size_t)es)))
        goto oom;
    if (has_len) {
        c->lengths = malloc((size_t)B * sizeof *c->lengths);
        if (!c->lengths)
            goto oom;
        for (int b = 0; b < B; b++) {
            const int32_t v = le_i32(data + cur.pos);
            cur.pos += 4;
            if (v < 1 || v > T) {
                fprintf(stderr, "%s: lengths[%d] = %d outside 1..%d\n", path, b, (int)v, (int)T);
                goto fail;
            }
            c->lengths[b] = (int)v;
        }
    }
    if (has_h0 && !(c->h0 = take_reals(&cur, (size_t)n_state, (size_t)es)))
        goto oom;
    if (!(c->output = take_reals(&cur, (size_t)n_out, (size_t)es)))
        goto oom;
    if (!(c->h_n = take_reals(&cur, (size_t)n_state, (size_t)es)))
        goto oom;
    if (cur.pos != size) { /* cannot happen: the length was checked above */
        fprintf(stderr, "%s: internal error, parsed %zu of %zu bytes\n", path, cur.pos, size);
        goto fail;
    }

    free(data);
    return 0;

oom:
    fprintf(stderr, "%s: out of memory\n", path);
fail:
    free(data);
    golden_free(c);
    return -1;
}

int golden_for_each(const char *dir, void (*fn)(const char *path, void *user), void *user)
{
    const size_t dlen = strlen(dir);
    char *index = malloc(dlen + sizeof "/index.txt");
    if (!index) {
        fprintf(stderr, "golden_for_each: out of memory\n");
        return -1;
    }
    memcpy(index, dir, dlen);
    memcpy(index + dlen, "/index.txt", sizeof "/index.txt");
    FILE *f = fopen(index, "r");
    if (!f) {
        perror(index);
        free(index);
        return -1;
    }

    int count = 0, rc = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "%s: line %d too long\n", index, count + 1);
            rc = -1;
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                         line[n - 1] == '\t'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        char *path = malloc(dlen + 1 + n + 1);
        if (!path) {
            fprintf(stderr, "golden_for_each: out of memory\n");
            rc = -1;
            break;
        }
        memcpy(path, dir, dlen);
        path[dlen] = '/';
        memcpy(path + dlen + 1, line, n + 1);
        fn(path, user);
        free(path);
        if (count == INT_MAX) {
            rc = -1;
            break;
        }
        count++;
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "%s: read error\n", index);
        rc = -1;
    }
    fclose(f);
    free(index);
    return rc == 0 ? count : -1;
}
