/*
 * elman-parity B T I H L D [ITERS] [--parity] [--lengths] [--threads N]
 *
 * The --parity mode of the elman harness, kept apart from elman_bench.c:
 * builds the model of that shape from the closed-form weights of parity.h,
 * runs one forward call (x is (T, B, I), h0 = zeros) and prints one JSON line
 * with `output` (T, B, D*H) and `h_n` (L*D, B, H) flattened. ITERS and
 * --parity are accepted (and ignored) so the grid script can call every
 * harness with the same arguments.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, in bench_util.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#include "elman.h"
#include "parity.h"

static void usage(void)
{
    fprintf(stderr, "usage: elman-parity B T I H L D [ITERS] [--parity] [--lengths] [--threads N]\n");
    exit(2);
}

static float *alloc_floats(size_t n)
{
    float *p = malloc(n * sizeof(float));
    if (p == NULL) {
        fprintf(stderr, "elman-parity: out of memory\n");
        exit(1);
    }
    return p;
}

static void check(int rc, const char *what)
{
    if (rc != ELMAN_OK) {
        fprintf(stderr, "elman-parity: %s: %s\n", what, elman_strerror(rc));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 7)
        usage();
    const int B = bench_parse_int(argv[1], usage);
    const int T = bench_parse_int(argv[2], usage);
    const int In = bench_parse_int(argv[3], usage);
    const int H = bench_parse_int(argv[4], usage);
    const int L = bench_parse_int(argv[5], usage);
    const int D = bench_parse_int(argv[6], usage);
    int a = 7;
    if (a < argc && argv[a][0] != '-')
        bench_parse_int(argv[a++], usage); /* ITERS, unused */
    int threads = 1, use_lengths = 0;
    for (; a < argc; a++) {
        if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc)
            threads = bench_parse_int(argv[++a], usage);
        else if (strcmp(argv[a], "--lengths") == 0)
            use_lengths = 1;
        else if (strcmp(argv[a], "--parity") != 0)
            usage();
    }
    if (D != 1 && D != 2)
        usage();

    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = In;
    cfg.hidden_size = H;
    cfg.num_layers = L;
    cfg.bidirectional = D == 2;
    cfg.num_threads = threads;
    elman_rnn *rnn;
    check(elman_rnn_create(&cfg, &rnn), "create");

    const double bound = parity_weight_bound(H);
    for (int l = 0; l < L; l++)
        for (int d = 0; d < D; d++) {
            const size_t in = (size_t)(l == 0 ? In : D * H);
            float *w_ih = alloc_floats((size_t)H * in), *w_hh = alloc_floats((size_t)H * H);
            float *b_ih = alloc_floats((size_t)H), *b_hh = alloc_floats((size_t)H);
            parity_fill(w_ih, (size_t)H * in, parity_tensor_id(l, d, D, PARITY_W_IH), bound);
            parity_fill(w_hh, (size_t)H * H, parity_tensor_id(l, d, D, PARITY_W_HH), bound);
            parity_fill(b_ih, (size_t)H, parity_tensor_id(l, d, D, PARITY_B_IH), bound);
            parity_fill(b_hh, (size_t)H, parity_tensor_id(l, d, D, PARITY_B_HH), bound);
            check(elman_rnn_set_weights(rnn, l, d, w_ih, w_hh, b_ih, b_hh), "set_weights");
            free(w_ih);
            free(w_hh);
            free(b_ih);
            free(b_hh);
        }

    const size_t n_x = (size_t)T * B * In, n_out = (size_t)T * B * D * H;
    const size_t n_hn = (size_t)L * D * B * H;
    float *x = alloc_floats(n_x), *out = alloc_floats(n_out), *hn = alloc_floats(n_hn);
    parity_fill(x, n_x, 0, 1.0);
    int *lengths = NULL;
    if (use_lengths) {
        lengths = malloc((size_t)B * sizeof(int));
        if (lengths == NULL)
            check(ELMAN_ERR_OUT_OF_MEMORY, "lengths");
        for (int b = 0; b < B; b++)
            lengths[b] = parity_length(b, T);
    }
    check(elman_rnn_forward(rnn, B, T, x, lengths, NULL, out, hn, NULL, 0), "forward");

    printf("{\"impl\":\"elman\",\"parity\":true,\"B\":%d,\"T\":%d,\"I\":%d,\"H\":%d,\"L\":%d,"
           "\"D\":%d,\"threads\":%d,\"lengths\":%s,",
           B, T, In, H, L, D, threads, use_lengths ? "true" : "false");
    parity_print_array("output", out, n_out);
    printf(",");
    parity_print_array("h_n", hn, n_hn);
    printf("}\n");

    free(lengths);
    free(x);
    free(out);
    free(hn);
    elman_rnn_free(rnn);
    return 0;
}
