/* Model creation, configuration and weights. */
#include "cmocka_wrap.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "elman.h"
#include "testutil.h"

static elman_config small_config(void)
{
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 3;
    cfg.hidden_size = 5;
    return cfg;
}

static void test_config_defaults(void **state)
{
    (void)state;
    elman_config cfg;
    memset(&cfg, 0x5a, sizeof(cfg));
    elman_config_init(&cfg);
    assert_int_equal(cfg.struct_size, sizeof(elman_config));
    assert_int_equal(cfg.input_size, 0);
    assert_int_equal(cfg.hidden_size, 0);
    assert_int_equal(cfg.num_layers, 1);
    assert_int_equal(cfg.nonlinearity, ELMAN_TANH);
    assert_int_equal(cfg.bias, ELMAN_BIAS_BOTH);
    assert_int_equal(cfg.batch_first, 0);
    assert_int_equal(cfg.bidirectional, 0);
    assert_int_equal(cfg.num_threads, 1);
    assert_int_equal(cfg.reverse, 0);
    assert_true(isnan(cfg.activation_alpha));
    assert_true(isnan(cfg.activation_beta));
    assert_true(cfg.clip == 0.0);
    assert_int_equal(cfg.dtype, ELMAN_FLOAT32);
    assert_int_equal(cfg.state_batch_first, 0);
    assert_int_equal(cfg.deterministic, 0);
    elman_config_init(NULL); /* must not crash */
}

static void test_create_and_get_config(void **state)
{
    (void)state;
    elman_config cfg = small_config(), back;
    elman_config_init(&back);
    cfg.num_layers = 2;
    cfg.bidirectional = 1;
    cfg.nonlinearity = ELMAN_RELU;
    elman_rnn *rnn = NULL;
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
    assert_non_null(rnn);
    assert_int_equal(elman_rnn_get_config(rnn, &back), ELMAN_OK);
    assert_memory_equal(&cfg, &back, sizeof(cfg));
    assert_int_equal(elman_rnn_get_config(NULL, &back), ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_get_config(rnn, NULL), ELMAN_ERR_NULL_ARGUMENT);
    elman_rnn_free(rnn);
    elman_rnn_free(NULL);
}

static void expect_create(const elman_config *cfg, int code)
{
    elman_rnn *rnn = (elman_rnn *)&rnn; /* must be reset to NULL on failure */
    assert_int_equal(elman_rnn_create(cfg, &rnn), code);
    assert_null(rnn);
}

static void test_create_errors(void **state)
{
    (void)state;
    elman_config cfg = small_config();
    elman_rnn *rnn = (elman_rnn *)&rnn; /* constructors set their result to NULL */
    assert_int_equal(elman_rnn_create(NULL, &rnn), ELMAN_ERR_NULL_ARGUMENT);
    assert_null(rnn);
    assert_int_equal(elman_rnn_create(&cfg, NULL), ELMAN_ERR_NULL_ARGUMENT);

    const int bad_sizes[] = {0, -1, -2147483647 - 1};
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        cfg = small_config();
        cfg.input_size = bad_sizes[i];
        expect_create(&cfg, ELMAN_ERR_INVALID_SIZE);
        cfg = small_config();
        cfg.hidden_size = bad_sizes[i];
        expect_create(&cfg, ELMAN_ERR_INVALID_SIZE);
        cfg = small_config();
        cfg.num_layers = bad_sizes[i];
        expect_create(&cfg, ELMAN_ERR_INVALID_SIZE);
        cfg = small_config();
        cfg.num_threads = bad_sizes[i];
        expect_create(&cfg, ELMAN_ERR_INVALID_SIZE);
    }
    cfg = small_config();
    cfg.nonlinearity = ELMAN_SOFTPLUS + 1;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    cfg = small_config();
    cfg.nonlinearity = -1;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    cfg = small_config();
    cfg.bias = 7;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    cfg = small_config();
    cfg.batch_first = 2;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    cfg = small_config();
    cfg.bidirectional = -1;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);

    cfg = small_config();
    cfg.reverse = 2;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    cfg = small_config();
    cfg.reverse = 1;
    cfg.bidirectional = 1; /* reverse is for one direction */
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    cfg = small_config();
    cfg.dtype = 2;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    cfg = small_config();
    cfg.state_batch_first = -1;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    cfg = small_config();
    cfg.deterministic = 3;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    /* clip: 0 is off, > 0 clamps; negative, NaN and infinite are refused */
    const double bad_clips[] = {-1.0, -1e-30, NAN, INFINITY};
    for (size_t i = 0; i < sizeof(bad_clips) / sizeof(bad_clips[0]); i++) {
        cfg = small_config();
        cfg.clip = bad_clips[i];
        expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    }
    /* alpha/beta only where the activation has them */
    const int no_alpha[] = {ELMAN_TANH, ELMAN_RELU, ELMAN_SIGMOID, ELMAN_SOFTSIGN, ELMAN_SOFTPLUS};
    for (size_t i = 0; i < sizeof(no_alpha) / sizeof(no_alpha[0]); i++) {
        cfg = small_config();
        cfg.nonlinearity = no_alpha[i];
        cfg.activation_alpha = 0.5;
        expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    }
    const int no_beta[] = {ELMAN_TANH, ELMAN_LEAKY_RELU, ELMAN_THRESHOLDED_RELU, ELMAN_ELU};
    for (size_t i = 0; i < sizeof(no_beta) / sizeof(no_beta[0]); i++) {
        cfg = small_config();
        cfg.nonlinearity = no_beta[i];
        cfg.activation_beta = 0.5;
        expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    }
    cfg = small_config();
    cfg.nonlinearity = ELMAN_LEAKY_RELU;
    cfg.activation_alpha = INFINITY;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);

    /* Sizes whose weight storage overflows size_t or BLAS's int. */
    cfg = small_config();
    cfg.hidden_size = 2147483647;
    expect_create(&cfg, ELMAN_ERR_SIZE_OVERFLOW);
    cfg = small_config();
    cfg.hidden_size = 1 << 30;
    expect_create(&cfg, ELMAN_ERR_SIZE_OVERFLOW);
    /* the bound, (INT_MAX - 64) / 2, for either size: one above it is
     * refused (without it the weights of input_size INT_MAX, 128 GiB, would
     * fit size_t) */
    const int above = (INT_MAX - 64) / 2 + 1, bigs[] = {above, INT_MAX};
    for (size_t i = 0; i < sizeof(bigs) / sizeof(bigs[0]); i++) {
        cfg = small_config();
        cfg.hidden_size = bigs[i];
        expect_create(&cfg, ELMAN_ERR_SIZE_OVERFLOW);
        cfg = small_config();
        cfg.input_size = bigs[i];
        expect_create(&cfg, ELMAN_ERR_SIZE_OVERFLOW);
    }
    if (sizeof(size_t) == 8) {
        /* ~2^31 bidirectional layers of 6 * 2^30 floats each: > 2^64 bytes */
        cfg = small_config();
        cfg.hidden_size = 1 << 15;
        cfg.input_size = 1 << 15;
        cfg.bidirectional = 1;
        cfg.num_layers = 2147483647;
        expect_create(&cfg, ELMAN_ERR_SIZE_OVERFLOW);
    }
}

static void test_set_weights_errors(void **state)
{
    (void)state;
    elman_config cfg = small_config();
    cfg.num_layers = 2;
    elman_rnn *rnn;
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
    float w_ih[5 * 3] = {0}, w_hh[5 * 5] = {0}, b[5] = {0};

    assert_int_equal(elman_rnn_set_weights(NULL, 0, 0, w_ih, w_hh, b, b),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, NULL, w_hh, b, b), ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, NULL, b, b), ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_set_weights(rnn, -1, 0, w_ih, w_hh, b, b), ELMAN_ERR_INVALID_INDEX);
    assert_int_equal(elman_rnn_set_weights(rnn, 2, 0, w_ih, w_hh, b, b), ELMAN_ERR_INVALID_INDEX);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 1, w_ih, w_hh, b, b), ELMAN_ERR_INVALID_INDEX);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, -1, w_ih, w_hh, b, b), ELMAN_ERR_INVALID_INDEX);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, NULL, b),
                     ELMAN_ERR_BIAS_MISMATCH);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b, NULL),
                     ELMAN_ERR_BIAS_MISMATCH);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b, b), ELMAN_OK);
    elman_rnn_free(rnn);

    cfg.bias = ELMAN_BIAS_SINGLE; /* b_ih only */
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b, b), ELMAN_ERR_BIAS_MISMATCH);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, NULL, b),
                     ELMAN_ERR_BIAS_MISMATCH);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, NULL, NULL),
                     ELMAN_ERR_BIAS_MISMATCH);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b, NULL), ELMAN_OK);
    /* a float32 model takes no double weights, and the other way round */
    const double wd[5 * 5] = {0};
    assert_int_equal(elman_rnn_set_weights_f64(rnn, 0, 0, wd, wd, wd, NULL),
                     ELMAN_ERR_INVALID_CONFIG);
    elman_rnn_free(rnn);
    cfg.dtype = ELMAN_FLOAT64;
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b, NULL),
                     ELMAN_ERR_INVALID_CONFIG);
    assert_int_equal(elman_rnn_set_weights_f64(rnn, 0, 0, wd, wd, wd, NULL), ELMAN_OK);
    assert_int_equal(elman_rnn_set_weights_f64(NULL, 0, 0, wd, wd, wd, NULL),
                     ELMAN_ERR_NULL_ARGUMENT);
    elman_rnn_free(rnn);
    cfg.dtype = ELMAN_FLOAT32;

    cfg.bias = ELMAN_BIAS_NONE;
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b, NULL),
                     ELMAN_ERR_BIAS_MISMATCH);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, NULL, b),
                     ELMAN_ERR_BIAS_MISMATCH);
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, NULL, NULL), ELMAN_OK);
    elman_rnn_free(rnn);
}

/* The model copies the weights: changing the caller's arrays afterwards
 * must not change the result. */
static void test_weights_are_copied(void **state)
{
    (void)state;
    elman_config cfg = small_config();
    elman_rnn *rnn;
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
    float w_ih[15], w_hh[25], b_ih[5], b_hh[5], x[3] = {0.5f, -1.0f, 2.0f};
    for (int i = 0; i < 15; i++) w_ih[i] = 0.1f * (float)(i % 7) - 0.3f;
    for (int i = 0; i < 25; i++) w_hh[i] = 0.05f * (float)(i % 5) - 0.1f;
    for (int i = 0; i < 5; i++) b_ih[i] = b_hh[i] = 0.01f * (float)i;
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b_ih, b_hh), ELMAN_OK);
    float out1[5], out2[5];
    assert_int_equal(elman_rnn_forward(rnn, 1, 1, x, NULL, NULL, out1, NULL, NULL, 0), ELMAN_OK);
    memset(w_ih, 0, sizeof(w_ih));
    memset(b_ih, 0, sizeof(b_ih));
    assert_int_equal(elman_rnn_forward(rnn, 1, 1, x, NULL, NULL, out2, NULL, NULL, 0), ELMAN_OK);
    assert_memory_equal(out1, out2, sizeof(out1));
    elman_rnn_free(rnn);
}

/* The model copies its configuration: changing the caller's struct after
 * elman_rnn_create() changes nothing. */
static void test_config_is_copied(void **state)
{
    (void)state;
    elman_config cfg = small_config(), want, back;
    cfg.num_layers = 2;
    want = cfg;
    elman_rnn *rnn;
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
    cfg.input_size = 7;
    cfg.hidden_size = 9;
    cfg.num_layers = 3;
    cfg.nonlinearity = ELMAN_RELU;
    cfg.bidirectional = 1;
    elman_config_init(&back);
    assert_int_equal(elman_rnn_get_config(rnn, &back), ELMAN_OK);
    assert_memory_equal(&back, &want, sizeof(want));
    elman_rnn_free(rnn);
}

static double *widen(const float *p, size_t n)
{
    if (p == NULL)
        return NULL;
    double *d = malloc(n * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = p[i];
    return d;
}

/* elman_rnn_set_weights(), or _f64 with the same weights widened. */
static int call_set(elman_rnn *rnn, int dtype, int layer, int direction, const float *w_ih,
                    const float *w_hh, const float *b_ih, const float *b_hh, size_t H, size_t I)
{
    if (dtype == ELMAN_FLOAT32)
        return elman_rnn_set_weights(rnn, layer, direction, w_ih, w_hh, b_ih, b_hh);
    double *wi = widen(w_ih, H * I), *wh = widen(w_hh, H * H);
    double *bi = widen(b_ih, H), *bh = widen(b_hh, H);
    const int rc = elman_rnn_set_weights_f64(rnn, layer, direction, wi, wh, bi, bh);
    free(wi);
    free(wh);
    free(bi);
    free(bh);
    return rc;
}

/* Sets layer and direction k = l*D + d of rnn to m's weights, as float or
 * double as dtype says. */
static int set_one(elman_rnn *rnn, const tu_model *m, int dtype, int k)
{
    const int l = k / m->D, d = k % m->D;
    const size_t H = (size_t)m->cfg.hidden_size;
    const size_t in = l == 0 ? (size_t)m->cfg.input_size : (size_t)m->D * H;
    return call_set(rnn, dtype, l, d, m->w_ih[k], m->w_hh[k], m->b_ih[k], m->b_hh[k], H, in);
}

/* set_one() for every k from `first` on; the first status not ELMAN_OK. */
static int set_from(elman_rnn *rnn, const tu_model *m, int dtype, int first)
{
    for (int k = first; k < m->cfg.num_layers * m->D; k++) {
        const int rc = set_one(rnn, m, dtype, k);
        if (rc != ELMAN_OK)
            return rc;
    }
    return ELMAN_OK;
}

static int set_all(elman_rnn *rnn, const tu_model *m, int dtype)
{
    return set_from(rnn, m, dtype, 0);
}

enum { RB = 3, RT = 4 };

/* output and h_n of rnn on x (float or double as dtype), as bytes */
static void run_model(const elman_rnn *rnn, const elman_config *cfg, int dtype, const float *x,
                      void *out, void *hn)
{
    if (dtype == ELMAN_FLOAT32) {
        assert_int_equal(elman_rnn_forward(rnn, RB, RT, x, NULL, NULL, out, hn, NULL, 0),
                         ELMAN_OK);
    } else {
        double *xd = widen(x, tu_elems_x(cfg, RB, RT));
        assert_int_equal(elman_rnn_forward_f64(rnn, RB, RT, xd, NULL, NULL, out, hn, NULL, 0),
                         ELMAN_OK);
        free(xd);
    }
}

/* Two random models A and B of one configuration (two layers, two
 * directions, the given bias mode and element type), an input for them,
 * and room for two runs' output and h_n (as bytes). */
typedef struct two_models {
    elman_config cfg;
    tu_model a, b;
    float *x;
    size_t nout, nst;
    char *o1, *o2, *h1, *h2;
} two_models;

static void two_models_make(two_models *t, tu_rng *r, int dtype, int bias)
{
    t->cfg = small_config();
    t->cfg.num_layers = 2;
    t->cfg.bidirectional = 1;
    t->cfg.bias = bias;
    t->cfg.dtype = dtype;
    tu_model_random(&t->a, &t->cfg, r);
    tu_model_random(&t->b, &t->cfg, r);
    t->x = tu_random(r, tu_elems_x(&t->cfg, RB, RT), 1.0f);
    const size_t es = dtype == ELMAN_FLOAT32 ? sizeof(float) : sizeof(double);
    t->nout = tu_elems_out(&t->cfg, RB, RT) * es;
    t->nst = tu_elems_state(&t->cfg, RB) * es;
    t->o1 = malloc(t->nout);
    t->o2 = malloc(t->nout);
    t->h1 = malloc(t->nst);
    t->h2 = malloc(t->nst);
    assert_true(t->o1 && t->o2 && t->h1 && t->h2);
}

/* The two runs gave the same bits. */
static void two_models_same_runs(const two_models *t)
{
    assert_memory_equal(t->o1, t->o2, t->nout);
    assert_memory_equal(t->h1, t->h2, t->nst);
}

static void two_models_free(two_models *t)
{
    free(t->o1);
    free(t->o2);
    free(t->h1);
    free(t->h2);
    free(t->x);
    tu_model_free(&t->a);
    tu_model_free(&t->b);
}

/* Setting a layer and direction again replaces its weights: a model set
 * to weights A and then B gives, bit for bit, what a model set only to B
 * gives. In every bias mode and both element types. */
static void test_set_weights_replaces(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 99);
    for (int dtype = ELMAN_FLOAT32; dtype <= ELMAN_FLOAT64; dtype++)
        for (int bias = ELMAN_BIAS_NONE; bias <= ELMAN_BIAS_SINGLE; bias++) {
            two_models t;
            two_models_make(&t, &r, dtype, bias);
            elman_rnn *ab, *only_b;
            assert_int_equal(elman_rnn_create(&t.cfg, &ab), ELMAN_OK);
            assert_int_equal(elman_rnn_create(&t.cfg, &only_b), ELMAN_OK);
            assert_int_equal(set_all(ab, &t.a, dtype), ELMAN_OK);
            run_model(ab, &t.cfg, dtype, t.x, t.o1, t.h1); /* A is in use */
            assert_int_equal(set_all(ab, &t.b, dtype), ELMAN_OK);
            assert_int_equal(set_all(only_b, &t.b, dtype), ELMAN_OK);
            run_model(ab, &t.cfg, dtype, t.x, t.o1, t.h1);
            run_model(only_b, &t.cfg, dtype, t.x, t.o2, t.h2);
            two_models_same_runs(&t);
            elman_rnn_free(ab);
            elman_rnn_free(only_b);
            two_models_free(&t);
        }
}

/* Calls of set_weights (or _f64, as dtype) with m's weights of layer 0,
 * direction 0 that must fail, each with its code: indices out of range,
 * NULL weights, every presence of the two biases but the model's own, the
 * other element type's entry point, no model. */
static void failing_set_weights(elman_rnn *rnn, const tu_model *m, int dtype)
{
    const int L = m->cfg.num_layers, D = m->D;
    const size_t H = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.input_size;
    const float *wi = m->w_ih[0], *wh = m->w_hh[0], *bi = m->b_ih[0], *bh = m->b_hh[0];
    const struct {
        int layer, direction;
        const float *w_ih, *w_hh;
        int code;
    } calls[] = {
        {L, 0, wi, wh, ELMAN_ERR_INVALID_INDEX},  {-1, 0, wi, wh, ELMAN_ERR_INVALID_INDEX},
        {0, D, wi, wh, ELMAN_ERR_INVALID_INDEX},  {0, -1, wi, wh, ELMAN_ERR_INVALID_INDEX},
        {0, 0, NULL, wh, ELMAN_ERR_NULL_ARGUMENT}, {0, 0, wi, NULL, ELMAN_ERR_NULL_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        assert_int_equal(call_set(rnn, dtype, calls[i].layer, calls[i].direction,
                                  calls[i].w_ih, calls[i].w_hh, bi, bh, H, I),
                         calls[i].code);
    /* biases: which the mode has, (b_ih, b_hh) */
    const int has[3][2] = {[ELMAN_BIAS_NONE] = {0, 0}, [ELMAN_BIAS_BOTH] = {1, 1},
                           [ELMAN_BIAS_SINGLE] = {1, 0}};
    const float *any = wh; /* H floats or more */
    for (int pi = 0; pi <= 1; pi++)
        for (int ph = 0; ph <= 1; ph++)
            if (pi != has[m->cfg.bias][0] || ph != has[m->cfg.bias][1])
                assert_int_equal(call_set(rnn, dtype, 0, 0, wi, wh, pi ? any : NULL,
                                          ph ? any : NULL, H, I),
                                 ELMAN_ERR_BIAS_MISMATCH);
    /* the other element type's entry point */
    assert_int_equal(call_set(rnn, !dtype, 0, 0, wi, wh, bi, bh, H, I),
                     ELMAN_ERR_INVALID_CONFIG);
    assert_int_equal(call_set(NULL, dtype, 0, 0, wi, wh, bi, bh, H, I),
                     ELMAN_ERR_NULL_ARGUMENT);
}

/* Both entry points return the same codes, and on error the model is
 * unchanged: a model whose weights are set gives the same bits after
 * failed calls with other weights, and a layer whose every call failed is
 * still not set. Every bias mode, both element types, two directions. */
static void test_failed_set_weights_changes_nothing(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 100);
    for (int dtype = ELMAN_FLOAT32; dtype <= ELMAN_FLOAT64; dtype++)
        for (int bias = ELMAN_BIAS_NONE; bias <= ELMAN_BIAS_SINGLE; bias++) {
            two_models t;
            two_models_make(&t, &r, dtype, bias);
            elman_rnn *rnn;
            assert_int_equal(elman_rnn_create(&t.cfg, &rnn), ELMAN_OK);
            /* before any weights: the failed calls set nothing, and (0, 0)
             * stays unset when every other layer and direction is set */
            failing_set_weights(rnn, &t.b, dtype);
            assert_int_equal(set_from(rnn, &t.a, dtype, 1), ELMAN_OK);
            if (dtype == ELMAN_FLOAT32) {
                assert_int_equal(elman_rnn_forward(rnn, RB, RT, t.x, NULL, NULL, (float *)t.o1,
                                                   (float *)t.h1, NULL, 0),
                                 ELMAN_ERR_WEIGHTS_NOT_SET);
            } else {
                double *xd = widen(t.x, tu_elems_x(&t.cfg, RB, RT));
                assert_int_equal(elman_rnn_forward_f64(rnn, RB, RT, xd, NULL, NULL,
                                                       (double *)t.o1, (double *)t.h1, NULL, 0),
                                 ELMAN_ERR_WEIGHTS_NOT_SET);
                free(xd);
            }
            /* set: the failed calls leave the weights as they were */
            assert_int_equal(set_all(rnn, &t.a, dtype), ELMAN_OK);
            run_model(rnn, &t.cfg, dtype, t.x, t.o1, t.h1);
            failing_set_weights(rnn, &t.b, dtype);
            run_model(rnn, &t.cfg, dtype, t.x, t.o2, t.h2);
            two_models_same_runs(&t);
            elman_rnn_free(rnn);
            two_models_free(&t);
        }
}

/* struct_size: the library reads and writes only the fields inside it,
 * the others take their defaults; sizes outside [ELMAN_CONFIG_MIN_SIZE,
 * sizeof(elman_config)] are refused. (tests/test_abi_old.c does the same
 * from a program built against an older header.) */
static void test_struct_size(void **state)
{
    (void)state;
    /* a struct that ends before clip: what follows is garbage */
    const size_t part = offsetof(elman_config, clip);
    elman_config cfg;
    memset(&cfg, 0x5a, sizeof(cfg));
    elman_config_init_sized(&cfg, part);
    assert_int_equal(cfg.struct_size, part);
    assert_int_equal(cfg.num_layers, 1);
    assert_true(isnan(cfg.activation_beta));
    unsigned char garbage[sizeof(elman_config)];
    memset(garbage, 0x5a, sizeof(garbage));
    assert_memory_equal((char *)&cfg + part, garbage + part, sizeof(cfg) - part);
    cfg.input_size = 3;
    cfg.hidden_size = 5;
    cfg.nonlinearity = ELMAN_LEAKY_RELU;
    cfg.activation_alpha = 0.25;
    elman_rnn *rnn;
    assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK); /* 0x5a... would be refused */
    elman_config full;
    elman_config_init(&full);
    assert_int_equal(elman_rnn_get_config(rnn, &full), ELMAN_OK);
    assert_int_equal(full.struct_size, sizeof(elman_config));
    assert_int_equal(full.nonlinearity, ELMAN_LEAKY_RELU);
    assert_true(full.activation_alpha == 0.25);
    assert_true(full.clip == 0.0); /* defaults beyond the caller's struct */
    assert_int_equal(full.dtype, ELMAN_FLOAT32);
    assert_int_equal(full.deterministic, 0);
    /* get_config writes only struct_size bytes */
    elman_config small;
    memset(&small, 0x5a, sizeof(small));
    small.struct_size = part;
    assert_int_equal(elman_rnn_get_config(rnn, &small), ELMAN_OK);
    assert_int_equal(small.struct_size, part);
    assert_int_equal(small.hidden_size, 5);
    assert_true(small.activation_alpha == 0.25);
    assert_memory_equal((char *)&small + part, garbage + part, sizeof(small) - part);

    const size_t bad[] = {0, 1, sizeof(size_t), ELMAN_CONFIG_MIN_SIZE - 1,
                          sizeof(elman_config) + 1, sizeof(elman_config) + 64, (size_t)-1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        elman_config c = small_config();
        c.struct_size = bad[i];
        expect_create(&c, ELMAN_ERR_INVALID_CONFIG);
        elman_config out;
        memset(&out, 0x5a, sizeof(out));
        out.struct_size = bad[i];
        assert_int_equal(elman_rnn_get_config(rnn, &out), ELMAN_ERR_INVALID_CONFIG);
        assert_int_equal(out.struct_size, bad[i]);
        assert_memory_equal((char *)&out + sizeof(size_t), garbage + sizeof(size_t),
                            sizeof(out) - sizeof(size_t));
    }
    /* the smallest accepted: the nn.RNN fields */
    elman_config c = small_config();
    c.struct_size = ELMAN_CONFIG_MIN_SIZE;
    c.reverse = 77; /* beyond: never read */
    elman_rnn *r2;
    assert_int_equal(elman_rnn_create(&c, &r2), ELMAN_OK);
    elman_rnn_free(r2);
    /* init with a size too small to hold struct_size writes nothing */
    unsigned char tiny[sizeof(elman_config)];
    memset(tiny, 0x5a, sizeof(tiny));
    elman_config_init_sized((elman_config *)(void *)tiny, sizeof(size_t) - 1);
    assert_memory_equal(tiny, garbage, sizeof(tiny));
    /* a larger struct (a newer header): init writes only the library's
     * part and stores the size, which create refuses */
    unsigned char big[sizeof(elman_config) + 16];
    memset(big, 0x5a, sizeof(big));
    elman_config_init_sized((elman_config *)(void *)big, sizeof(big));
    elman_config newer;
    memcpy(&newer, big, sizeof(newer));
    assert_int_equal(newer.struct_size, sizeof(big));
    assert_int_equal(newer.num_layers, 1);
    assert_memory_equal(big + sizeof(elman_config), garbage, 16);
    newer.input_size = 3;
    newer.hidden_size = 5;
    expect_create(&newer, ELMAN_ERR_INVALID_CONFIG);
    /* a size below the smallest accepted is stored all the same, and
     * create refuses it */
    memset(&cfg, 0x5a, sizeof(cfg));
    elman_config_init_sized(&cfg, ELMAN_CONFIG_MIN_SIZE - 1);
    assert_int_equal(cfg.struct_size, ELMAN_CONFIG_MIN_SIZE - 1);
    assert_int_equal(cfg.num_layers, 1);
    cfg.input_size = 3;
    cfg.hidden_size = 5;
    expect_create(&cfg, ELMAN_ERR_INVALID_CONFIG);
    elman_config_init_sized(NULL, sizeof(elman_config)); /* must not crash */
    elman_rnn_free(rnn);
}

/* The enums' values are fixed (a release may only append): the
 * activations, bias modes and element types keep their numbers. */
static void test_enum_values_are_fixed(void **state)
{
    (void)state;
    const int acts[] = {ELMAN_TANH,         ELMAN_RELU,         ELMAN_SIGMOID,
                        ELMAN_AFFINE,       ELMAN_LEAKY_RELU,   ELMAN_THRESHOLDED_RELU,
                        ELMAN_SCALED_TANH,  ELMAN_HARD_SIGMOID, ELMAN_ELU,
                        ELMAN_SOFTSIGN,     ELMAN_SOFTPLUS};
    for (int i = 0; i < (int)(sizeof(acts) / sizeof(acts[0])); i++)
        assert_int_equal(acts[i], i);
    assert_int_equal(ELMAN_BIAS_NONE, 0);
    assert_int_equal(ELMAN_BIAS_BOTH, 1);
    assert_int_equal(ELMAN_BIAS_SINGLE, 2);
    assert_int_equal(ELMAN_FLOAT32, 0);
    assert_int_equal(ELMAN_FLOAT64, 1);
}

/* The public activation lookups: every ONNX name both ways, any case;
 * the parameter count is what elman_rnn_create() accepts. */
static void test_activation_lookups(void **state)
{
    (void)state;
    static const char *const names[] = {"Tanh",        "Relu",       "Sigmoid",
                                         "Affine",      "LeakyRelu",  "ThresholdedRelu",
                                         "ScaledTanh",  "HardSigmoid", "Elu",
                                         "Softsign",    "Softplus"};
    static const int params[] = {0, 0, 0, 2, 1, 1, 2, 2, 1, 0, 0};
    for (int a = 0; a < 11; a++) {
        assert_string_equal(elman_activation_name(a), names[a]);
        assert_int_equal(elman_activation_params(a), params[a]);
        int got = -5;
        assert_int_equal(elman_activation_from_name(names[a], &got), ELMAN_OK);
        assert_int_equal(got, a);
        char lower[32], upper[32];
        size_t n = strlen(names[a]);
        for (size_t i = 0; i <= n; i++) {
            lower[i] = (char)tolower((unsigned char)names[a][i]);
            upper[i] = (char)toupper((unsigned char)names[a][i]);
        }
        got = -5;
        assert_int_equal(elman_activation_from_name(lower, &got), ELMAN_OK);
        assert_int_equal(got, a);
        got = -5;
        assert_int_equal(elman_activation_from_name(upper, &got), ELMAN_OK);
        assert_int_equal(got, a);
        /* alpha, then beta, is accepted exactly when the count says so */
        for (int p = 1; p <= 2; p++) {
            elman_config cfg = small_config();
            cfg.nonlinearity = a;
            cfg.activation_alpha = p == 1 ? 0.5 : NAN;
            cfg.activation_beta = p == 2 ? 0.5 : NAN;
            if (p == 2 && params[a] == 2)
                cfg.activation_alpha = 0.5;
            elman_rnn *rnn = NULL;
            const int rc = elman_rnn_create(&cfg, &rnn);
            assert_int_equal(rc, params[a] >= p ? ELMAN_OK : ELMAN_ERR_INVALID_CONFIG);
            elman_rnn_free(rnn);
        }
    }
    const int unknown[] = {-1, 11, 1000, -2147483647 - 1};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_null(elman_activation_name(unknown[i]));
        assert_int_equal(elman_activation_params(unknown[i]), -1);
    }
    /* any mix of cases */
    const char *const mixed[] = {"tAnH", "LEAKYrelu", "thresholdedRELU", "hArDsIgMoId", "sOFTPLUs"};
    const int mixed_act[] = {ELMAN_TANH, ELMAN_LEAKY_RELU, ELMAN_THRESHOLDED_RELU,
                             ELMAN_HARD_SIGMOID, ELMAN_SOFTPLUS};
    for (size_t i = 0; i < sizeof(mixed) / sizeof(mixed[0]); i++) {
        int got = -5;
        assert_int_equal(elman_activation_from_name(mixed[i], &got), ELMAN_OK);
        assert_int_equal(got, mixed_act[i]);
    }
    const char *const bad[] = {"", "Tan", "Tanhh", "Tanh ", " Tanh", "Leaky_Relu", "tanh\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int got = -5;
        assert_int_equal(elman_activation_from_name(bad[i], &got), ELMAN_ERR_INVALID_CONFIG);
        assert_int_equal(got, -5); /* untouched */
    }
    int got;
    assert_int_equal(elman_activation_from_name(NULL, &got), ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_activation_from_name("Tanh", NULL), ELMAN_ERR_NULL_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_create_and_get_config),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_set_weights_errors),
        cmocka_unit_test(test_weights_are_copied),
        cmocka_unit_test(test_config_is_copied),
        cmocka_unit_test(test_set_weights_replaces),
        cmocka_unit_test(test_failed_set_weights_changes_nothing),
        cmocka_unit_test(test_enum_values_are_fixed),
        cmocka_unit_test(test_activation_lookups),
        cmocka_unit_test(test_struct_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
