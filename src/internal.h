/*
 * Private declarations shared by the modules of libelman. Never installed.
 */
#ifndef ELMAN_INTERNAL_H
#define ELMAN_INTERNAL_H

#include <stddef.h>

#include "elman.h"
#include "elman_size.h"

/* Largest hidden or input size: D*H plus panel padding still fits an int. */
#define ELMAN_MAX_FEATURES ((ELMAN_BLAS_INT_MAX - 64) / 2)

/* One layer's parameters, repacked, in the model's element type (float or
 * double, cfg.dtype):
 * - w_ih: W_ih^T, (I_l, w_ih_ld) row-major: column j < D*H is row j of the
 *   D directions' W_ih stacked, so one GEMM computes the input projection
 *   of both directions; BLAS reads it as (I_l, D*H) with leading dimension
 *   w_ih_ld, and the kernels as panels of ELMAN_PANEL columns (panel p at
 *   w_ih + p*ELMAN_PANEL, row k w_ih_ld further per k). Held once: a model
 *   costs its weights' size, plus padding. w_ih_ld is a whole number of
 *   panels, an odd one, so that the rows a panel reads fall into different
 *   cache sets;
 * - w_hh_packed[d]: W_hh of direction d in kernel panels;
 * - bias[d]: (H), b_ih + b_hh (or b_ih alone), NULL without bias. */
typedef struct elman_layer {
    int in_size; /* I_l */
    void *w_ih;
    int w_ih_ld;
    void *w_hh_packed[2];
    void *bias[2];
    unsigned char is_set[2];
} elman_layer;

struct elman_rnn {
    elman_config cfg;
    int num_directions; /* D */
    size_t elem_size;   /* sizeof(float) or sizeof(double) */
    const struct elman_kernels *kernels;
    struct elman_pool *pool; /* num_threads - 1 workers, or NULL (team.h) */
    double barrier_ns;   /* a barrier between two of them, measured at
                            creation when num_threads > 1 */
    elman_layer *layers; /* num_layers entries */
    void *storage;       /* all weights, one allocation */
};

#endif /* ELMAN_INTERNAL_H */
