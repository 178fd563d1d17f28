/* The ONNX loader: every model of tests/data/onnx (from
 * tests/gen_onnx_data.py: torch.onnx.export models against PyTorch, one-node
 * graphs for each attribute against a float64 implementation of ONNX's
 * definition, the onnx package's own RNN cases) loaded through
 * elman_rnn_load() and run; the float64 models to 1e-10 where the reference
 * is float64; what the loader reports (format, nodes, inputs); and the bad
 * files of tests/data/onnx/bad with their codes and messages.
 * In a build without the ONNX loader (-DELMAN_ONNX=OFF), that every entry
 * point refuses instead, as the header says. */
#include "cmocka_wrap.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elman_io.h"
#include "iotest.h"
#include "testutil.h"

static const char *g_dir;

static void path_of(char *buf, size_t n, const char *name, const char *suffix)
{
    snprintf(buf, n, "%s/%s%s", g_dir, name, suffix);
}

static double *read_doubles(const char *path, elman_array *a)
{
    char err[ELMAN_IO_ERROR_SIZE];
    int rc = elman_npy_read(path, a, err, sizeof(err));
    if (rc != ELMAN_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, ELMAN_OK);
    double *d = malloc(a->count * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < a->count; i++)
        d[i] = a->dtype == ELMAN_DTYPE_F64 ? ((double *)a->data)[i] : ((float *)a->data)[i];
    return d;
}

typedef struct onnx_case {
    char name[96];
    int h0, lengths, y, ref;
} onnx_case;

/* The run's inputs of a case, in float and double. */
typedef struct inputs {
    elman_array x, h0, len;
    double *xd, *h0d;
    float *xf, *h0f;
    int *lengths;
    int B, T;
} inputs;

static void read_inputs(const onnx_case *c, const elman_config *cfg, inputs *in)
{
    char path[512];
    memset(in, 0, sizeof(*in));
    path_of(path, sizeof(path), c->name, ".x.npy");
    in->xd = read_doubles(path, &in->x);
    assert_int_equal(in->x.ndim, 3);
    in->T = (int)(cfg->batch_first ? in->x.shape[1] : in->x.shape[0]);
    in->B = (int)(cfg->batch_first ? in->x.shape[0] : in->x.shape[1]);
    in->xf = malloc(in->x.count * sizeof(float));
    for (size_t i = 0; i < in->x.count; i++)
        in->xf[i] = (float)in->xd[i];
    if (c->h0) {
        path_of(path, sizeof(path), c->name, ".h0.npy");
        in->h0d = read_doubles(path, &in->h0);
        in->h0f = malloc(in->h0.count * sizeof(float));
        for (size_t i = 0; i < in->h0.count; i++)
            in->h0f[i] = (float)in->h0d[i];
    }
    if (c->lengths) {
        char err[ELMAN_IO_ERROR_SIZE];
        path_of(path, sizeof(path), c->name, ".lengths.npy");
        assert_int_equal(elman_npy_read(path, &in->len, err, sizeof(err)), ELMAN_OK);
        in->lengths = malloc((size_t)in->B * sizeof(int));
        for (int b = 0; b < in->B; b++)
            in->lengths[b] = (int)((long long *)in->len.data)[b];
    }
}

static void free_inputs(inputs *in)
{
    elman_array_free(&in->x);
    elman_array_free(&in->h0);
    elman_array_free(&in->len);
    free(in->xd);
    free(in->h0d);
    free(in->xf);
    free(in->h0f);
    free(in->lengths);
}

/* float64: the file's weights exactly, against a float64 reference. */
static int run_f64(const onnx_case *c, const inputs *in, const double *want_y, size_t ny,
                   const double *want_hn, size_t nhn)
{
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    path_of(path, sizeof(path), c->name, ".onnx");
    elman_onnx *m;
    elman_rnn_info info;
    elman_rnn *rnn;
    assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(elman_rnn_info_from_onnx(m, &info, err, sizeof(err)), ELMAN_OK);
    info.config.dtype = ELMAN_FLOAT64;
    assert_int_equal(elman_rnn_from_onnx(m, &info, &rnn, err, sizeof(err)), ELMAN_OK);
    elman_onnx_free(m);
    double *y = malloc(ny * sizeof(double)), *hn = malloc(nhn * sizeof(double));
    assert_int_equal(elman_rnn_forward_f64(rnn, in->B, in->T, in->xd, in->lengths, in->h0d, y,
                                           hn, NULL, 0),
                     ELMAN_OK);
    int ok = tu_compare_d(c->name, hn, want_hn, nhn) < 0;
    if (c->y)
        ok &= tu_compare_d(c->name, y, want_y, ny) < 0;
    free(y);
    free(hn);
    elman_rnn_free(rnn);
    return ok;
}

/* One line of cases.txt: load with elman_rnn_load() (which must see an
 * ONNX file), run, compare. */
static int run_case(const onnx_case *c)
{
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    path_of(path, sizeof(path), c->name, ".onnx");
    elman_rnn *rnn;
    elman_rnn_info info;
    int rc = elman_rnn_load(path, NULL, &rnn, &info, err, sizeof(err));
    if (rc != ELMAN_OK)
        print_error("%s: %s\n", c->name, err);
    assert_int_equal(rc, ELMAN_OK);
    assert_int_equal(info.format, ELMAN_FORMAT_ONNX);

    inputs in;
    read_inputs(c, &info.config, &in);
    elman_array ya = {0}, hna;
    double *want_y = NULL;
    size_t ny = tu_elems_out(&info.config, in.B, in.T);
    if (c->y) {
        path_of(path, sizeof(path), c->name, ".y.npy");
        want_y = read_doubles(path, &ya);
        assert_int_equal(ya.count, ny);
    }
    path_of(path, sizeof(path), c->name, ".hn.npy");
    double *want_hn = read_doubles(path, &hna);
    assert_int_equal(hna.count, tu_elems_state(&info.config, in.B));
    float *y = malloc(ny * sizeof(float)), *hn = malloc(hna.count * sizeof(float));
    assert_int_equal(
        elman_rnn_forward(rnn, in.B, in.T, in.xf, in.lengths, in.h0f, y, hn, NULL, 0), ELMAN_OK);
    int ok = tu_compare(c->name, hn, want_hn, hna.count) < 0;
    if (c->y)
        ok &= tu_compare(c->name, y, want_y, ny) < 0;
    if (c->ref)
        ok &= run_f64(c, &in, want_y, ny, want_hn, hna.count);
    elman_rnn_free(rnn);
    free(y);
    free(hn);
    free(want_y);
    free(want_hn);
    elman_array_free(&ya);
    elman_array_free(&hna);
    free_inputs(&in);
    return ok;
}

/* Files of the data directory named NAME.hn.npy with no dot in NAME: the
 * expected states of the cases (an override's are NAME.TAG.hn.npy, run
 * by test_cli_onnx). */
static int count_case_outputs(void)
{
    DIR *dir = opendir(g_dir);
    assert_non_null(dir);
    const char *suffix = ".hn.npy";
    const size_t ns = strlen(suffix);
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        const size_t len = strlen(e->d_name);
        if (len > ns && strcmp(e->d_name + len - ns, suffix) == 0 &&
            memchr(e->d_name, '.', len - ns) == NULL)
            n++;
    }
    closedir(dir);
    return n;
}

/* Every case of cases.txt runs and matches; every expected output in the
 * directory has its line (a line lost from cases.txt would otherwise go
 * untested unnoticed); 12 of them are torch.onnx.export models (README). */
static void test_cases(void **state)
{
    (void)state;
    char path[512], line[256];
    path_of(path, sizeof(path), "cases", ".txt");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = 0, torch = 0, failed = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        onnx_case c;
        if (sscanf(line, "%95s %d %d %d %d", c.name, &c.h0, &c.lengths, &c.y, &c.ref) != 5)
            continue;
        if (!run_case(&c)) {
            print_error("case %s failed\n", c.name);
            failed++;
        }
        n++;
        torch += strncmp(c.name, "torch_", 6) == 0;
    }
    fclose(f);
    printf("%d cases, %d of them torch.onnx.export models\n", n, torch);
    assert_int_equal(failed, 0);
    assert_int_equal(n, count_case_outputs());
    assert_int_equal(torch, 12); /* README: "12 nn.RNN models exported by torch.onnx.export" */
}

/* The configuration each attribute gives. */
static void load_info(const char *name, elman_rnn_info *info)
{
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    path_of(path, sizeof(path), name, ".onnx");
    elman_onnx *m;
    int rc = elman_onnx_read(path, &m, err, sizeof(err));
    if (rc != ELMAN_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, ELMAN_OK);
    assert_int_equal(elman_rnn_info_from_onnx(m, info, err, sizeof(err)), ELMAN_OK);
    elman_onnx_free(m);
}

static void test_config(void **state)
{
    (void)state;
    elman_rnn_info i;
    load_info("node_rev", &i);
    assert_int_equal(i.config.reverse, 1);
    assert_int_equal(i.config.bidirectional, 0);
    assert_int_equal(i.format, ELMAN_FORMAT_ONNX);
    assert_int_equal(i.dtype, ELMAN_DTYPE_F32);
    assert_int_equal(i.num_parameters, 4 * 3 + 4 * 4 + 2 * 4);
    load_info("node_bid", &i);
    assert_int_equal(i.config.bidirectional, 1);
    assert_int_equal(i.config.reverse, 0);
    load_info("node_act_leakyrelu", &i); /* no alpha given: the default (NAN) */
    assert_int_equal(i.config.nonlinearity, ELMAN_LEAKY_RELU);
    assert_true(i.config.activation_alpha != i.config.activation_alpha);
    load_info("node_act_hardsigmoid_ab", &i);
    assert_int_equal(i.config.nonlinearity, ELMAN_HARD_SIGMOID);
    assert_true(i.config.activation_alpha == (double)0.7f);
    assert_true(i.config.activation_beta == (double)0.2f);
    load_info("node_clip", &i);
    assert_true(i.config.clip == 0.5);
    load_info("node_layout1", &i);
    assert_int_equal(i.config.batch_first, 1);
    assert_int_equal(i.config.state_batch_first, 1);
    load_info("node_nobias", &i);
    assert_int_equal(i.config.bias, ELMAN_BIAS_NONE);
    load_info("node_f64_weights", &i);
    assert_int_equal(i.dtype, ELMAN_DTYPE_F64);
    load_info("node_f16_weights", &i);
    assert_int_equal(i.dtype, ELMAN_DTYPE_F16);
    load_info("node_bf16_weights", &i); /* raw_data */
    assert_int_equal(i.dtype, ELMAN_DTYPE_BF16);
    load_info("node_bf16_typed_weights", &i); /* int32_data */
    assert_int_equal(i.dtype, ELMAN_DTYPE_BF16);
    load_info("node_mixed_weights", &i); /* W float, R double, B float16 */
    assert_int_equal(i.dtype, -1);
    load_info("node_mixed_typed_weights", &i); /* the same, in the typed fields */
    assert_int_equal(i.dtype, -1);
    load_info("torch_2l_bi_bf_h0", &i);
    assert_int_equal(i.config.num_layers, 2);
    assert_int_equal(i.config.bidirectional, 1);
    assert_int_equal(i.config.batch_first, 1); /* from the Transpose on x */
    assert_int_equal(i.config.state_batch_first, 0);
    assert_int_equal(i.config.input_size, 3);
    load_info("torch_3l_relu", &i);
    assert_int_equal(i.config.nonlinearity, ELMAN_RELU);
    assert_int_equal(i.config.num_layers, 3);
    load_info("node_pair_2l_h0", &i);
    assert_int_equal(i.config.bidirectional, 1);
    assert_int_equal(i.config.num_layers, 2);
    /* Layers without B among layers with one: a model with biases (zero in
     * those layers); the parameters are the file's. */
    load_info("node_chain_mixed_bias", &i);
    assert_int_equal(i.config.num_layers, 3);
    assert_int_equal(i.config.bias, ELMAN_BIAS_BOTH);
    assert_int_equal(i.num_parameters,
                     (4 * 3 + 4 * 4) + (4 * 4 + 4 * 4 + 2 * 4) + (4 * 4 + 4 * 4));
    load_info("node_pair_mixed_bias", &i);
    assert_int_equal(i.config.bias, ELMAN_BIAS_BOTH);
    assert_int_equal(i.config.bidirectional, 1);
}

static const elman_onnx_node *find_node(const elman_onnx *m, const char *op, int nth)
{
    for (size_t i = 0; i < elman_onnx_node_count(m); i++) {
        const elman_onnx_node *n = elman_onnx_node_at(m, i);
        if (strcmp(n->op_type, op) == 0 && nth-- == 0)
            return n;
    }
    return NULL;
}

/* What each node is to elman, and which graph inputs the run feeds. */
static void test_nodes(void **state)
{
    (void)state;
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    path_of(path, sizeof(path), "torch_head", ".onnx");
    elman_onnx *m;
    assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(find_node(m, "RNN", 0)->role, ELMAN_ONNX_LAYER);
    assert_int_equal(find_node(m, "RNN", 0)->layer, 0);
    assert_int_equal(find_node(m, "RNN", 1)->layer, 1);
    assert_int_equal(find_node(m, "ConstantOfShape", 0)->role, ELMAN_ONNX_STATE);
    assert_int_equal(find_node(m, "Squeeze", 0)->role, ELMAN_ONNX_LAYOUT); /* between layers */
    assert_int_equal(find_node(m, "Squeeze", 1)->role, ELMAN_ONNX_IGNORED); /* the output's */
    const elman_onnx_node *head = find_node(m, "MatMul", 0);
    if (head == NULL)
        head = find_node(m, "Gemm", 0);
    assert_non_null(head);
    assert_int_equal(head->role, ELMAN_ONNX_IGNORED);
    /* Every node of the graph in the file's order, with its name; layer
     * -1 for all but the RNN nodes. */
    assert_int_equal(elman_onnx_node_count(m), 26);
    assert_string_equal(elman_onnx_node_at(m, 0)->op_type, "Shape");
    assert_string_equal(elman_onnx_node_at(m, 25)->op_type, "Add");
    assert_string_equal(find_node(m, "RNN", 1)->name, "/rnn/RNN_1");
    assert_string_equal(head->name, "/fc/MatMul");
    for (size_t i = 0; i < elman_onnx_node_count(m); i++) {
        const elman_onnx_node *n = elman_onnx_node_at(m, i);
        assert_int_equal(n->role == ELMAN_ONNX_LAYER, n->layer >= 0);
        assert_int_equal(n->role == ELMAN_ONNX_LAYER, strcmp(n->op_type, "RNN") == 0);
    }
    assert_int_equal(head->layer, -1);
    assert_null(elman_onnx_node_at(m, elman_onnx_node_count(m)));
    const char *x, *h0, *len;
    assert_int_equal(elman_onnx_inputs(m, &x, &h0, &len), ELMAN_OK);
    assert_string_equal(x, "x");
    assert_null(h0); /* the zero state torch builds */
    assert_null(len);
    elman_onnx_free(m);

    path_of(path, sizeof(path), "node_for_len", ".onnx");
    assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(elman_onnx_inputs(m, &x, &h0, &len), ELMAN_OK);
    assert_string_equal(h0, "h0");
    assert_string_equal(len, "lengths");
    assert_int_equal(find_node(m, "Cast", 0)->role, ELMAN_ONNX_LENGTHS);
    assert_string_equal(find_node(m, "Cast", 0)->name, ""); /* it has none */
    assert_int_equal(find_node(m, "Cast", 0)->layer, -1);
    elman_onnx_free(m);

    path_of(path, sizeof(path), "node_chain_mixed_bias", ".onnx");
    assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(find_node(m, "RNN", 2)->layer, 2);
    assert_string_equal(find_node(m, "Squeeze", 1)->name, "l1sq");
    assert_int_equal(find_node(m, "Squeeze", 1)->role, ELMAN_ONNX_LAYOUT);
    assert_string_equal(find_node(m, "Squeeze", 2)->name, "l2sq"); /* after the last layer */
    assert_int_equal(find_node(m, "Squeeze", 2)->role, ELMAN_ONNX_IGNORED);
    assert_int_equal(find_node(m, "Squeeze", 2)->layer, -1);
    elman_onnx_free(m);

    path_of(path, sizeof(path), "node_const_weights", ".onnx");
    assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(find_node(m, "Constant", 0)->role, ELMAN_ONNX_WEIGHTS);
    elman_onnx_free(m);

    /* A zero initial_h built in the graph is no state, its nodes STATE. */
    static const struct {
        const char *file, *op, *name;
    } zeros[] = {{"node_zeros_expand", "Expand", "hexpand"},
                 {"node_zeros_slice", "Slice", "hslice"},
                 {"node_zeros_constant", "Constant", "hconst"},
                 {"node_zeros", "ConstantOfShape", ""}};
    for (size_t i = 0; i < sizeof(zeros) / sizeof(zeros[0]); i++) {
        path_of(path, sizeof(path), zeros[i].file, ".onnx");
        assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_OK);
        const elman_onnx_node *n = find_node(m, zeros[i].op, 0);
        assert_non_null(n);
        assert_string_equal(n->name, zeros[i].name);
        assert_int_equal(n->role, ELMAN_ONNX_STATE);
        assert_int_equal(n->layer, -1);
        h0 = "?";
        assert_int_equal(elman_onnx_inputs(m, NULL, &h0, NULL), ELMAN_OK);
        assert_null(h0);
        elman_onnx_free(m);
    }
}

static int status_of(const char *s)
{
    static const struct {
        const char *name;
        int code;
    } codes[] = {{"ELMAN_ERR_FORMAT", ELMAN_ERR_FORMAT},
                 {"ELMAN_ERR_SHAPE", ELMAN_ERR_SHAPE},
                 {"ELMAN_ERR_UNSUPPORTED", ELMAN_ERR_UNSUPPORTED},
                 {"ELMAN_ERR_INVALID_CONFIG", ELMAN_ERR_INVALID_CONFIG}};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(s, codes[i].name) == 0)
            return codes[i].code;
    fail_msg("unknown code %s", s);
    return -1;
}

/* Each bad file: its code and message, from the parser and from
 * elman_rnn_load(), and nothing returned. */
static void test_bad(void **state)
{
    (void)state;
    char path[512], line[512], name[96], code[64], err[ELMAN_IO_ERROR_SIZE];
    path_of(path, sizeof(path), "bad", ".txt");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = 0, failed = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        int off;
        if (sscanf(line, "%95s %63s %n", name, code, &off) != 2)
            continue;
        char *text = line + off;
        text[strcspn(text, "\n")] = '\0';
        snprintf(path, sizeof(path), "%s/bad/%s.onnx", g_dir, name);
        elman_onnx *m = (elman_onnx *)1;
        int rc = elman_onnx_read(path, &m, err, sizeof(err));
        int ok = rc == status_of(code) && m == NULL && strstr(err, text) != NULL &&
                 strchr(err, '\n') == NULL;
        elman_rnn *rnn = (elman_rnn *)1;
        rc = elman_rnn_load(path, NULL, &rnn, NULL, err, sizeof(err));
        ok &= rc == status_of(code) && rnn == NULL && strstr(err, text) != NULL;
        if (!ok) {
            print_error("bad/%s: got %d \"%s\", expected %s \"%s\"\n", name, rc, err, code,
                        text);
            failed++;
        }
        n++;
    }
    fclose(f);
    assert_int_equal(n, 47); /* README: "47 bad files" */
    assert_int_equal(failed, 0);
}

/* Every prefix of a valid file is refused cleanly, or loads when the cut
 * falls after the graph (fields after it are optional). */
static void test_truncations(void **state)
{
    (void)state;
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    path_of(path, sizeof(path), "torch_2l_bi_bf_h0", ".onnx");
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 16];
    size_t size = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(size > 100 && size < sizeof(buf));
    for (size_t n = 0; n < size; n++) {
        elman_onnx *m;
        int rc = elman_onnx_parse(buf, n, &m, err, sizeof(err));
        if (rc == ELMAN_OK) { /* protobuf: a cut after the graph can be whole */
            assert_true(n > size / 2);
            elman_onnx_free(m);
            continue;
        }
        assert_null(m);
        assert_true(err[0] != '\0');
    }
    elman_onnx *m;
    assert_int_equal(elman_onnx_parse(buf, size, &m, err, sizeof(err)), ELMAN_OK);
    elman_onnx_free(m);
}

static void test_api(void **state)
{
    (void)state;
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    elman_onnx *m;
    int format = -1;
    assert_int_equal(elman_onnx_parse(NULL, 4, &m, err, sizeof(err)), ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_onnx_read(NULL, &m, err, sizeof(err)), ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_info_from_onnx(NULL, NULL, err, sizeof(err)),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_onnx_node_count(NULL), 0);
    assert_null(elman_onnx_node_at(NULL, 0));
    elman_onnx_free(NULL);
    path_of(path, sizeof(path), "missing", ".onnx");
    assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_ERR_IO);
    assert_int_equal(elman_model_file_format(path, &format, err, sizeof(err)), ELMAN_ERR_IO);
    path_of(path, sizeof(path), "node_for", ".onnx");
    assert_int_equal(elman_model_file_format(path, &format, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(format, ELMAN_FORMAT_ONNX);
    /* A prefix is for safetensors. */
    elman_rnn *rnn;
    assert_int_equal(elman_rnn_load(path, "rnn.", &rnn, NULL, err, sizeof(err)),
                     ELMAN_ERR_INVALID_CONFIG);
    assert_null(rnn);
    /* The five inferred fields are the file's. */
    elman_rnn_info info;
    assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(elman_rnn_info_from_onnx(m, &info, err, sizeof(err)), ELMAN_OK);
    info.config.hidden_size++;
    assert_int_equal(elman_rnn_from_onnx(m, &info, &rnn, err, sizeof(err)),
                     ELMAN_ERR_INVALID_CONFIG);
    assert_null(rnn);
    elman_onnx_free(m);
}

/* What elman_rnn_info_from_onnx() sets beyond the configuration, whatever
 * info held: both *_from_metadata 1, prefix "", format ONNX; the fields no
 * node sets keep elman_config_init()'s defaults. */
static void test_info_fields(void **state)
{
    (void)state;
    static const char *const names[] = {"node_for", "torch_2l_bi_bf_h0", "node_layout1"};
    elman_config d;
    elman_config_init(&d);
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char path[512], err[ELMAN_IO_ERROR_SIZE];
        path_of(path, sizeof(path), names[k], ".onnx");
        elman_onnx *m;
        assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_OK);
        elman_rnn_info i;
        memset(&i, 0xff, sizeof(i));
        assert_int_equal(elman_rnn_info_from_onnx(m, &i, err, sizeof(err)), ELMAN_OK);
        assert_int_equal(i.nonlinearity_from_metadata, 1);
        assert_int_equal(i.batch_first_from_metadata, 1);
        assert_string_equal(i.prefix, "");
        assert_int_equal(i.format, ELMAN_FORMAT_ONNX);
        assert_int_equal(i.dtype, ELMAN_DTYPE_F32);
        assert_int_equal(i.config.struct_size, d.struct_size);
        assert_int_equal(i.config.dtype, ELMAN_FLOAT32);
        assert_int_equal(i.config.num_threads, d.num_threads);
        assert_int_equal(i.config.deterministic, d.deterministic);
        elman_onnx_free(m);
    }
}

/* elman_rnn_load() takes prefix "" for an ONNX file as it takes NULL. */
static void test_load_empty_prefix(void **state)
{
    (void)state;
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    path_of(path, sizeof(path), "torch_2l_bi_bf_h0", ".onnx");
    elman_rnn *a, *b;
    elman_rnn_info ia, ib;
    assert_int_equal(elman_rnn_load(path, NULL, &a, &ia, err, sizeof(err)), ELMAN_OK);
    int rc = elman_rnn_load(path, "", &b, &ib, err, sizeof(err));
    if (rc != ELMAN_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, ELMAN_OK);
    assert_memory_equal(&ia, &ib, sizeof(ia));
    assert_int_equal(ib.format, ELMAN_FORMAT_ONNX);
    enum { B = 2, T = 3 };
    tu_rng rng;
    tu_seed(&rng, 77);
    const size_t nx = tu_elems_x(&ia.config, B, T), ny = tu_elems_out(&ia.config, B, T);
    float *x = tu_random(&rng, nx, 1.0f), *ya = malloc(ny * sizeof(float)),
          *yb = malloc(ny * sizeof(float));
    assert_int_equal(elman_rnn_forward(a, B, T, x, NULL, NULL, ya, NULL, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_rnn_forward(b, B, T, x, NULL, NULL, yb, NULL, NULL, 0), ELMAN_OK);
    assert_memory_equal(ya, yb, ny * sizeof(float));
    free(x);
    free(ya);
    free(yb);
    elman_rnn_free(a);
    elman_rnn_free(b);
}

/* elman_onnx_parse() keeps nothing of the caller's buffer: freed (and
 * overwritten) as soon as the call returns, the names of the nodes and
 * inputs still read, and the model built from it computes what
 * elman_rnn_load() of the file computes, bitwise. AddressSanitizer would
 * see any read of the freed buffer. */
static void test_parse_keeps_no_reference(void **state)
{
    (void)state;
    static const char *const names[] = {"torch_head", "node_for_len", "node_const_weights"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char path[512], err[ELMAN_IO_ERROR_SIZE];
        path_of(path, sizeof(path), names[k], ".onnx");
        size_t size;
        unsigned char *bytes = it_read_file(path, &size);
        elman_onnx *m;
        int rc = elman_onnx_parse(bytes, size, &m, err, sizeof(err));
        memset(bytes, 0xa5, size);
        free(bytes);
        assert_int_equal(rc, ELMAN_OK);
        size_t chars = 0;
        for (size_t i = 0; i < elman_onnx_node_count(m); i++)
            chars += strlen(elman_onnx_node_at(m, i)->name) +
                     strlen(elman_onnx_node_at(m, i)->op_type);
        assert_true(chars > 0);
        const char *x, *h0, *len;
        assert_int_equal(elman_onnx_inputs(m, &x, &h0, &len), ELMAN_OK);
        assert_true(strlen(x) > 0 && (h0 == NULL || strlen(h0) > 0) &&
                    (len == NULL || strlen(len) > 0));
        elman_rnn_info info, li;
        elman_rnn *parsed, *loaded;
        assert_int_equal(elman_rnn_info_from_onnx(m, &info, err, sizeof(err)), ELMAN_OK);
        assert_int_equal(elman_rnn_from_onnx(m, &info, &parsed, err, sizeof(err)), ELMAN_OK);
        elman_onnx_free(m);
        assert_int_equal(elman_rnn_load(path, NULL, &loaded, &li, err, sizeof(err)), ELMAN_OK);
        assert_memory_equal(&info, &li, sizeof(info));
        enum { B = 2, T = 3 };
        tu_rng rng;
        tu_seed(&rng, 90 + k);
        const size_t nx = tu_elems_x(&info.config, B, T), ny = tu_elems_out(&info.config, B, T);
        const size_t nh = tu_elems_state(&info.config, B);
        float *xs = tu_random(&rng, nx, 1.0f), *y[2], *h[2];
        elman_rnn *models[2] = {parsed, loaded};
        for (int j = 0; j < 2; j++) {
            y[j] = malloc(ny * sizeof(float));
            h[j] = malloc(nh * sizeof(float));
            assert_int_equal(elman_rnn_forward(models[j], B, T, xs, NULL, NULL, y[j], h[j], NULL,
                                               0),
                             ELMAN_OK);
        }
        assert_memory_equal(y[0], y[1], ny * sizeof(float));
        assert_memory_equal(h[0], h[1], nh * sizeof(float));
        for (int j = 0; j < 2; j++) {
            free(y[j]);
            free(h[j]);
        }
        free(xs);
        elman_rnn_free(parsed);
        elman_rnn_free(loaded);
    }
}

/* ---- message buffers ---- */

typedef struct onnx_args {
    const char *path, *prefix;
    const unsigned char *bytes;
    size_t size;
    const elman_onnx *m;
    const elman_rnn_info *info;
} onnx_args;

static int call_read(void *ctx, char *err, size_t n)
{
    const onnx_args *a = ctx;
    elman_onnx *m;
    int rc = elman_onnx_read(a->path, &m, err, n);
    elman_onnx_free(m);
    return rc;
}

static int call_parse(void *ctx, char *err, size_t n)
{
    const onnx_args *a = ctx;
    elman_onnx *m;
    int rc = elman_onnx_parse(a->bytes, a->size, &m, err, n);
    elman_onnx_free(m);
    return rc;
}

static int call_info(void *ctx, char *err, size_t n)
{
    const onnx_args *a = ctx;
    elman_rnn_info info;
    return elman_rnn_info_from_onnx(a->m, &info, err, n);
}

static int call_from(void *ctx, char *err, size_t n)
{
    const onnx_args *a = ctx;
    elman_rnn *rnn;
    int rc = elman_rnn_from_onnx(a->m, a->info, &rnn, err, n);
    elman_rnn_free(rnn);
    return rc;
}

static int call_load(void *ctx, char *err, size_t n)
{
    const onnx_args *a = ctx;
    elman_rnn *rnn;
    int rc = elman_rnn_load(a->path, a->prefix, &rnn, NULL, err, n);
    elman_rnn_free(rnn);
    return rc;
}

/* Every ONNX function with a message buffer: a message cut to any buffer
 * size is the full message's start, NUL-terminated; success sets it to
 * "". A long file name leads the messages of the file readers. */
static void test_messages(void **state)
{
    (void)state;
    char good[512], bad[512], name[201], err[ELMAN_IO_ERROR_SIZE];
    const char *dir = it_tempdir(0);
    memset(name, 'n', 200);
    name[200] = '\0';
    path_of(good, sizeof(good), "node_for", ".onnx");
    snprintf(bad, sizeof(bad), "%s/bad/no_rnn.onnx", g_dir);
    size_t size, bad_size;
    unsigned char *bytes = it_read_file(good, &size), *bad_bytes = it_read_file(bad, &bad_size);
    snprintf(bad, sizeof(bad), "%s/%s.onnx", dir, name);
    it_buf b = {bad_bytes, bad_size};
    it_write_file(bad, &b);
    elman_onnx *m;
    elman_rnn_info info, wrong;
    assert_int_equal(elman_onnx_parse(bytes, size, &m, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(elman_rnn_info_from_onnx(m, &info, err, sizeof(err)), ELMAN_OK);
    wrong = info;
    wrong.config.num_layers = 2;

    onnx_args a = {bad, NULL, bad_bytes, bad_size, NULL, &wrong};
    it_check_message("onnx_read", call_read, &a, ELMAN_ERR_SHAPE);
    it_check_message("onnx_parse", call_parse, &a, ELMAN_ERR_SHAPE);
    it_check_message("rnn_load", call_load, &a, ELMAN_ERR_SHAPE);
    it_check_message("info_from_onnx", call_info, &a, ELMAN_ERR_NULL_ARGUMENT);
    a.m = m;
    it_check_message("from_onnx", call_from, &a, ELMAN_ERR_INVALID_CONFIG);
    a.path = good;
    a.prefix = "rnn.";
    it_check_message("rnn_load with a prefix", call_load, &a, ELMAN_ERR_INVALID_CONFIG);

    a = (onnx_args){good, "", bytes, size, m, &info};
    it_check_cleared("onnx_read", call_read, &a);
    it_check_cleared("onnx_parse", call_parse, &a);
    it_check_cleared("info_from_onnx", call_info, &a);
    it_check_cleared("from_onnx", call_from, &a);
    it_check_cleared("rnn_load", call_load, &a);

    /* elman_onnx_inputs(): m is required, each output is optional. */
    const char *x = "?";
    assert_int_equal(elman_onnx_inputs(NULL, &x, NULL, NULL), ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_onnx_inputs(m, NULL, NULL, NULL), ELMAN_OK);
    assert_int_equal(elman_onnx_inputs(m, &x, NULL, NULL), ELMAN_OK);
    assert_string_equal(x, "X");
    elman_onnx_free(m);
    free(bytes);
    free(bad_bytes);
    it_rmdir(dir);
}

/* A message of the library built without the loader: one line saying so. */
static void assert_says_unsupported(const char *err)
{
    if (strstr(err, "built without ONNX support") == NULL || strchr(err, '\n') != NULL)
        fail_msg("not the message of a build without ONNX: \"%s\"", err);
}

/* Built without the loader: every entry point refuses, as the header
 * says; a file is still told to be ONNX by its content, and
 * elman_rnn_load() refuses it rather than reading it as safetensors. */
static void test_unsupported(void **state)
{
    (void)state;
    char path[512], err[ELMAN_IO_ERROR_SIZE];
    assert_int_equal(elman_onnx_supported(), 0);
    path_of(path, sizeof(path), "node_for", ".onnx");
    elman_onnx *m = (elman_onnx *)1;
    err[0] = '\0';
    assert_int_equal(elman_onnx_read(path, &m, err, sizeof(err)), ELMAN_ERR_UNSUPPORTED);
    assert_null(m);
    assert_says_unsupported(err);
    assert_non_null(strstr(err, path)); /* names the file */

    static unsigned char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t size = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(size > 0 && size < sizeof(buf));
    m = (elman_onnx *)1;
    err[0] = '\0';
    assert_int_equal(elman_onnx_parse(buf, size, &m, err, sizeof(err)), ELMAN_ERR_UNSUPPORTED);
    assert_null(m);
    assert_says_unsupported(err);

    elman_rnn_info info;
    err[0] = '\0';
    assert_int_equal(elman_rnn_info_from_onnx(NULL, &info, err, sizeof(err)),
                     ELMAN_ERR_UNSUPPORTED);
    assert_says_unsupported(err);
    elman_config_init(&info.config);
    elman_rnn *rnn = (elman_rnn *)1;
    err[0] = '\0';
    assert_int_equal(elman_rnn_from_onnx(NULL, &info, &rnn, err, sizeof(err)),
                     ELMAN_ERR_UNSUPPORTED);
    assert_null(rnn);
    assert_says_unsupported(err);
    const char *x = NULL, *h0 = NULL, *len = NULL;
    assert_int_equal(elman_onnx_inputs(NULL, &x, &h0, &len), ELMAN_ERR_UNSUPPORTED);
    assert_int_equal(elman_onnx_node_count(NULL), 0);
    assert_null(elman_onnx_node_at(NULL, 0));
    elman_onnx_free(NULL);

    int format = -1;
    assert_int_equal(elman_model_file_format(path, &format, err, sizeof(err)), ELMAN_OK);
    assert_int_equal(format, ELMAN_FORMAT_ONNX);
    rnn = (elman_rnn *)1;
    err[0] = '\0';
    assert_int_equal(elman_rnn_load(path, NULL, &rnn, &info, err, sizeof(err)),
                     ELMAN_ERR_UNSUPPORTED);
    assert_null(rnn);
    assert_says_unsupported(err);
    assert_non_null(strstr(err, path));
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_onnx DATA_DIR SAFETENSORS_FILE ONNX_BUILT\n");
        return 1;
    }
    /* ONNX_BUILT: whether CMake built the loader (ELMAN_ONNX_ENABLED); the
     * library must agree, so that neither half is skipped unnoticed. */
    const int built = strcmp(argv[3], "1") == 0;
    if (elman_onnx_supported() != built) {
        fprintf(stderr, "elman_onnx_supported() is %d, but the build %s the ONNX loader\n",
                elman_onnx_supported(), built ? "includes" : "leaves out");
        return 1;
    }
    g_dir = argv[1];
    int format = -1;
    char err[ELMAN_IO_ERROR_SIZE];
    if (elman_model_file_format(argv[2], &format, err, sizeof(err)) != ELMAN_OK ||
        format != ELMAN_FORMAT_SAFETENSORS) {
        fprintf(stderr, "%s is not seen as safetensors\n", argv[2]);
        return 1;
    }
    if (!built) {
        const struct CMUnitTest off[] = {cmocka_unit_test(test_unsupported)};
        return cmocka_run_group_tests(off, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),  cmocka_unit_test(test_config),
        cmocka_unit_test(test_nodes),  cmocka_unit_test(test_bad),
        cmocka_unit_test(test_truncations), cmocka_unit_test(test_api),
        cmocka_unit_test(test_info_fields), cmocka_unit_test(test_load_empty_prefix),
        cmocka_unit_test(test_parse_keeps_no_reference), cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
