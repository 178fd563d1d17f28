/* Streaming (elman_rnn_forward_chunk, elman_rnn_step) and deterministic
 * mode. A stream fed chunk by chunk, with chunks in which it has no step,
 * equals the whole stream run at once; in deterministic mode, bit for bit,
 * whatever the batch, the position in it, the padding, the chunking and the
 * threads. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "cmocka_wrap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elman.h"
#include "testutil.h"

enum { NS = 5, CHUNKS = 6, CH = 4 };

typedef struct streams {
    int steps[NS][CHUNKS]; /* steps stream b takes in chunk c (0..CH) */
    int total[NS];
    float *x[NS];          /* each stream's whole input, (total, I) */
} streams;

static void make_streams(streams *s, tu_rng *r, int I)
{
    for (int b = 0; b < NS; b++) {
        s->total[b] = 0;
        /* streams start and stop at different chunks, and pause */
        const int first = tu_int(r, 0, 2), last = tu_int(r, 3, CHUNKS - 1);
        for (int c = 0; c < CHUNKS; c++) {
            s->steps[b][c] = c < first || c > last ? 0 : tu_int(r, 0, CH);
            s->total[b] += s->steps[b][c];
        }
        if (s->total[b] == 0) {
            s->steps[b][first] = 1;
            s->total[b] = 1;
        }
        s->x[b] = tu_random(r, (size_t)s->total[b] * I, 1.0f);
    }
}

static void free_streams(streams *s)
{
    for (int b = 0; b < NS; b++)
        free(s->x[b]);
}

/* Drives all streams chunk by chunk; out[b] gets each stream's outputs,
 * (total, H), state the final (L, NS, H) state. */
static void run_chunked(const elman_rnn *rnn, const elman_config *cfg, const streams *s,
                        const float *h0, float **out, float *state, int use_step)
{
    const int I = cfg->input_size, H = cfg->hidden_size;
    const size_t nst = tu_elems_state(cfg, NS);
    memcpy(state, h0, nst * sizeof(float));
    float xc[NS * CH * 16], oc[NS * CH * 64];
    assert_true(I <= 16 && H <= 64);
    int done[NS] = {0};
    for (int c = 0; c < CHUNKS; c++) {
        int lens[NS];
        memset(xc, 0, sizeof(xc));
        for (int b = 0; b < NS; b++) {
            lens[b] = s->steps[b][c];
            for (int t = 0; t < lens[b]; t++) {
                const size_t row = cfg->batch_first ? (size_t)b * CH + t : (size_t)t * NS + b;
                memcpy(xc + row * I, s->x[b] + (size_t)(done[b] + t) * I,
                       (size_t)I * sizeof(float));
            }
        }
        if (use_step) {
            /* step by step: a stream with fewer steps simply is not in the
             * later single-step calls... which elman_rnn_step cannot
             * express, so only chunks where every stream runs CH steps use it */
            for (int t = 0; t < CH; t++) {
                float x1[NS * 16], y1[NS * 64];
                for (int b = 0; b < NS; b++) {
                    const size_t row = cfg->batch_first ? (size_t)b * CH + t : (size_t)t * NS + b;
                    memcpy(x1 + b * I, xc + row * I, (size_t)I * sizeof(float));
                }
                assert_int_equal(elman_rnn_step(rnn, NS, x1, state, y1, NULL, 0), ELMAN_OK);
                for (int b = 0; b < NS; b++) {
                    const size_t row = cfg->batch_first ? (size_t)b * CH + t : (size_t)t * NS + b;
                    memcpy(oc + row * H, y1 + b * H, (size_t)H * sizeof(float));
                }
            }
        } else {
            assert_int_equal(elman_rnn_forward_chunk(rnn, NS, CH, xc, lens, state, oc, NULL, 0),
                             ELMAN_OK);
        }
        for (int b = 0; b < NS; b++) {
            for (int t = 0; t < CH; t++) {
                const size_t row = cfg->batch_first ? (size_t)b * CH + t : (size_t)t * NS + b;
                if (t < lens[b])
                    memcpy(out[b] + (size_t)(done[b] + t) * H, oc + row * H,
                           (size_t)H * sizeof(float));
                else
                    for (int j = 0; j < H; j++) /* past its steps a stream's output is zero */
                        assert_true(oc[row * H + j] == 0.0f);
            }
            done[b] += lens[b];
        }
    }
}

static void check_streaming(int deterministic, int use_step)
{
    tu_rng r;
    tu_seed(&r, 4242 + deterministic * 7 + use_step);
    for (int iter = 0; iter < 12; iter++) {
        elman_config cfg;
        elman_config_init(&cfg);
        cfg.input_size = tu_int(&r, 1, 16);
        cfg.hidden_size = tu_int(&r, 1, 64);
        cfg.num_layers = tu_int(&r, 1, 3);
        cfg.batch_first = tu_int(&r, 0, 1);
        cfg.state_batch_first = tu_int(&r, 0, 1);
        cfg.nonlinearity = tu_int(&r, 0, 1);
        cfg.deterministic = deterministic;
        tu_model m;
        tu_model_random(&m, &cfg, &r);
        elman_rnn *rnn = tu_model_build(&m);
        streams s;
        make_streams(&s, &r, cfg.input_size);
        if (use_step)
            for (int b = 0; b < NS; b++)
                for (int c = 0; c < CHUNKS; c++) {
                    s.total[b] += CH - s.steps[b][c];
                    s.steps[b][c] = CH;
                }
        if (use_step)
            for (int b = 0; b < NS; b++) {
                free(s.x[b]);
                s.x[b] = tu_random(&r, (size_t)s.total[b] * cfg.input_size, 1.0f);
            }
        const int H = cfg.hidden_size, L = cfg.num_layers;
        const size_t nst = tu_elems_state(&cfg, NS);
        float *h0 = tu_random(&r, nst, 1.0f), *state = malloc(nst * sizeof(float));
        float *out[NS];
        for (int b = 0; b < NS; b++)
            out[b] = malloc((size_t)s.total[b] * H * sizeof(float));
        run_chunked(rnn, &cfg, &s, h0, out, state, use_step);

        for (int b = 0; b < NS; b++) {
            /* the stream alone, in one call */
            float h0b[3 * 64], hnb[3 * 64];
            for (int l = 0; l < L; l++)
                memcpy(h0b + l * H,
                       h0 + (cfg.state_batch_first ? (size_t)b * L + l : (size_t)l * NS + b) * H,
                       (size_t)H * sizeof(float));
            float *whole = malloc((size_t)s.total[b] * H * sizeof(float));
            assert_int_equal(elman_rnn_forward(rnn, 1, s.total[b], s.x[b], NULL, h0b, whole, hnb,
                                               NULL, 0),
                             ELMAN_OK);
            const size_t n = (size_t)s.total[b] * H;
            if (deterministic)
                assert_memory_equal(out[b], whole, n * sizeof(float));
            else
                assert_int_equal(tu_compare_f("chunked", out[b], whole, n), -1);
            for (int l = 0; l < L; l++) {
                const float *st =
                    state + (cfg.state_batch_first ? (size_t)b * L + l : (size_t)l * NS + b) * H;
                if (deterministic)
                    assert_memory_equal(st, hnb + l * H, (size_t)H * sizeof(float));
                else
                    assert_int_equal(tu_compare_f("chunked state", st, hnb + l * H, (size_t)H),
                                     -1);
            }
            free(whole);
        }
        for (int b = 0; b < NS; b++)
            free(out[b]);
        free(h0);
        free(state);
        free_streams(&s);
        elman_rnn_free(rnn);
        tu_model_free(&m);
    }
}

static void test_chunks_equal_whole(void **state)
{
    (void)state;
    check_streaming(0, 0);
}

static void test_chunks_equal_whole_bitwise(void **state)
{
    (void)state;
    check_streaming(1, 0);
}

static void test_steps_equal_whole_bitwise(void **state)
{
    (void)state;
    check_streaming(1, 1);
}

/* Deterministic mode: one sequence's bits do not depend on its batch, its
 * position, the padding T, or the threads. Sizes large enough that the
 * default mode would hand the projection to BLAS. */
static void test_deterministic_batch_independent(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 777);
    for (int bi = 0; bi <= 1; bi++) {
        elman_config cfg;
        elman_config_init(&cfg);
        cfg.input_size = 96;
        cfg.hidden_size = 80;
        cfg.num_layers = 2;
        cfg.bidirectional = bi;
        cfg.deterministic = 1;
        tu_model m;
        tu_model_random(&m, &cfg, &r);
        const int T = 30, D = bi ? 2 : 1, H = 80, I = 96;
        float *seq = tu_random(&r, (size_t)T * I, 1.0f);
        /* alone */
        elman_rnn *rnn = tu_model_build(&m);
        float *alone = malloc((size_t)T * D * H * sizeof(float));
        float hn_alone[2 * 2 * 80];
        assert_int_equal(elman_rnn_forward(rnn, 1, T, seq, NULL, NULL, alone, hn_alone, NULL, 0),
                         ELMAN_OK);
        elman_rnn_free(rnn);
        /* in batches of various sizes, at various positions, padded to
         * T + 7, with 1..4 threads */
        setenv("ELMAN_FORCE_THREADS", "1", 1);
        for (int trial = 0; trial < 6; trial++) {
            const int B = tu_int(&r, 2, 9), pos = tu_int(&r, 0, B - 1), TP = T + 7;
            m.cfg.num_threads = 1 + trial % 4;
            rnn = tu_model_build(&m);
            float *x = tu_random(&r, (size_t)TP * B * I, 1.0f);
            int *len = malloc((size_t)B * sizeof(int));
            for (int b = 0; b < B; b++)
                len[b] = tu_int(&r, 1, TP);
            len[pos] = T;
            for (int t = 0; t < T; t++)
                memcpy(x + ((size_t)t * B + pos) * I, seq + (size_t)t * I, (size_t)I * sizeof(float));
            float *out = malloc((size_t)TP * B * D * H * sizeof(float));
            float *hn = malloc((size_t)2 * D * B * H * sizeof(float));
            assert_int_equal(elman_rnn_forward(rnn, B, TP, x, len, NULL, out, hn, NULL, 0),
                             ELMAN_OK);
            for (int t = 0; t < T; t++)
                assert_memory_equal(out + ((size_t)t * B + pos) * D * H,
                                    alone + (size_t)t * D * H, (size_t)D * H * sizeof(float));
            for (int k = 0; k < 2 * D; k++)
                assert_memory_equal(hn + ((size_t)k * B + pos) * H, hn_alone + k * H,
                                    (size_t)H * sizeof(float));
            free(x);
            free(len);
            free(out);
            free(hn);
            elman_rnn_free(rnn);
        }
        unsetenv("ELMAN_FORCE_THREADS");
        free(seq);
        free(alone);
        tu_model_free(&m);
    }
}

static void test_stream_errors(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 1);
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 2;
    cfg.hidden_size = 3;
    tu_model m;
    tu_model_random(&m, &cfg, &r);
    elman_rnn *rnn = tu_model_build(&m);
    float x[2 * 2 * 2] = {0}, st[2 * 3] = {0}, out[2 * 2 * 3];
    const int zero[2] = {0, 2}, neg[2] = {-1, 2}, big[2] = {3, 1};
    /* forward keeps PyTorch's rule (1..T); chunks allow 0 */
    assert_int_equal(elman_rnn_forward(rnn, 2, 2, x, zero, NULL, out, NULL, NULL, 0),
                     ELMAN_ERR_INVALID_LENGTH);
    assert_int_equal(elman_rnn_forward_chunk(rnn, 2, 2, x, zero, st, out, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_rnn_forward_chunk(rnn, 2, 2, x, neg, st, out, NULL, 0),
                     ELMAN_ERR_INVALID_LENGTH);
    assert_int_equal(elman_rnn_forward_chunk(rnn, 2, 2, x, big, st, out, NULL, 0),
                     ELMAN_ERR_INVALID_LENGTH);
    assert_int_equal(elman_rnn_forward_chunk(rnn, 2, 2, x, NULL, NULL, out, NULL, 0),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_forward_chunk(NULL, 2, 2, x, NULL, st, out, NULL, 0),
                     ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_step(rnn, 2, x, NULL, out, NULL, 0), ELMAN_ERR_NULL_ARGUMENT);
    assert_int_equal(elman_rnn_step(rnn, 0, x, st, out, NULL, 0), ELMAN_ERR_INVALID_SIZE);
    assert_int_equal(elman_rnn_step(rnn, 0, x, st, NULL, NULL, 0), ELMAN_ERR_INVALID_SIZE);
    /* step without y, with and without a workspace */
    size_t size = elman_rnn_workspace_size(rnn, 2, 1);
    void *ws = aligned_alloc(64, (size + 63) / 64 * 64);
    assert_int_equal(elman_rnn_step(rnn, 2, x, st, NULL, ws, size), ELMAN_OK);
    assert_int_equal(elman_rnn_step(rnn, 2, x, st, NULL, NULL, 0), ELMAN_OK);
    assert_int_equal(elman_rnn_step(rnn, 2, x, st, NULL, ws, size - 1),
                     ELMAN_ERR_WORKSPACE_TOO_SMALL);
    free(ws);
    elman_rnn_free(rnn);
    tu_model_free(&m);

    /* only forward-running models stream */
    cfg.bidirectional = 1;
    tu_model_random(&m, &cfg, &r);
    rnn = tu_model_build(&m);
    float st2[2 * 2 * 3] = {0}, out2[2 * 2 * 6];
    assert_int_equal(elman_rnn_forward_chunk(rnn, 2, 2, x, NULL, st2, out2, NULL, 0),
                     ELMAN_ERR_INVALID_CONFIG);
    assert_int_equal(elman_rnn_step(rnn, 2, x, st2, out2, NULL, 0), ELMAN_ERR_INVALID_CONFIG);
    elman_rnn_free(rnn);
    tu_model_free(&m);
    cfg.bidirectional = 0;
    cfg.reverse = 1;
    tu_model_random(&m, &cfg, &r);
    rnn = tu_model_build(&m);
    assert_int_equal(elman_rnn_forward_chunk(rnn, 2, 2, x, NULL, st, out, NULL, 0),
                     ELMAN_ERR_INVALID_CONFIG);
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_equal_whole),
        cmocka_unit_test(test_chunks_equal_whole_bitwise),
        cmocka_unit_test(test_steps_equal_whole_bitwise),
        cmocka_unit_test(test_deterministic_batch_independent),
        cmocka_unit_test(test_stream_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
