/* elman_rnn_forward() with a caller workspace allocates nothing.
 *
 * This program replaces glibc's allocator functions (malloc, calloc,
 * realloc, free, aligned_alloc, posix_memalign, memalign, valloc, pvalloc),
 * as glibc's manual allows ("Replacing malloc"): a definition in the
 * executable takes precedence for the whole process, libelman and OpenBLAS
 * included, whether libelman is static or shared. Each replacement counts
 * its calls while counting is armed, from any thread, and forwards to
 * glibc's own implementation (__libc_malloc, ...). free(NULL) is not
 * counted: it does nothing by definition.
 *
 * The test proves it can see: the same call without a workspace must count
 * the library's allocation and its free. Counting is armed only around
 * forward calls, after one warm-up call per problem.
 *
 * What it found (Debian 12, OpenBLAS 0.3.21, pthreads build):
 *  - elman allocates nothing with a workspace;
 *  - OpenBLAS allocates nothing either when it runs single-threaded, not
 *    even on the first BLAS call of the process (its buffers are mapped
 *    when the library is loaded);
 *  - but OpenBLAS's multithreaded GEMM driver (driver/level3/level3_thread.c,
 *    built with MAX_CPU_NUMBER = 64 and so USE_ALLOC_HEAP) mallocs and frees
 *    a 512 KiB job table on every GEMM it splits across threads (measured:
 *    30 malloc and 30 free for the 30 BLAS calls of 3 forward calls of the
 *    problem without lengths below, OpenBLAS on 2 threads).
 * So the strict test runs OpenBLAS on one thread (openblas_set_num_threads,
 * the same as OPENBLAS_NUM_THREADS=1), and the last test reports, without
 * failing, what OpenBLAS's threads allocate on this machine.
 *
 * The same replacements can fail allocations: elman_rnn_create() then
 * returns ELMAN_ERR_OUT_OF_MEMORY, its result NULL and nothing left
 * allocated, whichever of its allocations fails; a call without a
 * workspace returns it too, with its outputs untouched.
 *
 * It needs glibc. AddressSanitizer and valgrind replace the allocator
 * themselves (valgrind even these definitions, so nothing would be
 * counted): CMake does not build it with ELMAN_SANITIZE and never runs it
 * under valgrind. */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */

#include "cmocka_wrap.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h> /* OpenBLAS's openblas_set_num_threads() */
#undef I            /* complex.h, included by cblas.h */

#include "elman.h"
#include "forward_stats.h"
#include "testutil.h"

#ifdef __GLIBC__
#include <malloc.h>

/* glibc's allocator under its own names (exported by libc.so.6). */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

enum { C_MALLOC, C_CALLOC, C_REALLOC, C_FREE, C_ALIGNED, C_COUNT };
static const char *const count_names[C_COUNT] = {"malloc", "calloc", "realloc", "free",
                                                 "aligned allocations"};
static atomic_int armed;
static atomic_long counts[C_COUNT];
static int default_blas_threads; /* OpenBLAS's thread count at start */

static void count(int which)
{
    if (atomic_load_explicit(&armed, memory_order_relaxed))
        atomic_fetch_add_explicit(&counts[which], 1, memory_order_relaxed);
}

/* Failing allocations, to reach ELMAN_ERR_OUT_OF_MEMORY: while failing is
 * set, the allocation numbered fail_at (from 0, counted in alloc_seq) fails,
 * or every one if fail_at is -1. */
static atomic_int failing;
static atomic_long fail_at, alloc_seq;
static atomic_long live; /* allocations made minus those freed, while failing */

static int fail_now(void)
{
    if (!atomic_load_explicit(&failing, memory_order_relaxed))
        return 0;
    const long n = atomic_fetch_add(&alloc_seq, 1);
    const long at = atomic_load(&fail_at);
    return at < 0 || n == at;
}

static void *made(void *p)
{
    if (p != NULL && atomic_load_explicit(&failing, memory_order_relaxed))
        atomic_fetch_add(&live, 1);
    return p;
}

void *malloc(size_t size)
{
    count(C_MALLOC);
    return fail_now() ? NULL : made(__libc_malloc(size));
}

void *calloc(size_t n, size_t size)
{
    count(C_CALLOC);
    return fail_now() ? NULL : made(__libc_calloc(n, size));
}

void *realloc(void *p, size_t size)
{
    count(C_REALLOC);
    return fail_now() ? NULL : __libc_realloc(p, size);
}

void free(void *p)
{
    if (p != NULL) /* free(NULL) does nothing, by definition */
        count(C_FREE);
    if (p != NULL && atomic_load_explicit(&failing, memory_order_relaxed))
        atomic_fetch_sub(&live, 1);
    __libc_free(p);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    count(C_ALIGNED);
    if (fail_now())
        return NULL;
    return made(__libc_memalign(alignment, size));
}

void *memalign(size_t alignment, size_t size)
{
    count(C_ALIGNED);
    if (fail_now())
        return NULL;
    return made(__libc_memalign(alignment, size));
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    count(C_ALIGNED);
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    void *p = fail_now() ? NULL : made(__libc_memalign(alignment, size));
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    count(C_ALIGNED);
    return fail_now() ? NULL : made(__libc_valloc(size));
}

void *pvalloc(size_t size)
{
    count(C_ALIGNED);
    return fail_now() ? NULL : made(__libc_pvalloc(size));
}

static void arm(void)
{
    for (int i = 0; i < C_COUNT; i++)
        atomic_store(&counts[i], 0);
    atomic_store(&armed, 1);
}

/* Disarms; returns the total and prints the non-zero counts. */
static long disarm(const char *what)
{
    atomic_store(&armed, 0);
    long total = 0;
    for (int i = 0; i < C_COUNT; i++) {
        long c = atomic_load(&counts[i]);
        if (c != 0)
            printf("  %s: %ld %s\n", what, c, count_names[i]);
        total += c;
    }
    return total;
}

typedef struct problem {
    const char *name;
    elman_config cfg;
    int B, T;
    int use_lengths, use_h0, in_place; /* in_place: h_n is h0 */
} problem;

static problem make_problem(const char *name, int I, int H, int L, int bi, int act, int B, int T,
                            int use_lengths, int use_h0, int in_place)
{
    problem p;
    memset(&p, 0, sizeof(p));
    p.name = name;
    elman_config_init(&p.cfg);
    p.cfg.input_size = I;
    p.cfg.hidden_size = H;
    p.cfg.num_layers = L;
    p.cfg.bidirectional = bi;
    p.cfg.nonlinearity = act;
    p.B = B;
    p.T = T;
    p.use_lengths = use_lengths;
    p.use_h0 = use_h0;
    p.in_place = in_place;
    return p;
}

/* p on a model of n threads, every call of which uses them
 * (ELMAN_FORCE_THREADS=1 while it runs): the model's own threads, started
 * by elman_rnn_create(). */
static problem with_threads(problem p, int n)
{
    p.cfg.num_threads = n;
    return p;
}

typedef struct buffers {
    tu_model m;
    elman_rnn *rnn;
    float *x, *h0, *out, *hn;
    int *lengths;
    void *ws;
    size_t ws_size;
} buffers;

static void setup_problem(const problem *p, buffers *b, tu_rng *rng)
{
    tu_model_random(&b->m, &p->cfg, rng);
    b->rnn = tu_model_build(&b->m);
    b->x = tu_random(rng, tu_elems_x(&p->cfg, p->B, p->T), 1.0f);
    b->h0 = tu_random(rng, tu_elems_state(&p->cfg, p->B), 1.0f);
    b->out = tu_random(rng, tu_elems_out(&p->cfg, p->B, p->T), 1.0f);
    b->hn = p->in_place ? b->h0 : tu_random(rng, tu_elems_state(&p->cfg, p->B), 1.0f);
    b->lengths = malloc((size_t)p->B * sizeof(int));
    assert_non_null(b->lengths);
    for (int i = 0; i < p->B; i++)
        b->lengths[i] = tu_int(rng, 1, p->T);
    b->ws_size = elman_rnn_workspace_size(b->rnn, p->B, p->T);
    assert_true(b->ws_size > 0);
    size_t a = ELMAN_WORKSPACE_ALIGNMENT;
    b->ws = aligned_alloc(a, (b->ws_size + a - 1) / a * a);
    assert_non_null(b->ws);
}

/* elman_rnn_forward() as the public entry point runs it, plus the number
 * of BLAS calls it made (src/forward_stats.h), added to *blas_calls. */
static int forward_counting(const problem *p, buffers *b, int with_workspace, long *blas_calls)
{
    elman_forward_stats st;
    const int rc = elman_forward_with_stats(
        b->rnn, p->B, p->T, b->x, p->use_lengths ? b->lengths : NULL, p->use_h0 ? b->h0 : NULL,
        b->out, b->hn, with_workspace ? b->ws : NULL, with_workspace ? b->ws_size : 0, &st);
    *blas_calls += st.blas_calls;
    return rc;
}

static int forward(const problem *p, buffers *b, int with_workspace)
{
    long ignored = 0;
    return forward_counting(p, b, with_workspace, &ignored);
}

static void teardown_problem(const problem *p, buffers *b)
{
    free(b->x);
    free(b->h0);
    free(b->out);
    if (!p->in_place)
        free(b->hn);
    free(b->lengths);
    free(b->ws);
    elman_rnn_free(b->rnn);
    tu_model_free(&b->m);
}

/* Runs first: the first forward call of the process, cold, counted and
 * reported but not required to be zero (that is up to OpenBLAS). */
static void test_first_call(void **state)
{
    (void)state;
    tu_rng rng;
    tu_seed(&rng, 1);
    problem p = make_problem("first call", 64, 128, 2, 1, ELMAN_TANH, 32, 40, 1, 1, 0);
    buffers b;
    setup_problem(&p, &b, &rng);
    arm();
    int rc = forward(&p, &b, 1);
    long n = disarm(p.name);
    printf("  the first forward call of the process made %ld allocator calls\n", n);
    assert_int_equal(rc, ELMAN_OK);
    teardown_problem(&p, &b);
}

static void test_forward_with_workspace_allocates_nothing(void **state)
{
    (void)state;
    tu_rng rng;
    tu_seed(&rng, 2);
    const problem problems[] = {
        /* One sequence: the GEMV path. */
        make_problem("B=1 tanh", 3, 8, 1, 0, ELMAN_TANH, 1, 5, 0, 0, 0),
        /* Unsorted lengths, h0, h_n updated in place. */
        make_problem("bidirectional relu, lengths, h_n = h0", 16, 64, 2, 1, ELMAN_RELU, 7, 20,
                     1, 1, 1),
        make_problem("large bidirectional, lengths", 64, 128, 2, 1, ELMAN_TANH, 32, 40, 1, 1, 0),
        /* No lengths, above the threshold: the projections go to OpenBLAS. */
        make_problem("large bidirectional (OpenBLAS)", 64, 128, 2, 1, ELMAN_TANH, 32, 40, 0, 1,
                     0),
        make_problem("large, one layer (OpenBLAS)", 96, 256, 1, 0, ELMAN_RELU, 8, 100, 0, 0, 0),
        make_problem("three layers, hidden 1", 2, 1, 3, 1, ELMAN_TANH, 5, 9, 1, 0, 0),
        /* The model's threads run these calls: starting none allocates
         * nothing. */
        with_threads(make_problem("two threads, bidirectional, lengths", 16, 64, 2, 1,
                                  ELMAN_TANH, 7, 20, 1, 1, 0),
                     2),
        with_threads(make_problem("four threads, split steps", 32, 96, 1, 0, ELMAN_TANH, 9, 30, 0,
                                  0, 0),
                     4),
    };
    for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++) {
        const problem *p = &problems[i];
        if (p->cfg.num_threads > 1)
            assert_int_equal(setenv("ELMAN_FORCE_THREADS", "1", 1), 0);
        buffers b;
        setup_problem(p, &b, &rng);
        assert_int_equal(forward(p, &b, 1), ELMAN_OK); /* warm-up */

        /* The counters see the library's own allocation... */
        char label[128];
        snprintf(label, sizeof(label), "%s, without workspace", p->name);
        arm();
        int rc = forward(p, &b, 0);
        long seen = disarm(label);
        assert_int_equal(rc, ELMAN_OK);
        assert_true(seen >= 2);
        assert_true(atomic_load(&counts[C_MALLOC]) >= 1);
        assert_true(atomic_load(&counts[C_FREE]) >= 1);

        /* ...and there is none with a workspace, nor in the size query. */
        long blas_calls = 0;
        arm();
        for (int k = 0; k < 3; k++)
            assert_int_equal(forward_counting(p, &b, 1, &blas_calls), ELMAN_OK);
        assert_int_equal(elman_rnn_workspace_size(b.rnn, p->B, p->T), b.ws_size);
        long n = disarm(p->name);
        printf("  %s: %ld allocator calls in 3 forward calls with a workspace (%ld BLAS "
               "calls, OpenBLAS on 1 thread)\n",
               p->name, n, blas_calls);
        assert_int_equal(n, 0);
        /* the problems named so are there to reach OpenBLAS */
        assert_int_equal(blas_calls > 0, strstr(p->name, "(OpenBLAS)") != NULL);
        teardown_problem(p, &b);
        assert_int_equal(unsetenv("ELMAN_FORCE_THREADS"), 0);
    }
}

/* Fails allocations from now on: the one numbered `at` (from 0), or every
 * one if `at` is -1. */
static void fail_allocations(long at)
{
    atomic_store(&alloc_seq, 0);
    atomic_store(&live, 0);
    atomic_store(&fail_at, at);
    atomic_store(&failing, 1);
}

/* Stops failing; returns the allocations made since and not freed. */
static long stop_failing(void)
{
    atomic_store(&failing, 0);
    return atomic_load(&live);
}

/* elman_rnn_create() when an allocation fails: ELMAN_ERR_OUT_OF_MEMORY, the
 * result NULL, nothing left allocated; each of its allocations in turn.
 * A model whose threads could not be had (num_threads 2) is made all the
 * same and works. */
static void test_create_out_of_memory(void **state)
{
    (void)state;
    tu_rng rng;
    tu_seed(&rng, 4);
    for (int nt = 1; nt <= 2; nt++) {
        elman_config cfg;
        elman_config_init(&cfg);
        cfg.input_size = 3;
        cfg.hidden_size = 5;
        cfg.num_layers = 2;
        cfg.num_threads = nt;
        tu_model m;
        tu_model_random(&m, &cfg, &rng);
        int ok_at = -1, ooms = 0;
        for (long at = 0; at < 64 && ok_at < 0; at++) {
            elman_rnn *rnn = (elman_rnn *)&rnn;
            fail_allocations(at);
            const int rc = elman_rnn_create(&cfg, &rnn);
            const long left = stop_failing();
            if (rc == ELMAN_OK) {
                /* failed only where the model could do without (its
                 * threads), or past its last allocation */
                assert_non_null(rnn);
                for (int l = 0; l < 2; l++)
                    assert_int_equal(elman_rnn_set_weights(rnn, l, 0, m.w_ih[l], m.w_hh[l],
                                                           m.b_ih[l], m.b_hh[l]),
                                     ELMAN_OK);
                float x[2 * 3 * 3] = {0}, out[2 * 3 * 5];
                assert_int_equal(elman_rnn_forward(rnn, 2, 3, x, NULL, NULL, out, NULL, NULL, 0),
                                 ELMAN_OK);
                elman_rnn_free(rnn);
                if (atomic_load(&alloc_seq) <= at)
                    ok_at = (int)at;
                continue;
            }
            assert_int_equal(rc, ELMAN_ERR_OUT_OF_MEMORY);
            assert_null(rnn);
            assert_int_equal(left, 0);
            ooms++;
        }
        printf("  num_threads %d: create fails on %d of its %d allocations\n", nt, ooms, ok_at);
        assert_true(ok_at > 0);
        assert_true(ooms >= 2); /* the model and its weights at least */
        tu_model_free(&m);
    }
}

/* A call without a workspace whose allocation fails returns
 * ELMAN_ERR_OUT_OF_MEMORY and leaves output, h_n and the state untouched:
 * forward, forward_chunk and step (with and without y). */
static void test_forward_out_of_memory(void **state)
{
    (void)state;
    tu_rng rng;
    tu_seed(&rng, 5);
    problem p = make_problem("out of memory", 4, 9, 2, 0, ELMAN_TANH, 3, 5, 1, 1, 0);
    buffers b;
    setup_problem(&p, &b, &rng);
    const size_t nout = tu_elems_out(&p.cfg, p.B, p.T), nst = tu_elems_state(&p.cfg, p.B);
    float *out0 = malloc(nout * sizeof(float)), *hn0 = malloc(nst * sizeof(float));
    float *h00 = malloc(nst * sizeof(float));
    assert_true(out0 && hn0 && h00);
    memcpy(out0, b.out, nout * sizeof(float));
    memcpy(hn0, b.hn, nst * sizeof(float));
    memcpy(h00, b.h0, nst * sizeof(float));
    int rc[5];
    fail_allocations(-1);
    rc[0] = elman_rnn_forward(b.rnn, p.B, p.T, b.x, b.lengths, b.h0, b.out, b.hn, NULL, 0);
    rc[1] = elman_rnn_forward(b.rnn, p.B, p.T, b.x, NULL, NULL, b.out, NULL, NULL, 0);
    rc[2] = elman_rnn_forward_chunk(b.rnn, p.B, p.T, b.x, NULL, b.hn, b.out, NULL, 0);
    rc[3] = elman_rnn_step(b.rnn, p.B, b.x, b.hn, b.out, NULL, 0);
    rc[4] = elman_rnn_step(b.rnn, p.B, b.x, b.hn, NULL, NULL, 0);
    const long left = stop_failing();
    for (int i = 0; i < 5; i++)
        assert_int_equal(rc[i], ELMAN_ERR_OUT_OF_MEMORY);
    assert_int_equal(left, 0);
    assert_memory_equal(b.out, out0, nout * sizeof(float));
    assert_memory_equal(b.hn, hn0, nst * sizeof(float));
    assert_memory_equal(b.h0, h00, nst * sizeof(float));
    /* with memory again, the same calls run */
    assert_int_equal(elman_rnn_forward(b.rnn, p.B, p.T, b.x, b.lengths, b.h0, b.out, b.hn, NULL, 0),
                     ELMAN_OK);
    free(out0);
    free(hn0);
    free(h00);
    teardown_problem(&p, &b);
}

/* Reports what OpenBLAS's own threads allocate; never fails on it. */
static void test_report_openblas_threads(void **state)
{
    (void)state;
    openblas_set_num_threads(default_blas_threads);
    tu_rng rng;
    tu_seed(&rng, 3);
    problem p = make_problem("OpenBLAS threaded", 64, 128, 2, 1, ELMAN_TANH, 32, 40, 0, 1, 0);
    buffers b;
    setup_problem(&p, &b, &rng);
    assert_int_equal(forward(&p, &b, 1), ELMAN_OK);
    long blas_calls = 0;
    arm();
    for (int k = 0; k < 3; k++)
        assert_int_equal(forward_counting(&p, &b, 1, &blas_calls), ELMAN_OK);
    long n = disarm(p.name);
    printf("  with OpenBLAS on %d threads: %ld allocator calls in 3 forward calls with a "
           "workspace, %ld BLAS calls (OpenBLAS's, see the top of this file; not checked)\n",
           openblas_get_num_threads(), n, blas_calls);
    assert_true(blas_calls > 0);
    teardown_problem(&p, &b);
    openblas_set_num_threads(1);
}

int main(void)
{
    default_blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_call),
        cmocka_unit_test(test_forward_with_workspace_allocates_nothing),
        cmocka_unit_test(test_create_out_of_memory),
        cmocka_unit_test(test_forward_out_of_memory),
        cmocka_unit_test(test_report_openblas_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* !__GLIBC__ */

#include <stdio.h>

/* ctest shows this as Skipped (SKIP_RETURN_CODE 77). */
int main(void)
{
    printf("skipped: replacing the allocator this way needs glibc\n");
    return 77;
}

#endif
