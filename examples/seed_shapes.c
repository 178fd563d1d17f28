/*
 * Why does nn.RNN's output depend on the sequence length while h_n does not?
 *
 * This reproduces the question's model: nn.RNN(input_size=1, hidden_size=4,
 * num_layers=1, batch_first=True) on sin(linspace(0, 6, 3)) shaped [1, 3, 1].
 * `output` holds every hidden state h_t, one per time step; `h_n` holds only
 * the last one. For full-length sequences output[:, -1, :] == h_n[-1]; for
 * a batch of sequences of different lengths it is not, because each
 * sequence ends at its own step.
 *
 * The weights are drawn as PyTorch initialises them, U(-1/sqrt(H), 1/sqrt(H)),
 * from a fixed seed, so every run prints the same numbers.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "elman.h"

enum { INPUT = 1, HIDDEN = 4, SEQ = 3 };

/* xorshift32: a fixed-seed generator, so the example is reproducible. */
static float uniform(uint32_t *s, float bound)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return ((float)(*s >> 8) / 16777216.0f * 2.0f - 1.0f) * bound;
}

static void print_vec(const char *label, const float *v, int n)
{
    printf("%-22s [", label);
    for (int i = 0; i < n; i++)
        printf("%s% .6f", i ? ", " : "", (double)v[i]);
    printf("]\n");
}

static int same(const float *a, const float *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static int check(int rc, const char *what)
{
    if (rc != ELMAN_OK)
        fprintf(stderr, "seed_shapes: %s: %s\n", what, elman_strerror(rc));
    return rc != ELMAN_OK;
}

int main(void)
{
    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = INPUT;
    cfg.hidden_size = HIDDEN;
    cfg.num_layers = 1;
    cfg.batch_first = 1;

    elman_rnn *rnn;
    if (check(elman_rnn_create(&cfg, &rnn), "create"))
        return 1;

    float w_ih[HIDDEN * INPUT], w_hh[HIDDEN * HIDDEN], b_ih[HIDDEN], b_hh[HIDDEN];
    uint32_t seed = 2020;
    const float bound = 1.0f / sqrtf((float)HIDDEN);
    for (int i = 0; i < HIDDEN * INPUT; i++) w_ih[i] = uniform(&seed, bound);
    for (int i = 0; i < HIDDEN * HIDDEN; i++) w_hh[i] = uniform(&seed, bound);
    for (int i = 0; i < HIDDEN; i++) b_ih[i] = uniform(&seed, bound);
    for (int i = 0; i < HIDDEN; i++) b_hh[i] = uniform(&seed, bound);
    if (check(elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b_ih, b_hh), "set_weights"))
        return 1;

    /* test_input = sin(linspace(0, 6, 3)), shape [batch=1, seq_len=3, input=1] */
    float x[SEQ * INPUT];
    for (int t = 0; t < SEQ; t++)
        x[t] = sinf(6.0f * (float)t / (float)(SEQ - 1));
    float out[1 * SEQ * HIDDEN], h_n[1 * 1 * HIDDEN];
    if (check(elman_rnn_forward(rnn, 1, SEQ, x, NULL, NULL, out, h_n, NULL, 0), "forward"))
        return 1;

    printf("Input size:  [1, %d, %d]\n", SEQ, INPUT);
    printf("Hidden state size:  [%d, 1, %d]\n", cfg.num_layers, HIDDEN);
    printf("Output size:  [1, %d, %d]\n", SEQ, HIDDEN);
    printf("\noutput holds one hidden state per time step:\n");
    for (int t = 0; t < SEQ; t++) {
        char label[32];
        snprintf(label, sizeof(label), "output[0, %d, :]", t);
        print_vec(label, out + t * HIDDEN, HIDDEN);
    }
    printf("h_n holds only the last one:\n");
    print_vec("h_n[0, 0, :]", h_n, HIDDEN);
    const float *last = out + (SEQ - 1) * HIDDEN;
    printf("output[:, -1, :] %s h_n[-1]\n", same(last, h_n, HIDDEN) ? "==" : "!=");

    /* A batch of two sequences of lengths 3 and 2 (the second padded). */
    enum { B = 2 };
    float xb[B * SEQ * INPUT];
    for (int t = 0; t < SEQ; t++)
        xb[t] = x[t];
    xb[SEQ + 0] = x[0];
    xb[SEQ + 1] = x[1];
    xb[SEQ + 2] = 0.0f; /* padding, never read */
    const int lengths[B] = {3, 2};
    float outb[B * SEQ * HIDDEN], h_nb[1 * B * HIDDEN];
    if (check(elman_rnn_forward(rnn, B, SEQ, xb, lengths, NULL, outb, h_nb, NULL, 0), "forward"))
        return 1;

    printf("\nA batch of two sequences, lengths 3 and 2: output [%d, %d, %d], h_n [1, %d, %d]\n",
           B, SEQ, HIDDEN, B, HIDDEN);
    const float *seq1 = outb + 1 * SEQ * HIDDEN;
    const float *hn1 = h_nb + 1 * HIDDEN;
    print_vec("output[1, 1, :]", seq1 + 1 * HIDDEN, HIDDEN);
    print_vec("output[1, -1, :]", seq1 + 2 * HIDDEN, HIDDEN);
    print_vec("h_n[0, 1, :]", hn1, HIDDEN);
    printf("h_n[0, 1, :] %s output[1, 1, :] (its last real step, t = 1)\n",
           same(hn1, seq1 + 1 * HIDDEN, HIDDEN) ? "==" : "!=");
    printf("h_n[0, 1, :] %s output[1, -1, :] (zero padding)\n",
           same(hn1, seq1 + 2 * HIDDEN, HIDDEN) ? "==" : "!=");
    printf("The first sequence is full length: h_n[0, 0, :] %s output[0, -1, :]\n",
           same(h_nb, outb + (SEQ - 1) * HIDDEN, HIDDEN) ? "==" : "!=");

    elman_rnn_free(rnn);
    return 0;
}
