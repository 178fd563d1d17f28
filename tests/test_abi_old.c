/* A program built against an older elman_config layout (tests/abi/elman_old.h:
 * no deterministic field) runs against the current library: elman_config_init
 * and elman_rnn_get_config write only its bytes, elman_rnn_create reads only
 * its bytes (the missing field takes its default), and the model computes
 * what it should. The bytes after the old struct hold a pattern that would
 * be an invalid deterministic flag, so a read past struct_size fails. */
#include "cmocka_wrap.h"

#include <math.h>
#include <string.h>

#include "elman_old.h"

enum { GUARD = 32 };

/* An old-layout config followed by guard bytes. */
typedef struct guarded {
    elman_config cfg;
    unsigned char guard[GUARD];
} guarded;

static void fill(guarded *g)
{
    memset(g, 0xa5, sizeof(*g));
}

static void assert_guard(const guarded *g)
{
    for (int i = 0; i < GUARD; i++)
        assert_int_equal(g->guard[i], 0xa5);
}

static void test_old_layout(void **state)
{
    (void)state;
    assert_true(elman_version_number() >= 200);
    guarded g;
    fill(&g);
    elman_config_init(&g.cfg);
    assert_guard(&g);
    assert_int_equal(g.cfg.struct_size, sizeof(elman_config));
    assert_int_equal(g.cfg.num_layers, 1);
    assert_true(isnan(g.cfg.activation_alpha));
    g.cfg.input_size = 1;
    g.cfg.hidden_size = 2;
    g.cfg.batch_first = 1;

    elman_rnn *rnn = NULL;
    assert_int_equal(elman_rnn_create(&g.cfg, &rnn), ELMAN_OK);
    const float w_ih[2] = {0.5f, -0.25f}, w_hh[4] = {0.1f, 0.2f, -0.3f, 0.4f};
    const float b_ih[2] = {0.05f, -0.1f}, b_hh[2] = {0.0f, 0.2f};
    assert_int_equal(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b_ih, b_hh), ELMAN_OK);
    const float x[3] = {1.0f, -2.0f, 0.5f};
    float out[6], h_n[2];
    assert_int_equal(elman_rnn_forward(rnn, 1, 3, x, NULL, NULL, out, h_n, NULL, 0), ELMAN_OK);
    double h[2] = {0, 0};
    for (int t = 0; t < 3; t++) {
        double n[2];
        for (int j = 0; j < 2; j++)
            n[j] = tanh(w_ih[j] * (double)x[t] + b_ih[j] + b_hh[j] + w_hh[2 * j] * h[0] +
                        w_hh[2 * j + 1] * h[1]);
        h[0] = n[0];
        h[1] = n[1];
        for (int j = 0; j < 2; j++)
            assert_true(fabs(out[2 * t + j] - h[j]) <= 1e-6);
    }
    assert_true(fabs(h_n[0] - h[0]) <= 1e-6 && fabs(h_n[1] - h[1]) <= 1e-6);

    guarded back;
    fill(&back);
    back.cfg.struct_size = sizeof(elman_config);
    assert_int_equal(elman_rnn_get_config(rnn, &back.cfg), ELMAN_OK);
    assert_guard(&back);
    assert_int_equal(back.cfg.struct_size, sizeof(elman_config));
    assert_int_equal(back.cfg.hidden_size, 2);
    assert_int_equal(back.cfg.batch_first, 1);
    assert_int_equal(back.cfg.state_batch_first, 0);
    elman_rnn_free(rnn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
