#define _POSIX_C_SOURCE 200809L /* mkfifo */
/* Loading an nn.RNN from safetensors: round trips against PyTorch through
 * the C API (tests/data/io, from tests/gen_io_data.py), the inferred
 * configuration, prefixes, metadata, the double-precision weights, and the
 * malformed and inconsistent models of tests/data/io/bad with their exact
 * error codes. */
#include "cmocka_wrap.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elman_io.h"
#include "iotest.h"
#include "testutil.h"

static const char *g_dir;

static void path_of(char *buf, size_t n, const char *name, const char *suffix)
{
    snprintf(buf, n, "%s/%s%s", g_dir, name, suffix);
}

static elman_safetensors *read_model(const char *name)
{
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    path_of(path, sizeof(path), name, ".safetensors");
    elman_safetensors *st;
    int rc = elman_safetensors_read(path, &st, err, sizeof(err));
    if (rc != ELMAN_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, ELMAN_OK);
    return st;
}

/* The safetensors file of `header` and `size` bytes of `data` (zeros if
 * NULL), built in memory and parsed; `what` names it if that fails. */
static elman_safetensors *parse_built(const char *what, const char *header, const void *data,
                                      size_t size)
{
    it_buf b = it_safetensors(header, (size_t)-1, data, size);
    char err[ELMAN_IO_ERROR_SIZE];
    elman_safetensors *st;
    int rc = elman_safetensors_parse(b.data, b.size, &st, err, sizeof(err));
    it_free(&b);
    if (rc != ELMAN_OK)
        print_error("%s: %s\n", what, err);
    assert_int_equal(rc, ELMAN_OK);
    return st;
}

static double *read_doubles(const char *path, elman_array *a)
{
    char err[ELMAN_IO_ERROR_SIZE];
    assert_int_equal(elman_npy_read(path, a, err, sizeof(err)), ELMAN_OK);
    double *d = malloc(a->count * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < a->count; i++)
        d[i] = a->dtype == ELMAN_DTYPE_F64 ? ((double *)a->data)[i] : ((float *)a->data)[i];
    return d;
}

typedef struct rt_case {
    char name[64], prefix[64], nl[8], layout[8];
    int h0, lengths;
} rt_case;

/* One line of cases.txt through the C API. */
static int run_case(const rt_case *c)
{
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    elman_safetensors *st = read_model(c->name);
    elman_rnn_info info;
    const char *prefix = strcmp(c->prefix, "-") == 0 ? NULL : c->prefix;
    assert_int_equal(elman_rnn_info_from_safetensors(st, prefix, &info, err, sizeof(err)),
                     ELMAN_OK);
    if (strcmp(c->nl, "-") != 0)
        info.config.nonlinearity = strcmp(c->nl, "relu") == 0 ? ELMAN_RELU : ELMAN_TANH;
    if (strcmp(c->layout, "-") != 0)
        info.config.batch_first = strcmp(c->layout, "bf") == 0;
    elman_rnn *rnn;
    assert_int_equal(elman_rnn_from_safetensors(st, &info, &rnn, err, sizeof(err)), ELMAN_OK);
    elman_safetensors_free(st);

    elman_array x, y, hn, h0 = {0}, len = {0};
    path_of(path, sizeof(path), c->name, ".x.npy");
    assert_int_equal(elman_npy_read(path, &x, err, sizeof(err)), ELMAN_OK);
    float *xf = malloc(x.count * sizeof(float)), *h0f = NULL;
    assert_int_equal(elman_array_to_float(&x, xf, err, sizeof(err)), ELMAN_OK);
    const int batched = x.ndim == 3;
    const int T = (int)(batched && info.config.batch_first ? x.shape[1] : x.shape[0]);
    const int B = batched ? (int)(info.config.batch_first ? x.shape[0] : x.shape[1]) : 1;
    int *lengths = NULL;
    if (c->h0) {
        path_of(path, sizeof(path), c->name, ".h0.npy");
        assert_int_equal(elman_npy_read(path, &h0, err, sizeof(err)), ELMAN_OK);
        h0f = malloc(h0.count * sizeof(float));
        assert_int_equal(elman_array_to_float(&h0, h0f, err, sizeof(err)), ELMAN_OK);
    }
    if (c->lengths) {
        path_of(path, sizeof(path), c->name, ".lengths.npy");
        assert_int_equal(elman_npy_read(path, &len, err, sizeof(err)), ELMAN_OK);
        lengths = malloc((size_t)B * sizeof(int));
        for (int b = 0; b < B; b++)
            lengths[b] = len.dtype == ELMAN_DTYPE_I32 ? ((int *)len.data)[b]
                                                      : (int)((long long *)len.data)[b];
    }
    path_of(path, sizeof(path), c->name, ".y.npy");
    double *want_y = read_doubles(path, &y);
    path_of(path, sizeof(path), c->name, ".hn.npy");
    double *want_hn = read_doubles(path, &hn);
    float *out = malloc(y.count * sizeof(float)), *h_n = malloc(hn.count * sizeof(float));
    assert_int_equal(elman_rnn_forward(rnn, B, T, xf, lengths, h0f, out, h_n, NULL, 0),
                     ELMAN_OK);
    int ok = tu_compare(c->name, out, want_y, y.count) < 0 &&
             tu_compare(c->name, h_n, want_hn, hn.count) < 0;

    /* float64: PyTorch's float64 model to 1e-10, when the case has it. */
    path_of(path, sizeof(path), c->name, ".y64.npy");
    FILE *f64 = fopen(path, "rb");
    if (f64 != NULL) {
        fclose(f64);
        elman_array y64, hn64;
        double *want_y64 = read_doubles(path, &y64);
        path_of(path, sizeof(path), c->name, ".hn64.npy");
        double *want_hn64 = read_doubles(path, &hn64);
        elman_safetensors *st64 = read_model(c->name);
        elman_rnn_info info64 = info;
        info64.config.dtype = ELMAN_FLOAT64;
        elman_rnn *rnn64;
        assert_int_equal(elman_rnn_from_safetensors(st64, &info64, &rnn64, err, sizeof(err)),
                         ELMAN_OK);
        elman_safetensors_free(st64);
        path_of(path, sizeof(path), c->name, ".x.npy");
        elman_array xa;
        double *xd = read_doubles(path, &xa), *h0d = NULL;
        if (c->h0) {
            path_of(path, sizeof(path), c->name, ".h0.npy");
            elman_array ha;
            h0d = read_doubles(path, &ha);
            elman_array_free(&ha);
        }
        double *out64 = malloc(y64.count * sizeof(double));
        double *hn_64 = malloc(hn64.count * sizeof(double));
        assert_int_equal(elman_rnn_forward_f64(rnn64, B, T, xd, lengths, h0d, out64, hn_64, NULL,
                                               0),
                         ELMAN_OK);
        ok &= tu_compare_d(c->name, out64, want_y64, y64.count) < 0 &&
              tu_compare_d(c->name, hn_64, want_hn64, hn64.count) < 0;
        elman_rnn_free(rnn64);
        elman_array_free(&xa);
        elman_array_free(&y64);
        elman_array_free(&hn64);
        free(want_y64);
        free(want_hn64);
        free(xd);
        free(h0d);
        free(out64);
        free(hn_64);
    }

    /* The one-call loader agrees when the file's own settings apply. */
    if (strcmp(c->nl, "-") == 0 && strcmp(c->layout, "-") == 0) {
        elman_rnn *rnn2;
        elman_rnn_info info2;
        path_of(path, sizeof(path), c->name, ".safetensors");
        assert_int_equal(elman_rnn_load(path, prefix, &rnn2, &info2, err, sizeof(err)),
                         ELMAN_OK);
        assert_memory_equal(&info2, &info, sizeof(info));
        float *out2 = malloc(y.count * sizeof(float));
        assert_int_equal(elman_rnn_forward(rnn2, B, T, xf, lengths, h0f, out2, NULL, NULL, 0),
                         ELMAN_OK);
        ok &= memcmp(out, out2, y.count * sizeof(float)) == 0;
        free(out2);
        elman_rnn_free(rnn2);
    }
    elman_rnn_free(rnn);
    elman_array_free(&x);
    elman_array_free(&y);
    elman_array_free(&hn);
    elman_array_free(&h0);
    elman_array_free(&len);
    free(xf);
    free(h0f);
    free(lengths);
    free(want_y);
    free(want_hn);
    free(out);
    free(h_n);
    return ok;
}

static void test_round_trips(void **state)
{
    (void)state;
    char path[512], line[512];
    path_of(path, sizeof(path), "cases", ".txt");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int run = 0, failed = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        rt_case c;
        assert_int_equal(sscanf(line, "%63s %63s %7s %7s %d %d", c.name, c.prefix, c.nl,
                                c.layout, &c.h0, &c.lengths),
                         6);
        run++;
        if (!run_case(&c)) {
            print_error("round trip %s failed\n", c.name);
            failed++;
        }
    }
    fclose(f);
    print_message("%d round trips, %d failed\n", run, failed);
    assert_int_equal(run, 20); /* the 20 models README.md counts */
    assert_int_equal(failed, 0);
}

static void info_of(const char *name, const char *prefix, elman_rnn_info *info)
{
    char err[ELMAN_IO_ERROR_SIZE];
    elman_safetensors *st = read_model(name);
    int rc = elman_rnn_info_from_safetensors(st, prefix, info, err, sizeof(err));
    if (rc != ELMAN_OK)
        print_error("%s: %s\n", name, err);
    assert_int_equal(rc, ELMAN_OK);
    elman_safetensors_free(st);
}

static void test_inferred_configuration(void **state)
{
    (void)state;
    elman_rnn_info info;
    info_of("basic", NULL, &info);
    assert_int_equal(info.config.input_size, 3);
    assert_int_equal(info.config.hidden_size, 4);
    assert_int_equal(info.config.num_layers, 1);
    assert_int_equal(info.config.bias, ELMAN_BIAS_BOTH);
    assert_int_equal(info.config.bidirectional, 0);
    assert_int_equal(info.config.nonlinearity, ELMAN_TANH);
    assert_int_equal(info.nonlinearity_from_metadata, 1);
    assert_int_equal(info.batch_first_from_metadata, 1);
    assert_int_equal(info.dtype, ELMAN_DTYPE_F32);
    assert_int_equal(info.num_parameters, 4 * 3 + 4 * 4 + 4 + 4);
    assert_string_equal(info.prefix, "");

    info_of("meta_relu_bf_h0_len", NULL, &info);
    assert_int_equal(info.config.nonlinearity, ELMAN_RELU);
    assert_int_equal(info.config.batch_first, 1);

    info_of("l3_bi_nobias_h0_len", NULL, &info);
    assert_int_equal(info.config.num_layers, 3);
    assert_int_equal(info.config.bidirectional, 1);
    assert_int_equal(info.config.bias, ELMAN_BIAS_NONE);
    assert_int_equal(info.num_parameters, 2 * (4 * 3 + 16) + 4 * (4 * 8 + 16));

    info_of("no_metadata", NULL, &info);
    assert_int_equal(info.nonlinearity_from_metadata, 0);
    assert_int_equal(info.batch_first_from_metadata, 0);
    assert_int_equal(info.config.nonlinearity, ELMAN_TANH);
    assert_int_equal(info.config.batch_first, 0);
    assert_int_equal(info.config.num_layers, 2);

    info_of("f16_model", NULL, &info);
    assert_int_equal(info.dtype, ELMAN_DTYPE_F16);
    info_of("bf16_model", NULL, &info);
    assert_int_equal(info.dtype, ELMAN_DTYPE_BF16);
    info_of("f64_model", NULL, &info);
    assert_int_equal(info.dtype, ELMAN_DTYPE_F64);
}

static void test_prefixes(void **state)
{
    (void)state;
    char err[ELMAN_IO_ERROR_SIZE];
    elman_rnn_info info;
    info_of("prefix_given", "rnn.", &info);
    assert_string_equal(info.prefix, "rnn.");
    assert_int_equal(info.config.num_layers, 2);
    info_of("prefix_given", NULL, &info); /* detected */
    assert_string_equal(info.prefix, "rnn.");
    info_of("prefix_given", "rnn", &info); /* the '.' is added */
    assert_string_equal(info.prefix, "rnn.");
    info_of("prefix_nodot", "encoder.rnn", &info);
    assert_string_equal(info.prefix, "encoder.rnn.");
    info_of("prefix_nodot", NULL, &info);
    assert_string_equal(info.prefix, "encoder.rnn.");

    elman_safetensors *st = read_model("prefix_given");
    assert_int_equal(elman_rnn_info_from_safetensors(st, "", &info, err, sizeof(err)),
                     ELMAN_ERR_SHAPE);
    assert_non_null(strstr(err, "\"rnn.\"")); /* names the prefix it has */
    assert_int_equal(elman_rnn_info_from_safetensors(st, "encoder.", &info, err, sizeof(err)),
                     ELMAN_ERR_SHAPE);
    assert_int_equal(elman_rnn_info_from_safetensors(st, "fc.", &info, err, sizeof(err)),
                     ELMAN_ERR_SHAPE);
    char longp[300];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(elman_rnn_info_from_safetensors(st, longp, &info, err, sizeof(err)),
                     ELMAN_ERR_UNSUPPORTED);
    elman_safetensors_free(st);

    st = read_model("bad/st_two_rnns");
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                     ELMAN_ERR_SHAPE);
    assert_non_null(strstr(err, "several"));
    assert_int_equal(elman_rnn_info_from_safetensors(st, "dec.", &info, err, sizeof(err)),
                     ELMAN_OK);
    assert_string_equal(info.prefix, "dec.");
    elman_safetensors_free(st);
}

static void test_double_weights_and_tampering(void **state)
{
    (void)state;
    char err[ELMAN_IO_ERROR_SIZE];
    elman_safetensors *st = read_model("f64_model");
    elman_rnn_info info;
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                     ELMAN_OK);
    const double *w_ih, *w_hh, *b_ih, *b_hh;
    assert_int_equal(elman_rnn_weights_from_safetensors(st, &info, 1, 1, &w_ih, &w_hh, &b_ih,
                                                        &b_hh, err, sizeof(err)),
                     ELMAN_OK);
    /* A file read from disk converts nothing until asked; the values are
     * then converted once and kept. */
    const elman_tensor *t = elman_safetensors_find(st, "weight_hh_l1_reverse");
    assert_null(t->data);
    const double *v;
    assert_int_equal(elman_safetensors_values(st, t, &v, err, sizeof(err)), ELMAN_OK);
    assert_ptr_equal(w_hh, v);
    t = elman_safetensors_find(st, "weight_ih_l1_reverse");
    assert_int_equal(elman_safetensors_values(st, t, &v, err, sizeof(err)), ELMAN_OK);
    assert_ptr_equal(w_ih, v);
    double *copy = malloc(t->count * sizeof(double));
    assert_non_null(copy);
    assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_F64, copy, err, sizeof(err)),
                     ELMAN_OK);
    assert_memory_equal(copy, v, t->count * sizeof(double));
    free(copy);
    assert_int_equal(elman_safetensors_tensor_read(st, t, ELMAN_DTYPE_I32, &v, err, sizeof(err)),
                     ELMAN_ERR_UNSUPPORTED);
    assert_non_null(b_hh);
    assert_non_null(b_ih);
    assert_int_equal(elman_rnn_weights_from_safetensors(st, &info, 2, 0, &w_ih, NULL, NULL,
                                                        NULL, err, sizeof(err)),
                     ELMAN_ERR_INVALID_INDEX);
    assert_int_equal(elman_rnn_weights_from_safetensors(st, &info, 0, 2, &w_ih, NULL, NULL,
                                                        NULL, err, sizeof(err)),
                     ELMAN_ERR_INVALID_INDEX);

    /* A configuration that is not the file's is refused. */
    elman_rnn *rnn = (elman_rnn *)1;
    elman_rnn_info bad = info;
    bad.config.hidden_size++;
    assert_int_equal(elman_rnn_from_safetensors(st, &bad, &rnn, err, sizeof(err)),
                     ELMAN_ERR_INVALID_CONFIG);
    assert_null(rnn);
    bad = info;
    bad.config.bidirectional = 0;
    assert_int_equal(elman_rnn_from_safetensors(st, &bad, &rnn, err, sizeof(err)),
                     ELMAN_ERR_INVALID_CONFIG);
    bad = info;
    bad.config.nonlinearity = ELMAN_SOFTPLUS + 1; /* elman_rnn_create() says what is wrong */
    assert_int_equal(elman_rnn_from_safetensors(st, &bad, &rnn, err, sizeof(err)),
                     ELMAN_ERR_INVALID_CONFIG);
    bad = info;
    strcpy(bad.prefix, "x.");
    assert_int_equal(elman_rnn_from_safetensors(st, &bad, &rnn, err, sizeof(err)),
                     ELMAN_ERR_SHAPE);
    assert_int_equal(elman_rnn_from_safetensors(NULL, &info, &rnn, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_from_safetensors(st, &info, NULL, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, NULL, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    elman_safetensors_free(st);

    st = read_model("prefix_detected"); /* no bias */
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                     ELMAN_OK);
    b_ih = b_hh = (const double *)1;
    assert_int_equal(elman_rnn_weights_from_safetensors(st, &info, 1, 0, &w_ih, &w_hh, &b_ih,
                                                        &b_hh, err, sizeof(err)),
                     ELMAN_OK);
    assert_null(b_ih);
    assert_null(b_hh);
    elman_safetensors_free(st);
}

/* The model files of tests/data/io/bad, through elman_rnn_load(). */
static void test_bad_model_files(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int code;
        const char *in_message;
    } cases[] = {
        {"st_truncated", ELMAN_ERR_FORMAT, "out of range"},
        {"st_short", ELMAN_ERR_FORMAT, "too short"},
        {"st_empty", ELMAN_ERR_FORMAT, "too short"},
        {"st_header_beyond_file", ELMAN_ERR_FORMAT, "exceeds"},
        {"st_header_absurd", ELMAN_ERR_FORMAT, "absurd"},
        {"st_invalid_json", ELMAN_ERR_FORMAT, "JSON"},
        {"st_not_object", ELMAN_ERR_FORMAT, NULL},
        {"st_trailing_garbage_header", ELMAN_ERR_FORMAT, "after its JSON"},
        {"st_offsets_out_of_range", ELMAN_ERR_FORMAT, "out of range"},
        {"st_offsets_overlap", ELMAN_ERR_FORMAT, "overlap"},
        {"st_offsets_mismatch_shape", ELMAN_ERR_FORMAT, "needs 80"},
        {"st_data_gap", ELMAN_ERR_FORMAT, "no tensor"},
        {"st_missing_tensor", ELMAN_ERR_SHAPE, "missing tensor bias_hh_l0"},
        {"st_layer_gap", ELMAN_ERR_SHAPE, "missing tensor weight_ih_l1"},
        {"st_wrong_shape", ELMAN_ERR_SHAPE, "weight_hh_l1: shape [4, 5], expected [4, 4]"},
        {"st_wrong_input_shape", ELMAN_ERR_SHAPE, "weight_ih_l1: shape [4, 5], expected [4, 4]"},
        {"st_duplicate_name", ELMAN_ERR_FORMAT, "twice"},
        {"st_int_weights", ELMAN_ERR_UNSUPPORTED, "I32"},
        {"st_unknown_dtype", ELMAN_ERR_UNSUPPORTED, "Q7"},
        {"st_bad_nonlinearity", ELMAN_ERR_INVALID_CONFIG, "gelu"},
        {"st_bad_batch_first", ELMAN_ERR_INVALID_CONFIG, "maybe"},
        {"st_metadata_not_string", ELMAN_ERR_FORMAT, "not a string"},
        {"st_metadata_contradicts", ELMAN_ERR_SHAPE, "num_layers 3"},
        {"st_no_rnn", ELMAN_ERR_SHAPE, "no nn.RNN"},
        {"st_two_rnns", ELMAN_ERR_SHAPE, "several"},
        {"st_half_reverse", ELMAN_ERR_SHAPE, "weight_hh_l0_reverse"},
        {"st_lstm_projection", ELMAN_ERR_SHAPE, "weight_hr_l0"},
        /* Strict reading (issue 9): each was accepted or misdescribed. */
        {"st_name_nul", ELMAN_ERR_FORMAT, "\\u0000"},
        {"st_meta_nul", ELMAN_ERR_FORMAT, "may not contain NUL"},
        {"st_meta_key_nul", ELMAN_ERR_FORMAT, "may not contain NUL"},
        {"st_name_bad_utf8", ELMAN_ERR_FORMAT, "not valid UTF-8"},
        {"st_name_surrogate", ELMAN_ERR_FORMAT, "not valid UTF-8"},
        {"st_shape_float", ELMAN_ERR_FORMAT, "shape entry 3.0 at byte"},
        {"st_shape_exponent", ELMAN_ERR_FORMAT, "3e0 at byte"},
        {"st_shape_2p61", ELMAN_ERR_FORMAT, "shape entry 2305843009213693952 exceeds 2^53"},
        {"st_shape_2p53_plus1", ELMAN_ERR_FORMAT, "9007199254740993 exceeds 2^53"},
        {"st_prefixed_and_not", ELMAN_ERR_SHAPE, "prefixes \"\" (none), \"rnn.\"): choose "
                                                 "one with --prefix"},
        {"st_is_npy", ELMAN_ERR_FORMAT, "not a safetensors file: this is a .npy array"},
        {"st_is_torch_zip", ELMAN_ERR_FORMAT, "this is a zip archive (torch.save()"},
        {"st_is_pickle", ELMAN_ERR_FORMAT, "this is a Python pickle"},
        {"st_gru", ELMAN_ERR_UNSUPPORTED, "this is an nn.GRU, not an nn.RNN"},
        {"st_lstm", ELMAN_ERR_UNSUPPORTED, "this is an nn.LSTM, not an nn.RNN"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[512], err[ELMAN_IO_ERROR_SIZE] = "";
        snprintf(path, sizeof(path), "%s/bad/%s.safetensors", g_dir, cases[i].file);
        elman_rnn *rnn = (elman_rnn *)1;
        int rc = elman_rnn_load(path, NULL, &rnn, NULL, err, sizeof(err));
        if (rc != cases[i].code || rnn != NULL || strstr(err, cases[i].file) == NULL ||
            (cases[i].in_message != NULL && strstr(err, cases[i].in_message) == NULL)) {
            print_error("%s: got %d (%s), expected %d containing '%s'\n", cases[i].file, rc, err,
                        cases[i].code, cases[i].in_message ? cases[i].in_message : "");
            fail();
        }
    }
    /* An ONNX file (a graph without RNN node) read as safetensors is named
     * for what it is; elman_rnn_load() hands it to the ONNX loader, which
     * refuses it for its own reason (or, built without it, says so). */
    char path[512], err[ELMAN_IO_ERROR_SIZE] = "";
    snprintf(path, sizeof(path), "%s/bad/st_is_onnx.safetensors", g_dir);
    elman_safetensors *st = (elman_safetensors *)1;
    assert_int_equal(elman_safetensors_read(path, &st, err, sizeof(err)), ELMAN_ERR_FORMAT);
    assert_null(st);
    assert_non_null(strstr(err, "this is an ONNX model"));
    elman_rnn *rnn = (elman_rnn *)1;
    assert_int_not_equal(elman_rnn_load(path, NULL, &rnn, NULL, err, sizeof(err)), ELMAN_OK);
    assert_null(rnn);
    assert_non_null(strstr(err, elman_onnx_supported() ? "no RNN node" : "ONNX"));
}

/* Devices, FIFOs and directories are refused at once, never read forever
 * (a FIFO without a writer would block the open itself). */
static void test_not_regular_files(void **state)
{
    (void)state;
    const char *dir = it_tempdir(0);
    char fifo[512], err[ELMAN_IO_ERROR_SIZE];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *paths[] = {"/dev/zero", "/dev/urandom", fifo, dir};
    const char *msg[] = {"is not a regular file", "is not a regular file", "is not a regular file",
                         "is a directory, not a regular file"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        elman_safetensors *st;
        elman_array a;
        elman_rnn *rnn;
        assert_int_equal(elman_safetensors_read(paths[i], &st, err, sizeof(err)), ELMAN_ERR_IO);
        assert_non_null(strstr(err, msg[i]));
        assert_int_equal(elman_npy_read(paths[i], &a, err, sizeof(err)), ELMAN_ERR_IO);
        assert_non_null(strstr(err, msg[i]));
        assert_int_equal(elman_rnn_load(paths[i], NULL, &rnn, NULL, err, sizeof(err)),
                         ELMAN_ERR_IO);
        assert_non_null(strstr(err, msg[i]));
        assert_null(rnn);
    }
    it_rmdir(dir);
}

/* elman_safetensors_read() reads the header only; a file cut short after
 * it makes the conversion fail with ELMAN_ERR_IO, never read past its end. */
static void test_file_shrinks_after_read(void **state)
{
    (void)state;
    const char *dir = it_tempdir(2);
    char src[512], path[512], err[ELMAN_IO_ERROR_SIZE];
    snprintf(src, sizeof(src), "%s/basic.safetensors", g_dir);
    snprintf(path, sizeof(path), "%s/m.safetensors", dir);
    elman_safetensors *st;
    FILE *in = fopen(src, "rb"), *out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    unsigned char buf[1 << 14];
    size_t n = fread(buf, 1, sizeof(buf), in);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    assert_int_equal(elman_safetensors_read(path, &st, err, sizeof(err)), ELMAN_OK);
    elman_rnn_info info;
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                     ELMAN_OK);
    assert_int_equal(truncate(path, (off_t)(n - 8)), 0);
    elman_rnn *rnn = (elman_rnn *)1;
    assert_int_equal(elman_rnn_from_safetensors(st, &info, &rnn, err, sizeof(err)), ELMAN_ERR_IO);
    assert_null(rnn);
    assert_non_null(strstr(err, "shorter"));
    int cut = 0; /* the tensors in the lost bytes */
    for (size_t i = 0; i < elman_safetensors_count(st); i++) {
        const double *v = (const double *)1;
        int rc = elman_safetensors_values(st, elman_safetensors_tensor(st, i), &v, err,
                                          sizeof(err));
        assert_true(rc == ELMAN_OK || (rc == ELMAN_ERR_IO && v == NULL));
        cut += rc == ELMAN_ERR_IO;
    }
    assert_true(cut >= 1);
    elman_safetensors_free(st);
    it_rmdir(dir);
}

/* Threads asking for the same tensor's values at once of a file read from
 * disk all get the one copy (elman_safetensors_values is thread-safe). */
typedef struct values_job {
    const elman_safetensors *st;
    const elman_tensor *t;
    const double *got;
    int rc;
} values_job;

static void *values_thread(void *arg)
{
    values_job *j = arg;
    char err[ELMAN_IO_ERROR_SIZE];
    j->rc = elman_safetensors_values(j->st, j->t, &j->got, err, sizeof(err));
    return NULL;
}

static void test_values_from_threads(void **state)
{
    (void)state;
    elman_safetensors *st = read_model("wide");
    enum { N = 8 };
    for (size_t i = 0; i < elman_safetensors_count(st); i++) {
        pthread_t th[N];
        values_job job[N];
        for (int k = 0; k < N; k++) {
            job[k] = (values_job){st, elman_safetensors_tensor(st, i), NULL, -1};
            assert_int_equal(pthread_create(&th[k], NULL, values_thread, &job[k]), 0);
        }
        for (int k = 0; k < N; k++) {
            assert_int_equal(pthread_join(th[k], NULL), 0);
            assert_int_equal(job[k].rc, ELMAN_OK);
            assert_ptr_equal(job[k].got, job[0].got);
        }
        assert_non_null(job[0].got);
    }
    elman_safetensors_free(st);
}

/* A safetensors file given where a .npy is expected says what it is. */
static void test_npy_names_other_format(void **state)
{
    (void)state;
    char path[512], err[ELMAN_IO_ERROR_SIZE] = "";
    snprintf(path, sizeof(path), "%s/bad/npy_is_safetensors.npy", g_dir);
    elman_array a;
    assert_int_equal(elman_npy_read(path, &a, err, sizeof(err)), ELMAN_ERR_FORMAT);
    assert_non_null(strstr(err, "not a .npy file: this is a safetensors file"));
}

/* Inconsistent RNN tensors built in memory. */
static void test_bad_rnn_tensors(void **state)
{
    (void)state;
#define T(name, shape, off0, off1)                                                          \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":[" #off0 "," #off1 \
    "]}"
    static const struct {
        const char *what, *header;
        size_t data;
        int code;
    } cases[] = {
        {"weight_hh not square", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,3]", 24, 48) "}", 48, ELMAN_ERR_SHAPE},
        {"weight_ih 1-D", "{" T("weight_ih_l0", "[2]", 0, 8) "," T("weight_hh_l0", "[2,2]", 8, 24) "}", 24, ELMAN_ERR_SHAPE},
        {"weight_ih rows", "{" T("weight_ih_l0", "[3,3]", 0, 36) "," T("weight_hh_l0", "[2,2]", 36, 52) "}", 52, ELMAN_ERR_SHAPE},
        {"hidden size 0", "{" T("weight_ih_l0", "[0,3]", 0, 0) "," T("weight_hh_l0", "[0,0]", 0, 0) "}", 0, ELMAN_ERR_SHAPE},
        {"input size 0", "{" T("weight_ih_l0", "[2,0]", 0, 0) "," T("weight_hh_l0", "[2,2]", 0, 16) "}", 16, ELMAN_ERR_SHAPE},
        {"no weight_hh_l0", "{" T("weight_ih_l0", "[2,3]", 0, 24) "}", 24, ELMAN_ERR_SHAPE},
        {"leading zero", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) "," T("weight_hh_l01", "[2,2]", 40, 56) "}", 56, ELMAN_ERR_SHAPE},
        {"bad suffix", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) "," T("weight_hh_l0_forward", "[2,2]", 40, 56) "}", 56, ELMAN_ERR_SHAPE},
        {"bias_hh only", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) "," T("bias_hh_l0", "[2]", 40, 48) "}", 48, ELMAN_ERR_SHAPE},
        {"one and two biases mixed", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) "," T("bias_ih_l0", "[2]", 40, 48) "," T("weight_ih_l1", "[2,2]", 48, 64) "," T("weight_hh_l1", "[2,2]", 64, 80) "," T("bias_ih_l1", "[2]", 80, 88) "," T("bias_hh_l1", "[2]", 88, 96) "}", 96, ELMAN_ERR_SHAPE},
        {"bias of the wrong size", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) "," T("bias_ih_l0", "[3]", 40, 52) "," T("bias_hh_l0", "[2]", 52, 60) "}", 60, ELMAN_ERR_SHAPE},
        {"bias 2-D", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) "," T("bias_ih_l0", "[1,2]", 40, 48) "," T("bias_hh_l0", "[2]", 48, 56) "}", 56, ELMAN_ERR_SHAPE},
        {"a layer far away", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) "," T("weight_hh_l999999", "[2,2]", 40, 56) "}", 56, ELMAN_ERR_SHAPE},
        {"a layer index too long", "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) "," T("weight_hh_l9999999", "[2,2]", 40, 56) "}", 56, ELMAN_ERR_SHAPE},
    };
#undef T
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        elman_safetensors *st = parse_built(cases[i].what, cases[i].header, NULL, cases[i].data);
        char err[ELMAN_IO_ERROR_SIZE];
        elman_rnn_info info;
        int rc = elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err));
        if (rc != cases[i].code) {
            print_error("%s: got %d (%s), expected %d\n", cases[i].what, rc, err, cases[i].code);
            fail();
        }
        elman_safetensors_free(st);
    }
}

/* A one-bias model (bias_ih only, as TFLite/Keras/oneDNN have) loads as
 * ELMAN_BIAS_SINGLE and computes what the C API computes with the same
 * weights, and what a two-bias model with bias_hh = 0 computes; float64
 * too. A model that mixes one and two biases is refused. */
static void test_one_bias(void **state)
{
    (void)state;
#define T(name, shape, off0, off1)                                                          \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":[" #off0 "," #off1 \
    "]}"
    /* I = 3, H = 2, L = 2, bidirectional: per direction of layer 0
     * w_ih 6, w_hh 4, b_ih 2 floats; of layer 1 w_ih 8, w_hh 4, b_ih 2. */
    static const char header[] =
        "{" T("weight_ih_l0", "[2,3]", 0, 24) "," T("weight_hh_l0", "[2,2]", 24, 40) ","
        T("bias_ih_l0", "[2]", 40, 48) "," T("weight_ih_l0_reverse", "[2,3]", 48, 72) ","
        T("weight_hh_l0_reverse", "[2,2]", 72, 88) "," T("bias_ih_l0_reverse", "[2]", 88, 96) ","
        T("weight_ih_l1", "[2,4]", 96, 128) "," T("weight_hh_l1", "[2,2]", 128, 144) ","
        T("bias_ih_l1", "[2]", 144, 152) "," T("weight_ih_l1_reverse", "[2,4]", 152, 184) ","
        T("weight_hh_l1_reverse", "[2,2]", 184, 200) "," T("bias_ih_l1_reverse", "[2]", 200, 208)
        "}";
#undef T
    float w[52];
    for (int i = 0; i < 52; i++)
        w[i] = 0.37f * (float)((i * 7) % 11) / 11.0f - 0.2f;
    elman_safetensors *st = parse_built("one bias", header, w, sizeof(w));
    char err[ELMAN_IO_ERROR_SIZE];
    elman_rnn_info info;
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                     ELMAN_OK);
    assert_int_equal(info.config.bias, ELMAN_BIAS_SINGLE);
    assert_int_equal(info.config.num_layers, 2);
    assert_int_equal(info.config.bidirectional, 1);
    assert_int_equal(info.num_parameters, 52);
    const double *w_ih, *b_ih, *b_hh = (const double *)1;
    assert_int_equal(elman_rnn_weights_from_safetensors(st, &info, 1, 1, &w_ih, NULL, &b_ih,
                                                        &b_hh, err, sizeof(err)),
                     ELMAN_OK);
    assert_ptr_equal(b_ih, elman_safetensors_find(st, "bias_ih_l1_reverse")->data);
    assert_null(b_hh);

    /* The same weights through the C API, with one bias and with b_hh = 0. */
    static const size_t off[2][2] = {{0, 12}, {24, 38}}; /* floats, [layer][direction] */
    elman_config one = info.config, two = info.config;
    two.bias = ELMAN_BIAS_BOTH;
    elman_rnn *r_one, *r_two, *loaded, *loaded64;
    assert_int_equal(elman_rnn_create(&one, &r_one), ELMAN_OK);
    assert_int_equal(elman_rnn_create(&two, &r_two), ELMAN_OK);
    const float zero[2] = {0, 0};
    for (int l = 0; l < 2; l++)
        for (int d = 0; d < 2; d++) {
            const float *p = w + off[l][d];
            const size_t in = l == 0 ? 3 : 4;
            assert_int_equal(elman_rnn_set_weights(r_one, l, d, p, p + 2 * in, p + 2 * in + 4,
                                                   NULL),
                             ELMAN_OK);
            assert_int_equal(elman_rnn_set_weights(r_two, l, d, p, p + 2 * in, p + 2 * in + 4,
                                                   zero),
                             ELMAN_OK);
        }
    assert_int_equal(elman_rnn_from_safetensors(st, &info, &loaded, err, sizeof(err)), ELMAN_OK);
    elman_rnn_info info64 = info;
    info64.config.dtype = ELMAN_FLOAT64;
    assert_int_equal(elman_rnn_from_safetensors(st, &info64, &loaded64, err, sizeof(err)),
                     ELMAN_OK);
    enum { B = 3, TT = 5, NX = TT * B * 3, NY = TT * B * 4, NH = 4 * B * 2 };
    tu_rng rng;
    tu_seed(&rng, 6);
    float *x = tu_random(&rng, NX, 1.0f), y1[NY], y2[NY], y3[NY], h1[NH], h2[NH], h3[NH];
    double xd[NX], yd[NY], hd[NH], want_y[NY], want_h[NH];
    for (int i = 0; i < NX; i++)
        xd[i] = x[i];
    const int lengths[B] = {5, 2, 4};
    assert_int_equal(elman_rnn_forward(loaded, B, TT, x, lengths, NULL, y1, h1, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_rnn_forward(r_one, B, TT, x, lengths, NULL, y2, h2, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_rnn_forward(r_two, B, TT, x, lengths, NULL, y3, h3, NULL, 0), ELMAN_OK);
    assert_memory_equal(y1, y2, sizeof(y1));
    assert_memory_equal(h1, h2, sizeof(h1));
    for (int i = 0; i < NY; i++)
        want_y[i] = y3[i];
    for (int i = 0; i < NH; i++)
        want_h[i] = h3[i];
    assert_true(tu_compare("one bias vs b_hh = 0: output", y1, want_y, NY) < 0);
    assert_true(tu_compare("one bias vs b_hh = 0: h_n", h1, want_h, NH) < 0);

    /* float64: the double reference of the test suite, with the file's
     * float32 weights (exact in double). */
    assert_int_equal(elman_rnn_forward_f64(loaded64, B, TT, xd, lengths, NULL, yd, hd, NULL, 0),
                     ELMAN_OK);
    assert_int_equal(elman_rnn_forward(loaded64, B, TT, x, lengths, NULL, y1, h1, NULL, 0),
                     ELMAN_ERR_INVALID_CONFIG);
    double wd[52];
    for (int i = 0; i < 52; i++)
        wd[i] = w[i];
    const double *rw_ih[4], *rw_hh[4], *rb_ih[4], *rb_hh[4] = {NULL, NULL, NULL, NULL};
    for (int l = 0; l < 2; l++)
        for (int d = 0; d < 2; d++) {
            const size_t in = l == 0 ? 3 : 4;
            rw_ih[l * 2 + d] = wd + off[l][d];
            rw_hh[l * 2 + d] = wd + off[l][d] + 2 * in;
            rb_ih[l * 2 + d] = wd + off[l][d] + 2 * in + 4;
        }
    tu_reference_d(&one, rw_ih, rw_hh, rb_ih, rb_hh, B, TT, xd, lengths, NULL, want_y, want_h);
    for (int i = 0; i < NY; i++)
        assert_true(fabs(yd[i] - want_y[i]) <= TEST_F64_TOL * (1 + fabs(want_y[i])));
    for (int i = 0; i < NH; i++)
        assert_true(fabs(hd[i] - want_h[i]) <= TEST_F64_TOL * (1 + fabs(want_h[i])));
    free(x);
    elman_rnn_free(r_one);
    elman_rnn_free(r_two);
    elman_rnn_free(loaded);
    elman_rnn_free(loaded64);
    elman_safetensors_free(st);

    /* Mixed: bias_hh in layer 1 only. */
    st = read_model("bad/st_missing_tensor");
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                     ELMAN_ERR_SHAPE);
    assert_non_null(strstr(err, "missing tensor bias_hh_l0: the model mixes one and two biases"));
    elman_safetensors_free(st);
}


/* ---- what elman_rnn_info holds ---- */

/* Every field of info->config but the five inferred ones, nonlinearity and
 * batch_first is elman_config_init()'s default. */
static void check_defaults(const elman_rnn_info *info, int nonlinearity, int batch_first)
{
    elman_config d;
    elman_config_init(&d);
    const elman_config *c = &info->config;
    assert_int_equal(c->struct_size, d.struct_size);
    assert_int_equal(c->nonlinearity, nonlinearity);
    assert_int_equal(c->batch_first, batch_first);
    assert_int_equal(c->num_threads, d.num_threads);
    assert_int_equal(c->reverse, d.reverse);
    assert_true(isnan(d.activation_alpha) ? isnan(c->activation_alpha)
                                          : c->activation_alpha == d.activation_alpha);
    assert_true(isnan(d.activation_beta) ? isnan(c->activation_beta)
                                         : c->activation_beta == d.activation_beta);
    assert_true(c->clip == d.clip);
    assert_int_equal(c->dtype, d.dtype);
    assert_int_equal(c->dtype, ELMAN_FLOAT32);
    assert_int_equal(c->state_batch_first, d.state_batch_first);
    assert_int_equal(c->deterministic, d.deterministic);
}

#define TD(name, dtype, shape, off0, off1)                                                  \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #off0 "," \
    #off1 "]}"

/* dtype: the RNN's tensors' one dtype, -1 when they mix (weights or
 * biases); tensors outside the RNN count for nothing. format: safetensors.
 * The other fields: defaults, or the metadata's. Whatever info held
 * before. */
static void test_info_fields(void **state)
{
    (void)state;
    static const struct {
        const char *what, *header;
        size_t data;
        int dtype;
        const char *prefix;
        size_t params;
        int relu_bf; /* metadata nonlinearity relu, batch_first true */
    } cases[] = {
        {"weight_hh F64",
         "{" TD("weight_ih_l0", "F32", "[2,3]", 0, 24) "," TD("weight_hh_l0", "F64", "[2,2]", 24,
         56) "," TD("bias_ih_l0", "F32", "[2]", 56, 64) "," TD("bias_hh_l0", "F32", "[2]", 64,
         72) "}", 72, -1, "", 14, 0},
        {"bias_hh F16",
         "{" TD("weight_ih_l0", "BF16", "[2,3]", 0, 12) "," TD("weight_hh_l0", "BF16", "[2,2]",
         12, 20) "," TD("bias_ih_l0", "BF16", "[2]", 20, 24) "," TD("bias_hh_l0", "F16", "[2]",
         24, 28) "}", 28, -1, "", 14, 0},
        {"F32 RNN beside F64 and BF16 tensors",
         "{" TD("rnn.weight_ih_l0", "F32", "[2,3]", 0, 24) "," TD("rnn.weight_hh_l0", "F32",
         "[2,2]", 24, 40) "," TD("fc.weight", "F64", "[1,2]", 40, 56) "," TD("rnn.fc.bias",
         "BF16", "[1]", 56, 58) "}", 58, ELMAN_DTYPE_F32, "rnn.", 10, 0},
        {"metadata",
         "{\"__metadata__\":{\"nonlinearity\":\"relu\",\"batch_first\":\"true\"},"
         TD("weight_ih_l0", "F16", "[2,3]", 0, 12) "," TD("weight_hh_l0", "F16", "[2,2]", 12,
         20) "}", 20, ELMAN_DTYPE_F16, "", 10, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        elman_safetensors *st = parse_built(cases[i].what, cases[i].header, NULL, cases[i].data);
        char err[ELMAN_IO_ERROR_SIZE];
        elman_rnn_info info;
        memset(&info, 0xff, sizeof(info));
        assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                         ELMAN_OK);
        if (info.dtype != cases[i].dtype) {
            print_error("%s: dtype %d, expected %d\n", cases[i].what, info.dtype,
                        cases[i].dtype);
            fail();
        }
        assert_int_equal(info.format, ELMAN_FORMAT_SAFETENSORS);
        assert_string_equal(info.prefix, cases[i].prefix);
        assert_int_equal(info.num_parameters, cases[i].params);
        assert_int_equal(info.config.input_size, 3);
        assert_int_equal(info.config.hidden_size, 2);
        assert_int_equal(info.nonlinearity_from_metadata, cases[i].relu_bf);
        assert_int_equal(info.batch_first_from_metadata, cases[i].relu_bf);
        check_defaults(&info, cases[i].relu_bf ? ELMAN_RELU : ELMAN_TANH, cases[i].relu_bf);
        elman_safetensors_free(st);
    }
}

/* The fields a caller may change before elman_rnn_from_safetensors() (all
 * of them at once) make the model. */
static void test_info_changes_accepted(void **state)
{
    (void)state;
    char err[ELMAN_IO_ERROR_SIZE];
    elman_safetensors *st = read_model("basic");
    elman_rnn_info info;
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                     ELMAN_OK);
    elman_config *c = &info.config;
    c->nonlinearity = ELMAN_LEAKY_RELU;
    c->activation_alpha = 0.25;
    c->clip = 0.5;
    c->batch_first = !c->batch_first;
    c->reverse = 1;
    c->state_batch_first = 1;
    c->deterministic = 1;
    c->num_threads = 2;
    for (int f64 = 0; f64 <= 1; f64++) {
        c->dtype = f64 ? ELMAN_FLOAT64 : ELMAN_FLOAT32;
        elman_rnn *rnn;
        int rc = elman_rnn_from_safetensors(st, &info, &rnn, err, sizeof(err));
        if (rc != ELMAN_OK)
            print_error("%s\n", err);
        assert_int_equal(rc, ELMAN_OK);
        elman_config got;
        elman_config_init(&got);
        assert_int_equal(elman_rnn_get_config(rnn, &got), ELMAN_OK);
        assert_int_equal(got.nonlinearity, c->nonlinearity);
        assert_true(got.activation_alpha == c->activation_alpha && got.clip == c->clip);
        assert_int_equal(got.batch_first, c->batch_first);
        assert_int_equal(got.reverse, 1);
        assert_int_equal(got.state_batch_first, 1);
        assert_int_equal(got.deterministic, 1);
        assert_int_equal(got.num_threads, 2);
        assert_int_equal(got.dtype, c->dtype);
        elman_rnn_free(rnn);
    }
    elman_safetensors_free(st);
}

static unsigned char *read_bytes(const char *name, size_t *size)
{
    char path[512];
    path_of(path, sizeof(path), name, ".safetensors");
    return it_read_file(path, size);
}

/* elman_rnn_parse() from the bytes of a file (freed as soon as it
 * returns) and elman_rnn_load() of the file give the same configuration
 * and the same model: bitwise the same output and h_n. */
static void test_parse_equals_load(void **state)
{
    (void)state;
    static const char *const names[] = {"basic", "f16_model", "bf16_model", "f64_model",
                                        "l3_bi_nobias_h0_len", "prefix_given", "single_bias"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512], err[ELMAN_IO_ERROR_SIZE];
        size_t size;
        unsigned char *bytes = read_bytes(names[i], &size);
        elman_rnn *parsed, *loaded;
        elman_rnn_info pi, li;
        int rc = elman_rnn_parse(bytes, size, NULL, &parsed, &pi, err, sizeof(err));
        memset(bytes, 0xa5, size);
        free(bytes);
        if (rc != ELMAN_OK)
            print_error("%s: %s\n", names[i], err);
        assert_int_equal(rc, ELMAN_OK);
        path_of(path, sizeof(path), names[i], ".safetensors");
        assert_int_equal(elman_rnn_load(path, NULL, &loaded, &li, err, sizeof(err)), ELMAN_OK);
        assert_memory_equal(&pi, &li, sizeof(pi));

        const elman_config *c = &li.config;
        enum { B = 3, T = 4 };
        tu_rng rng;
        tu_seed(&rng, 40 + i);
        const size_t nx = tu_elems_x(c, B, T), ny = tu_elems_out(c, B, T);
        const size_t nh = tu_elems_state(c, B);
        float *x = tu_random(&rng, nx, 1.0f);
        float *y[2] = {malloc(ny * sizeof(float)), malloc(ny * sizeof(float))};
        float *h[2] = {malloc(nh * sizeof(float)), malloc(nh * sizeof(float))};
        const int lengths[B] = {4, 1, 3};
        elman_rnn *models[2] = {parsed, loaded};
        for (int k = 0; k < 2; k++)
            assert_int_equal(elman_rnn_forward(models[k], B, T, x, lengths, NULL, y[k], h[k],
                                               NULL, 0),
                             ELMAN_OK);
        if (memcmp(y[0], y[1], ny * sizeof(float)) != 0 ||
            memcmp(h[0], h[1], nh * sizeof(float)) != 0) {
            print_error("%s: elman_rnn_parse and elman_rnn_load differ\n", names[i]);
            fail();
        }
        for (int k = 0; k < 2; k++) {
            free(y[k]);
            free(h[k]);
            elman_rnn_free(models[k]);
        }
        free(x);
    }
    /* "Same as elman_safetensors_parse()": no bytes are an empty file. */
    char err[ELMAN_IO_ERROR_SIZE];
    elman_rnn *rnn = (elman_rnn *)1;
    assert_int_equal(elman_rnn_parse(NULL, 0, NULL, &rnn, NULL, err, sizeof(err)),
                     ELMAN_ERR_FORMAT);
    assert_null(rnn);
    assert_int_equal(elman_rnn_parse(NULL, 8, NULL, &rnn, NULL, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
}

/* elman_model_file_format(): safetensors when byte 8 is '{' (whatever the
 * name and the first byte), else ONNX when the first byte is 0x08 or the
 * name ends in ".onnx", else safetensors. */
static void test_model_file_format(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *bytes;
        size_t n;
        int format;
    } cases[] = {
        {"st.onnx", "\x02\0\0\0\0\0\0\0{}", 10, ELMAN_FORMAT_SAFETENSORS},
        {"st8.bin", "\x08\0\0\0\0\0\0\0{}      ", 16, ELMAN_FORMAT_SAFETENSORS},
        {"ir.bin", "\x08\x07\x12\x01x", 5, ELMAN_FORMAT_ONNX},
        {"one.bin", "\x08", 1, ELMAN_FORMAT_ONNX},
        {"junk.onnx", "junk", 4, ELMAN_FORMAT_ONNX},
        {"empty.onnx", "", 0, ELMAN_FORMAT_ONNX},
        {"junk.bin", "junk", 4, ELMAN_FORMAT_SAFETENSORS},
        {"empty.bin", "", 0, ELMAN_FORMAT_SAFETENSORS},
        {"x.onnx.bin", "junk", 4, ELMAN_FORMAT_SAFETENSORS},
    };
    const char *dir = it_tempdir(1);
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, cases[i].name);
        it_buf b = {(unsigned char *)cases[i].bytes, cases[i].n};
        it_write_file(path, &b);
        int format = -1;
        assert_int_equal(elman_model_file_format(path, &format, err, sizeof(err)), ELMAN_OK);
        if (format != cases[i].format) {
            print_error("%s: format %d, expected %d\n", cases[i].name, format, cases[i].format);
            fail();
        }
    }
    int format;
    assert_int_equal(elman_model_file_format(NULL, &format, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_model_file_format(path, NULL, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    it_rmdir(dir);
}

/* ---- message buffers ---- */

typedef struct load_args {
    const char *path, *prefix;
    const unsigned char *bytes;
    size_t size;
    const elman_safetensors *st;
    const elman_rnn_info *info;
    int layer;
} load_args;

static int call_load(void *ctx, char *err, size_t n)
{
    const load_args *a = ctx;
    elman_rnn *rnn;
    elman_rnn_info info;
    int rc = elman_rnn_load(a->path, a->prefix, &rnn, &info, err, n);
    elman_rnn_free(rnn);
    return rc;
}

static int call_parse(void *ctx, char *err, size_t n)
{
    const load_args *a = ctx;
    elman_rnn *rnn;
    int rc = elman_rnn_parse(a->bytes, a->size, a->prefix, &rnn, NULL, err, n);
    elman_rnn_free(rnn);
    return rc;
}

static int call_info(void *ctx, char *err, size_t n)
{
    const load_args *a = ctx;
    elman_rnn_info info;
    return elman_rnn_info_from_safetensors(a->st, a->prefix, &info, err, n);
}

static int call_from(void *ctx, char *err, size_t n)
{
    const load_args *a = ctx;
    elman_rnn *rnn;
    int rc = elman_rnn_from_safetensors(a->st, a->info, &rnn, err, n);
    elman_rnn_free(rnn);
    return rc;
}

static int call_weights(void *ctx, char *err, size_t n)
{
    const load_args *a = ctx;
    const double *w;
    return elman_rnn_weights_from_safetensors(a->st, a->info, a->layer, 0, &w, NULL, NULL, NULL,
                                              err, n);
}

static int call_format(void *ctx, char *err, size_t n)
{
    const load_args *a = ctx;
    int format;
    return elman_model_file_format(a->path, &format, err, n);
}

/* Every function of the loader with a message buffer: a message cut to
 * any buffer size is the full message's start, NUL-terminated; success
 * sets it to "". */
static void test_messages(void **state)
{
    (void)state;
    char good[512], bad[512], name[201], err[ELMAN_IO_ERROR_SIZE];
    const char *dir = it_tempdir(1);
    memset(name, 'n', 200);
    name[200] = '\0';
    path_of(good, sizeof(good), "basic", ".safetensors");
    snprintf(bad, sizeof(bad), "%s/%s.safetensors", dir, name);
    size_t size;
    unsigned char *bytes = read_bytes("prefix_given", &size);
    it_buf b = {bytes, size};
    it_write_file(bad, &b);
    elman_safetensors *st = read_model("basic");
    elman_rnn_info info, wrong;
    assert_int_equal(elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)),
                     ELMAN_OK);
    wrong = info;
    wrong.config.input_size++;

    /* "": the file's RNN is under "rnn.", refused with ELMAN_ERR_SHAPE. */
    elman_safetensors *prefixed = read_model("prefix_given");
    load_args a = {bad, "", bytes, size, prefixed, &wrong, 1};
    it_check_message("rnn_load", call_load, &a, ELMAN_ERR_SHAPE);
    it_check_message("rnn_parse", call_parse, &a, ELMAN_ERR_SHAPE);
    it_check_message("info_from_safetensors", call_info, &a, ELMAN_ERR_SHAPE);
    elman_safetensors_free(prefixed);
    a.st = st;
    it_check_message("from_safetensors", call_from, &a, ELMAN_ERR_INVALID_CONFIG);
    a.info = &info;
    it_check_message("weights_from_safetensors", call_weights, &a, ELMAN_ERR_INVALID_INDEX);
    snprintf(bad, sizeof(bad), "%s/%s.missing", dir, name);
    it_check_message("model_file_format", call_format, &a, ELMAN_ERR_IO);

    a = (load_args){good, NULL, bytes, size, st, &info, 0};
    it_check_cleared("rnn_load", call_load, &a);
    it_check_cleared("info_from_safetensors", call_info, &a);
    it_check_cleared("from_safetensors", call_from, &a);
    it_check_cleared("weights_from_safetensors", call_weights, &a);
    it_check_cleared("model_file_format", call_format, &a);
    a.prefix = "rnn.";
    it_check_cleared("rnn_parse", call_parse, &a);
    elman_safetensors_free(st);
    free(bytes);
    it_rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_DIR (tests/data/io)\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_names_other_format),
        cmocka_unit_test(test_not_regular_files),
        cmocka_unit_test(test_file_shrinks_after_read),
        cmocka_unit_test(test_values_from_threads),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_inferred_configuration),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_double_weights_and_tampering),
        cmocka_unit_test(test_bad_model_files),
        cmocka_unit_test(test_bad_rnn_tensors),
        cmocka_unit_test(test_one_bias),
        cmocka_unit_test(test_info_fields),
        cmocka_unit_test(test_info_changes_accepted),
        cmocka_unit_test(test_parse_equals_load),
        cmocka_unit_test(test_model_file_format),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
