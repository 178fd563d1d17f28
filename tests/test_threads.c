/* One model, many threads: 8 threads run elman_rnn_forward() on one shared
 * bidirectional 3-layer model at the same time, each with its own buffers
 * and workspace, over problems of different batch sizes, sequence lengths,
 * per-sequence lengths and initial states. Every result must equal the
 * serial one bit for bit: the model is read-only during forward, and a
 * call's result depends on nothing but its arguments. Run once on a model
 * of one thread and once on a model of two threads whose calls all use
 * threads (ELMAN_FORCE_THREADS=1): one call at a time has the model's
 * threads, the others start their own.
 *
 * The other functions that take a const model run at the same time too:
 * 8 threads stream their own batches on one model (forward_chunk, step
 * with and without y) and ask for its configuration and workspace sizes,
 * each getting the serial answer bit for bit.
 *
 * The model's threads: elman_rnn_create() starts num_threads - 1 of them,
 * forward calls leave none behind, elman_rnn_free() joins them (counted in
 * /proc/self/task, Linux; that calls run on them while they are free is
 * test_paths' check); and in a child process after
 * fork(), where they do not exist, a forward call still runs (on threads of
 * its own) and gives the same bits, and elman_rnn_free() returns.
 *
 * Where the system starts no thread (pthread_create() fails: this program
 * defines its own, which can refuse), elman_rnn_create() still returns a
 * model, its calls give the bits of one thread, and each call that uses
 * threads starts its own. */
#define _GNU_SOURCE /* pthread_barrier_t, setenv, fork, RTLD_NEXT */

#include "cmocka_wrap.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <time.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* pthread_create() of this process, the library's included: the C
 * library's (reached through RTLD_NEXT, so a sanitizer's interceptor still
 * sees the thread) unless refuse_threads is set, when it fails as a system
 * out of threads does. thread_starts counts the calls. */
static atomic_int refuse_threads, thread_starts;

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static _Atomic(create_fn) real;
    create_fn f = atomic_load(&real);
    if (f == NULL) {
        void *sym = dlsym(RTLD_NEXT, "pthread_create");
        memcpy(&f, &sym, sizeof(f)); /* POSIX: a function's address */
        atomic_store(&real, f);
    }
    atomic_fetch_add(&thread_starts, 1);
    if (atomic_load(&refuse_threads) || f == NULL)
        return EAGAIN;
    return f(thread, attr, fn, arg);
}

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

static void one_model_many_threads(int model_threads)
{
    tu_rng rng;
    tu_seed(&rng, 8);
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 5;
    cfg.hidden_size = 24;
    cfg.num_layers = 3;
    cfg.bidirectional = 1;
    cfg.num_threads = model_threads;
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
    printf("threads: %d threads, %d forward calls on a model of %d thread(s), %d errors, "
           "%d results not bit-identical\n",
           NUM_THREADS, calls, model_threads, errors, mismatches);
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

static void test_one_model_many_threads(void **state)
{
    (void)state;
    one_model_many_threads(1);
}

static void test_one_pooled_model_many_threads(void **state)
{
    (void)state;
    assert_int_equal(setenv("ELMAN_FORCE_THREADS", "1", 1), 0);
    one_model_many_threads(2);
    assert_int_equal(unsetenv("ELMAN_FORCE_THREADS"), 0);
}

/* The other functions taking a const model, at the same time on one model:
 * each thread streams its own batch (forward_chunk, then step, without and
 * with y) and asks for the configuration and workspace sizes; every state,
 * output and answer must be the serial one. */
enum { SB = 3, ST = 4, SCHUNKS = 5 };

typedef struct stream_shared {
    const elman_rnn *rnn;
    const elman_config *cfg;
    const float *x;      /* (SCHUNKS, ST, SB, I) */
    const float *h0;     /* (L, SB, H) */
    const float *want_state, *want_out; /* the serial results */
    size_t n_state, n_out, ws_size, ws1_size;
    pthread_barrier_t start;
} stream_shared;

typedef struct stream_worker {
    stream_shared *sh;
    int failures;
} stream_worker;

/* Streams every chunk; then each chunk's first step again with step():
 * state gets the final state, out the last chunk's output. */
static int stream_all(const stream_shared *sh, float *state, float *out, void *ws, float *y)
{
    const size_t I = (size_t)sh->cfg->input_size;
    memcpy(state, sh->h0, sh->n_state * sizeof(float));
    for (int c = 0; c < SCHUNKS; c++) {
        const float *xc = sh->x + (size_t)c * ST * SB * I;
        int rc = elman_rnn_forward_chunk(sh->rnn, SB, ST, xc, NULL, state, out, ws, sh->ws_size);
        if (rc != ELMAN_OK)
            return rc;
        rc = elman_rnn_step(sh->rnn, SB, xc, state, c % 2 ? y : NULL, ws, sh->ws1_size);
        if (rc != ELMAN_OK)
            return rc;
    }
    return ELMAN_OK;
}

static void *run_stream_worker(void *arg)
{
    stream_worker *w = arg;
    const stream_shared *sh = w->sh;
    float *state = malloc(sh->n_state * sizeof(float)), *out = malloc(sh->n_out * sizeof(float));
    float *y = malloc((size_t)SB * (size_t)sh->cfg->hidden_size * sizeof(float));
    void *ws = aligned_buffer(sh->ws_size);
    if (state == NULL || out == NULL || y == NULL)
        abort();
    pthread_barrier_wait(&w->sh->start);
    for (int it = 0; it < 20; it++) {
        elman_config got;
        elman_config_init(&got);
        if (elman_rnn_get_config(sh->rnn, &got) != ELMAN_OK ||
            memcmp(&got, sh->cfg, sizeof(got)) != 0 ||
            elman_rnn_workspace_size(sh->rnn, SB, ST) != sh->ws_size ||
            elman_rnn_workspace_size(sh->rnn, SB, 1) != sh->ws1_size)
            w->failures++;
        memset(ws, 0xff, sh->ws_size);
        if (stream_all(sh, state, out, ws, y) != ELMAN_OK ||
            memcmp(state, sh->want_state, sh->n_state * sizeof(float)) != 0 ||
            memcmp(out, sh->want_out, sh->n_out * sizeof(float)) != 0)
            w->failures++;
    }
    free(state);
    free(out);
    free(y);
    free(ws);
    return NULL;
}

static void one_model_many_streams(int model_threads)
{
    tu_rng rng;
    tu_seed(&rng, 12);
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 6;
    cfg.hidden_size = 40;
    cfg.num_layers = 2;
    cfg.num_threads = model_threads;
    tu_model m;
    tu_model_random(&m, &cfg, &rng);
    elman_rnn *rnn = tu_model_build(&m);
    stream_shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.rnn = rnn;
    sh.cfg = &cfg;
    float *x = tu_random(&rng, (size_t)SCHUNKS * ST * SB * 6, 1.0f);
    float *h0 = tu_random(&rng, tu_elems_state(&cfg, SB), 1.0f);
    sh.x = x;
    sh.h0 = h0;
    sh.n_state = tu_elems_state(&cfg, SB);
    sh.n_out = tu_elems_out(&cfg, SB, ST);
    sh.ws_size = elman_rnn_workspace_size(rnn, SB, ST);
    sh.ws1_size = elman_rnn_workspace_size(rnn, SB, 1);
    float *want_state = malloc(sh.n_state * sizeof(float));
    float *want_out = malloc(sh.n_out * sizeof(float)), *y = malloc(SB * 40 * sizeof(float));
    assert_true(want_state && want_out && y);
    void *ws = aligned_buffer(sh.ws_size);
    assert_int_equal(stream_all(&sh, want_state, want_out, ws, y), ELMAN_OK);
    free(ws);
    sh.want_state = want_state;
    sh.want_out = want_out;

    assert_int_equal(pthread_barrier_init(&sh.start, NULL, NUM_THREADS), 0);
    pthread_t threads[NUM_THREADS];
    stream_worker workers[NUM_THREADS];
    memset(workers, 0, sizeof(workers));
    for (int i = 0; i < NUM_THREADS; i++) {
        workers[i].sh = &sh;
        assert_int_equal(pthread_create(&threads[i], NULL, run_stream_worker, &workers[i]), 0);
    }
    int failures = 0;
    for (int i = 0; i < NUM_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        failures += workers[i].failures;
    }
    pthread_barrier_destroy(&sh.start);
    assert_int_equal(failures, 0);
    free(want_state);
    free(want_out);
    free(y);
    free(x);
    free(h0);
    elman_rnn_free(rnn);
    tu_model_free(&m);
}

static void test_one_model_many_streams(void **state)
{
    (void)state;
    one_model_many_streams(1);
    assert_int_equal(setenv("ELMAN_FORCE_THREADS", "1", 1), 0);
    one_model_many_streams(2);
    assert_int_equal(unsetenv("ELMAN_FORCE_THREADS"), 0);
}

/* Threads of this process, or -1 where /proc/self/task is missing. */
static int count_threads(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(dir);
    return n;
}

/* count_threads() once it has settled at `want`, or after 2 s whatever it
 * is: a thread that pthread_join() has seen end may still be listed for a
 * moment (the kernel wakes the joiner as the thread exits, before the
 * thread is gone from /proc). */
static int threads_settled_at(int want)
{
    const struct timespec ms = {0, 1000000};
    int n = count_threads();
    for (int i = 0; i < 2000 && n != want; i++) {
        nanosleep(&ms, NULL);
        n = count_threads();
    }
    return n;
}

/* count_threads() once three readings 5 ms apart agree (at most 2 s). */
static int threads_settled(void)
{
    const struct timespec ms5 = {0, 5000000};
    int n = count_threads(), same = 0;
    for (int i = 0; i < 400 && same < 2; i++) {
        nanosleep(&ms5, NULL);
        const int m = count_threads();
        same = m == n ? same + 1 : 0;
        n = m;
    }
    return n;
}

/* A 2-layer bidirectional model of num_threads threads, its input and the
 * sizes of its results, for the tests below. */
typedef struct pooled {
    tu_model m;
    elman_rnn *rnn;
    float *x;
    size_t n_out, n_hn;
    int B, T;
} pooled;

static void pooled_make(pooled *p, int num_threads)
{
    tu_rng rng;
    tu_seed(&rng, 31);
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 12;
    cfg.hidden_size = 40;
    cfg.num_layers = 2;
    cfg.bidirectional = 1;
    cfg.num_threads = num_threads;
    tu_model_random(&p->m, &cfg, &rng);
    p->rnn = tu_model_build(&p->m);
    p->B = 5;
    p->T = 9;
    p->x = tu_random(&rng, tu_elems_x(&cfg, p->B, p->T), 1.0f);
    p->n_out = tu_elems_out(&cfg, p->B, p->T);
    p->n_hn = tu_elems_state(&cfg, p->B);
}

static void pooled_free(pooled *p)
{
    elman_rnn_free(p->rnn);
    tu_model_free(&p->m);
    free(p->x);
}

static int pooled_forward(const pooled *p, float *out, float *hn)
{
    return elman_rnn_forward(p->rnn, p->B, p->T, p->x, NULL, NULL, out, hn, NULL, 0);
}

static void test_model_threads_live_with_the_model(void **state)
{
    (void)state;
    if (count_threads() < 0)
        skip();
    /* the earlier tests' threads gone */
    const int before = threads_settled();
    assert_int_equal(setenv("ELMAN_FORCE_THREADS", "1", 1), 0);
    pooled p;
    pooled_make(&p, 4);
    assert_int_equal(threads_settled_at(before + 3), before + 3); /* started by create */
    float *out = malloc(p.n_out * sizeof(float)), *hn = malloc(p.n_hn * sizeof(float));
    assert_non_null(out);
    assert_non_null(hn);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pooled_forward(&p, out, hn), ELMAN_OK);
        /* none left over (none started: test_paths sees which ran) */
        assert_int_equal(threads_settled_at(before + 3), before + 3);
    }
    pooled_free(&p);
    assert_int_equal(threads_settled_at(before), before); /* joined by free */
    /* a model of one thread has none */
    pooled_make(&p, 1);
    assert_int_equal(threads_settled_at(before), before);
    pooled_free(&p);
    assert_int_equal(unsetenv("ELMAN_FORCE_THREADS"), 0);
    free(out);
    free(hn);
}

static void test_model_threads_after_fork(void **state)
{
    (void)state;
    assert_int_equal(setenv("ELMAN_FORCE_THREADS", "1", 1), 0);
    pooled p;
    pooled_make(&p, 2);
    float *want = malloc(p.n_out * sizeof(float)), *got = malloc(p.n_out * sizeof(float));
    float *hn = malloc(p.n_hn * sizeof(float));
    assert_non_null(want);
    assert_non_null(got);
    assert_non_null(hn);
    assert_int_equal(pooled_forward(&p, want, hn), ELMAN_OK);
    fflush(NULL);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the child: no cmocka here, the exit status says what happened;
         * a child stuck on threads that do not exist must not outlive the
         * test (alarms are not inherited: its own) */
        alarm(60);
        int status = 0;
        for (int i = 0; i < 3 && status == 0; i++) {
            memset(got, 0xff, p.n_out * sizeof(float));
            if (pooled_forward(&p, got, hn) != ELMAN_OK)
                status = 2;
            else if (memcmp(got, want, p.n_out * sizeof(float)) != 0)
                status = 3;
        }
        pooled_free(&p); /* elman_rnn_free() must return here */
        free(want);
        free(got);
        free(hn);
        _exit(status);
    }
    /* a child stuck on threads that do not exist fails the test in 30 s */
    int status = 0;
    pid_t done = 0;
    const struct timespec ms10 = {0, 10000000};
    for (int i = 0; i < 3000 && (done = waitpid(pid, &status, WNOHANG)) == 0; i++)
        nanosleep(&ms10, NULL);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("the child's forward calls did not end in 30 s");
    }
    assert_int_equal(done, pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the parent's threads still work */
    assert_int_equal(pooled_forward(&p, got, hn), ELMAN_OK);
    assert_memory_equal(got, want, p.n_out * sizeof(float));
    pooled_free(&p);
    assert_int_equal(unsetenv("ELMAN_FORCE_THREADS"), 0);
    free(want);
    free(got);
    free(hn);
}

static void test_model_whose_threads_never_started(void **state)
{
    (void)state;
    assert_int_equal(setenv("ELMAN_FORCE_THREADS", "1", 1), 0);
    pooled one, p;
    pooled_make(&one, 1); /* the same weights and input (the same seed) */
    float *want = malloc(one.n_out * sizeof(float)), *got = malloc(one.n_out * sizeof(float));
    float *want_hn = malloc(one.n_hn * sizeof(float)), *hn = malloc(one.n_hn * sizeof(float));
    assert_non_null(want);
    assert_non_null(got);
    assert_non_null(want_hn);
    assert_non_null(hn);
    assert_int_equal(pooled_forward(&one, want, want_hn), ELMAN_OK);

    /* create: no thread starts, the model is made all the same */
    atomic_store(&thread_starts, 0);
    atomic_store(&refuse_threads, 1);
    pooled_make(&p, 2);
    assert_true(atomic_load(&thread_starts) >= 1); /* it tried */
    /* calls while the system still starts none: one thread, the same bits */
    atomic_store(&thread_starts, 0);
    memset(got, 0xff, one.n_out * sizeof(float));
    assert_int_equal(pooled_forward(&p, got, hn), ELMAN_OK);
    assert_int_equal(atomic_load(&thread_starts), 1);
    assert_memory_equal(got, want, one.n_out * sizeof(float));
    assert_memory_equal(hn, want_hn, one.n_hn * sizeof(float));
    /* once threads start again, each call starts its own (the model has
     * none to hand it) and gives the same bits */
    atomic_store(&refuse_threads, 0);
    for (int i = 1; i <= 2; i++) {
        memset(got, 0xff, one.n_out * sizeof(float));
        assert_int_equal(pooled_forward(&p, got, hn), ELMAN_OK);
        assert_int_equal(atomic_load(&thread_starts), 1 + i);
        assert_memory_equal(got, want, one.n_out * sizeof(float));
        assert_memory_equal(hn, want_hn, one.n_hn * sizeof(float));
    }
    pooled_free(&p);
    pooled_free(&one);
    assert_int_equal(unsetenv("ELMAN_FORCE_THREADS"), 0);
    free(want);
    free(got);
    free(want_hn);
    free(hn);
}

int main(void)
{
    /* a hang (threads waiting for each other for ever) fails the program
     * rather than waiting for the test driver's timeout; the whole program
     * takes well under a second, 25 s under valgrind */
    alarm(150);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_model_many_threads),
        cmocka_unit_test(test_one_pooled_model_many_threads),
        cmocka_unit_test(test_one_model_many_streams),
        cmocka_unit_test(test_model_threads_live_with_the_model),
        cmocka_unit_test(test_model_threads_after_fork),
        cmocka_unit_test(test_model_whose_threads_never_started),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
