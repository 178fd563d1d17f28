/* The .npy reader and writer: every accepted dtype and version, round trips,
 * atomic writes, and a battery of malformed files with exact error codes. */
#define _POSIX_C_SOURCE 200809L /* fork, setrlimit */
#include "cmocka_wrap.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elman_io.h"
#include "iotest.h"

#define DICT(descr, fortran, shape) \
    "{'descr': '" descr "', 'fortran_order': " fortran ", 'shape': " shape ", }"

static int parse(const it_buf *b, elman_array *a, char *err, size_t n)
{
    return elman_npy_parse(b->data, b->size, a, err, n);
}

static void test_read_each_dtype(void **state)
{
    (void)state;
    char err[ELMAN_IO_ERROR_SIZE];
    elman_array a;

    const float f[6] = {1, 2, 3, 4, 5, -6.5f};
    it_buf b = it_npy(1, 0, DICT("<f4", "False", "(2, 3)"), (size_t)-1, f, sizeof(f));
    assert_int_equal(parse(&b, &a, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(a.dtype, ELMAN_DTYPE_F32);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 3);
    assert_int_equal(a.count, 6);
    assert_memory_equal(a.data, f, sizeof(f));
    float out[6];
    assert_int_equal(elman_array_to_float(&a, out, err, sizeof(err)), ELMAN_OK);
    assert_memory_equal(out, f, sizeof(f));
    elman_array_free(&a);
    assert_null(a.data);
    it_free(&b);

    const double d[3] = {0.1, -2, 1e300};
    b = it_npy(2, 0, "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f8\"}",
               (size_t)-1, d, sizeof(d));
    assert_int_equal(parse(&b, &a, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(a.dtype, ELMAN_DTYPE_F64);
    assert_int_equal(a.ndim, 1);
    assert_memory_equal(a.data, d, sizeof(d));
    assert_int_equal(elman_array_to_float(&a, out, err, sizeof(err)), ELMAN_OK);
    assert_true(out[0] == 0.1f && out[1] == -2.0f);
    elman_array_free(&a);
    it_free(&b);

    const int32_t i4[2] = {7, -1};
    b = it_npy(3, 0, DICT("<i4", "False", "(2,)"), (size_t)-1, i4, sizeof(i4));
    assert_int_equal(parse(&b, &a, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(a.dtype, ELMAN_DTYPE_I32);
    assert_memory_equal(a.data, i4, sizeof(i4));
    assert_int_equal(elman_array_to_float(&a, out, err, sizeof(err)), ELMAN_ERR_UNSUPPORTED);
    elman_array_free(&a);
    it_free(&b);

    const int64_t i8[1] = {1LL << 40};
    b = it_npy(1, 0, DICT("<i8", "False", "()"), (size_t)-1, i8, sizeof(i8));
    assert_int_equal(parse(&b, &a, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(a.dtype, ELMAN_DTYPE_I64);
    assert_int_equal(a.ndim, 0);
    assert_int_equal(a.count, 1);
    assert_memory_equal(a.data, i8, sizeof(i8));
    elman_array_free(&a);
    it_free(&b);

    /* Zero elements; Fortran order where it is the same memory as C order;
     * a header without the trailing comma and with Python 2 longs. */
    b = it_npy(1, 0, DICT("<f4", "False", "(0, 3)"), (size_t)-1, NULL, 0);
    assert_int_equal(parse(&b, &a, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(a.count, 0);
    assert_null(a.data);
    elman_array_free(&a);
    it_free(&b);
    b = it_npy(1, 0, DICT("<f4", "True", "(1, 3, 1)"), (size_t)-1, f, 12);
    assert_int_equal(parse(&b, &a, err, sizeof(err)), ELMAN_OK);
    elman_array_free(&a);
    it_free(&b);
    b = it_npy(1, 0, "{'descr':'<f4','fortran_order':False,'shape':(2L,3L)}", (size_t)-1, f,
               sizeof(f));
    assert_int_equal(parse(&b, &a, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(a.shape[1], 3);
    elman_array_free(&a);
    it_free(&b);
    elman_array_free(NULL);
}

typedef struct bad_case {
    const char *what;
    int major, minor;
    const char *dict;
    size_t hlen;      /* (size_t)-1: the header's own */
    size_t data_size; /* bytes of data after the header */
    int code;
    const char *in_message;
} bad_case;

#define OWN ((size_t)-1)
static const bad_case bad_cases[] = {
    {"version 4.0", 4, 0, DICT("<f4", "False", "(2,)"), OWN, 8, ELMAN_ERR_UNSUPPORTED, "version 4.0"},
    {"version 1.1", 1, 1, DICT("<f4", "False", "(2,)"), OWN, 8, ELMAN_ERR_UNSUPPORTED, "version"},
    {"header length beyond the file", 1, 0, DICT("<f4", "False", "(2,)"), 5000, 8,
     ELMAN_ERR_FORMAT, "exceeds"},
    {"v2 header length beyond the file", 2, 0, DICT("<f4", "False", "(2,)"), 0xffffffffu, 8,
     ELMAN_ERR_FORMAT, "exceeds"},
    {"data shorter than the shape", 1, 0, DICT("<f4", "False", "(2, 3)"), OWN, 20,
     ELMAN_ERR_FORMAT, "truncated"},
    {"data longer than the shape", 1, 0, DICT("<f4", "False", "(2,)"), OWN, 12, ELMAN_ERR_FORMAT,
     "holds 12"},
    {"big-endian", 1, 0, DICT(">f4", "False", "(2,)"), OWN, 8, ELMAN_ERR_UNSUPPORTED,
     "big-endian"},
    {"native byte order", 1, 0, DICT("=f4", "False", "(2,)"), OWN, 8, ELMAN_ERR_UNSUPPORTED, NULL},
    {"object array", 1, 0, DICT("|O", "False", "(2,)"), OWN, 16, ELMAN_ERR_UNSUPPORTED, "'|O'"},
    {"float16", 1, 0, DICT("<f2", "False", "(2,)"), OWN, 4, ELMAN_ERR_UNSUPPORTED, "'<f2'"},
    {"unicode strings", 1, 0, DICT("<U5", "False", "(2,)"), OWN, 40, ELMAN_ERR_UNSUPPORTED, NULL},
    {"uint8", 1, 0, DICT("|u1", "False", "(2,)"), OWN, 2, ELMAN_ERR_UNSUPPORTED, NULL},
    {"structured dtype", 1, 0, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
     OWN, 8, ELMAN_ERR_UNSUPPORTED, "structured"},
    {"Fortran order", 1, 0, DICT("<f4", "True", "(2, 3)"), OWN, 24, ELMAN_ERR_UNSUPPORTED,
     "Fortran"},
    {"missing shape", 1, 0, "{'descr': '<f4', 'fortran_order': False}", OWN, 4,
     ELMAN_ERR_FORMAT, "lacks the key 'shape'"},
    {"missing descr", 1, 0, "{'fortran_order': False, 'shape': (1,)}", OWN, 4, ELMAN_ERR_FORMAT,
     "descr"},
    {"extra key", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", OWN,
     4, ELMAN_ERR_FORMAT, "unexpected"},
    {"repeated key", 1, 0, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
     OWN, 4, ELMAN_ERR_FORMAT, "repeated"},
    {"not a dict", 1, 0, "[1, 2]", OWN, 0, ELMAN_ERR_FORMAT, "not a dict"},
    {"shape not a tuple", 1, 0, DICT("<f4", "False", "(3)"), OWN, 12, ELMAN_ERR_FORMAT, "shape"},
    {"shape a list", 1, 0, DICT("<f4", "False", "[3]"), OWN, 12, ELMAN_ERR_FORMAT, "shape"},
    {"negative dimension", 1, 0, DICT("<f4", "False", "(-1,)"), OWN, 0, ELMAN_ERR_FORMAT, "shape"},
    {"shape overflowing", 1, 0, DICT("<f4", "False", "(4294967296, 4294967296, 4294967296)"),
     OWN, 0, ELMAN_ERR_FORMAT, "too large"},
    {"dimension overflowing", 1, 0, DICT("<f4", "False", "(99999999999999999999999,)"), OWN, 0,
     ELMAN_ERR_FORMAT, "shape"},
    {"nine dimensions", 1, 0, DICT("<f4", "False", "(1, 1, 1, 1, 1, 1, 1, 1, 1)"), OWN, 4,
     ELMAN_ERR_UNSUPPORTED, "dimensions"},
    {"fortran_order not a bool", 1, 0, DICT("<f4", "maybe", "(1,)"), OWN, 4, ELMAN_ERR_FORMAT,
     "fortran_order"},
    {"text after the dict", 1, 0, DICT("<f4", "False", "(1,)") " x", OWN, 4, ELMAN_ERR_FORMAT,
     "after its dict"},
    {"unterminated string", 1, 0, "{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}", OWN,
     4, ELMAN_ERR_FORMAT, NULL},
    {"unterminated dict", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", OWN,
     4, ELMAN_ERR_FORMAT, NULL},
};

static void test_bad_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case *c = &bad_cases[i];
        unsigned char *zeros = calloc(1, c->data_size + 1);
        it_buf b = it_npy(c->major, c->minor, c->dict, c->hlen, zeros, c->data_size);
        free(zeros);
        elman_array a;
        char err[ELMAN_IO_ERROR_SIZE] = "";
        int rc = parse(&b, &a, err, sizeof(err));
        if (rc != c->code || a.data != NULL || err[0] == '\0' ||
            (c->in_message != NULL && strstr(err, c->in_message) == NULL)) {
            print_error("case '%s': got %d (%s), expected %d containing '%s'\n", c->what, rc,
                        err, c->code, c->in_message ? c->in_message : "");
            fail();
        }
        it_free(&b);
    }
}

static void test_bad_magic_and_truncation(void **state)
{
    (void)state;
    elman_array a;
    char err[ELMAN_IO_ERROR_SIZE];
    assert_int_equal(elman_npy_parse("", 0, &a, err, sizeof(err)), ELMAN_ERR_FORMAT);
    assert_int_equal(elman_npy_parse("\x93NUMPZ\x01\x00\x00\x00", 10, &a, err, sizeof(err)),
                     ELMAN_ERR_FORMAT);
    assert_non_null(strstr(err, "magic"));
    assert_int_equal(elman_npy_parse(NULL, 3, &a, err, sizeof(err)), ELMAN_ERR_NULL_ARGUMENT);
    /* Every truncation of a good file fails cleanly. */
    const float f[6] = {0};
    it_buf b = it_npy(2, 0, DICT("<f4", "False", "(2, 3)"), (size_t)-1, f, sizeof(f));
    for (size_t n = 0; n < b.size; n++)
        assert_int_equal(elman_npy_parse(b.data, n, &a, err, sizeof(err)), ELMAN_ERR_FORMAT);
    assert_int_equal(elman_npy_parse(b.data, b.size, &a, err, sizeof(err)), ELMAN_OK);
    elman_array_free(&a);
    /* A NUL byte in the header. */
    b.data[20] = '\0';
    assert_int_equal(parse(&b, &a, err, sizeof(err)), ELMAN_ERR_FORMAT);
    it_free(&b);
    assert_int_equal(elman_npy_read("/nonexistent/x.npy", &a, err, sizeof(err)), ELMAN_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/x.npy"));
}

/* Whatever the reader accepts, the writer writes back: every dtype it
 * takes, 0 to ELMAN_MAX_DIMS dimensions (zeros included), format versions
 * 1.0 to 3.0, and Fortran order where it equals C order. Read, written,
 * read again: the same array, bit for bit. */
static void test_writer_round_trips_reader(void **state)
{
    (void)state;
    const char *dir = it_tempdir(1);
    char path[512], err[ELMAN_IO_ERROR_SIZE], dict[256];
    snprintf(path, sizeof(path), "%s/r.npy", dir);
    static const char *const descr[] = {"<f4", "<f8", "<i4", "<i8"};
    static const char *const shapes[] = {"()",        "(0,)",     "(5,)",      "(2, 3)",
                                         "(3, 0, 2)", "(1, 4, 1)", "(2, 1, 2, 1, 2, 1, 2, 1)"};
    unsigned char bytes[8 * 64];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i * 37 + 11); /* any bits: NaNs too */
    int runs = 0;
    for (int d = 0; d < 4; d++)
        for (size_t sh = 0; sh < sizeof(shapes) / sizeof(shapes[0]); sh++)
            for (int version = 1; version <= 3; version++)
                for (int fortran = 0; fortran <= 1; fortran++) {
                    /* Fortran order differs from C order (refused) when two
                     * dimensions exceed 1: (2, 3), (3, 0, 2), the 8-d one. */
                    if (fortran && (sh == 3 || sh == 4 || sh == 6))
                        continue;
                    snprintf(dict, sizeof(dict),
                             "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr[d],
                             fortran ? "True" : "False", shapes[sh]);
                    elman_array a, b;
                    size_t es = d % 2 ? 8 : 4, count = 1;
                    for (const char *p = shapes[sh]; *p; p++)
                        if (*p >= '0' && *p <= '9')
                            count *= (size_t)(*p - '0');
                    it_buf in = it_npy(version, 0, dict, (size_t)-1, bytes, count * es);
                    assert_int_equal(elman_npy_parse(in.data, in.size, &a, err, sizeof(err)),
                                     ELMAN_OK);
                    assert_int_equal(elman_npy_write(path, a.dtype, a.ndim, a.shape, a.data, err,
                                                     sizeof(err)),
                                     ELMAN_OK);
                    assert_int_equal(elman_npy_read(path, &b, err, sizeof(err)), ELMAN_OK);
                    assert_int_equal(b.dtype, a.dtype);
                    assert_int_equal(b.ndim, a.ndim);
                    assert_int_equal(b.count, count);
                    assert_memory_equal(b.shape, a.shape, sizeof(a.shape));
                    if (count > 0)
                        assert_memory_equal(b.data, bytes, count * es);
                    elman_array_free(&a);
                    elman_array_free(&b);
                    it_free(&in);
                    runs++;
                }
    assert_true(runs >= 4 * (7 * 3 + 4 * 3));
    it_rmdir(dir);
}

static void test_write_read_round_trip(void **state)
{
    (void)state;
    const char *dir = it_tempdir(0);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    snprintf(path, sizeof(path), "%s/a.npy", dir);
    const float f[24] = {1, -2, 3.5f, 1e-30f, 0, 6};
    const double d[3] = {0.1, 1e300, -0.0};
    static const struct {
        int dtype, ndim;
        size_t shape[3];
    } cases[] = {{ELMAN_DTYPE_F32, 3, {2, 3, 4}}, {ELMAN_DTYPE_F32, 1, {5, 0, 0}},
                 {ELMAN_DTYPE_F32, 0, {0, 0, 0}}, {ELMAN_DTYPE_F64, 2, {3, 1, 0}},
                 {ELMAN_DTYPE_F32, 2, {0, 7, 0}}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const void *src = cases[i].dtype == ELMAN_DTYPE_F32 ? (const void *)f : (const void *)d;
        assert_int_equal(elman_npy_write(path, cases[i].dtype, cases[i].ndim, cases[i].shape,
                                         src, err, sizeof(err)),
                         ELMAN_OK);
        elman_array a;
        assert_int_equal(elman_npy_read(path, &a, err, sizeof(err)), ELMAN_OK);
        assert_int_equal(a.dtype, cases[i].dtype);
        assert_int_equal(a.ndim, cases[i].ndim);
        for (int k = 0; k < a.ndim; k++)
            assert_int_equal(a.shape[k], cases[i].shape[k]);
        if (a.count)
            assert_memory_equal(a.data, src, a.count * elman_dtype_size(a.dtype));
        elman_array_free(&a);
        /* numpy's layout: version 1.0, data aligned to 64 bytes. */
        FILE *fp = fopen(path, "rb");
        unsigned char head[10];
        assert_int_equal(fread(head, 1, 10, fp), 10);
        fclose(fp);
        assert_memory_equal(head, "\x93NUMPY\x01\x00", 8);
        assert_int_equal((10 + head[8] + 256 * head[9]) % 64, 0);
    }
    assert_int_equal(it_dir_entries(dir), 1); /* no temporary file left */
    it_rmdir(dir);
}

static void test_write_errors_leave_nothing(void **state)
{
    (void)state;
    const char *dir = it_tempdir(0);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    const float f[2] = {1, 2};
    const size_t shape[1] = {2};
    snprintf(path, sizeof(path), "%s/missing/y.npy", dir);
    assert_int_equal(elman_npy_write(path, ELMAN_DTYPE_F32, 1, shape, f, err, sizeof(err)),
                     ELMAN_ERR_IO);
    assert_non_null(strstr(err, "missing/y.npy"));
    /* The target is a directory: the temporary file is removed. */
    snprintf(path, sizeof(path), "%s/sub", dir);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir '%s'", path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(elman_npy_write(path, ELMAN_DTYPE_F32, 1, shape, f, err, sizeof(err)),
                     ELMAN_ERR_IO);
    assert_int_equal(it_dir_entries(dir), 1);
    remove(path);
    snprintf(path, sizeof(path), "%s/y.npy", dir);
    assert_int_equal(elman_npy_write(path, ELMAN_DTYPE_F16, 1, shape, f, err, sizeof(err)),
                     ELMAN_ERR_UNSUPPORTED);
    assert_int_equal(elman_npy_write(path, ELMAN_DTYPE_F32, 9, shape, f, err, sizeof(err)),
                     ELMAN_ERR_INVALID_SIZE);
    assert_int_equal(elman_npy_write(path, ELMAN_DTYPE_F32, 1, shape, NULL, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_npy_write(NULL, ELMAN_DTYPE_F32, 1, shape, f, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(it_dir_entries(dir), 0);
    it_rmdir(dir);
}

/* A write that fails half-way (the file size limit reached: EFBIG) leaves
 * the old file whole and no temporary file: in a child process, whose
 * limit the test sets, with SIGXFSZ ignored so that write() fails instead
 * of killing it. */
static void test_failed_write_leaves_old_file(void **state)
{
    (void)state;
    const char *dir = it_tempdir(0);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    snprintf(path, sizeof(path), "%s/y.npy", dir);
    const float old[3] = {1, 2, 3};
    const size_t old_shape[1] = {3};
    assert_int_equal(elman_npy_write(path, ELMAN_DTYPE_F32, 1, old_shape, old, err, sizeof(err)),
                     ELMAN_OK);
    size_t n_before, n_after;
    unsigned char *before = it_read_file(path, &n_before);

    enum { N = 1 << 16 }; /* 256 KiB of data, past the 64 KiB limit */
    float *big = calloc(N, sizeof(float));
    assert_non_null(big);
    const size_t shape[2] = {N / 4, 4};
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = {1 << 16, 1 << 16};
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(100);
        int rc = elman_npy_write(path, ELMAN_DTYPE_F32, 2, shape, big, err, sizeof(err));
        free(big); /* under valgrind the child's leaks count too */
        free(before);
        _exit(rc == ELMAN_ERR_IO && strstr(err, "cannot write") != NULL ? 0 : 101);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    free(big);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        print_error("the child's write did not fail with ELMAN_ERR_IO (status %d)\n", status);
        fail();
    }
    unsigned char *after = it_read_file(path, &n_after);
    assert_int_equal(n_after, n_before);
    assert_memory_equal(after, before, n_before);
    free(before);
    free(after);
    assert_int_equal(it_dir_entries(dir), 1); /* no temporary file */
    it_rmdir(dir);
}

/* Shapes whose element count, or byte count, overflows size_t are
 * ELMAN_ERR_SIZE_OVERFLOW, and leave the old file alone. */
static void test_write_size_overflow(void **state)
{
    (void)state;
    const char *dir = it_tempdir(0);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    snprintf(path, sizeof(path), "%s/y.npy", dir);
    const float f[2] = {1, 2};
    const size_t two[1] = {2};
    assert_int_equal(elman_npy_write(path, ELMAN_DTYPE_F32, 1, two, f, err, sizeof(err)),
                     ELMAN_OK);
    static const struct {
        int dtype, ndim;
        size_t shape[3];
    } cases[] = {
        {ELMAN_DTYPE_F32, 2, {SIZE_MAX / 2, 3, 0}},     /* the count overflows */
        {ELMAN_DTYPE_F64, 3, {(size_t)1 << 32, (size_t)1 << 31, 2}},
        {ELMAN_DTYPE_F32, 1, {SIZE_MAX / 4 + 1, 0, 0}}, /* the bytes overflow */
        {ELMAN_DTYPE_I64, 2, {SIZE_MAX / 16 + 1, 2, 0}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = elman_npy_write(path, cases[i].dtype, cases[i].ndim, cases[i].shape, f, err,
                                 sizeof(err));
        if (rc != ELMAN_ERR_SIZE_OVERFLOW) {
            print_error("case %zu: got %d (%s), expected ELMAN_ERR_SIZE_OVERFLOW\n", i, rc, err);
            fail();
        }
    }
    elman_array a;
    assert_int_equal(elman_npy_read(path, &a, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(a.count, 2);
    assert_memory_equal(a.data, f, sizeof(f));
    elman_array_free(&a);
    assert_int_equal(it_dir_entries(dir), 1);
    it_rmdir(dir);
}

/* On failure the whole array is zeroed, whatever it held: from a file and
 * from memory. */
static void test_failed_read_zeroes_array(void **state)
{
    (void)state;
    const char *dir = it_tempdir(0);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    const float f[6] = {0};
    it_buf bufs[3] = {
        it_npy(1, 0, DICT("<f4", "False", "(2, 3)"), OWN, f, 20),  /* truncated data */
        it_npy(1, 0, DICT(">f4", "False", "(2, 3)"), OWN, f, 24),  /* big-endian */
        it_npy(1, 0, DICT("<f4", "False", "(2, 3)"), 3000, f, 24), /* header beyond */
    };
    elman_array zero;
    memset(&zero, 0, sizeof(zero));
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s.npy", dir, i < 3 ? "bad" : "missing");
        if (i < 3)
            it_write_file(path, &bufs[i]);
        for (int from_file = 0; from_file <= (i < 3); from_file++) {
            elman_array a;
            memset(&a, 0xab, sizeof(a));
            int rc = from_file || i == 3 ? elman_npy_read(path, &a, err, sizeof(err))
                                         : parse(&bufs[i], &a, err, sizeof(err));
            assert_int_not_equal(rc, ELMAN_OK);
            assert_memory_equal(&a, &zero, sizeof(a));
        }
    }
    elman_array a;
    memset(&a, 0xab, sizeof(a));
    assert_int_equal(elman_npy_read(NULL, &a, err, sizeof(err)), ELMAN_ERR_NULL_ARGUMENT);
    assert_memory_equal(&a, &zero, sizeof(a));
    memset(&a, 0xab, sizeof(a));
    assert_int_equal(elman_npy_parse(NULL, 4, &a, err, sizeof(err)), ELMAN_ERR_NULL_ARGUMENT);
    assert_memory_equal(&a, &zero, sizeof(a));
    for (int i = 0; i < 3; i++)
        it_free(&bufs[i]);
    it_rmdir(dir);
}

/* ---- message buffers ---- */

typedef struct npy_args {
    const it_buf *b;
    const char *path;
    int dtype;
    const void *data;
    const elman_array *array;
} npy_args;

static int call_read(void *ctx, char *err, size_t n)
{
    const npy_args *a = ctx;
    elman_array arr;
    int rc = elman_npy_read(a->path, &arr, err, n);
    elman_array_free(&arr);
    return rc;
}

static int call_parse(void *ctx, char *err, size_t n)
{
    const npy_args *a = ctx;
    elman_array arr;
    int rc = elman_npy_parse(a->b->data, a->b->size, &arr, err, n);
    elman_array_free(&arr);
    return rc;
}

static int call_write(void *ctx, char *err, size_t n)
{
    const npy_args *a = ctx;
    const size_t shape[2] = {2, 3};
    return elman_npy_write(a->path, a->dtype, 2, shape, a->data, err, n);
}

static int call_to_float(void *ctx, char *err, size_t n)
{
    const npy_args *a = ctx;
    float out[6];
    return elman_array_to_float(a->array, out, err, n);
}

/* Every function with a message buffer: a message cut to any buffer size
 * is the full message's start, NUL-terminated; success sets it to "". */
static void test_messages(void **state)
{
    (void)state;
    const char *dir = it_tempdir(0);
    char good[512], bad[512], name[201], err[ELMAN_IO_ERROR_SIZE];
    memset(name, 'n', 200);
    name[200] = '\0';
    snprintf(good, sizeof(good), "%s/good.npy", dir);
    snprintf(bad, sizeof(bad), "%s/%s.npy", dir, name);
    const float f[6] = {1, 2, 3, 4, 5, 6};
    it_buf ok = it_npy(1, 0, DICT("<f4", "False", "(2, 3)"), OWN, f, sizeof(f));
    it_buf truncated = it_npy(1, 0, DICT("<f4", "False", "(2, 3)"), OWN, f, 20);
    it_write_file(good, &ok);
    it_write_file(bad, &truncated);
    elman_array floats, ints;
    assert_int_equal(parse(&ok, &floats, err, sizeof(err)), ELMAN_OK);
    it_buf ib = it_npy(1, 0, DICT("<i4", "False", "(2, 3)"), OWN, f, sizeof(f));
    assert_int_equal(parse(&ib, &ints, err, sizeof(err)), ELMAN_OK);
    it_free(&ib);

    npy_args a = {&truncated, bad, ELMAN_DTYPE_F16, f, &ints};
    it_check_message("npy_read", call_read, &a, ELMAN_ERR_FORMAT);
    it_check_message("npy_parse", call_parse, &a, ELMAN_ERR_FORMAT);
    it_check_message("npy_write", call_write, &a, ELMAN_ERR_UNSUPPORTED);
    it_check_message("array_to_float", call_to_float, &a, ELMAN_ERR_UNSUPPORTED);
    snprintf(bad, sizeof(bad), "%s/%s/y.npy", dir, name); /* no such directory */
    a.dtype = ELMAN_DTYPE_F32;
    it_check_message("npy_write", call_write, &a, ELMAN_ERR_IO);

    a = (npy_args){&ok, good, ELMAN_DTYPE_F32, f, &floats};
    it_check_cleared("npy_read", call_read, &a);
    it_check_cleared("npy_parse", call_parse, &a);
    it_check_cleared("npy_write", call_write, &a);
    it_check_cleared("array_to_float", call_to_float, &a);
    elman_array_free(&floats);
    elman_array_free(&ints);
    it_free(&ok);
    it_free(&truncated);
    it_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_each_dtype),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_magic_and_truncation),
        cmocka_unit_test(test_write_read_round_trip),
        cmocka_unit_test(test_writer_round_trips_reader),
        cmocka_unit_test(test_write_errors_leave_nothing),
        cmocka_unit_test(test_failed_write_leaves_old_file),
        cmocka_unit_test(test_write_size_overflow),
        cmocka_unit_test(test_failed_read_zeroes_array),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
