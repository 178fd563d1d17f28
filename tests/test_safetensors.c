/* The safetensors reader: every dtype's conversion, metadata, lookups, and
 * a battery of malformed files, each with its exact error code. */
#include "cmocka_wrap.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elman_io.h"
#include "iotest.h"

static int parse(const it_buf *b, elman_safetensors **st, char *err, size_t n)
{
    return elman_safetensors_parse(b->data, b->size, st, err, n);
}

static void test_every_dtype(void **state)
{
    (void)state;
    /* Data, in offset order: F32 [2], F64 [2], F16 [6], BF16 [3], I64 [],
     * BOOL [0], U8 [3]. */
    unsigned char data[8 + 16 + 12 + 6 + 8 + 0 + 3];
    size_t o = 0;
    const float f32[2] = {1.5f, -0.1f};
    memcpy(data + o, f32, 8), o += 8; /* the test machine is little-endian */
    const double f64[2] = {0.1, -1e300};
    memcpy(data + o, f64, 16), o += 16;
    const unsigned short f16[6] = {0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00, 0x7e00};
    memcpy(data + o, f16, 12), o += 12;
    const unsigned short bf16[3] = {0x3f80, 0xc040, 0x0001};
    memcpy(data + o, bf16, 6), o += 6;
    const long long i64 = -7;
    memcpy(data + o, &i64, 8), o += 8;
    memcpy(data + o, "\x01\x02\x03", 3), o += 3;
    assert_int_equal(o, sizeof(data));
    const char *hdr =
        "{\"a_f32\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b_f64\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[8,24]},"
        "\"c_f16\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[24,36]},"
        "\"d_bf16\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[36,42]},"
        "\"e_i64\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[42,50]},"
        "\"f_bool\":{\"dtype\":\"BOOL\",\"shape\":[0,4],\"data_offsets\":[50,50]},"
        "\"g_u8\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[50,53],\"extra\":1},"
        "\"__metadata__\":{\"format\":\"pt\",\"b\":\"2\"}}   ";
    it_buf b = it_safetensors(hdr, (size_t)-1, data, sizeof(data));
    elman_safetensors *st;
    char err[ELMAN_IO_ERROR_SIZE] = "x";
    assert_int_equal(parse(&b, &st, err, sizeof(err)), ELMAN_OK);
    assert_string_equal(err, "");
    assert_int_equal(elman_safetensors_count(st), 7);

    const elman_tensor *t = elman_safetensors_find(st, "a_f32");
    assert_non_null(t);
    assert_int_equal(t->dtype, ELMAN_DTYPE_F32);
    assert_int_equal(t->ndim, 1);
    assert_true(t->data[0] == 1.5 && t->data[1] == (double)-0.1f);

    t = elman_safetensors_find(st, "b_f64");
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 1);
    assert_int_equal(t->shape[1], 2);
    assert_int_equal(t->count, 2);
    assert_true(t->data[0] == 0.1 && t->data[1] == -1e300);

    t = elman_safetensors_find(st, "c_f16");
    assert_true(t->data[0] == 1.0 && t->data[1] == -2.5 && t->data[2] == 65504.0);
    assert_true(t->data[3] == ldexp(1.0, -24));
    assert_true(isinf(t->data[4]) && t->data[4] > 0);
    assert_true(isnan(t->data[5]));

    t = elman_safetensors_find(st, "d_bf16");
    assert_true(t->data[0] == 1.0 && t->data[1] == -3.0 && t->data[2] == ldexp(1.0, -133));

    t = elman_safetensors_find(st, "e_i64");
    assert_int_equal(t->ndim, 0);
    assert_int_equal(t->count, 1);
    assert_null(t->data); /* integer tensors are checked, not converted */

    t = elman_safetensors_find(st, "f_bool");
    assert_int_equal(t->count, 0);
    assert_null(t->data);

    assert_null(elman_safetensors_find(st, "nope"));
    assert_null(elman_safetensors_find(st, "__metadata__"));
    assert_string_equal(elman_safetensors_tensor(st, 0)->name, "a_f32");
    assert_string_equal(elman_safetensors_tensor(st, 6)->name, "g_u8");
    assert_null(elman_safetensors_tensor(st, 7));

    assert_string_equal(elman_safetensors_metadata(st, "format"), "pt");
    assert_null(elman_safetensors_metadata(st, "nonlinearity"));
    assert_int_equal(elman_safetensors_metadata_count(st), 2);
    const char *k, *v;
    assert_int_equal(elman_safetensors_metadata_entry(st, 0, &k, &v), ELMAN_OK);
    assert_string_equal(k, "b");
    assert_string_equal(v, "2");
    assert_int_equal(elman_safetensors_metadata_entry(st, 2, &k, &v), ELMAN_ERR_INVALID_INDEX);
    assert_int_equal(elman_safetensors_metadata_entry(st, 0, NULL, &v), ELMAN_ERR_NULL_ARGUMENT);
    elman_safetensors_free(st);
    it_free(&b);
}

static void test_empty_and_metadata_only(void **state)
{
    (void)state;
    elman_safetensors *st;
    it_buf b = it_safetensors("{}", (size_t)-1, NULL, 0);
    assert_int_equal(parse(&b, &st, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_safetensors_count(st), 0);
    elman_safetensors_free(st);
    it_free(&b);
    b = it_safetensors("{\"__metadata__\":{}}", (size_t)-1, NULL, 0);
    assert_int_equal(parse(&b, &st, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_safetensors_metadata_count(st), 0);
    elman_safetensors_free(st);
    it_free(&b);
    elman_safetensors_free(NULL);
    assert_int_equal(elman_safetensors_count(NULL), 0);
    assert_null(elman_safetensors_metadata(NULL, "a"));
}

static void test_null_arguments(void **state)
{
    (void)state;
    elman_safetensors *st = (elman_safetensors *)1;
    char err[64];
    assert_int_equal(elman_safetensors_parse(NULL, 5, &st, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_null(st);
    assert_int_equal(elman_safetensors_parse("x", 1, NULL, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_safetensors_read(NULL, &st, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_safetensors_read("/nonexistent/m.safetensors", &st, err, sizeof(err)),
                     ELMAN_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/m.safetensors"));
    /* A one-byte message buffer still gets a terminated (empty) string. */
    char tiny[1] = {'x'};
    assert_int_equal(elman_safetensors_parse("x", 1, &st, tiny, 1), ELMAN_ERR_FORMAT);
    assert_int_equal(tiny[0], '\0');
}

/* ---- the battery ---- */

typedef struct bad_case {
    const char *what;
    const char *header;
    size_t hlen;      /* (size_t)-1: the header's length */
    size_t data_size; /* zero bytes of data */
    int code;
    const char *in_message; /* a piece of the message, or NULL */
} bad_case;

#define OWN ((size_t)-1)
#define E1(dtype, shape, offs) "{\"t\":{\"dtype\":" dtype ",\"shape\":" shape ",\"data_offsets\":" offs "}}"

static const bad_case bad_cases[] = {
    {"header length beyond the file", "{}", 3, 0, ELMAN_ERR_FORMAT, "exceeds"},
    {"absurd header length", "{}", (size_t)1 << 62, 0, ELMAN_ERR_FORMAT, "absurd"},
    {"zero header length", "{}", 0, 0, ELMAN_ERR_FORMAT, NULL},
    {"header not starting with {", " {}", OWN, 0, ELMAN_ERR_FORMAT, "'{'"},
    {"invalid JSON", "{\"t\":", OWN, 0, ELMAN_ERR_FORMAT, "not valid JSON"},
    {"invalid JSON inside", "{\"t\":{\"dtype\":F32}}", OWN, 0, ELMAN_ERR_FORMAT, "JSON"},
    {"JSON array", "[1]", OWN, 0, ELMAN_ERR_FORMAT, NULL},
    {"bytes after the JSON", "{} {}", OWN, 0, ELMAN_ERR_FORMAT, "after its JSON"},
    {"entry not an object", "{\"t\":3}", OWN, 0, ELMAN_ERR_FORMAT, "not an object"},
    {"no dtype", "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", OWN, 4, ELMAN_ERR_FORMAT,
     "no \"dtype\""},
    {"no shape", "{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", OWN, 4,
     ELMAN_ERR_FORMAT, "no \"shape\""},
    {"no data_offsets", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", OWN, 4, ELMAN_ERR_FORMAT,
     "no \"data_offsets\""},
    {"dtype not a string", E1("32", "[1]", "[0,4]"), OWN, 4, ELMAN_ERR_FORMAT, NULL},
    {"unknown dtype", E1("\"F128\"", "[1]", "[0,16]"), OWN, 16, ELMAN_ERR_UNSUPPORTED,
     "unknown dtype \"F128\""},
    {"negative dimension", E1("\"F32\"", "[-1]", "[0,4]"), OWN, 4, ELMAN_ERR_FORMAT, NULL},
    {"fractional dimension", E1("\"F32\"", "[1.5]", "[0,4]"), OWN, 4, ELMAN_ERR_FORMAT,
     "shape entry 1.5 at byte"},
    {"string dimension", E1("\"F32\"", "[\"1\"]", "[0,4]"), OWN, 4, ELMAN_ERR_FORMAT, NULL},
    {"shape not an array", E1("\"F32\"", "1", "[0,4]"), OWN, 4, ELMAN_ERR_FORMAT, NULL},
    {"nine dimensions", E1("\"F32\"", "[1,1,1,1,1,1,1,1,1]", "[0,4]"), OWN, 4,
     ELMAN_ERR_UNSUPPORTED, "dimensions"},
    {"shape overflowing", E1("\"F32\"", "[4294967296,4294967296,4294967296]", "[0,4]"), OWN,
     4, ELMAN_ERR_FORMAT, "too large"},
    {"dimension beyond 2^53", E1("\"F32\"", "[1e300]", "[0,4]"), OWN, 4, ELMAN_ERR_FORMAT,
     NULL},
    {"three offsets", E1("\"F32\"", "[1]", "[0,4,8]"), OWN, 8, ELMAN_ERR_FORMAT, "pair"},
    {"negative offset", E1("\"F32\"", "[1]", "[-4,0]"), OWN, 4, ELMAN_ERR_FORMAT,
     "data_offsets entry -4 at byte"},
    {"offsets reversed", E1("\"F32\"", "[1]", "[4,0]"), OWN, 4, ELMAN_ERR_FORMAT,
     "out of range"},
    {"offsets beyond the data", E1("\"F32\"", "[2]", "[0,8]"), OWN, 4, ELMAN_ERR_FORMAT,
     "out of range"},
    {"offsets not matching the shape", E1("\"F32\"", "[3]", "[0,8]"), OWN, 8, ELMAN_ERR_FORMAT,
     "needs 12"},
    {"offsets not matching the dtype", E1("\"F64\"", "[2]", "[0,8]"), OWN, 8, ELMAN_ERR_FORMAT,
     "needs 16"},
    {"offsets holding more than the shape", E1("\"F32\"", "[1]", "[0,8]"), OWN, 8,
     ELMAN_ERR_FORMAT, "needs 4"},
    {"overlapping tensors",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
     OWN, 12, ELMAN_ERR_FORMAT, "overlap"},
    {"the same bytes twice",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
     OWN, 8, ELMAN_ERR_FORMAT, "overlap"},
    {"a gap between tensors",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
     OWN, 12, ELMAN_ERR_FORMAT, "belong to no tensor"},
    {"data not starting at 0", E1("\"F32\"", "[1]", "[4,8]"), OWN, 8, ELMAN_ERR_FORMAT,
     "belong to no tensor"},
    {"trailing data bytes", E1("\"F32\"", "[1]", "[0,4]"), OWN, 9, ELMAN_ERR_FORMAT,
     "after the last tensor"},
    {"duplicate tensor names",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
     OWN, 8, ELMAN_ERR_FORMAT, "occurs twice"},
    {"duplicate key in an entry",
     "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}", OWN,
     4, ELMAN_ERR_FORMAT, "twice"},
    {"metadata not an object", "{\"__metadata__\":[\"a\"]}", OWN, 0, ELMAN_ERR_FORMAT,
     "__metadata__"},
    {"metadata value not a string", "{\"__metadata__\":{\"a\":1}}", OWN, 0, ELMAN_ERR_FORMAT,
     "not a string"},
    {"metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", OWN, 0, ELMAN_ERR_FORMAT,
     "twice"},
    {"metadata key twice", "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", OWN, 0,
     ELMAN_ERR_FORMAT, "twice"},
    {"missing data (truncated file)", E1("\"F32\"", "[4]", "[0,16]"), OWN, 12,
     ELMAN_ERR_FORMAT, "out of range"},
    {"escaped NUL in a name",
     "{\"w\\u0000x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", OWN, 4,
     ELMAN_ERR_FORMAT, "\\u0000"},
    {"overlong UTF-8 in a name",
     "{\"w\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", OWN, 4,
     ELMAN_ERR_FORMAT, "UTF-8"},
    {"code point above U+10FFFF", "{\"w\xf4\x90\x80\x80\":{\"dtype\":\"F32\",\"shape\":[1],"
     "\"data_offsets\":[0,4]}}", OWN, 4, ELMAN_ERR_FORMAT, "UTF-8"},
    {"lone surrogate escape in a name",
     "{\"w\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", OWN, 4,
     ELMAN_ERR_FORMAT, NULL},
    {"dimension with a plus sign", E1("\"F32\"", "[+1]", "[0,4]"), OWN, 4, ELMAN_ERR_FORMAT,
     NULL},
    {"dimension 1.0", E1("\"F32\"", "[1.0]", "[0,4]"), OWN, 4, ELMAN_ERR_FORMAT,
     "shape entry 1.0 at byte"},
};

/* What the strict reading must still accept: non-ASCII UTF-8 names, raw or
 * escaped (\u00e9, a surrogate pair), and escaped quotes and backslashes. */
static void test_unicode_names(void **state)
{
    (void)state;
    static const char hdr[] =
        "{\"caf\xc3\xa9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"caf\\u00e9\\ud83d\\ude00\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
        "\"a\\\"\\\\u0000\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}";
    it_buf b = it_safetensors(hdr, OWN, NULL, 12);
    elman_safetensors *st;
    char err[ELMAN_IO_ERROR_SIZE];
    assert_int_equal(parse(&b, &st, err, sizeof(err)), ELMAN_OK);
    assert_non_null(elman_safetensors_find(st, "caf\xc3\xa9"));
    assert_non_null(elman_safetensors_find(st, "caf\xc3\xa9\xf0\x9f\x98\x80"));
    assert_non_null(elman_safetensors_find(st, "a\"\\u0000"));
    elman_safetensors_free(st);
    it_free(&b);
}

static void test_bad_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case *c = &bad_cases[i];
        it_buf b = it_safetensors(c->header, c->hlen, NULL, c->data_size);
        elman_safetensors *st = (elman_safetensors *)1;
        char err[ELMAN_IO_ERROR_SIZE] = "";
        int rc = parse(&b, &st, err, sizeof(err));
        if (rc != c->code || st != NULL || err[0] == '\0' ||
            (c->in_message != NULL && strstr(err, c->in_message) == NULL)) {
            print_error("case '%s': got %d (%s), expected %d containing '%s'\n", c->what, rc,
                        err, c->code, c->in_message ? c->in_message : "");
            fail();
        }
        /* Every prefix of a bad file is bad too, and never crashes. */
        for (size_t n = 0; n < b.size; n += 1 + n / 4) {
            assert_int_not_equal(elman_safetensors_parse(b.data, n, &st, err, sizeof(err)),
                                 ELMAN_OK);
            assert_null(st);
        }
        it_free(&b);
    }
}

static void test_short_files(void **state)
{
    (void)state;
    elman_safetensors *st;
    char err[ELMAN_IO_ERROR_SIZE];
    assert_int_equal(elman_safetensors_parse("", 0, &st, err, sizeof(err)), ELMAN_ERR_FORMAT);
    assert_int_equal(elman_safetensors_parse("\x02\0\0\0\0\0\0", 7, &st, err, sizeof(err)),
                     ELMAN_ERR_FORMAT);
    /* A NUL byte inside the header. */
    it_buf b = it_safetensors("{\"a\":\"\"}", (size_t)-1, NULL, 0);
    b.data[13] = '\0';
    assert_int_equal(parse(&b, &st, err, sizeof(err)), ELMAN_ERR_FORMAT);
    it_free(&b);
    /* Deep nesting: cJSON's nesting limit, not the stack, stops it. */
    char deep[4200];
    strcpy(deep, "{\"a\":");
    for (int i = 0; i < 2000; i++)
        strcat(deep, "[");
    for (int i = 0; i < 2000; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    b = it_safetensors(deep, (size_t)-1, NULL, 0);
    assert_int_equal(parse(&b, &st, err, sizeof(err)), ELMAN_ERR_FORMAT);
    it_free(&b);
}

static void test_hostile_names_are_escaped(void **state)
{
    (void)state;
    /* A name with a newline and a quote: the message stays one line. */
    it_buf b = it_safetensors("{\"a\\nb\\\"\":{\"dtype\":\"F32\",\"shape\":[2],"
                              "\"data_offsets\":[0,4]}}",
                              (size_t)-1, NULL, 4);
    elman_safetensors *st;
    char err[ELMAN_IO_ERROR_SIZE];
    assert_int_equal(parse(&b, &st, err, sizeof(err)), ELMAN_ERR_FORMAT);
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "a\\x0ab\\\""));
    it_free(&b);
}


/* The safetensors name and size of every dtype, in the enum's fixed
 * numbering; "?" and 0 for any other value. */
static void test_dtype_names_and_sizes(void **state)
{
    (void)state;
    static const struct {
        int dtype;
        const char *name;
        size_t size;
    } known[] = {
        {ELMAN_DTYPE_F32, "F32", 4},         {ELMAN_DTYPE_F64, "F64", 8},
        {ELMAN_DTYPE_F16, "F16", 2},         {ELMAN_DTYPE_BF16, "BF16", 2},
        {ELMAN_DTYPE_I32, "I32", 4},         {ELMAN_DTYPE_I64, "I64", 8},
        {ELMAN_DTYPE_I16, "I16", 2},         {ELMAN_DTYPE_I8, "I8", 1},
        {ELMAN_DTYPE_U8, "U8", 1},           {ELMAN_DTYPE_U16, "U16", 2},
        {ELMAN_DTYPE_U32, "U32", 4},         {ELMAN_DTYPE_U64, "U64", 8},
        {ELMAN_DTYPE_BOOL, "BOOL", 1},       {ELMAN_DTYPE_F8_E4M3, "F8_E4M3", 1},
        {ELMAN_DTYPE_F8_E5M2, "F8_E5M2", 1},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        assert_int_equal(known[i].dtype, (int)i); /* the numbers are fixed */
        assert_string_equal(elman_dtype_name(known[i].dtype), known[i].name);
        assert_int_equal(elman_dtype_size(known[i].dtype), known[i].size);
    }
    const char *f32 = elman_dtype_name(ELMAN_DTYPE_F32);
    assert_ptr_equal(elman_dtype_name(ELMAN_DTYPE_F32), f32); /* static */
    static const int unknown[] = {-1, 15, 99, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(elman_dtype_name(unknown[i]), "?");
        assert_int_equal(elman_dtype_size(unknown[i]), 0);
    }
}

/* "data may be NULL when size is 0": an empty file, not a NULL argument. */
static void test_parse_null_empty(void **state)
{
    (void)state;
    elman_safetensors *st = (elman_safetensors *)1;
    char err[ELMAN_IO_ERROR_SIZE] = "";
    assert_int_equal(elman_safetensors_parse(NULL, 0, &st, err, sizeof(err)), ELMAN_ERR_FORMAT);
    assert_null(st);
    assert_non_null(strstr(err, "too short"));
}

/* The cap on the header length is 100 MB (100,000,000 bytes): a length at
 * the cap passes it, and is refused only because the file is shorter; one
 * byte more is refused by the cap. From memory and from a file. */
static void test_header_length_cap(void **state)
{
    (void)state;
    const char *dir = it_tempdir(0);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    snprintf(path, sizeof(path), "%s/cap.safetensors", dir);
    static const struct {
        size_t hlen;
        const char *says, *not_says;
    } cases[] = {{100000000, "exceeds", "absurd"}, {100000001, "absurd", "exceeds"}};
    for (size_t i = 0; i < 2; i++) {
        it_buf b = it_safetensors("{}", cases[i].hlen, NULL, 0);
        it_write_file(path, &b);
        for (int from_file = 0; from_file <= 1; from_file++) {
            elman_safetensors *st = (elman_safetensors *)1;
            int rc = from_file ? elman_safetensors_read(path, &st, err, sizeof(err))
                               : elman_safetensors_parse(b.data, b.size, &st, err, sizeof(err));
            if (rc != ELMAN_ERR_FORMAT || st != NULL || strstr(err, cases[i].says) == NULL ||
                strstr(err, cases[i].not_says) != NULL) {
                print_error("header length %zu (%s): got %d \"%s\", expected "
                            "ELMAN_ERR_FORMAT saying '%s'\n",
                            cases[i].hlen, from_file ? "file" : "memory", rc, err,
                            cases[i].says);
                fail();
            }
        }
        it_free(&b);
    }
    it_rmdir(dir);
}

/* Tensors are listed in the order of their names (bytewise), whatever the
 * order of the header and of the data; metadata entries sorted by key. */
static void test_tensor_and_metadata_order(void **state)
{
    (void)state;
    static const char hdr[] =
        "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"\xc3\xa9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]},"
        "\"a.b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
        "\"__metadata__\":{\"z\":\"1\",\"a\":\"2\",\"M\":\"3\",\"_\":\"4\"},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
        "\"B\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
        "\"_\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}";
    static const char *const names[] = {"B", "_", "a", "a.b", "b", "\xc3\xa9"};
    static const char *const keys[] = {"M", "_", "a", "z"}, *const values[] = {"3", "4", "2", "1"};
    it_buf b = it_safetensors(hdr, (size_t)-1, NULL, 24);
    const char *dir = it_tempdir(0);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    snprintf(path, sizeof(path), "%s/order.safetensors", dir);
    it_write_file(path, &b);
    for (int from_file = 0; from_file <= 1; from_file++) {
        elman_safetensors *st;
        assert_int_equal(from_file ? elman_safetensors_read(path, &st, err, sizeof(err))
                                   : parse(&b, &st, err, sizeof(err)),
                         ELMAN_OK);
        assert_int_equal(elman_safetensors_count(st), 6);
        for (size_t i = 0; i < 6; i++) {
            assert_string_equal(elman_safetensors_tensor(st, i)->name, names[i]);
            assert_ptr_equal(elman_safetensors_find(st, names[i]), elman_safetensors_tensor(st, i));
        }
        assert_int_equal(elman_safetensors_metadata_count(st), 4);
        for (size_t i = 0; i < 4; i++) {
            const char *k, *v;
            assert_int_equal(elman_safetensors_metadata_entry(st, i, &k, &v), ELMAN_OK);
            assert_string_equal(k, keys[i]);
            assert_string_equal(v, values[i]);
            assert_ptr_equal(elman_safetensors_metadata(st, keys[i]), v);
        }
        elman_safetensors_free(st);
    }
    it_free(&b);
    it_rmdir(dir);
}

/* The file of test_tensor_read: each floating-point dtype, an integer
 * tensor, an empty one, and one larger than the reader's 64 KiB chunk. */
#define BIG 9000 /* F64 elements: 72,000 bytes */
typedef struct read_file {
    it_buf b;
    double f64[8];
    uint16_t f16[6], bf16[4];
    float f32[3];
} read_file;

static void make_read_file(read_file *r)
{
    /* Around 1 + 2^-24, halfway between the floats 1 and 1 + 2^-23: a
     * little above rounds up, a little below rounds down, in both signs;
     * 3 * 2^-151 and 2^-151 (0.75 and 0.25 of the smallest float
     * subnormal) round to it and to 0; just above FLT_MAX, to FLT_MAX. */
    const double f64[8] = {1 + 0x1p-24 + 0x1p-40, 1 + 0x1p-24 - 0x1p-40, -(1 + 0x1p-24 + 0x1p-40),
                           -(1 + 0x1p-24 - 0x1p-40), 3 * 0x1p-151, 0x1p-151,
                           FLT_MAX * (1 + 0x1p-26), 0.1};
    const uint16_t f16[6] = {0x3555, 0x0001, 0x7bff, 0xfbff, 0x8001, 0x3c00};
    const uint16_t bf16[4] = {0x3eab, 0x0001, 0x7f7f, 0xbf80};
    const float f32[3] = {0.1f, 0x1p-149f, -FLT_MAX};
    memcpy(r->f64, f64, sizeof(f64));
    memcpy(r->f16, f16, sizeof(f16));
    memcpy(r->bf16, bf16, sizeof(bf16));
    memcpy(r->f32, f32, sizeof(f32));
    static const char hdr[] =
        "{\"f64\":{\"dtype\":\"F64\",\"shape\":[2,4],\"data_offsets\":[0,64]},"
        "\"f16\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[64,76]},"
        "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[76,84]},"
        "\"f32\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[84,96]},"
        "\"i32\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[96,104]},"
        "\"empty\":{\"dtype\":\"F32\",\"shape\":[2,0],\"data_offsets\":[104,104]},"
        "\"big\":{\"dtype\":\"F64\",\"shape\":[9000],\"data_offsets\":[104,72104]}}";
    unsigned char data[104 + BIG * 8];
    memcpy(data, f64, 64); /* the test machine is little-endian */
    memcpy(data + 64, f16, 12);
    memcpy(data + 76, bf16, 8);
    memcpy(data + 84, f32, 12);
    const int32_t i32[2] = {1, -1};
    memcpy(data + 96, i32, 8);
    for (int i = 0; i < BIG; i++) {
        const double v = i + 0.25;
        memcpy(data + 104 + 8 * i, &v, 8);
    }
    r->b = it_safetensors(hdr, (size_t)-1, data, sizeof(data));
}

static void check_reads(const elman_safetensors *st, const read_file *r)
{
    char err[ELMAN_IO_ERROR_SIZE];
    float f[BIG];
    double d[BIG];
    /* F64 to float32: rounded to nearest. */
    const elman_tensor *t = elman_safetensors_find(st, "f64");
    assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F32, f, err, sizeof(err)),
                     ELMAN_OK);
    const float want[8] = {1 + 0x1p-23f, 1.0f, -(1 + 0x1p-23f), -1.0f, 0x1p-149f, 0.0f,
                           FLT_MAX, 0.1f};
    for (int i = 0; i < 8; i++)
        if (memcmp(&f[i], &want[i], sizeof(float)) != 0) {
            print_error("F64 %a to float32: got %a, expected %a\n", r->f64[i], (double)f[i],
                        (double)want[i]);
            fail();
        }
    assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F64, d, err, sizeof(err)),
                     ELMAN_OK);
    assert_memory_equal(d, r->f64, sizeof(r->f64));
    /* F16, BF16 and F32 to float32: exact (every value is a float), the
     * same values as to float64. */
    static const char *const exact[] = {"f16", "bf16", "f32"};
    const double want_f16[6] = {1365 * 0x1p-12, 0x1p-24, 65504, -65504, -0x1p-24, 1};
    const double want_bf16[4] = {0.333984375, 0x1p-133, 0x1.fep127, -1};
    const double *want_d[3] = {want_f16, want_bf16, NULL};
    for (int k = 0; k < 3; k++) {
        t = elman_safetensors_find(st, exact[k]);
        assert_int_equal(
            elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F32, f, err, sizeof(err)), ELMAN_OK);
        assert_int_equal(
            elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F64, d, err, sizeof(err)), ELMAN_OK);
        for (size_t i = 0; i < t->count; i++) {
            const double w = want_d[k] != NULL ? want_d[k][i] : (double)r->f32[i];
            if (!(d[i] == w && (double)f[i] == w)) {
                print_error("%s[%zu]: got %a (float32) and %a (float64), expected %a\n",
                            exact[k], i, (double)f[i], d[i], w);
                fail();
            }
        }
    }
    /* More than one 64 KiB chunk. */
    t = elman_safetensors_find(st, "big");
    assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F64, d, err, sizeof(err)),
                     ELMAN_OK);
    assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F32, f, err, sizeof(err)),
                     ELMAN_OK);
    for (int i = 0; i < BIG; i++)
        assert_true(d[i] == i + 0.25 && f[i] == (float)(i + 0.25));
    const double *v;
    assert_int_equal(elman_safetensors_values(st, t, &v, err, sizeof(err)), ELMAN_OK);
    assert_memory_equal(v, d, sizeof(d));

    /* An empty tensor: no values, a NULL pointer. */
    t = elman_safetensors_find(st, "empty");
    v = (const double *)1;
    assert_int_equal(elman_safetensors_values(st, t, &v, err, sizeof(err)), ELMAN_OK);
    assert_null(v);
    assert_null(t->data);
}

/* What each destination dtype gets from each source dtype, from memory and
 * from a file, and the errors of elman_safetensors_tensor_read(). */
static void test_tensor_read(void **state)
{
    (void)state;
    read_file r;
    make_read_file(&r);
    const char *dir = it_tempdir(0);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    snprintf(path, sizeof(path), "%s/read.safetensors", dir);
    it_write_file(path, &r.b);
    elman_safetensors *mem, *file;
    assert_int_equal(parse(&r.b, &mem, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(elman_safetensors_read(path, &file, err, sizeof(err)), ELMAN_OK);
    check_reads(mem, &r);
    check_reads(file, &r);
    /* From memory, the values are t->data, the same as read. */
    const elman_tensor *t = elman_safetensors_find(mem, "f64");
    assert_memory_equal(t->data, r.f64, sizeof(r.f64));

    float f[8];
    const double *v = (const double *)1;
    elman_safetensors *both[2] = {mem, file};
    for (int k = 0; k < 2; k++) {
        elman_safetensors *st = both[k], *other = both[1 - k];
        /* Integer tensors are not converted; nor to another dtype. */
        t = elman_safetensors_find(st, "i32");
        assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F32, f, err, sizeof(err)),
                         ELMAN_ERR_UNSUPPORTED);
        assert_non_null(strstr(err, "I32"));
        assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F64, f, err, sizeof(err)),
                         ELMAN_ERR_UNSUPPORTED);
        assert_int_equal(elman_safetensors_values(st, t, &v, err, sizeof(err)),
                         ELMAN_ERR_UNSUPPORTED);
        assert_null(v);
        t = elman_safetensors_find(st, "f32");
        static const int to[] = {ELMAN_DTYPE_F16, ELMAN_DTYPE_BF16, ELMAN_DTYPE_I32, -1, 99};
        for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++)
            assert_int_equal(elman_safetensors_tensor_read(st, t, to[i], f, err, sizeof(err)),
                             ELMAN_ERR_UNSUPPORTED);
        /* A tensor of another file (of the same name), or a copy of one. */
        const elman_tensor *theirs = elman_safetensors_find(other, "f32");
        const elman_tensor copy = *t;
        assert_int_equal(elman_safetensors_tensor_read(st, theirs, ELMAN_DTYPE_F32, f, err,
                                                       sizeof(err)),
                         ELMAN_ERR_INVALID_INDEX);
        assert_int_equal(elman_safetensors_tensor_read(st, &copy, ELMAN_DTYPE_F32, f, err,
                                                       sizeof(err)),
                         ELMAN_ERR_INVALID_INDEX);
        assert_int_equal(elman_safetensors_values(st, theirs, &v, err, sizeof(err)),
                         ELMAN_ERR_INVALID_INDEX);
        /* NULL arguments. */
        assert_int_equal(elman_safetensors_tensor_read(NULL, t, ELMAN_DTYPE_F32, f, err,
                                                       sizeof(err)),
                         ELMAN_ERR_NULL_ARGUMENT);
        assert_int_equal(elman_safetensors_tensor_read(st, NULL, ELMAN_DTYPE_F32, f, err,
                                                       sizeof(err)),
                         ELMAN_ERR_NULL_ARGUMENT);
        assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F32, NULL, err,
                                                       sizeof(err)),
                         ELMAN_ERR_NULL_ARGUMENT);
        assert_int_equal(elman_safetensors_values(NULL, t, &v, err, sizeof(err)),
                         ELMAN_ERR_NULL_ARGUMENT);
        assert_int_equal(elman_safetensors_values(st, NULL, &v, err, sizeof(err)),
                         ELMAN_ERR_NULL_ARGUMENT);
        assert_int_equal(elman_safetensors_values(st, t, NULL, err, sizeof(err)),
                         ELMAN_ERR_NULL_ARGUMENT);
    }
    elman_safetensors_free(mem);
    elman_safetensors_free(file);
    it_free(&r.b);
    it_rmdir(dir);
}

/* elman_safetensors_parse() copies what it keeps: the caller's buffer can
 * be overwritten and freed at once (AddressSanitizer would see a later
 * read of it). */
static void test_parse_keeps_no_reference(void **state)
{
    (void)state;
    read_file r;
    make_read_file(&r);
    unsigned char *copy = malloc(r.b.size);
    assert_non_null(copy);
    memcpy(copy, r.b.data, r.b.size);
    elman_safetensors *st;
    char err[ELMAN_IO_ERROR_SIZE];
    assert_int_equal(elman_safetensors_parse(copy, r.b.size, &st, err, sizeof(err)), ELMAN_OK);
    memset(copy, 0xa5, r.b.size);
    free(copy);
    check_reads(st, &r);
    for (size_t i = 0; i < elman_safetensors_count(st); i++)
        assert_true(strlen(elman_safetensors_tensor(st, i)->name) > 0);
    elman_safetensors_free(st);
    it_free(&r.b);
}

/* ---- message buffers ---- */

typedef struct st_args {
    const void *data;
    size_t size;
    const char *path;
    const elman_safetensors *st;
    const char *tensor;
    int dtype;
} st_args;

static int call_parse(void *ctx, char *err, size_t n)
{
    const st_args *a = ctx;
    elman_safetensors *st;
    int rc = elman_safetensors_parse(a->data, a->size, &st, err, n);
    elman_safetensors_free(st);
    return rc;
}

static int call_read(void *ctx, char *err, size_t n)
{
    const st_args *a = ctx;
    elman_safetensors *st;
    int rc = elman_safetensors_read(a->path, &st, err, n);
    elman_safetensors_free(st);
    return rc;
}

static int call_tensor_read(void *ctx, char *err, size_t n)
{
    const st_args *a = ctx;
    double d[16];
    return elman_safetensors_tensor_read(a->st, elman_safetensors_find(a->st, a->tensor), a->dtype,
                                         d, err, n);
}

static int call_values(void *ctx, char *err, size_t n)
{
    const st_args *a = ctx;
    const double *v;
    return elman_safetensors_values(a->st, elman_safetensors_find(a->st, a->tensor), &v, err, n);
}

/* Every function of the reader that takes a message buffer: a message cut
 * to any buffer size is the full message's start, NUL-terminated, and
 * success sets it to "". The file name read from disk (long, to fill the
 * buffer) leads the message. */
static void test_messages(void **state)
{
    (void)state;
    read_file r;
    make_read_file(&r);
    const char *dir = it_tempdir(0);
    char good[512], bad[512], name[201];
    memset(name, 'n', 200);
    name[200] = '\0';
    snprintf(good, sizeof(good), "%s/good.safetensors", dir);
    snprintf(bad, sizeof(bad), "%s/%s.safetensors", dir, name);
    it_write_file(good, &r.b);
    it_buf b = it_safetensors(E1("\"F32\"", "[3]", "[0,8]"), OWN, NULL, 8);
    it_write_file(bad, &b);

    st_args a = {b.data, b.size, bad, NULL, NULL, 0};
    it_check_message("parse", call_parse, &a, ELMAN_ERR_FORMAT);
    it_check_message("read", call_read, &a, ELMAN_ERR_FORMAT);
    a.data = r.b.data;
    a.size = r.b.size;
    a.path = good;
    it_check_cleared("parse", call_parse, &a);
    it_check_cleared("read", call_read, &a);

    elman_safetensors *st;
    char err[ELMAN_IO_ERROR_SIZE];
    for (int from_file = 0; from_file <= 1; from_file++) {
        assert_int_equal(from_file ? elman_safetensors_read(good, &st, err, sizeof(err))
                                   : parse(&r.b, &st, err, sizeof(err)),
                         ELMAN_OK);
        a.st = st;
        a.tensor = "i32";
        a.dtype = ELMAN_DTYPE_F64;
        it_check_message("tensor_read", call_tensor_read, &a, ELMAN_ERR_UNSUPPORTED);
        it_check_message("values", call_values, &a, ELMAN_ERR_UNSUPPORTED);
        a.tensor = "f64";
        it_check_cleared("tensor_read", call_tensor_read, &a);
        it_check_cleared("values", call_values, &a);
        elman_safetensors_free(st);
    }
    it_free(&b);
    it_free(&r.b);
    it_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dtype),
        cmocka_unit_test(test_empty_and_metadata_only),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_unicode_names),
        cmocka_unit_test(test_short_files),
        cmocka_unit_test(test_hostile_names_are_escaped),
        cmocka_unit_test(test_dtype_names_and_sizes),
        cmocka_unit_test(test_parse_null_empty),
        cmocka_unit_test(test_header_length_cap),
        cmocka_unit_test(test_tensor_and_metadata_order),
        cmocka_unit_test(test_tensor_read),
        cmocka_unit_test(test_parse_keeps_no_reference),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
