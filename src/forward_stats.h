/*
 * Which paths a forward call took, for the white-box tests only
 * (tests/test_paths.c links the library's objects): never installed, no
 * exported symbol, nothing global. A call records into the stats it is
 * given, from every thread; the public entry points give none.
 */
#ifndef ELMAN_FORWARD_STATS_H
#define ELMAN_FORWARD_STATS_H

#include <stdatomic.h>
#include <stddef.h>

#include "elman.h"

typedef struct elman_forward_stats {
    const char *kernels;        /* name of the kernel table that ran */
    int threads;                /* threads that ran */
    int split_steps;            /* whether threads shared each step's columns */
    int pooled;                 /* whether they were the model's own threads */
    atomic_int blas_calls;      /* cblas_sgemm/cblas_dgemm calls (input projection) */
    atomic_int proj_threads;    /* (thread, layer) pairs that projected some rows */
    atomic_llong kernel_rows;   /* rows projected by the kernel, not BLAS */
    atomic_int step_threads;    /* (thread, layer, direction) triples that ran steps */
} elman_forward_stats;

/* elman_rnn_forward() or elman_rnn_forward_f64() (as the model's dtype
 * is), recording into *stats (zeroed first). */
int elman_forward_with_stats(const elman_rnn *rnn, int batch, int seq_len, const void *x,
                             const int *lengths, const void *h0, void *output, void *h_n,
                             void *workspace, size_t workspace_size, elman_forward_stats *stats);

#endif
