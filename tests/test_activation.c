/* Beyond nn.RNN: ONNX activations with alpha/beta, clip, bias modes, the
 * reverse direction, the batch-major state layout and float64, each
 * against the double-precision reference of testutil.c (itself checked
 * against PyTorch by test_golden), and reverse against the backward half of
 * a bidirectional model. */
#include "cmocka_wrap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elman.h"
#include "testutil.h"

static elman_config base_config(tu_rng *r)
{
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = tu_int(r, 1, 7);
    cfg.hidden_size = tu_int(r, 1, 40);
    cfg.num_layers = tu_int(r, 1, 3);
    cfg.batch_first = tu_int(r, 0, 1);
    cfg.bidirectional = tu_int(r, 0, 1);
    cfg.bias = tu_int(r, 0, 2);
    cfg.state_batch_first = tu_int(r, 0, 1);
    if (!cfg.bidirectional)
        cfg.reverse = tu_int(r, 0, 1);
    return cfg;
}

static int *some_lengths(tu_rng *r, int B, int T)
{
    int *len = malloc((size_t)B * sizeof(int));
    assert_non_null(len);
    for (int b = 0; b < B; b++)
        len[b] = tu_int(r, 1, T);
    len[0] = T;
    return len;
}

/* Runs a float32 model on random data and compares with the reference. */
static void check_f32(const elman_config *cfg, tu_rng *r)
{
    tu_model m;
    tu_model_random(&m, cfg, r);
    const int B = tu_int(r, 1, 5), T = tu_int(r, 1, 7);
    float *x = tu_random(r, tu_elems_x(cfg, B, T), 2.0f);
    float *h0 = tu_int(r, 0, 1) ? tu_random(r, tu_elems_state(cfg, B), 1.0f) : NULL;
    int *len = tu_int(r, 0, 1) ? some_lengths(r, B, T) : NULL;
    const size_t nout = tu_elems_out(cfg, B, T), nst = tu_elems_state(cfg, B);
    float *out = malloc(nout * sizeof(float)), *hn = malloc(nst * sizeof(float));
    double *rout = malloc(nout * sizeof(double)), *rhn = malloc(nst * sizeof(double));
    assert_true(out && hn && rout && rhn);
    elman_rnn *rnn = tu_model_build(&m);
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, len, h0, out, hn, NULL, 0), ELMAN_OK);
    tu_reference(cfg, (const float *const *)m.w_ih, (const float *const *)m.w_hh,
                 (const float *const *)m.b_ih, (const float *const *)m.b_hh, B, T, x, len, h0,
                 rout, rhn);
    if (tu_compare("output", out, rout, nout) >= 0 || tu_compare("h_n", hn, rhn, nst) >= 0)
        fail_msg("activation %d alpha %g beta %g clip %g bias %d reverse %d bi %d sbf %d",
                 cfg->nonlinearity, cfg->activation_alpha, cfg->activation_beta, cfg->clip,
                 cfg->bias, cfg->reverse, cfg->bidirectional, cfg->state_batch_first);
    elman_rnn_free(rnn);
    free(x);
    free(h0);
    free(len);
    free(out);
    free(hn);
    free(rout);
    free(rhn);
    tu_model_free(&m);
}

static int takes_alpha(int act)
{
    return act == ELMAN_AFFINE || act == ELMAN_LEAKY_RELU || act == ELMAN_THRESHOLDED_RELU ||
           act == ELMAN_SCALED_TANH || act == ELMAN_HARD_SIGMOID || act == ELMAN_ELU;
}

static int takes_beta(int act)
{
    return act == ELMAN_AFFINE || act == ELMAN_SCALED_TANH || act == ELMAN_HARD_SIGMOID;
}

/* Every activation, with default and with explicit alpha/beta, with and
 * without clip, on every path the configuration mixes in. */
static void test_activations_against_reference(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 606);
    for (int act = ELMAN_TANH; act <= ELMAN_SOFTPLUS; act++)
        for (int variant = 0; variant < 8; variant++) {
            elman_config cfg = base_config(&r);
            cfg.nonlinearity = act;
            if (variant % 2 && takes_alpha(act))
                cfg.activation_alpha = tu_uniform(&r, 0.05f, 1.5f);
            if (variant % 2 && takes_beta(act))
                cfg.activation_beta = tu_uniform(&r, -0.5f, 0.8f);
            if (variant >= 4)
                cfg.clip = tu_uniform(&r, 0.1f, 2.0f);
            /* affine and friends grow without bound over layers and
             * steps: keep the check meaningful with a clip */
            if (act == ELMAN_AFFINE || act == ELMAN_LEAKY_RELU ||
                act == ELMAN_THRESHOLDED_RELU || act == ELMAN_ELU || act == ELMAN_SOFTPLUS ||
                act == ELMAN_RELU)
                cfg.clip = cfg.clip > 0 ? cfg.clip : 3.0;
            check_f32(&cfg, &r);
        }
}

/* One bias equals two biases with b_hh = 0, bit for bit. */
static void test_single_bias(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 17);
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 3;
    cfg.hidden_size = 9;
    cfg.num_layers = 2;
    cfg.bias = ELMAN_BIAS_SINGLE;
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *single = tu_model_build(&m);
    cfg.bias = ELMAN_BIAS_BOTH;
    elman_rnn *both;
    assert_int_equal(elman_rnn_create(&cfg, &both), ELMAN_OK);
    float zeros[9] = {0};
    for (int l = 0; l < 2; l++)
        assert_int_equal(elman_rnn_set_weights(both, l, 0, m.w_ih[l], m.w_hh[l], m.b_ih[l], zeros),
                         ELMAN_OK);
    const int B = 3, T = 4;
    float *x = tu_random(&r, (size_t)B * T * 3, 1.0f);
    float o1[3 * 4 * 9], o2[3 * 4 * 9], h1[2 * 3 * 9], h2[2 * 3 * 9];
    assert_int_equal(elman_rnn_forward(single, B, T, x, NULL, NULL, o1, h1, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_rnn_forward(both, B, T, x, NULL, NULL, o2, h2, NULL, 0), ELMAN_OK);
    assert_memory_equal(o1, o2, sizeof(o1));
    assert_memory_equal(h1, h2, sizeof(h1));
    free(x);
    elman_rnn_free(single);
    elman_rnn_free(both);
    tu_model_free(&m);
}

/* A reverse model is the backward half of a bidirectional one: same
 * weights, same bits (in deterministic mode the projection is computed
 * the same way whatever the number of columns). */
static void test_reverse_is_backward_half(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 23);
    elman_config bcfg;
    elman_config_init(&bcfg);
    bcfg.input_size = 4;
    bcfg.hidden_size = 11;
    bcfg.bidirectional = 1;
    bcfg.deterministic = 1;
    tu_model m;
    tu_model_random(&m, &bcfg, &r);
    elman_rnn *bi = tu_model_build(&m);
    elman_config rcfg = bcfg;
    rcfg.bidirectional = 0;
    rcfg.reverse = 1;
    elman_rnn *rev;
    assert_int_equal(elman_rnn_create(&rcfg, &rev), ELMAN_OK);
    assert_int_equal(elman_rnn_set_weights(rev, 0, 0, m.w_ih[1], m.w_hh[1], m.b_ih[1], m.b_hh[1]),
                     ELMAN_OK);
    const int B = 4, T = 6, H = 11;
    const int len[4] = {6, 2, 5, 1};
    float *x = tu_random(&r, (size_t)B * T * 4, 1.0f);
    float *h0 = tu_random(&r, (size_t)2 * B * H, 1.0f);
    float ob[6 * 4 * 22], hb[2 * 4 * 11], orv[6 * 4 * 11], hr[4 * 11];
    assert_int_equal(elman_rnn_forward(bi, B, T, x, len, h0, ob, hb, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_rnn_forward(rev, B, T, x, len, h0 + B * H, orv, hr, NULL, 0),
                     ELMAN_OK);
    for (int row = 0; row < T * B; row++)
        assert_memory_equal(orv + row * H, ob + row * 2 * H + H, (size_t)H * sizeof(float));
    assert_memory_equal(hr, hb + B * H, sizeof(hr));
    free(x);
    free(h0);
    elman_rnn_free(bi);
    elman_rnn_free(rev);
    tu_model_free(&m);
}

/* float64: every feature against the reference to 1e-12. */
static void test_f64_against_reference(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 64);
    for (int iter = 0; iter < 40; iter++) {
        elman_config cfg = base_config(&r);
        cfg.dtype = ELMAN_FLOAT64;
        cfg.nonlinearity = tu_int(&r, ELMAN_TANH, ELMAN_SOFTPLUS);
        cfg.clip = 2.5;
        cfg.num_threads = tu_int(&r, 1, 3);
        const int D = cfg.bidirectional ? 2 : 1, H = cfg.hidden_size;
        double *w_ih[6], *w_hh[6], *b_ih[6] = {0}, *b_hh[6] = {0};
        elman_rnn *rnn;
        assert_int_equal(elman_rnn_create(&cfg, &rnn), ELMAN_OK);
        for (int l = 0; l < cfg.num_layers; l++)
            for (int d = 0; d < D; d++) {
                const int k = l * D + d, in = l == 0 ? cfg.input_size : D * H;
                w_ih[k] = malloc((size_t)H * in * sizeof(double));
                w_hh[k] = malloc((size_t)H * H * sizeof(double));
                b_ih[k] = malloc((size_t)H * sizeof(double));
                b_hh[k] = malloc((size_t)H * sizeof(double));
                for (int i = 0; i < H * in; i++) w_ih[k][i] = tu_uniform(&r, -0.5f, 0.5f);
                for (int i = 0; i < H * H; i++) w_hh[k][i] = tu_uniform(&r, -0.3f, 0.3f);
                for (int i = 0; i < H; i++) b_ih[k][i] = tu_uniform(&r, -0.3f, 0.3f);
                for (int i = 0; i < H; i++) b_hh[k][i] = tu_uniform(&r, -0.3f, 0.3f);
                assert_int_equal(elman_rnn_set_weights_f64(
                                     rnn, l, d, w_ih[k], w_hh[k],
                                     cfg.bias != ELMAN_BIAS_NONE ? b_ih[k] : NULL,
                                     cfg.bias == ELMAN_BIAS_BOTH ? b_hh[k] : NULL),
                                 ELMAN_OK);
            }
        const int B = tu_int(&r, 1, 4), T = tu_int(&r, 1, 6);
        const size_t nx = tu_elems_x(&cfg, B, T), nout = tu_elems_out(&cfg, B, T),
                     nst = tu_elems_state(&cfg, B);
        double *x = malloc(nx * sizeof(double)), *h0 = malloc(nst * sizeof(double));
        double *out = malloc(nout * sizeof(double)), *hn = malloc(nst * sizeof(double));
        double *rout = malloc(nout * sizeof(double)), *rhn = malloc(nst * sizeof(double));
        assert_true(x && h0 && out && hn && rout && rhn);
        for (size_t i = 0; i < nx; i++) x[i] = tu_uniform(&r, -1, 1);
        for (size_t i = 0; i < nst; i++) h0[i] = tu_uniform(&r, -1, 1);
        int *len = iter % 2 ? some_lengths(&r, B, T) : NULL;
        assert_int_equal(elman_rnn_forward_f64(rnn, B, T, x, len, h0, out, hn, NULL, 0), ELMAN_OK);
        tu_reference_d(&cfg, (const double *const *)w_ih, (const double *const *)w_hh,
                       (const double *const *)b_ih, (const double *const *)b_hh, B, T, x, len, h0,
                       rout, rhn);
        for (size_t i = 0; i < nout; i++)
            if (!(fabs(out[i] - rout[i]) <= 1e-12 * (1 + fabs(rout[i]))))
                fail_msg("f64 output %zu: %.17g vs %.17g (act %d)", i, out[i], rout[i],
                         cfg.nonlinearity);
        for (size_t i = 0; i < nst; i++)
            if (!(fabs(hn[i] - rhn[i]) <= 1e-12 * (1 + fabs(rhn[i]))))
                fail_msg("f64 h_n %zu: %.17g vs %.17g", i, hn[i], rhn[i]);
        /* float32 entry points refuse a float64 model */
        assert_int_equal(elman_rnn_forward(rnn, B, T, (const float *)(void *)x, NULL, NULL,
                                           (float *)(void *)out, NULL, NULL, 0),
                         ELMAN_ERR_INVALID_CONFIG);
        for (int k = 0; k < cfg.num_layers * D; k++) {
            free(w_ih[k]);
            free(w_hh[k]);
            free(b_ih[k]);
            free(b_hh[k]);
        }
        free(x);
        free(h0);
        free(out);
        free(hn);
        free(rout);
        free(rhn);
        free(len);
        elman_rnn_free(rnn);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations_against_reference),
        cmocka_unit_test(test_single_bias),
        cmocka_unit_test(test_reverse_is_backward_half),
        cmocka_unit_test(test_f64_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
