/*
 * The deterministic model and input of the benchmarks' --parity mode.
 *
 * Every harness (elman_parity.c, onednn_bench.c, torch_bench.py) fills the
 * same tensors from one closed-form formula, so their outputs can be
 * compared without exchanging any data:
 *
 *     value(id, idx) = bound * sin(0.37 * idx + 1.3 * id + 0.5)
 *
 * computed in double and rounded to float. idx is the flat row-major index
 * in PyTorch's layout; id names the tensor:
 *
 *     x (T, B, I)                           id 0,                    bound 1
 *     w_ih, w_hh, b_ih, b_hh of (l, d)      id 1 + 4*(l*D + d) + k,  bound 1/sqrt(H)
 *                                            (k = 0, 1, 2, 3 in that order)
 *
 * Per-sequence lengths, when asked for: lengths[b] = T - (3*b) mod T, so
 * lengths[0] = T and the others are unsorted.
 *
 * torch_bench.py carries the same formula; keep the two in step.
 */
#ifndef ELMAN_BENCH_PARITY_H
#define ELMAN_BENCH_PARITY_H

#include <math.h>
#include <stdio.h>
#include <stddef.h>

enum { PARITY_W_IH = 0, PARITY_W_HH = 1, PARITY_B_IH = 2, PARITY_B_HH = 3 };

static inline int parity_tensor_id(int layer, int direction, int num_directions, int kind)
{
    return 1 + 4 * (layer * num_directions + direction) + kind;
}

static inline void parity_fill(float *p, size_t n, int id, double bound)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(bound * sin(0.37 * (double)i + 1.3 * (double)id + 0.5));
}

static inline double parity_weight_bound(int hidden_size)
{
    return 1.0 / sqrt((double)hidden_size);
}

static inline int parity_length(int b, int seq_len)
{
    return seq_len - (3 * b) % seq_len;
}

/* Prints `"name":[v0,v1,...]` with enough digits to round-trip a float. */
static inline void parity_print_array(const char *name, const float *p, size_t n)
{
    printf("\"%s\":[", name);
    for (size_t i = 0; i < n; i++)
        printf(i ? ",%.9g" : "%.9g", (double)p[i]);
    printf("]");
}

#endif
