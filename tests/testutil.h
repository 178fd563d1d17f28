/* Helpers shared by the test programs: tolerance, random data, and a slow,
 * obvious double-precision reference of nn.RNN's forward pass. */
#ifndef ELMAN_TESTUTIL_H
#define ELMAN_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "elman.h"

/* The one tolerance of the test suite: |got - want| <= 2e-5 + 1e-4 |want|.
 * NaN or infinity on either side never passes. */
#define TEST_ATOL 2e-5
#define TEST_RTOL 1e-4
/* The kernels' tanh in float: measured maximum absolute error 8.09e-8
 * (every float in [0, 20], AVX2; issue 14), plus a small margin. Tests
 * whose only error is the activation hold results to it. */
#define TEST_TANH_MAX_ERR 9e-8
/* float64 results: |got - want| <= 1e-10 (1 + |want|). */
#define TEST_F64_TOL 1e-10

/* Returns the index of the first element out of tolerance, or -1. Prints
 * the element and what was expected when one fails. */
long tu_compare(const char *what, const float *got, const double *want, size_t n);
long tu_compare_f(const char *what, const float *got, const float *want, size_t n);
/* The same for float64 results, with TEST_F64_TOL. */
long tu_compare_d(const char *what, const double *got, const double *want, size_t n);

/* Deterministic random numbers (xorshift64*). */
typedef struct tu_rng {
    uint64_t s;
} tu_rng;
void tu_seed(tu_rng *r, uint64_t seed);
float tu_uniform(tu_rng *r, float lo, float hi);
int tu_int(tu_rng *r, int lo, int hi); /* inclusive */
float *tu_random(tu_rng *r, size_t n, float bound);

/* A model's weights as separate PyTorch tensors, index l*D + d. */
typedef struct tu_model {
    elman_config cfg;
    int D;
    float *w_ih[16], *w_hh[16], *b_ih[16], *b_hh[16];
} tu_model;

/* Random weights U(-1/sqrt(H), 1/sqrt(H)) as nn.RNN initialises them. */
void tu_model_random(tu_model *m, const elman_config *cfg, tu_rng *r);
void tu_model_free(tu_model *m);
/* Creates an elman_rnn with m's weights; fails the test on error. */
elman_rnn *tu_model_build(const tu_model *m);
/* The same model as float64 (m->cfg with dtype ELMAN_FLOAT64 and
 * num_threads nt): its weights are m's, widened exactly. */
elman_rnn *tu_model_build_f64(const tu_model *m, int nt);

/* The reference: double precision, one sequence at a time, straight from
 * the definition, for every feature of elman_config (activations, clip,
 * bias modes, reverse, state layout; lengths may be 0). output (T,B,DH) or
 * (B,T,DH) as cfg says; h_n (L*D,B,H) or (B,L*D,H). lengths and h0 may be
 * NULL. */
void tu_reference_d(const elman_config *cfg, const double *const *w_ih, const double *const *w_hh,
                    const double *const *b_ih, const double *const *b_hh, int B, int T,
                    const double *x, const int *lengths, const double *h0, double *output,
                    double *h_n);
/* The same for float inputs. */
void tu_reference(const elman_config *cfg, const float *const *w_ih, const float *const *w_hh,
                  const float *const *b_ih, const float *const *b_hh, int B, int T,
                  const float *x, const int *lengths, const float *h0, double *output,
                  double *h_n);

size_t tu_elems_x(const elman_config *cfg, int B, int T);
size_t tu_elems_out(const elman_config *cfg, int B, int T);
size_t tu_elems_state(const elman_config *cfg, int B);

#endif
