/* elman against real PyTorch: the cases tests/gen_golden.py (float32) and
 * tests/gen_golden_f64.py (float64) generated with nn.RNN, and
 * pack_padded_sequence for per-sequence lengths. Each float32 case also
 * runs with a caller workspace, in deterministic mode, with h0/h_n in the
 * batch-major state layout, and (forward-only models) fed in chunks. */
#include "cmocka_wrap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elman.h"
#include "golden.h"
#include "testutil.h"


static const char *g_dir, *g_dir_f64;

typedef struct tally {
    int run, failed;
} tally;

typedef enum variant {
    PLAIN,
    WORKSPACE,
    DETERMINISTIC,
    STATE_BATCH_FIRST,
    CHUNKED,
    NUM_VARIANTS
} variant;

static const char *const VARIANT_NAMES[] = {"plain", "workspace", "deterministic",
                                            "state_batch_first", "chunked"};

static elman_config config_of(const golden_case *c)
{
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = c->input_size;
    cfg.hidden_size = c->hidden_size;
    cfg.num_layers = c->num_layers;
    cfg.nonlinearity = c->nonlinearity;
    cfg.bias = c->bias;
    cfg.batch_first = c->batch_first;
    cfg.bidirectional = c->bidirectional;
    cfg.dtype = c->dtype == 1 ? ELMAN_FLOAT64 : ELMAN_FLOAT32;
    return cfg;
}

static elman_rnn *build(const golden_case *c, const elman_config *cfg)
{
    elman_rnn *rnn;
    if (elman_rnn_create(cfg, &rnn) != ELMAN_OK)
        return NULL;
    const int D = c->bidirectional ? 2 : 1;
    for (int l = 0; l < c->num_layers; l++)
        for (int d = 0; d < D; d++) {
            const int k = l * D + d;
            int rc = cfg->dtype == ELMAN_FLOAT64
                         ? elman_rnn_set_weights_f64(rnn, l, d, c->w_ih[k], c->w_hh[k],
                                                     c->bias ? c->b_ih[k] : NULL,
                                                     c->bias ? c->b_hh[k] : NULL)
                         : elman_rnn_set_weights(rnn, l, d, c->w_ih[k], c->w_hh[k],
                                                 c->bias ? c->b_ih[k] : NULL,
                                                 c->bias ? c->b_hh[k] : NULL);
            if (rc != ELMAN_OK) {
                elman_rnn_free(rnn);
                return NULL;
            }
        }
    return rnn;
}

/* (L*D, B, H) <-> (B, L*D, H) */
static void transpose_state(const float *src, float *dst, int LD, int B, int H, int to_batch)
{
    for (int k = 0; k < LD; k++)
        for (int b = 0; b < B; b++) {
            const size_t s = ((size_t)k * B + b) * H, t = ((size_t)b * LD + k) * H;
            memcpy(dst + (to_batch ? t : s), src + (to_batch ? s : t), (size_t)H * sizeof(float));
        }
}

/* Feeds the case in chunks of 2 steps through elman_rnn_forward_chunk, the
 * state carried in place and per-chunk lengths cut from the case's. */
static int run_chunked(const elman_rnn *rnn, const golden_case *c, float *out, float *state)
{
    const int B = c->batch, T = c->seq_len, I = c->input_size, H = c->hidden_size;
    const int CH = 2;
    const size_t nst = (size_t)c->num_layers * B * H;
    if (c->h0 != NULL)
        memcpy(state, c->h0, nst * sizeof(float));
    else
        memset(state, 0, nst * sizeof(float));
    float *xc = malloc((size_t)B * CH * I * sizeof(float));
    float *oc = malloc((size_t)B * CH * H * sizeof(float));
    int lens[64];
    assert_true(B <= 64 && xc && oc);
    int ok = 1;
    for (int t0 = 0; t0 < T && ok; t0 += CH) {
        const int n = T - t0 < CH ? T - t0 : CH;
        for (int b = 0; b < B; b++) {
            const int len = c->lengths ? c->lengths[b] : T;
            lens[b] = len <= t0 ? 0 : (len - t0 < n ? len - t0 : n);
        }
        for (int b = 0; b < B; b++) /* gather the chunk in the model's layout */
            for (int t = 0; t < n; t++) {
                const size_t src = c->batch_first ? (size_t)b * T + t0 + t : (size_t)(t0 + t) * B + b;
                const size_t dst = c->batch_first ? (size_t)b * n + t : (size_t)t * B + b;
                memcpy(xc + dst * I, (const float *)c->x + src * I, (size_t)I * sizeof(float));
            }
        ok = elman_rnn_forward_chunk(rnn, B, n, xc, lens, state, oc, NULL, 0) == ELMAN_OK;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < n; t++) {
                const size_t dst = c->batch_first ? (size_t)b * T + t0 + t : (size_t)(t0 + t) * B + b;
                const size_t src = c->batch_first ? (size_t)b * n + t : (size_t)t * B + b;
                memcpy(out + dst * H, oc + src * H, (size_t)H * sizeof(float));
            }
    }
    free(xc);
    free(oc);
    return ok;
}

static int run_f32(const golden_case *c, variant v)
{
    elman_config cfg = config_of(c);
    cfg.deterministic = v == DETERMINISTIC;
    cfg.state_batch_first = v == STATE_BATCH_FIRST;
    elman_rnn *rnn = build(c, &cfg);
    if (rnn == NULL)
        return 0;
    const int D = c->bidirectional ? 2 : 1, LD = c->num_layers * D;
    const size_t nout = tu_elems_out(&cfg, c->batch, c->seq_len);
    const size_t nst = tu_elems_state(&cfg, c->batch);
    float *out = malloc(nout * sizeof(float)), *hn = malloc(nst * sizeof(float));
    float *h0t = malloc(nst * sizeof(float)), *hnt = malloc(nst * sizeof(float));
    assert_true(out && hn && h0t && hnt);
    for (size_t i = 0; i < nout; i++) out[i] = NAN;
    for (size_t i = 0; i < nst; i++) hn[i] = NAN;
    void *ws = NULL;
    size_t size = 0;
    if (v == WORKSPACE) {
        size = elman_rnn_workspace_size(rnn, c->batch, c->seq_len);
        ws = aligned_alloc(ELMAN_WORKSPACE_ALIGNMENT, (size + 63) / 64 * 64);
        assert_non_null(ws);
    }
    int rc;
    if (v == CHUNKED) {
        rc = run_chunked(rnn, c, out, hn) ? ELMAN_OK : -1;
    } else if (v == STATE_BATCH_FIRST) {
        if (c->h0 != NULL)
            transpose_state(c->h0, h0t, LD, c->batch, c->hidden_size, 1);
        rc = elman_rnn_forward(rnn, c->batch, c->seq_len, c->x, c->lengths,
                               c->h0 != NULL ? h0t : NULL, out, hnt, NULL, 0);
        transpose_state(hnt, hn, LD, c->batch, c->hidden_size, 0);
    } else {
        rc = elman_rnn_forward(rnn, c->batch, c->seq_len, c->x, c->lengths, c->h0, out, hn, ws,
                               size);
    }
    int ok = rc == ELMAN_OK;
    if (!ok)
        fprintf(stderr, "%s (%s): forward failed: %s\n", c->name, VARIANT_NAMES[v],
                elman_strerror(rc));
    else
        ok = tu_compare_f(c->name, out, c->output, nout) < 0 &&
             tu_compare_f(c->name, hn, c->h_n, nst) < 0;
    free(ws);
    free(out);
    free(hn);
    free(h0t);
    free(hnt);
    elman_rnn_free(rnn);
    return ok;
}

static int run_f64(const golden_case *c)
{
    elman_config cfg = config_of(c);
    elman_rnn *rnn = build(c, &cfg);
    if (rnn == NULL)
        return 0;
    const size_t nout = tu_elems_out(&cfg, c->batch, c->seq_len);
    const size_t nst = tu_elems_state(&cfg, c->batch);
    double *out = malloc(nout * sizeof(double)), *hn = malloc(nst * sizeof(double));
    assert_true(out && hn);
    int ok = elman_rnn_forward_f64(rnn, c->batch, c->seq_len, c->x, c->lengths, c->h0, out, hn,
                                   NULL, 0) == ELMAN_OK;
    ok = ok && tu_compare_d(c->name, out, c->output, nout) < 0 &&
         tu_compare_d(c->name, hn, c->h_n, nst) < 0;
    free(out);
    free(hn);
    elman_rnn_free(rnn);
    return ok;
}

static void one_file(const char *path, void *user)
{
    tally *t = user;
    golden_case c;
    t->run++;
    if (golden_load(path, &c) != 0) {
        t->failed++;
        return;
    }
    int ok = 1;
    if (c.dtype == 1) {
        ok = run_f64(&c);
    } else {
        for (int v = 0; v < NUM_VARIANTS; v++) {
            if (v == CHUNKED && c.bidirectional)
                continue; /* the backward direction needs the whole sequence */
            if (!run_f32(&c, (variant)v)) {
                fprintf(stderr, "FAILED: %s (%s)\n", c.name, VARIANT_NAMES[v]);
                ok = 0;
            }
        }
    }
    if (!ok)
        t->failed++;
    golden_free(&c);
}

static void test_pytorch_golden(void **state)
{
    (void)state;
    tally t = {0, 0};
    int n = golden_for_each(g_dir, one_file, &t);
    /* the data is there (no silent empty pass): the 73 cases README.md counts */
    assert_int_equal(n, 73);
    assert_int_equal(t.run, n);
    printf("golden float32: %d cases from PyTorch x %d variants, %d failed\n", n, NUM_VARIANTS,
           t.failed);
    assert_int_equal(t.failed, 0);
}

static void test_pytorch_golden_f64(void **state)
{
    (void)state;
    tally t = {0, 0};
    int n = golden_for_each(g_dir_f64, one_file, &t);
    assert_true(n >= 6);
    assert_int_equal(t.run, n);
    printf("golden float64: %d cases from PyTorch, %d failed (tolerance %g)\n", n, t.failed,
           TEST_F64_TOL);
    assert_int_equal(t.failed, 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s GOLDEN_DIR GOLDEN_F64_DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    g_dir_f64 = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pytorch_golden),
        cmocka_unit_test(test_pytorch_golden_f64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
