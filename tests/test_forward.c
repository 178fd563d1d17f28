#define _POSIX_C_SOURCE 200809L /* setenv */
/* The forward pass against the double-precision reference, its properties
 * and its argument checks. PyTorch itself is compared in test_golden.c. */
#include "cmocka_wrap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elman.h"
#include "testutil.h"

static elman_config make_config(int I, int H, int L, int act, int bias, int bf, int bi)
{
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = I;
    cfg.hidden_size = H;
    cfg.num_layers = L;
    cfg.nonlinearity = act;
    cfg.bias = bias;
    cfg.batch_first = bf;
    cfg.bidirectional = bi;
    return cfg;
}

static float *nan_filled(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
    return p;
}

/* Runs elman and the reference on the same problem; asserts agreement.
 * `use_ws` gives the call a caller workspace filled with garbage. */
static void check_against_reference(const tu_model *m, int B, int T, const float *x,
                                    const int *lengths, const float *h0, int use_ws)
{
    const elman_config *cfg = &m->cfg;
    elman_rnn *rnn = tu_model_build(m);
    const size_t nout = tu_elems_out(cfg, B, T), nst = tu_elems_state(cfg, B);
    float *out = nan_filled(nout), *hn = nan_filled(nst);
    double *rout = malloc(nout * sizeof(double)), *rhn = malloc(nst * sizeof(double));
    assert_non_null(rout);
    assert_non_null(rhn);

    void *ws = NULL;
    size_t ws_size = 0;
    if (use_ws) {
        ws_size = elman_rnn_workspace_size(rnn, B, T);
        assert_true(ws_size > 0);
        ws = aligned_alloc(ELMAN_WORKSPACE_ALIGNMENT,
                           (ws_size + ELMAN_WORKSPACE_ALIGNMENT - 1) / ELMAN_WORKSPACE_ALIGNMENT *
                               ELMAN_WORKSPACE_ALIGNMENT);
        assert_non_null(ws);
        memset(ws, 0xff, ws_size); /* NaN everywhere: must not leak into results */
    }
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, lengths, h0, out, hn, ws, ws_size),
                     ELMAN_OK);
    tu_reference(cfg, (const float *const *)m->w_ih, (const float *const *)m->w_hh,
                 (const float *const *)m->b_ih, (const float *const *)m->b_hh, B, T, x, lengths,
                 h0, rout, rhn);
    assert_int_equal(tu_compare("output", out, rout, nout), -1);
    assert_int_equal(tu_compare("h_n", hn, rhn, nst), -1);
    /* past its length a sequence's output is zero, exactly */
    const int D = m->D, H = cfg->hidden_size;
    for (int b = 0; lengths != NULL && b < B; b++)
        for (int t = lengths[b]; t < T; t++) {
            const size_t row = cfg->batch_first ? (size_t)b * T + t : (size_t)t * B + b;
            for (int j = 0; j < D * H; j++)
                assert_true(out[row * (size_t)(D * H) + j] == 0.0f);
        }

    /* Without h_n the output is the same, bit for bit. */
    float *out2 = nan_filled(nout);
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, lengths, h0, out2, NULL, ws, ws_size),
                     ELMAN_OK);
    assert_memory_equal(out, out2, nout * sizeof(float));

    free(out2);
    free(ws);
    free(out);
    free(hn);
    free(rout);
    free(rhn);
    elman_rnn_free(rnn);
}

static int *random_lengths(tu_rng *r, int B, int T)
{
    int *len = malloc((size_t)B * sizeof(int));
    assert_non_null(len);
    for (int b = 0; b < B; b++)
        len[b] = tu_int(r, 1, T);
    if (B > 1) {
        len[tu_int(r, 0, B - 1)] = T; /* the full length and 1 both occur */
        len[tu_int(r, 0, B - 1)] = 1;
    }
    return len;
}

/* Random configurations over every feature, including sizes that cross the
 * batch-1 (GEMV) and batch > 1 (GEMM) paths. */
static void test_random_against_reference(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 20261126);
    for (int iter = 0; iter < 150; iter++) {
        elman_config cfg = make_config(tu_int(&r, 1, 9), tu_int(&r, 1, 12), tu_int(&r, 1, 3),
                                       tu_int(&r, 0, 1), tu_int(&r, 0, 1), tu_int(&r, 0, 1),
                                       tu_int(&r, 0, 1));
        if (iter % 10 == 0)
            cfg.hidden_size = tu_int(&r, 30, 70);
        const int B = tu_int(&r, 1, 6), T = tu_int(&r, 1, 8);
        tu_model m;
        tu_model_random(&m, &cfg, &r);
        float *x = tu_random(&r, tu_elems_x(&cfg, B, T), 2.0f);
        float *h0 = iter % 3 ? tu_random(&r, tu_elems_state(&cfg, B), 1.0f) : NULL;
        int *len = iter % 2 ? random_lengths(&r, B, T) : NULL;
        check_against_reference(&m, B, T, x, len, h0, iter % 4 == 1);
        free(x);
        free(h0);
        free(len);
        tu_model_free(&m);
    }
}

/* Sorted, reversed and tied lengths all produce the same per-sequence
 * results as the reference. */
static void test_length_orders(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 7);
    const int B = 5, T = 6;
    const int orders[][5] = {{6, 5, 4, 3, 1}, {1, 3, 4, 5, 6}, {3, 3, 3, 3, 3},
                             {1, 1, 1, 1, 1}, {2, 6, 2, 6, 1}};
    for (int bi = 0; bi <= 1; bi++)
        for (int bf = 0; bf <= 1; bf++)
            for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
                elman_config cfg = make_config(3, 4, 2, ELMAN_TANH, 1, bf, bi);
                tu_model m;
                tu_model_random(&m, &cfg, &r);
                float *x = tu_random(&r, tu_elems_x(&cfg, B, T), 1.0f);
                float *h0 = tu_random(&r, tu_elems_state(&cfg, B), 1.0f);
                check_against_reference(&m, B, T, x, orders[o], h0, 0);
                free(x);
                free(h0);
                tu_model_free(&m);
            }
}

/* For full-length sequences the last output step is h_n of the top layer;
 * with two directions, the backward half's last step is at t = 0. */
static void test_last_step_is_h_n(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 1);
    for (int bi = 0; bi <= 1; bi++)
        for (int bf = 0; bf <= 1; bf++) {
            const int B = 3, T = 5, H = 6, L = 2, D = bi ? 2 : 1;
            elman_config cfg = make_config(4, H, L, ELMAN_TANH, 1, bf, bi);
            tu_model m;
            tu_model_random(&m, &cfg, &r);
            elman_rnn *rnn = tu_model_build(&m);
            float *x = tu_random(&r, tu_elems_x(&cfg, B, T), 1.0f);
            float *out = nan_filled(tu_elems_out(&cfg, B, T));
            float *hn = nan_filled(tu_elems_state(&cfg, B));
            assert_int_equal(elman_rnn_forward(rnn, B, T, x, NULL, NULL, out, hn, NULL, 0),
                             ELMAN_OK);
            for (int b = 0; b < B; b++)
                for (int d = 0; d < D; d++) {
                    const int t = d == 0 ? T - 1 : 0;
                    const size_t row = bf ? (size_t)b * T + t : (size_t)t * B + b;
                    const float *o = out + row * (size_t)(D * H) + (size_t)d * H;
                    const float *h = hn + ((size_t)((L - 1) * D + d) * B + b) * H;
                    assert_memory_equal(o, h, (size_t)H * sizeof(float));
                }
            free(x);
            free(out);
            free(hn);
            elman_rnn_free(rnn);
            tu_model_free(&m);
        }
}

/* Two chunks, the first's h_n fed as the second's h0, equal one run. */
static void test_chunks_equal_one_run(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 2);
    const int B = 3, T = 9, T1 = 4, I = 3, H = 7, L = 3;
    elman_config cfg = make_config(I, H, L, ELMAN_TANH, 1, 0, 0); /* (T, B, *) */
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *rnn = tu_model_build(&m);
    float *x = tu_random(&r, tu_elems_x(&cfg, B, T), 1.0f);
    float *h0 = tu_random(&r, tu_elems_state(&cfg, B), 1.0f);
    const size_t nout = tu_elems_out(&cfg, B, T), nst = tu_elems_state(&cfg, B);
    float *out = nan_filled(nout), *hn = nan_filled(nst);
    float *out_c = nan_filled(nout), *state_c = malloc(nst * sizeof(float));
    assert_non_null(state_c);
    memcpy(state_c, h0, nst * sizeof(float));

    assert_int_equal(elman_rnn_forward(rnn, B, T, x, NULL, h0, out, hn, NULL, 0), ELMAN_OK);
    /* second chunk in place: h0 and h_n the same buffer */
    assert_int_equal(elman_rnn_forward(rnn, B, T1, x, NULL, state_c, out_c, state_c, NULL, 0),
                     ELMAN_OK);
    const size_t step = (size_t)B * I, ostep = (size_t)B * H;
    assert_int_equal(elman_rnn_forward(rnn, B, T - T1, x + T1 * step, NULL, state_c,
                                       out_c + T1 * ostep, state_c, NULL, 0),
                     ELMAN_OK);
    assert_int_equal(tu_compare_f("chunked output", out_c, out, nout), -1);
    assert_int_equal(tu_compare_f("chunked h_n", state_c, hn, nst), -1);

    free(x);
    free(h0);
    free(out);
    free(hn);
    free(out_c);
    free(state_c);
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

/* Each sequence alone gives what it gives inside a batch. */
static void test_batch_entry_alone(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 3);
    enum { B = 4, T = 6, I = 2, H = 5, L = 2, D = 2 };
    const int lengths[B] = {3, 6, 1, 4};
    for (int bf = 0; bf <= 1; bf++) {
        elman_config cfg = make_config(I, H, L, ELMAN_RELU, 1, bf, 1);
        tu_model m;
        tu_model_random(&m, &cfg, &r);
        elman_rnn *rnn = tu_model_build(&m);
        float *x = tu_random(&r, tu_elems_x(&cfg, B, T), 1.0f);
        float *h0 = tu_random(&r, tu_elems_state(&cfg, B), 1.0f);
        float *out = nan_filled(tu_elems_out(&cfg, B, T));
        float *hn = nan_filled(tu_elems_state(&cfg, B));
        assert_int_equal(elman_rnn_forward(rnn, B, T, x, lengths, h0, out, hn, NULL, 0),
                         ELMAN_OK);
        for (int b = 0; b < B; b++) {
            const int n = lengths[b] < T ? lengths[b] : T;
            float x1[T * I], h01[L * D * H], out1[T * D * H], hn1[L * D * H];
            for (int t = 0; t < n; t++) {
                size_t row = bf ? (size_t)b * T + t : (size_t)t * B + b;
                memcpy(x1 + t * I, x + row * I, (size_t)I * sizeof(float));
            }
            for (int k = 0; k < L * D; k++)
                memcpy(h01 + k * H, h0 + ((size_t)k * B + b) * H, (size_t)H * sizeof(float));
            assert_int_equal(elman_rnn_forward(rnn, 1, n, x1, NULL, h01, out1, hn1, NULL, 0),
                             ELMAN_OK);
            for (int t = 0; t < n; t++) {
                size_t row = bf ? (size_t)b * T + t : (size_t)t * B + b;
                assert_int_equal(
                    tu_compare_f("alone", out1 + t * D * H, out + row * D * H, (size_t)D * H), -1);
            }
            for (int k = 0; k < L * D; k++)
                assert_int_equal(tu_compare_f("alone h_n", hn1 + k * H,
                                              hn + ((size_t)k * B + b) * H, (size_t)H),
                                 -1);
        }
        free(x);
        free(h0);
        free(out);
        free(hn);
        elman_rnn_free(rnn);
        tu_model_free(&m);
    }
}

/* The backward half of a bidirectional layer equals a forward-only model
 * with the _reverse weights run on each sequence reversed in time. */
static void test_backward_is_reversed_forward(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 4);
    const int B = 3, T = 5, I = 3, H = 4;
    const int lengths[3] = {5, 2, 4};
    elman_config cfg = make_config(I, H, 1, ELMAN_TANH, 1, 1, 1);
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *bi = tu_model_build(&m);
    elman_config fcfg = cfg;
    fcfg.bidirectional = 0;
    elman_rnn *fw;
    assert_int_equal(elman_rnn_create(&fcfg, &fw), ELMAN_OK);
    assert_int_equal(elman_rnn_set_weights(fw, 0, 0, m.w_ih[1], m.w_hh[1], m.b_ih[1], m.b_hh[1]),
                     ELMAN_OK);

    float *x = tu_random(&r, tu_elems_x(&cfg, B, T), 1.0f);
    float *h0 = tu_random(&r, tu_elems_state(&cfg, B), 1.0f); /* (2, B, H) */
    float out[3 * 5 * 8], hn[2 * 3 * 4];
    assert_int_equal(elman_rnn_forward(bi, B, T, x, lengths, h0, out, hn, NULL, 0), ELMAN_OK);

    float xr[3 * 5 * 3] = {0}, outr[3 * 5 * 4], hnr[3 * 4];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < lengths[b]; t++)
            memcpy(xr + ((size_t)b * T + t) * I, x + ((size_t)b * T + lengths[b] - 1 - t) * I,
                   (size_t)I * sizeof(float));
    assert_int_equal(elman_rnn_forward(fw, B, T, xr, lengths, h0 + B * H, outr, hnr, NULL, 0),
                     ELMAN_OK);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < lengths[b]; t++)
            assert_int_equal(tu_compare_f("backward", out + ((size_t)b * T + t) * 2 * H + H,
                                          outr + ((size_t)b * T + lengths[b] - 1 - t) * H,
                                          (size_t)H),
                             -1);
    assert_int_equal(tu_compare_f("backward h_n", hn + B * H, hnr, (size_t)B * H), -1);
    free(x);
    free(h0);
    elman_rnn_free(bi);
    elman_rnn_free(fw);
    tu_model_free(&m);
}

/* A caller workspace gives the same bits as an internal one. */
static void test_workspace_same_bits(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 5);
    const int B = 4, T = 7;
    const int lengths[4] = {7, 3, 5, 1};
    elman_config cfg = make_config(5, 9, 2, ELMAN_TANH, 1, 0, 1);
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *rnn = tu_model_build(&m);
    float *x = tu_random(&r, tu_elems_x(&cfg, B, T), 1.0f);
    const size_t nout = tu_elems_out(&cfg, B, T), nst = tu_elems_state(&cfg, B);
    float *o1 = nan_filled(nout), *o2 = nan_filled(nout), *h1 = nan_filled(nst),
          *h2 = nan_filled(nst);
    size_t size = elman_rnn_workspace_size(rnn, B, T);
    assert_true(size > 0);
    /* a larger B or T never needs less */
    assert_true(elman_rnn_workspace_size(rnn, B + 1, T) >= size);
    assert_true(elman_rnn_workspace_size(rnn, B, T + 1) >= size);
    void *ws = aligned_alloc(64, (size + 63) / 64 * 64);
    assert_non_null(ws);
    memset(ws, 0xa5, size);
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, lengths, NULL, o1, h1, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, lengths, NULL, o2, h2, ws, size), ELMAN_OK);
    assert_memory_equal(o1, o2, nout * sizeof(float));
    assert_memory_equal(h1, h2, nst * sizeof(float));
    free(ws);
    free(x);
    free(o1);
    free(o2);
    free(h1);
    free(h2);
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

/* Argument checks: each bad argument gives its code and writes nothing. */
static void test_forward_errors(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 6);
    const int B = 2, T = 3;
    elman_config cfg = make_config(2, 3, 2, ELMAN_TANH, 1, 0, 1);
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *rnn = tu_model_build(&m);
    float x[2 * 3 * 2] = {0}, h0[4 * 2 * 3] = {0}, out[2 * 3 * 6], hn[4 * 2 * 3];
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) out[i] = 42.0f;
    for (size_t i = 0; i < sizeof(hn) / sizeof(hn[0]); i++) hn[i] = 42.0f;
    float out_before[sizeof(out) / sizeof(out[0])], hn_before[sizeof(hn) / sizeof(hn[0])];
    memcpy(out_before, out, sizeof(out));
    memcpy(hn_before, hn, sizeof(hn));

#define EXPECT(code, ...)                                                                         \
    do {                                                                                          \
        assert_int_equal(elman_rnn_forward(__VA_ARGS__), code);                                   \
        assert_memory_equal(out, out_before, sizeof(out));                                        \
        assert_memory_equal(hn, hn_before, sizeof(hn));                                           \
    } while (0)

    EXPECT(ELMAN_ERR_NULL_ARGUMENT, NULL, B, T, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_NULL_ARGUMENT, rnn, B, T, NULL, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_NULL_ARGUMENT, rnn, B, T, x, NULL, NULL, NULL, hn, NULL, 0);
    EXPECT(ELMAN_ERR_INVALID_SIZE, rnn, 0, T, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_INVALID_SIZE, rnn, -1, T, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_INVALID_SIZE, rnn, B, 0, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_INVALID_SIZE, rnn, B, -5, x, NULL, NULL, out, hn, NULL, 0);
    /* B*T beyond what BLAS can index (checked before any pointer is read) */
    EXPECT(ELMAN_ERR_SIZE_OVERFLOW, rnn, 1 << 20, 1 << 12, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_SIZE_OVERFLOW, rnn, 2147483647, 2147483647, x, NULL, NULL, out, hn, NULL,
           0);
    /* the bound itself: B*T = 2^31 = INT_MAX + 1 */
    EXPECT(ELMAN_ERR_SIZE_OVERFLOW, rnn, 1 << 16, 1 << 15, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_SIZE_OVERFLOW, rnn, 2, 1 << 30, x, NULL, NULL, out, hn, NULL, 0);

    const int bad_lengths[][2] = {{0, 3}, {3, 4}, {-1, 2}, {2, -2147483647 - 1}};
    for (size_t i = 0; i < sizeof(bad_lengths) / sizeof(bad_lengths[0]); i++)
        EXPECT(ELMAN_ERR_INVALID_LENGTH, rnn, B, T, x, bad_lengths[i], NULL, out, hn, NULL, 0);

    size_t size = elman_rnn_workspace_size(rnn, B, T);
    assert_true(size > 0);
    void *ws = aligned_alloc(64, (size + 64 + 63) / 64 * 64);
    assert_non_null(ws);
    EXPECT(ELMAN_ERR_WORKSPACE_TOO_SMALL, rnn, B, T, x, NULL, NULL, out, hn, ws, size - 1);
    EXPECT(ELMAN_ERR_WORKSPACE_TOO_SMALL, rnn, B, T, x, NULL, NULL, out, hn, ws, 0);
    EXPECT(ELMAN_ERR_MISALIGNED, rnn, B, T, x, NULL, NULL, out, hn, (char *)ws + 4, size);

    /* overlapping buffers */
    EXPECT(ELMAN_ERR_OVERLAP, rnn, B, T, out + 1, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_OVERLAP, rnn, B, T, x, NULL, out + 4, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_OVERLAP, rnn, B, T, x, NULL, NULL, out, out + 8, NULL, 0);
    EXPECT(ELMAN_ERR_OVERLAP, rnn, B, T, x, NULL, hn + 1, out, hn, NULL, 0);
    {
        /* h_n over x (x, 12 floats, at the start of xs; h_n, 24, from its
         * 5th): refused, and x is not written either */
        float xs[64] = {0}, xs_before[64];
        memcpy(xs_before, xs, sizeof(xs));
        EXPECT(ELMAN_ERR_OVERLAP, rnn, B, T, xs, NULL, NULL, out, xs + 4, NULL, 0);
        EXPECT(ELMAN_ERR_OVERLAP, rnn, B, T, xs, NULL, h0, out, xs + 11, NULL, 0);
        assert_memory_equal(xs, xs_before, sizeof(xs));
    }
    /* same buffer for h0 and h_n is allowed (in-place state) */
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, NULL, h0, out, h0, NULL, 0), ELMAN_OK);

    /* weights missing for one direction of one layer */
    elman_rnn *partial;
    assert_int_equal(elman_rnn_create(&cfg, &partial), ELMAN_OK);
    for (int k = 0; k < 3; k++)
        assert_int_equal(elman_rnn_set_weights(partial, k / 2, k % 2, m.w_ih[k], m.w_hh[k],
                                               m.b_ih[k], m.b_hh[k]),
                         ELMAN_OK);
    memcpy(out, out_before, sizeof(out));
    EXPECT(ELMAN_ERR_WEIGHTS_NOT_SET, partial, B, T, x, NULL, NULL, out, hn, NULL, 0);
    assert_int_equal(elman_rnn_set_weights(partial, 1, 1, m.w_ih[3], m.w_hh[3], m.b_ih[3],
                                           m.b_hh[3]),
                     ELMAN_OK);
    assert_int_equal(elman_rnn_forward(partial, B, T, x, NULL, NULL, out, hn, NULL, 0), ELMAN_OK);
#undef EXPECT

    assert_int_equal(elman_rnn_workspace_size(NULL, B, T), 0);
    assert_int_equal(elman_rnn_workspace_size(rnn, 0, T), 0);
    assert_int_equal(elman_rnn_workspace_size(rnn, B, -1), 0);
    if (sizeof(size_t) == 4)
        assert_int_equal(elman_rnn_workspace_size(rnn, 1 << 20, 1 << 12), 0);
    /* INT_MAX^2 * D*H (6) floats: more bytes than any size_t holds */
    assert_int_equal(elman_rnn_workspace_size(rnn, 2147483647, 2147483647), 0);

    free(ws);
    elman_rnn_free(partial);
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

/* Buffers that touch but do not overlap are accepted, and so are x and h0
 * overlapping (both only read): carved from one array, they give the bits
 * of separate buffers. */
static void test_adjacent_buffers(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 9);
    enum { B = 2, T = 3, I = 2, H = 3, L = 2, D = 2 };
    enum { NX = T * B * I, NOUT = T * B * D * H, NST = L * D * B * H };
    elman_config cfg = make_config(I, H, L, ELMAN_TANH, 1, 0, 1);
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *rnn = tu_model_build(&m);
    float *x = tu_random(&r, NST, 1.0f); /* NST >= NX: serves as h0 below */
    float *h0 = tu_random(&r, NST, 1.0f);
    float want_out[NOUT], want_hn[NST];
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, NULL, h0, want_out, want_hn, NULL, 0),
                     ELMAN_OK);
    /* x | h0 | output | h_n, and output | h_n | x | h0 */
    float pool[NX + NST + NOUT + NST];
    const size_t at[2][4] = {{0, NX, NX + NST, NX + NST + NOUT},
                             {NOUT + NST, NOUT + NST + NX, 0, NOUT}};
    for (int k = 0; k < 2; k++) {
        memset(pool, 0xff, sizeof(pool));
        memcpy(pool + at[k][0], x, NX * sizeof(float));
        memcpy(pool + at[k][1], h0, NST * sizeof(float));
        assert_int_equal(elman_rnn_forward(rnn, B, T, pool + at[k][0], NULL, pool + at[k][1],
                                           pool + at[k][2], pool + at[k][3], NULL, 0),
                         ELMAN_OK);
        assert_memory_equal(pool + at[k][2], want_out, sizeof(want_out));
        assert_memory_equal(pool + at[k][3], want_hn, sizeof(want_hn));
        assert_memory_equal(pool + at[k][0], x, NX * sizeof(float)); /* inputs only read */
        assert_memory_equal(pool + at[k][1], h0, NST * sizeof(float));
    }
    /* h0 and x the same memory */
    float out[NOUT], hn[NST];
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, NULL, x, want_out, want_hn, NULL, 0),
                     ELMAN_OK);
    assert_int_equal(elman_rnn_forward(rnn, B, T, x, NULL, x, out, hn, NULL, 0), ELMAN_OK);
    assert_memory_equal(out, want_out, sizeof(out));
    assert_memory_equal(hn, want_hn, sizeof(hn));
    free(x);
    free(h0);
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

/* elman_rnn_forward_f64: the same codes as elman_rnn_forward, plus
 * ELMAN_ERR_INVALID_CONFIG for a float32 model; on error output and h_n
 * are untouched. */
static void test_forward_f64_errors(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 10);
    enum { B = 2, T = 3 };
    elman_config cfg = make_config(2, 3, 2, ELMAN_TANH, 1, 0, 1);
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *rnn = tu_model_build_f64(&m, 1), *f32 = tu_model_build(&m);
    double x[2 * 3 * 2] = {0}, h0[4 * 2 * 3] = {0}, out[2 * 3 * 6], hn[4 * 2 * 3];
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) out[i] = 42.0;
    for (size_t i = 0; i < sizeof(hn) / sizeof(hn[0]); i++) hn[i] = 42.0;
    double out_before[sizeof(out) / sizeof(out[0])], hn_before[sizeof(hn) / sizeof(hn[0])];
    memcpy(out_before, out, sizeof(out));
    memcpy(hn_before, hn, sizeof(hn));
    size_t size = elman_rnn_workspace_size(rnn, B, T);
    assert_true(size > 0);
    void *ws = aligned_alloc(64, (size + 64 + 63) / 64 * 64);
    assert_non_null(ws);
    const int bad_len[2] = {0, 3};

#define EXPECT(code, ...)                                                                         \
    do {                                                                                          \
        assert_int_equal(elman_rnn_forward_f64(__VA_ARGS__), code);                               \
        assert_memory_equal(out, out_before, sizeof(out));                                        \
        assert_memory_equal(hn, hn_before, sizeof(hn));                                           \
    } while (0)

    EXPECT(ELMAN_ERR_INVALID_CONFIG, f32, B, T, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_NULL_ARGUMENT, NULL, B, T, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_NULL_ARGUMENT, rnn, B, T, NULL, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_NULL_ARGUMENT, rnn, B, T, x, NULL, NULL, NULL, hn, NULL, 0);
    EXPECT(ELMAN_ERR_INVALID_SIZE, rnn, 0, T, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_INVALID_SIZE, rnn, B, -1, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_SIZE_OVERFLOW, rnn, 1 << 16, 1 << 15, x, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_INVALID_LENGTH, rnn, B, T, x, bad_len, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_WORKSPACE_TOO_SMALL, rnn, B, T, x, NULL, NULL, out, hn, ws, size - 1);
    EXPECT(ELMAN_ERR_MISALIGNED, rnn, B, T, x, NULL, NULL, out, hn, (char *)ws + 8, size);
    EXPECT(ELMAN_ERR_OVERLAP, rnn, B, T, out + 1, NULL, NULL, out, hn, NULL, 0);
    EXPECT(ELMAN_ERR_OVERLAP, rnn, B, T, x, NULL, hn + 1, out, hn, NULL, 0);
    elman_rnn *partial;
    elman_config cfg64 = cfg;
    cfg64.dtype = ELMAN_FLOAT64;
    assert_int_equal(elman_rnn_create(&cfg64, &partial), ELMAN_OK);
    EXPECT(ELMAN_ERR_WEIGHTS_NOT_SET, partial, B, T, x, NULL, NULL, out, hn, NULL, 0);
#undef EXPECT
    /* the same calls well formed */
    assert_int_equal(elman_rnn_forward_f64(rnn, B, T, x, NULL, h0, out, h0, ws, size), ELMAN_OK);
    free(ws);
    elman_rnn_free(partial);
    elman_rnn_free(f32);
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

/* "No function aborts, exits or prints on a caller's bad input": bad calls
 * of every function, with stdout and stderr sent to a file, return their
 * codes and leave the file empty. */
static void test_bad_input_prints_nothing(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 11);
    elman_config cfg = make_config(2, 3, 1, ELMAN_TANH, 1, 0, 0);
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *rnn = tu_model_build(&m), *unset;
    assert_int_equal(elman_rnn_create(&cfg, &unset), ELMAN_OK);
    float x[8] = {0}, st[6] = {0}, out[12];
    const int bad_len[2] = {5, 1};
    char ws_storage[64 * 3];
    void *misaligned = ws_storage + 1;

    FILE *sink = tmpfile();
    assert_non_null(sink);
    fflush(stdout);
    fflush(stderr);
    const int saved_out = dup(1), saved_err = dup(2);
    assert_true(saved_out >= 0 && saved_err >= 0);
    assert_true(dup2(fileno(sink), 1) >= 0 && dup2(fileno(sink), 2) >= 0);

    int rc[32], n = 0;
    elman_rnn *made;
    elman_config bad = cfg;
    bad.hidden_size = 0;
    rc[n++] = elman_rnn_create(&bad, &made);
    bad = cfg;
    bad.nonlinearity = 99;
    rc[n++] = elman_rnn_create(&bad, &made);
    bad = cfg;
    bad.hidden_size = 2147483647;
    rc[n++] = elman_rnn_create(&bad, &made);
    bad = cfg;
    bad.struct_size = 3;
    rc[n++] = elman_rnn_create(&bad, &made);
    rc[n++] = elman_rnn_create(NULL, &made);
    rc[n++] = elman_rnn_get_config(rnn, &bad);
    rc[n++] = elman_rnn_set_weights(rnn, 5, 0, m.w_ih[0], m.w_hh[0], m.b_ih[0], m.b_hh[0]);
    rc[n++] = elman_rnn_set_weights(rnn, 0, 0, m.w_ih[0], m.w_hh[0], NULL, NULL);
    rc[n++] = elman_rnn_forward(rnn, 2, 2, x, bad_len, NULL, out, NULL, NULL, 0);
    rc[n++] = elman_rnn_forward(rnn, -2, 2, x, NULL, NULL, out, NULL, NULL, 0);
    rc[n++] = elman_rnn_forward(rnn, 2, 2, x, NULL, NULL, out, NULL, misaligned, 128);
    rc[n++] = elman_rnn_forward(rnn, 2, 2, x, NULL, NULL, out, NULL, ws_storage, 1);
    rc[n++] = elman_rnn_forward(rnn, 2, 2, x, NULL, NULL, x, NULL, NULL, 0);
    rc[n++] = elman_rnn_forward(unset, 2, 2, x, NULL, NULL, out, NULL, NULL, 0);
    rc[n++] = elman_rnn_forward(rnn, 1 << 16, 1 << 16, x, NULL, NULL, out, NULL, NULL, 0);
    rc[n++] = elman_rnn_forward_f64(rnn, 2, 2, NULL, NULL, NULL, NULL, NULL, NULL, 0);
    rc[n++] = elman_rnn_forward_chunk(rnn, 2, 2, x, NULL, NULL, out, NULL, 0);
    rc[n++] = elman_rnn_forward_chunk_f64(rnn, 2, 2, NULL, NULL, NULL, NULL, NULL, 0);
    rc[n++] = elman_rnn_step(rnn, 0, x, st, NULL, NULL, 0);
    rc[n++] = elman_rnn_step_f64(NULL, 2, NULL, NULL, NULL, NULL, 0);
    int act;
    rc[n++] = elman_activation_from_name("Tanhh", &act);
    rc[n++] = elman_activation_from_name(NULL, &act);
    const size_t ws_size = elman_rnn_workspace_size(rnn, 0, 2);
    const char *unknown = elman_strerror(-7);
    const char *no_name = elman_activation_name(-7);
    const int no_params = elman_activation_params(99);
    elman_config_init_sized(NULL, sizeof(elman_config));
    elman_rnn_free(NULL);

    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved_out, 1) >= 0 && dup2(saved_err, 2) >= 0);
    close(saved_out);
    close(saved_err);
    struct stat sb;
    assert_int_equal(fstat(fileno(sink), &sb), 0);
    fclose(sink);
    assert_int_equal(sb.st_size, 0);
    for (int i = 0; i < n; i++)
        if (rc[i] == ELMAN_OK)
            fail_msg("bad call %d returned ELMAN_OK", i);
    assert_int_equal(ws_size, 0);
    assert_non_null(unknown);
    assert_null(no_name);
    assert_int_equal(no_params, -1);
    elman_rnn_free(unset);
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

/* Threads split the projections by rows and each step by columns (or the
 * directions between them): the result is the same, bit for bit, as with
 * one thread. ELMAN_FORCE_THREADS makes even these small problems use every
 * thread and split every step. */
static void test_threads_same_bits(void **state)
{
    (void)state;
    setenv("ELMAN_FORCE_THREADS", "1", 1);
    tu_rng r;
    tu_seed(&r, 8);
    for (int iter = 0; iter < 24; iter++) {
        const int bi = iter % 2, L = 1 + iter % 3, bf = (iter / 2) % 2;
        elman_config cfg = make_config(tu_int(&r, 1, 20), tu_int(&r, 1, 70), L, iter % 5 == 0,
                                       1, bf, bi);
        const int B = tu_int(&r, 1, 9), T = tu_int(&r, 1, 12);
        tu_model m;
        tu_model_random(&m, &cfg, &r);
        float *x = tu_random(&r, tu_elems_x(&cfg, B, T), 1.0f);
        float *h0 = iter % 3 ? tu_random(&r, tu_elems_state(&cfg, B), 1.0f) : NULL;
        int *len = iter % 4 < 2 ? random_lengths(&r, B, T) : NULL;
        const size_t nout = tu_elems_out(&cfg, B, T), nst = tu_elems_state(&cfg, B);
        float *o1 = nan_filled(nout), *h1 = nan_filled(nst);
        elman_rnn *rnn = tu_model_build(&m);
        assert_int_equal(elman_rnn_forward(rnn, B, T, x, len, h0, o1, h1, NULL, 0), ELMAN_OK);
        elman_rnn_free(rnn);
        for (int nt = 2; nt <= 5; nt++) {
            m.cfg.num_threads = nt;
            rnn = tu_model_build(&m);
            float *o = nan_filled(nout), *h = nan_filled(nst);
            size_t size = elman_rnn_workspace_size(rnn, B, T);
            void *ws = aligned_alloc(64, (size + 63) / 64 * 64);
            assert_non_null(ws);
            assert_int_equal(elman_rnn_forward(rnn, B, T, x, len, h0, o, h, ws, size), ELMAN_OK);
            assert_memory_equal(o, o1, nout * sizeof(float));
            assert_memory_equal(h, h1, nst * sizeof(float));
            free(ws);
            free(o);
            free(h);
            elman_rnn_free(rnn);
        }
        m.cfg.num_threads = 3;
        check_against_reference(&m, B, T, x, len, h0, iter % 2);
        free(o1);
        free(h1);
        free(x);
        free(h0);
        free(len);
        tu_model_free(&m);
    }
    unsetenv("ELMAN_FORCE_THREADS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_length_orders),
        cmocka_unit_test(test_last_step_is_h_n),
        cmocka_unit_test(test_chunks_equal_one_run),
        cmocka_unit_test(test_batch_entry_alone),
        cmocka_unit_test(test_backward_is_reversed_forward),
        cmocka_unit_test(test_workspace_same_bits),
        cmocka_unit_test(test_forward_errors),
        cmocka_unit_test(test_adjacent_buffers),
        cmocka_unit_test(test_forward_f64_errors),
        cmocka_unit_test(test_bad_input_prints_nothing),
        cmocka_unit_test(test_threads_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
