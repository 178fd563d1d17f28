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
 * - w_ih: the D directions' W_ih stacked, as an (I_l, D*H) matrix W_ih^T
 *   (column j < D*H is row j of the stack), so one GEMM computes the input
 *   projection of both directions. Element (k, j) is at
 *   (j / ELMAN_PANEL) * w_ih_pstride + k * w_ih_kstride + j % ELMAN_PANEL,
 *   in one of two layouts, chosen at creation:
 *   - for BLAS (w_ih_blas): row-major with leading dimension w_ih_kstride
 *     (pstride ELMAN_PANEL), a whole and odd number of panels, so that the
 *     rows a panel reads fall into different cache sets; BLAS and the
 *     kernels both read it;
 *   - for the kernels alone, where no projection of the model can reach
 *     BLAS (float32 on a kernel path that projects faster than BLAS): the
 *     packed panels of elman_pack_panels (kstride ELMAN_PANEL, pstride
 *     I_l * ELMAN_PANEL), which the kernel streams contiguously: with the
 *     row-major layout every k of a panel pair is another row, and for
 *     I_l = 512 every second one another page (the projections ran 4-11%
 *     slower).
 *   Held once either way: a model costs its weights' size, plus padding;
 * - w_hh_packed[d]: W_hh of direction d in kernel panels;
 * - bias[d]: (H), b_ih + b_hh (or b_ih alone), NULL without bias.
 * All in the model's one allocation (storage), each layer's W_ih^T and
 * each W_hh_packed[d] starting on an ELMAN_WEIGHT_ALIGNMENT boundary. */
#define ELMAN_WEIGHT_ALIGNMENT 64

typedef struct elman_layer {
    int in_size; /* I_l */
    void *w_ih;
    size_t w_ih_pstride, w_ih_kstride;
    void *w_hh_packed[2];
    void *bias[2];
    unsigned char is_set[2];
} elman_layer;

struct elman_rnn {
    elman_config cfg;
    int num_directions; /* D */
    size_t elem_size;   /* sizeof(float) or sizeof(double) */
    const struct elman_kernels *kernels;
    int w_ih_blas;       /* W_ih^T in the BLAS layout (see elman_layer) */
    struct elman_pool *pool; /* num_threads - 1 workers, or NULL (team.h) */
    double barrier_ns;   /* a barrier between two of them, measured at
                            creation when num_threads > 1 */
    int force_threads;   /* tests and debugging: ELMAN_FORCE_THREADS=1 in
                            the environment when the model was created
                            (num_threads > 1): every call that may use
                            threads starts num_threads and splits every
                            step, whatever the size, so that small problems
                            take the threaded paths. Read at creation, not
                            per call: getenv costs a small call, and races
                            with setenv in other threads. */
    elman_layer *layers; /* num_layers entries */
    void *storage;       /* all weights, one allocation */
};

#endif /* ELMAN_INTERNAL_H */
