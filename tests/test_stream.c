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

/* The streaming calls of either element type, on untyped buffers. */
static int chunk_call(int dtype, const elman_rnn *rnn, int B, int T, const void *x,
                      const int *len, void *state, void *out, void *ws, size_t ws_size)
{
    if (dtype == ELMAN_FLOAT32)
        return elman_rnn_forward_chunk(rnn, B, T, x, len, state, out, ws, ws_size);
    return elman_rnn_forward_chunk_f64(rnn, B, T, x, len, state, out, ws, ws_size);
}

static int step_call(int dtype, const elman_rnn *rnn, int B, const void *x, void *state, void *y,
                     void *ws, size_t ws_size)
{
    if (dtype == ELMAN_FLOAT32)
        return elman_rnn_step(rnn, B, x, state, y, ws, ws_size);
    return elman_rnn_step_f64(rnn, B, x, state, y, ws, ws_size);
}

/* n random elements of dtype in [-1, 1] */
static void *random_elems(tu_rng *r, int dtype, size_t n)
{
    float *f = tu_random(r, n, 1.0f);
    if (dtype == ELMAN_FLOAT32)
        return f;
    double *d = malloc((n ? n : 1) * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = f[i];
    free(f);
    return d;
}

/* Whether a and b (n elements of dtype) agree: bitwise, or within the
 * tolerance of the dtype. */
static void assert_same(const char *what, int dtype, const void *a, const void *b, size_t n,
                        int bitwise)
{
    const size_t es = dtype == ELMAN_FLOAT32 ? sizeof(float) : sizeof(double);
    if (bitwise) {
        assert_memory_equal(a, b, n * es);
        return;
    }
    if (dtype == ELMAN_FLOAT32) {
        assert_int_equal(tu_compare_f(what, a, b, n), -1);
    } else {
        const double *da = a, *db = b;
        for (size_t i = 0; i < n; i++)
            if (!(fabs(da[i] - db[i]) <= TEST_F64_TOL * (1 + fabs(db[i]))))
                fail_msg("%s: element %zu is %.17g, expected %.17g", what, i, da[i], db[i]);
    }
}

/* elman_rnn_forward_chunk_f64 and elman_rnn_step_f64: NB streams fed in
 * chunks, with lengths 0 (no step: the state passes through, the outputs
 * are zero) and stepped, give what one elman_rnn_forward_f64 call over
 * each whole stream gives; bitwise in deterministic mode. */
static void test_streaming_f64(void **state)
{
    (void)state;
    enum { NB = 4, NC = 4, CT = 3, MAXT = NC * CT };
    tu_rng r;
    tu_seed(&r, 6464);
    for (int iter = 0; iter < 8; iter++) {
        elman_config cfg;
        elman_config_init(&cfg);
        cfg.input_size = tu_int(&r, 1, 5);
        cfg.hidden_size = tu_int(&r, 1, 20);
        cfg.num_layers = tu_int(&r, 1, 3);
        cfg.batch_first = iter % 2;
        cfg.state_batch_first = (iter / 2) % 2;
        cfg.deterministic = (iter / 4) % 2;
        cfg.num_threads = tu_int(&r, 1, 2);
        tu_model m;
        tu_model_random(&m, &cfg, &r);
        elman_rnn *rnn = tu_model_build_f64(&m, cfg.num_threads);
        const int I = cfg.input_size, H = cfg.hidden_size, L = cfg.num_layers;
        int steps[NB][NC], total[NB] = {0};
        for (int b = 0; b < NB; b++)
            for (int c = 0; c < NC; c++) {
                steps[b][c] = b == 0 ? CT : tu_int(&r, 0, CT); /* stream 0: every step */
                total[b] += steps[b][c];
            }
        steps[1][0] = 0; /* a stream that starts late */
        steps[2][NC - 1] = 0; /* and one that ends early */
        for (int b = 1; b < 3; b++) {
            total[b] = 0;
            for (int c = 0; c < NC; c++)
                total[b] += steps[b][c];
        }
        double *xs = random_elems(&r, ELMAN_FLOAT64, (size_t)NB * MAXT * I); /* (NB, MAXT, I) */
        const size_t nst = tu_elems_state(&cfg, NB);
        double *h0 = random_elems(&r, ELMAN_FLOAT64, nst);
        double *st = malloc(nst * sizeof(double)), *prev = malloc(nst * sizeof(double));
        double *outs = calloc((size_t)NB * MAXT * H, sizeof(double)); /* each stream's */
        double xc[NB * CT * 5], oc[NB * CT * 20];
        assert_true(st && prev && outs);
        memcpy(st, h0, nst * sizeof(double));
        int done[NB] = {0};
        for (int c = 0; c < NC; c++) {
            int len[NB];
            memset(xc, 0, sizeof(xc));
            for (int b = 0; b < NB; b++) {
                len[b] = steps[b][c];
                for (int t = 0; t < len[b]; t++) {
                    const size_t row = cfg.batch_first ? (size_t)b * CT + t : (size_t)t * NB + b;
                    memcpy(xc + row * I, xs + ((size_t)b * MAXT + done[b] + t) * I,
                           (size_t)I * sizeof(double));
                }
            }
            memcpy(prev, st, nst * sizeof(double));
            assert_int_equal(elman_rnn_forward_chunk_f64(rnn, NB, CT, xc, len, st, oc, NULL, 0),
                             ELMAN_OK);
            for (int b = 0; b < NB; b++) {
                for (int t = 0; t < CT; t++) {
                    const size_t row = cfg.batch_first ? (size_t)b * CT + t : (size_t)t * NB + b;
                    if (t < len[b])
                        memcpy(outs + ((size_t)b * MAXT + done[b] + t) * H, oc + row * H,
                               (size_t)H * sizeof(double));
                    else
                        for (int j = 0; j < H; j++)
                            assert_true(oc[row * H + j] == 0.0);
                }
                if (len[b] == 0) /* no step: the state passes through, bit for bit */
                    for (int l = 0; l < L; l++) {
                        const size_t k = cfg.state_batch_first ? (size_t)b * L + l
                                                               : (size_t)l * NB + b;
                        assert_memory_equal(st + k * H, prev + k * H, (size_t)H * sizeof(double));
                    }
                done[b] += len[b];
            }
        }
        /* each stream alone, in one call */
        for (int b = 0; b < NB; b++) {
            if (total[b] == 0)
                continue;
            double h0b[3 * 20], hnb[3 * 20], *whole = malloc((size_t)total[b] * H * sizeof(double));
            assert_non_null(whole);
            for (int l = 0; l < L; l++)
                memcpy(h0b + l * H,
                       h0 + (cfg.state_batch_first ? (size_t)b * L + l : (size_t)l * NB + b) * H,
                       (size_t)H * sizeof(double));
            assert_int_equal(elman_rnn_forward_f64(rnn, 1, total[b], xs + (size_t)b * MAXT * I,
                                                   NULL, h0b, whole, hnb, NULL, 0),
                             ELMAN_OK);
            assert_same("f64 chunked", ELMAN_FLOAT64, outs + (size_t)b * MAXT * H, whole,
                        (size_t)total[b] * H, cfg.deterministic);
            for (int l = 0; l < L; l++)
                assert_same("f64 chunked state", ELMAN_FLOAT64,
                            st + (cfg.state_batch_first ? (size_t)b * L + l : (size_t)l * NB + b) *
                                     H,
                            hnb + l * H, (size_t)H, cfg.deterministic);
            free(whole);
        }
        /* stream 0 ran every step: stepping all streams MAXT times from h0
         * gives, for each, the whole call over its first MAXT inputs */
        memcpy(st, h0, nst * sizeof(double));
        double *ys = malloc((size_t)MAXT * NB * H * sizeof(double)); /* (MAXT, NB, H) */
        double x1[NB * 5];
        assert_non_null(ys);
        for (int t = 0; t < MAXT; t++) {
            for (int b = 0; b < NB; b++)
                memcpy(x1 + b * I, xs + ((size_t)b * MAXT + t) * I, (size_t)I * sizeof(double));
            assert_int_equal(elman_rnn_step_f64(rnn, NB, x1, st, ys + (size_t)t * NB * H, NULL, 0),
                             ELMAN_OK);
        }
        for (int b = 0; b < NB; b++) {
            double h0b[3 * 20], hnb[3 * 20], whole[MAXT * 20];
            for (int l = 0; l < L; l++)
                memcpy(h0b + l * H,
                       h0 + (cfg.state_batch_first ? (size_t)b * L + l : (size_t)l * NB + b) * H,
                       (size_t)H * sizeof(double));
            assert_int_equal(elman_rnn_forward_f64(rnn, 1, MAXT, xs + (size_t)b * MAXT * I, NULL,
                                                   h0b, whole, hnb, NULL, 0),
                             ELMAN_OK);
            for (int t = 0; t < MAXT; t++)
                assert_same("f64 stepped", ELMAN_FLOAT64, ys + ((size_t)t * NB + b) * H,
                            whole + (size_t)t * H, (size_t)H, cfg.deterministic);
            for (int l = 0; l < L; l++)
                assert_same("f64 stepped state", ELMAN_FLOAT64,
                            st + (cfg.state_batch_first ? (size_t)b * L + l : (size_t)l * NB + b) *
                                     H,
                            hnb + l * H, (size_t)H, cfg.deterministic);
        }
        free(ys);
        free(xs);
        free(h0);
        free(st);
        free(prev);
        free(outs);
        elman_rnn_free(rnn);
        tu_model_free(&m);
    }
}

/* elman_rnn_step without y updates the state exactly as with y, with and
 * without a workspace, in both element types; y is the top layer's new
 * state. */
static void test_step_without_y(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 31);
    for (int dtype = ELMAN_FLOAT32; dtype <= ELMAN_FLOAT64; dtype++)
        for (int sbf = 0; sbf <= 1; sbf++) {
            enum { B = 3, K = 4 };
            elman_config cfg;
            elman_config_init(&cfg);
            cfg.input_size = 3;
            cfg.hidden_size = 37; /* several panels of columns */
            cfg.num_layers = 3;
            cfg.state_batch_first = sbf;
            tu_model m;
            tu_model_random(&m, &cfg, &r);
            elman_rnn *rnn = dtype == ELMAN_FLOAT32 ? tu_model_build(&m) : tu_model_build_f64(&m, 1);
            const size_t es = dtype == ELMAN_FLOAT32 ? sizeof(float) : sizeof(double);
            const size_t nst = tu_elems_state(&cfg, B), H = 37, L = 3;
            char *xs = random_elems(&r, dtype, (size_t)K * B * 3);
            char *h0 = random_elems(&r, dtype, nst);
            char *s1 = malloc(nst * es), *s2 = malloc(nst * es), *s3 = malloc(nst * es);
            char *y = malloc(B * H * es);
            const size_t size = elman_rnn_workspace_size(rnn, B, 1);
            void *ws = aligned_alloc(64, (size + 63) / 64 * 64);
            assert_true(s1 && s2 && s3 && y && ws);
            memcpy(s1, h0, nst * es);
            memcpy(s2, h0, nst * es);
            memcpy(s3, h0, nst * es);
            for (int k = 0; k < K; k++) {
                const char *x = xs + (size_t)k * B * 3 * es;
                assert_int_equal(step_call(dtype, rnn, B, x, s1, y, NULL, 0), ELMAN_OK);
                memset(ws, 0xff, size);
                assert_int_equal(step_call(dtype, rnn, B, x, s2, NULL, ws, size), ELMAN_OK);
                assert_int_equal(step_call(dtype, rnn, B, x, s3, NULL, NULL, 0), ELMAN_OK);
                assert_memory_equal(s2, s1, nst * es);
                assert_memory_equal(s3, s1, nst * es);
                /* y: the top layer's new state, (B, H) */
                for (size_t b = 0; b < B; b++) {
                    const size_t kk = sbf ? b * L + (L - 1) : (L - 1) * B + b;
                    assert_memory_equal(y + b * H * es, s1 + kk * H * es, H * es);
                }
            }
            free(ws);
            free(xs);
            free(h0);
            free(s1);
            free(s2);
            free(s3);
            free(y);
            elman_rnn_free(rnn);
            tu_model_free(&m);
        }
}

/* Every error of forward_chunk and step, in both element types, returns
 * its code and leaves the state and the output untouched. */
static void test_stream_errors_untouched(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 2);
    for (int dtype = ELMAN_FLOAT32; dtype <= ELMAN_FLOAT64; dtype++) {
        enum { B = 2, T = 2, I = 2, H = 3 };
        elman_config cfg;
        elman_config_init(&cfg);
        cfg.input_size = I;
        cfg.hidden_size = H;
        tu_model m;
        tu_model_random(&m, &cfg, &r);
        elman_rnn *rnn = dtype == ELMAN_FLOAT32 ? tu_model_build(&m) : tu_model_build_f64(&m, 1);
        elman_rnn *other = dtype == ELMAN_FLOAT32 ? tu_model_build_f64(&m, 1) : tu_model_build(&m);
        elman_config c2 = cfg;
        c2.dtype = dtype;
        elman_rnn *unset; /* no weights */
        assert_int_equal(elman_rnn_create(&c2, &unset), ELMAN_OK);
        tu_model mr = m; /* m's weights, reverse: not freed */
        mr.cfg.reverse = 1;
        elman_rnn *rev = dtype == ELMAN_FLOAT32 ? tu_model_build(&mr) : tu_model_build_f64(&mr, 1);
        cfg.bidirectional = 1;
        tu_model mb;
        tu_model_random(&mb, &cfg, &r);
        elman_rnn *bi = dtype == ELMAN_FLOAT32 ? tu_model_build(&mb) : tu_model_build_f64(&mb, 1);
        const size_t es = dtype == ELMAN_FLOAT32 ? sizeof(float) : sizeof(double);
        /* one array: x (T*B*I) | state (2 * B*H, room for bi) | out (T*B*2H) */
        enum { NX = T * B * I, NST = 2 * B * H, NO = T * B * 2 * H, N = NX + NST + NO };
        char *all = random_elems(&r, dtype, N), *before = malloc(N * es);
        assert_non_null(before);
        char *x = all, *st = all + NX * es, *out = all + (NX + NST) * es;
        memcpy(before, all, N * es);
        const size_t size = elman_rnn_workspace_size(rnn, B, T);
        const size_t size1 = elman_rnn_workspace_size(rnn, B, 1);
        assert_true(size >= size1);
        char *ws = aligned_alloc(64, (size + 64 + 63) / 64 * 64);
        assert_non_null(ws);
        const int neg[B] = {-1, 2}, big[B] = {T + 1, 1};

#define CHUNK(code, ...)                                                                          \
    do {                                                                                          \
        assert_int_equal(chunk_call(dtype, __VA_ARGS__), code);                                   \
        assert_memory_equal(all, before, N * es);                                                 \
    } while (0)
#define STEP(code, ...)                                                                           \
    do {                                                                                          \
        assert_int_equal(step_call(dtype, __VA_ARGS__), code);                                    \
        assert_memory_equal(all, before, N * es);                                                 \
    } while (0)
        CHUNK(ELMAN_ERR_NULL_ARGUMENT, NULL, B, T, x, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_NULL_ARGUMENT, rnn, B, T, NULL, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_NULL_ARGUMENT, rnn, B, T, x, NULL, NULL, out, NULL, 0);
        CHUNK(ELMAN_ERR_NULL_ARGUMENT, rnn, B, T, x, NULL, st, NULL, NULL, 0);
        CHUNK(ELMAN_ERR_INVALID_CONFIG, other, B, T, x, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_INVALID_CONFIG, bi, B, T, x, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_INVALID_CONFIG, rev, B, T, x, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_INVALID_SIZE, rnn, 0, T, x, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_INVALID_SIZE, rnn, B, 0, x, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_WEIGHTS_NOT_SET, unset, B, T, x, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_SIZE_OVERFLOW, rnn, 1 << 16, 1 << 15, x, NULL, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_INVALID_LENGTH, rnn, B, T, x, neg, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_INVALID_LENGTH, rnn, B, T, x, big, st, out, NULL, 0);
        CHUNK(ELMAN_ERR_WORKSPACE_TOO_SMALL, rnn, B, T, x, NULL, st, out, ws, size - 1);
        CHUNK(ELMAN_ERR_MISALIGNED, rnn, B, T, x, NULL, st, out, ws + 8, size);
        CHUNK(ELMAN_ERR_OVERLAP, rnn, B, T, x, NULL, st, st + es, NULL, 0);
        CHUNK(ELMAN_ERR_OVERLAP, rnn, B, T, x, NULL, x + es, out, NULL, 0);
        CHUNK(ELMAN_ERR_OVERLAP, rnn, B, T, x, NULL, st, x + es, NULL, 0);

        for (int with_y = 0; with_y <= 1; with_y++) {
            char *y = with_y ? out : NULL;
            STEP(ELMAN_ERR_NULL_ARGUMENT, NULL, B, x, st, y, NULL, 0);
            STEP(ELMAN_ERR_NULL_ARGUMENT, rnn, B, NULL, st, y, NULL, 0);
            STEP(ELMAN_ERR_NULL_ARGUMENT, rnn, B, x, NULL, y, NULL, 0);
            STEP(ELMAN_ERR_INVALID_CONFIG, other, B, x, st, y, NULL, 0);
            STEP(ELMAN_ERR_INVALID_CONFIG, bi, B, x, st, y, NULL, 0);
            STEP(ELMAN_ERR_INVALID_CONFIG, rev, B, x, st, y, NULL, 0);
            STEP(ELMAN_ERR_INVALID_SIZE, rnn, 0, x, st, y, NULL, 0);
            STEP(ELMAN_ERR_INVALID_SIZE, rnn, -3, x, st, y, NULL, 0);
            STEP(ELMAN_ERR_WEIGHTS_NOT_SET, unset, B, x, st, y, NULL, 0);
            STEP(ELMAN_ERR_WORKSPACE_TOO_SMALL, rnn, B, x, st, y, ws, size1 - 1);
            STEP(ELMAN_ERR_MISALIGNED, rnn, B, x, st, y, ws + 8, size1);
        }
        STEP(ELMAN_ERR_OVERLAP, rnn, B, x, st, st + es, NULL, 0);
        STEP(ELMAN_ERR_OVERLAP, rnn, B, x, x + es, out, NULL, 0);
#undef CHUNK
#undef STEP
        /* the same buffers are good: the calls run */
        assert_int_equal(chunk_call(dtype, rnn, B, T, x, NULL, st, out, ws, size), ELMAN_OK);
        assert_int_equal(step_call(dtype, rnn, B, x, st, out, ws, size1), ELMAN_OK);
        assert_int_equal(step_call(dtype, rnn, B, x, st, NULL, ws, size1), ELMAN_OK);
        free(ws);
        free(all);
        free(before);
        elman_rnn_free(rnn);
        elman_rnn_free(other);
        elman_rnn_free(unset);
        elman_rnn_free(rev);
        elman_rnn_free(bi);
        tu_model_free(&m);
        tu_model_free(&mb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_equal_whole),
        cmocka_unit_test(test_chunks_equal_whole_bitwise),
        cmocka_unit_test(test_steps_equal_whole_bitwise),
        cmocka_unit_test(test_deterministic_batch_independent),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_streaming_f64),
        cmocka_unit_test(test_step_without_y),
        cmocka_unit_test(test_stream_errors_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
