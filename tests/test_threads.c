/* One model, many threads: 8 threads run elman_rnn_forward() on one shared
 * bidirectional 3-layer model at the same time, each with its own buffers
 * and workspace, over problems of different batch sizes, sequence lengths,
 * per-sequence lengths and initial states. Every result must equal the
 * serial one bit for bit: the model is read-only during forward, and a
 * call's result depends on nothing but its arguments. */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t */

#include "cmocka_wrap.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elman.h"
#include "testutil.h"

enum {
    NUM_THREADS = 8,
    ITERATIONS = 60, /* forward calls per thread */
    NUM_CASES = 6
};

typedef struct problem {
    int B, T;
    int use_lengths, use_h0;
    float *x, *h0;
    int *lengths;
    float *want_out, *want_hn; /* the serial result */
    size_t n_out, n_hn, ws_size;
} problem;

typedef struct shared {
    const elman_rnn *rnn;
    problem cases[NUM_CASES];
    pthread_barrier_t start;
} shared;

typedef struct worker {
    shared *sh;
    int id;
    int calls, mismatches, errors;
    char first_failure[160];
} worker;

/* Runs in the workers too, where cmocka's assertions must not be used. */
static void *aligned_buffer(size_t bytes)
{
    size_t a = ELMAN_WORKSPACE_ALIGNMENT;
    void *p = aligned_alloc(a, (bytes + a - 1) / a * a);
    if (p == NULL)
        abort();
    return p;
}

static void fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
}

static void note_failure(worker *w, const char *what, int it, int c)
{
    if (w->first_failure[0] == '\0')
        snprintf(w->first_failure, sizeof(w->first_failure),
                 "thread %d, iteration %d, case %d: %s", w->id, it, c, what);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    size_t max_out = 0, max_hn = 0, max_ws = 0;
    for (int c = 0; c < NUM_CASES; c++) {
        const problem *p = &sh->cases[c];
        max_out = p->n_out > max_out ? p->n_out : max_out;
        max_hn = p->n_hn > max_hn ? p->n_hn : max_hn;
        max_ws = p->ws_size > max_ws ? p->ws_size : max_ws;
    }
    float *out = malloc(max_out * sizeof(float));
    float *hn = malloc(max_hn * sizeof(float));
    void *ws = aligned_buffer(max_ws);
    if (out == NULL || hn == NULL)
        abort();

    pthread_barrier_wait(&sh->start);
    for (int it = 0; it < ITERATIONS; it++) {
        /* Neighbouring threads work on different problems at any moment. */
        const int c = (it + w->id) % NUM_CASES;
        const problem *p = &sh->cases[c];
        fill_nan(out, p->n_out);
        fill_nan(hn, p->n_hn);
        memset(ws, 0xff, max_ws); /* garbage; a NaN pattern as floats */
        /* Every fifth call lets the library allocate its own workspace. */
        const int own_ws = (it + w->id) % 5 == 0;
        int rc = elman_rnn_forward(sh->rnn, p->B, p->T, p->x, p->use_lengths ? p->lengths : NULL,
                                   p->use_h0 ? p->h0 : NULL, out, hn, own_ws ? NULL : ws,
                                   own_ws ? 0 : max_ws);
        w->calls++;
        if (rc != ELMAN_OK) {
            w->errors++;
            note_failure(w, elman_strerror(rc), it, c);
            continue;
        }
        if (memcmp(out, p->want_out, p->n_out * sizeof(float)) != 0 ||
            memcmp(hn, p->want_hn, p->n_hn * sizeof(float)) != 0) {
            w->mismatches++;
            note_failure(w, "result differs from the serial one", it, c);
        }
    }
    free(out);
    free(hn);
    free(ws);
    return NULL;
}

static void test_one_model_many_threads(void **state)
{
    (void)state;
    tu_rng rng;
    tu_seed(&rng, 8);
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 5;
    cfg.hidden_size = 24;
    cfg.num_layers = 3;
    cfg.bidirectional = 1;
    tu_model m;
    tu_model_random(&m, &cfg, &rng);
    elman_rnn *rnn = tu_model_build(&m);

    shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.rnn = rnn;
    /* B, T, per-sequence lengths, h0: one sequence, T = 1, full lengths,
     * unsorted and repeated lengths, longer batches. */
    static const int shapes[NUM_CASES][4] = {
        {1, 9, 0, 0}, {4, 1, 0, 1}, {3, 12, 1, 0}, {6, 7, 1, 1}, {5, 16, 0, 1}, {8, 11, 1, 1},
    };
    for (int c = 0; c < NUM_CASES; c++) {
        problem *p = &sh.cases[c];
        p->B = shapes[c][0];
        p->T = shapes[c][1];
        p->use_lengths = shapes[c][2];
        p->use_h0 = shapes[c][3];
        p->x = tu_random(&rng, tu_elems_x(&cfg, p->B, p->T), 1.0f);
        p->h0 = tu_random(&rng, tu_elems_state(&cfg, p->B), 1.0f);
        p->lengths = malloc((size_t)p->B * sizeof(int));
        assert_non_null(p->lengths);
        for (int b = 0; b < p->B; b++)
            p->lengths[b] = tu_int(&rng, 1, p->T);
        p->n_out = tu_elems_out(&cfg, p->B, p->T);
        p->n_hn = tu_elems_state(&cfg, p->B);
        p->ws_size = elman_rnn_workspace_size(rnn, p->B, p->T);
        assert_true(p->ws_size > 0);
        p->want_out = malloc(p->n_out * sizeof(float));
        p->want_hn = malloc(p->n_hn * sizeof(float));
        assert_non_null(p->want_out);
        assert_non_null(p->want_hn);
        assert_int_equal(elman_rnn_forward(rnn, p->B, p->T, p->x,
                                           p->use_lengths ? p->lengths : NULL,
                                           p->use_h0 ? p->h0 : NULL, p->want_out, p->want_hn,
                                           NULL, 0),
                         ELMAN_OK);
    }

    assert_int_equal(pthread_barrier_init(&sh.start, NULL, NUM_THREADS), 0);
    pthread_t threads[NUM_THREADS];
    worker workers[NUM_THREADS];
    memset(workers, 0, sizeof(workers));
    for (int i = 0; i < NUM_THREADS; i++) {
        workers[i].sh = &sh;
        workers[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, run_worker, &workers[i]), 0);
    }
    int calls = 0, mismatches = 0, errors = 0;
    for (int i = 0; i < NUM_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        calls += workers[i].calls;
        mismatches += workers[i].mismatches;
        errors += workers[i].errors;
        if (workers[i].first_failure[0] != '\0')
            fprintf(stderr, "%s\n", workers[i].first_failure);
    }
    pthread_barrier_destroy(&sh.start);
    printf("threads: %d threads, %d forward calls, %d errors, %d results not bit-identical\n",
           NUM_THREADS, calls, errors, mismatches);
    assert_int_equal(calls, NUM_THREADS * ITERATIONS);
    assert_int_equal(errors, 0);
    assert_int_equal(mismatches, 0);

    for (int c = 0; c < NUM_CASES; c++) {
        problem *p = &sh.cases[c];
        free(p->x);
        free(p->h0);
        free(p->lengths);
        free(p->want_out);
        free(p->want_hn);
    }
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_model_many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
