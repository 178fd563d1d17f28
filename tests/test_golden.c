/* elman against real PyTorch: the cases tests/gen_golden.py generated with
 * nn.RNN (and pack_padded_sequence for per-sequence lengths). */
#include "cmocka_wrap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elman.h"
#include "golden.h"
#include "testutil.h"

static const char *g_dir;

typedef struct tally {
    int run, failed;
} tally;

static int run_case(const golden_case *c, int use_ws)
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
    const int D = c->bidirectional ? 2 : 1;

    elman_rnn *rnn;
    if (elman_rnn_create(&cfg, &rnn) != ELMAN_OK)
        return 0;
    int ok = 1;
    for (int l = 0; l < c->num_layers; l++)
        for (int d = 0; d < D; d++) {
            int k = l * D + d;
            ok &= elman_rnn_set_weights(rnn, l, d, c->w_ih[k], c->w_hh[k],
                                        c->bias ? c->b_ih[k] : NULL,
                                        c->bias ? c->b_hh[k] : NULL) == ELMAN_OK;
        }
    const size_t nout = tu_elems_out(&cfg, c->batch, c->seq_len);
    const size_t nst = tu_elems_state(&cfg, c->batch);
    float *out = malloc(nout * sizeof(float)), *hn = malloc(nst * sizeof(float));
    assert_non_null(out);
    assert_non_null(hn);
    for (size_t i = 0; i < nout; i++) out[i] = NAN;
    for (size_t i = 0; i < nst; i++) hn[i] = NAN;
    void *ws = NULL;
    size_t size = 0;
    if (use_ws) {
        size = elman_rnn_workspace_size(rnn, c->batch, c->seq_len);
        ws = aligned_alloc(ELMAN_WORKSPACE_ALIGNMENT, (size + 63) / 64 * 64);
        assert_non_null(ws);
    }
    int rc = elman_rnn_forward(rnn, c->batch, c->seq_len, c->x, c->lengths, c->h0, out, hn, ws,
                               size);
    if (rc != ELMAN_OK) {
        fprintf(stderr, "%s: forward: %s\n", c->name, elman_strerror(rc));
        ok = 0;
    } else {
        ok &= tu_compare_f(c->name, out, c->output, nout) < 0;
        ok &= tu_compare_f(c->name, hn, c->h_n, nst) < 0;
    }
    free(ws);
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
    int ok = run_case(&c, 0) && run_case(&c, 1);
    if (!ok) {
        fprintf(stderr, "FAILED: %s\n", c.name);
        t->failed++;
    }
    golden_free(&c);
}

static void test_pytorch_golden(void **state)
{
    (void)state;
    tally t = {0, 0};
    int n = golden_for_each(g_dir, one_file, &t);
    assert_true(n >= 40); /* the data is there: no silent empty pass */
    assert_int_equal(t.run, n);
    printf("golden: %d cases from PyTorch, %d failed\n", n, t.failed);
    assert_int_equal(t.failed, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s GOLDEN_DATA_DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pytorch_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
