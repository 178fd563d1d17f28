/*
 * onednn-bench B T I H L D ITERS [--threads N] [--seed S] [--max-seconds S]
 *              [--parity] [--info]
 *
 * The oneDNN peer of elman-bench: the same model shape, the same work and
 * the same JSON line ("impl":"onednn"), computed by oneDNN's vanilla RNN
 * primitive (tanh, f32, forward inference, h0 = zeros).
 *
 * One primitive per layer, chained. oneDNN stacks layers inside one
 * primitive only when every layer has the same input width, and in a
 * bidirectional_concat primitive the directions are concatenated after the
 * last layer only; PyTorch's stacked bidirectional RNN feeds layer l > 0 with
 * the D*H-wide concatenation of both directions of layer l-1. So layer l is
 * its own primitive (direction unidirectional_left2right or
 * bidirectional_concat) whose dst_layer is the src_layer of layer l+1; its
 * dst_iter is written straight into rows l*D .. l*D+D-1 of h_n.
 *
 * What is timed: the execute calls of the L primitives and one stream wait,
 * nothing else. Primitive creation, the reorder of the weights into the
 * layout oneDNN prefers (format "any", done once, as elman prepacks at
 * set_weights), memory and scratchpad allocation (user-managed scratchpad,
 * so no allocation inside execute) all happen before the warm-up.
 *
 * The bias is one vector in oneDNN: b_ih + b_hh.
 *
 * Threads: Debian's libdnnl uses the OpenMP runtime (libgomp; see
 * DNNL_CPU_THREADING_RUNTIME in dnnl_config.h or `ldd libdnnl.so`), which
 * reads its thread count when a primitive is created and executed. --threads
 * N calls omp_set_num_threads(N) before anything is created; when built
 * without OpenMP the program instead requires OMP_NUM_THREADS=N in the
 * environment (the grid script sets it either way).
 *
 * --max-seconds S bounds a run whose calls turn out very slow (e.g. threads
 * fighting over busy cores): once S seconds have passed since the warm-up
 * began, the warm-up stops after 1 call and the timed loop after 3, and the
 * JSON line gains "iters_done".
 *
 * --lengths is refused (exit code 3): oneDNN's vanilla RNN has no
 * per-sequence lengths.
 *
 * --parity: closed-form weights and input of parity.h, one call, and a JSON
 * line with output (T, B, D*H) and h_n (L*D, B, H) instead of timings.
 * --info: a JSON line with the oneDNN version, runtime, threads and the
 * implementation oneDNN chose for each layer.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#ifdef ELMAN_BENCH_OPENMP
#include <omp.h>

#include "bench_util.h"
#endif

#include "parity.h"

#define CHECK(call)                                                                  \
    do {                                                                             \
        dnnl_status_t s_ = (call);                                                   \
        if (s_ != dnnl_success) {                                                    \
            fprintf(stderr, "onednn-bench: %s failed: %s (line %d)\n", #call,        \
                    dnnl_status2str(s_), __LINE__);                                  \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static void out_of_memory(void)
{
    fprintf(stderr, "onednn-bench: out of memory\n");
    exit(1);
}

static void *alloc_aligned(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (p == NULL)
        out_of_memory();
    return p;
}

static void usage(void)
{
    fprintf(stderr, "usage: onednn-bench B T I H L D ITERS [--threads N] [--seed S] "
                    "[--max-seconds S] [--parity] [--info]\n");
    exit(2);
}

static double parse_seconds(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v > 0))
        usage();
    return v;
}

/* One layer: its primitive and the memories bound to it. */
typedef struct layer {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t src, w_layer, w_iter, bias, dst, dst_iter, scratch;
    void *scratch_buf;
} layer;

static dnnl_memory_t make_memory(const dnnl_memory_desc_t *md, dnnl_engine_t eng, void *handle)
{
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, md, eng, handle));
    return m;
}

/* Creates the primitive's weight memory in the layout it asked for and
 * reorders the user's PyTorch-layout (ldgoi) weights into it. */
static dnnl_memory_t prepare_weights(const dnnl_memory_desc_t *want, const dnnl_dims_t dims,
                                     float *user, dnnl_engine_t eng, dnnl_stream_t stream)
{
    dnnl_memory_desc_t user_md;
    CHECK(dnnl_memory_desc_init_by_tag(&user_md, 5, dims, dnnl_f32, dnnl_ldgoi));
    dnnl_memory_t user_mem = make_memory(&user_md, eng, user);
    dnnl_memory_t mem = make_memory(want, eng, DNNL_MEMORY_ALLOCATE);
    dnnl_primitive_desc_t rpd;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, &user_md, eng, want, eng, NULL));
    dnnl_primitive_t reorder;
    CHECK(dnnl_primitive_create(&reorder, rpd));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user_mem}, {DNNL_ARG_TO, mem}};
    CHECK(dnnl_primitive_execute(reorder, stream, 2, args));
    CHECK(dnnl_stream_wait(stream));
    CHECK(dnnl_primitive_destroy(reorder));
    CHECK(dnnl_primitive_desc_destroy(rpd));
    CHECK(dnnl_memory_destroy(user_mem));
    return mem;
}

int main(int argc, char **argv)
{
    if (argc < 8)
        usage();
    const int B = bench_parse_int(argv[1], usage);
    const int T = bench_parse_int(argv[2], usage);
    const int In = bench_parse_int(argv[3], usage);
    const int H = bench_parse_int(argv[4], usage);
    const int L = bench_parse_int(argv[5], usage);
    const int D = bench_parse_int(argv[6], usage);
    const int iters = bench_parse_int(argv[7], usage);
    int threads = 1, parity = 0, info = 0;
    double max_seconds = 0; /* 0: no bound */
    for (int a = 8; a < argc; a++) {
        if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc)
            threads = bench_parse_int(argv[++a], usage);
        else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc)
            bench_seed(bench_parse_int(argv[++a], usage));
        else if (strcmp(argv[a], "--max-seconds") == 0 && a + 1 < argc)
            max_seconds = parse_seconds(argv[++a]);
        else if (strcmp(argv[a], "--parity") == 0)
            parity = 1;
        else if (strcmp(argv[a], "--info") == 0)
            info = 1;
        else if (strcmp(argv[a], "--lengths") == 0) {
            fprintf(stderr, "onednn-bench: --lengths is not supported: oneDNN's vanilla RNN "
                            "has no per-sequence lengths\n");
            return 3;
        } else
            usage();
    }
    if (D != 1 && D != 2)
        usage();

#ifdef ELMAN_BENCH_OPENMP
    omp_set_num_threads(threads);
    const int max_threads = omp_get_max_threads();
#else
    const char *env = getenv("OMP_NUM_THREADS");
    if (env == NULL || atoi(env) != threads) {
        fprintf(stderr, "onednn-bench: built without OpenMP: set OMP_NUM_THREADS=%d\n", threads);
        return 2;
    }
    const int max_threads = threads;
#endif

    dnnl_engine_t eng;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));

    const size_t n_x = (size_t)T * B * In, n_out = (size_t)T * B * D * H;
    const size_t n_hn = (size_t)L * D * B * H;
    float *x = alloc_aligned(n_x * sizeof(float));
    float *out = alloc_aligned(n_out * sizeof(float));
    float *hn = alloc_aligned(n_hn * sizeof(float));
    float *between[2] = {NULL, NULL}; /* ping-pong outputs of the inner layers */
    if (L > 1)
        for (int i = 0; i < 2; i++)
            between[i] = alloc_aligned(n_out * sizeof(float));

    layer *layers = calloc((size_t)L, sizeof(layer));
    if (layers == NULL)
        out_of_memory();
    const float bound = 1.0f / sqrtf((float)H);
    double flops = 0;
    for (int l = 0; l < L; l++) {
        layer *ly = &layers[l];
        const int in = l == 0 ? In : D * H;
        flops += 2.0 * D * T * B * ((double)in * H + (double)H * H);

        /* Weights in PyTorch's layouts, direction-major: w_ih (D, H, in),
         * w_hh (D, H, H); bias (D, H) = b_ih + b_hh. */
        float *w_ih = alloc_aligned((size_t)D * H * in * sizeof(float));
        float *w_hh = alloc_aligned((size_t)D * H * H * sizeof(float));
        float *bias = alloc_aligned((size_t)D * H * sizeof(float));
        float *b_hh = alloc_aligned((size_t)H * sizeof(float));
        for (int d = 0; d < D; d++) {
            float *wi = w_ih + (size_t)d * H * in, *wh = w_hh + (size_t)d * H * H;
            float *bi = bias + (size_t)d * H;
            if (parity) {
                const double pb = parity_weight_bound(H);
                parity_fill(wi, (size_t)H * in, parity_tensor_id(l, d, D, PARITY_W_IH), pb);
                parity_fill(wh, (size_t)H * H, parity_tensor_id(l, d, D, PARITY_W_HH), pb);
                parity_fill(bi, (size_t)H, parity_tensor_id(l, d, D, PARITY_B_IH), pb);
                parity_fill(b_hh, (size_t)H, parity_tensor_id(l, d, D, PARITY_B_HH), pb);
            } else {
                for (size_t i = 0; i < (size_t)H * in; i++)
                    wi[i] = bench_frand(bound);
                for (size_t i = 0; i < (size_t)H * H; i++)
                    wh[i] = bench_frand(bound);
                for (int i = 0; i < H; i++)
                    bi[i] = bench_frand(bound);
                for (int i = 0; i < H; i++)
                    b_hh[i] = bench_frand(bound);
            }
            for (int i = 0; i < H; i++)
                bi[i] += b_hh[i];
        }

        dnnl_memory_desc_t src_md, dst_md, dst_iter_md, bias_md, wl_any, wi_any;
        const dnnl_dims_t src_dims = {T, B, in}, dst_dims = {T, B, D * H};
        const dnnl_dims_t iter_dims = {1, D, B, H}, bias_dims = {1, D, 1, H};
        const dnnl_dims_t wl_dims = {1, D, in, 1, H}, wi_dims = {1, D, H, 1, H};
        CHECK(dnnl_memory_desc_init_by_tag(&src_md, 3, src_dims, dnnl_f32, dnnl_tnc));
        CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 3, dst_dims, dnnl_f32, dnnl_tnc));
        CHECK(dnnl_memory_desc_init_by_tag(&dst_iter_md, 4, iter_dims, dnnl_f32, dnnl_ldnc));
        CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 4, bias_dims, dnnl_f32, dnnl_ldgo));
        CHECK(dnnl_memory_desc_init_by_tag(&wl_any, 5, wl_dims, dnnl_f32, dnnl_format_tag_any));
        CHECK(dnnl_memory_desc_init_by_tag(&wi_any, 5, wi_dims, dnnl_f32, dnnl_format_tag_any));

        dnnl_rnn_desc_t rnn_d;
        CHECK(dnnl_vanilla_rnn_forward_desc_init(
            &rnn_d, dnnl_forward_inference, dnnl_eltwise_tanh,
            D == 2 ? dnnl_bidirectional_concat : dnnl_unidirectional_left2right, &src_md,
            NULL /* src_iter: zeros */, &wl_any, &wi_any, &bias_md, &dst_md, &dst_iter_md, 0,
            0.0f, 0.0f));
        CHECK(dnnl_primitive_desc_create(&ly->pd, &rnn_d, attr, eng, NULL));
        CHECK(dnnl_primitive_create(&ly->prim, ly->pd));

        const dnnl_memory_desc_t *want_wl =
            dnnl_primitive_desc_query_md(ly->pd, dnnl_query_exec_arg_md, DNNL_ARG_WEIGHTS_LAYER);
        const dnnl_memory_desc_t *want_wi =
            dnnl_primitive_desc_query_md(ly->pd, dnnl_query_exec_arg_md, DNNL_ARG_WEIGHTS_ITER);
        ly->w_layer = prepare_weights(want_wl, wl_dims, w_ih, eng, stream);
        ly->w_iter = prepare_weights(want_wi, wi_dims, w_hh, eng, stream);
        ly->bias = make_memory(&bias_md, eng, DNNL_MEMORY_ALLOCATE);
        void *bias_handle;
        CHECK(dnnl_memory_get_data_handle(ly->bias, &bias_handle));
        memcpy(bias_handle, bias, (size_t)D * H * sizeof(float));
        free(w_ih);
        free(w_hh);
        free(bias);
        free(b_hh);

        float *src = l == 0 ? x : between[(l - 1) % 2];
        float *dst = l == L - 1 ? out : between[l % 2];
        ly->src = make_memory(&src_md, eng, src);
        ly->dst = make_memory(&dst_md, eng, dst);
        ly->dst_iter = make_memory(&dst_iter_md, eng, hn + (size_t)l * D * B * H);
        const dnnl_memory_desc_t *scratch_md =
            dnnl_primitive_desc_query_md(ly->pd, dnnl_query_scratchpad_md, 0);
        const size_t scratch_size = scratch_md ? dnnl_memory_desc_get_size(scratch_md) : 0;
        if (scratch_size > 0) {
            ly->scratch_buf = alloc_aligned(scratch_size);
            ly->scratch = make_memory(scratch_md, eng, ly->scratch_buf);
        }
    }

    if (parity)
        parity_fill(x, n_x, 0, 1.0);
    else
        for (size_t i = 0; i < n_x; i++)
            x[i] = bench_frand(1.0f);

    dnnl_exec_arg_t(*args)[7] = calloc((size_t)L, sizeof *args);
    int *nargs = calloc((size_t)L, sizeof(int));
    if (args == NULL || nargs == NULL)
        out_of_memory();
    for (int l = 0; l < L; l++) {
        layer *ly = &layers[l];
        dnnl_exec_arg_t a[7] = {
            {DNNL_ARG_SRC_LAYER, ly->src},     {DNNL_ARG_WEIGHTS_LAYER, ly->w_layer},
            {DNNL_ARG_WEIGHTS_ITER, ly->w_iter}, {DNNL_ARG_BIAS, ly->bias},
            {DNNL_ARG_DST_LAYER, ly->dst},     {DNNL_ARG_DST_ITER, ly->dst_iter},
            {DNNL_ARG_SCRATCHPAD, ly->scratch}};
        memcpy(args[l], a, sizeof a);
        nargs[l] = ly->scratch ? 7 : 6;
    }

    if (info) {
        const dnnl_version_t *v = dnnl_version();
        printf("{\"impl\":\"onednn\",\"version\":\"%d.%d.%d\",\"cpu_runtime\":\"%s\","
               "\"max_threads\":%d,\"layers\":[",
               v->major, v->minor, v->patch,
               v->cpu_runtime == DNNL_RUNTIME_OMP ? "omp"
               : v->cpu_runtime == DNNL_RUNTIME_TBB ? "tbb"
                                                    : "other",
               max_threads);
        for (int l = 0; l < L; l++) {
            const char *impl = "?";
            dnnl_primitive_desc_query(layers[l].pd, dnnl_query_impl_info_str, 0, &impl);
            const dnnl_memory_desc_t *wl = dnnl_primitive_desc_query_md(
                layers[l].pd, dnnl_query_exec_arg_md, DNNL_ARG_WEIGHTS_LAYER);
            printf("%s{\"impl_info\":\"%s\",\"weights_format\":\"%s\"}", l ? "," : "", impl,
                   dnnl_fmt_kind2str(wl->format_kind));
        }
        printf("]}\n");
        return 0;
    }

    double *times = malloc((size_t)iters * sizeof(double));
    if (times == NULL)
        out_of_memory();
    /* warm-up: at least 3 calls and 0.2 s, as elman-bench (one call for
     * --parity); --max-seconds cuts it short */
    const double t_start = bench_now_us(), t_warm = t_start + 2e5;
    const double t_cap = max_seconds > 0 ? t_start + max_seconds * 1e6 : INFINITY;
    for (int w = 0;; w++) {
        const double t = bench_now_us();
        if (parity ? w >= 1 : (w >= 3 && t >= t_warm) || (w >= 1 && t >= t_cap))
            break;
        for (int l = 0; l < L; l++)
            CHECK(dnnl_primitive_execute(layers[l].prim, stream, nargs[l], args[l]));
        CHECK(dnnl_stream_wait(stream));
    }

    if (parity) {
        printf("{\"impl\":\"onednn\",\"parity\":true,\"B\":%d,\"T\":%d,\"I\":%d,\"H\":%d,"
               "\"L\":%d,\"D\":%d,\"threads\":%d,\"lengths\":false,",
               B, T, In, H, L, D, threads);
        parity_print_array("output", out, n_out);
        printf(",");
        parity_print_array("h_n", hn, n_hn);
        printf("}\n");
    } else {
        int n = 0;
        for (; n < iters; n++) {
            double t0 = bench_now_us();
            if (n >= 3 && t0 >= t_cap)
                break;
            for (int l = 0; l < L; l++)
                dnnl_primitive_execute(layers[l].prim, stream, nargs[l], args[l]);
            dnnl_stream_wait(stream);
            times[n] = bench_now_us() - t0;
        }
        qsort(times, (size_t)n, sizeof(double), bench_cmp_double);
        const double median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
        printf("{\"impl\":\"onednn\",\"B\":%d,\"T\":%d,\"I\":%d,\"H\":%d,\"L\":%d,\"D\":%d,"
               "\"threads\":%d,\"lengths\":false,\"median_us\":%.3f,\"min_us\":%.3f,"
               "\"gflops\":%.2f",
               B, T, In, H, L, D, threads, median, times[0], flops / median * 1e-3);
        if (n < iters)
            printf(",\"iters_done\":%d", n);
        printf("}\n");
    }

    free(times);
    free(args);
    free(nargs);
    for (int l = 0; l < L; l++) {
        layer *ly = &layers[l];
        dnnl_primitive_destroy(ly->prim);
        dnnl_primitive_desc_destroy(ly->pd);
        dnnl_memory_destroy(ly->src);
        dnnl_memory_destroy(ly->w_layer);
        dnnl_memory_destroy(ly->w_iter);
        dnnl_memory_destroy(ly->bias);
        dnnl_memory_destroy(ly->dst);
        dnnl_memory_destroy(ly->dst_iter);
        if (ly->scratch)
            dnnl_memory_destroy(ly->scratch);
        free(ly->scratch_buf);
    }
    free(layers);
    dnnl_primitive_attr_destroy(attr);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(eng);
    free(x);
    free(out);
    free(hn);
    free(between[0]);
    free(between[1]);
    return 0;
}
