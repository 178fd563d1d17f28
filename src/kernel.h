/*
 * Compute kernels: one portable implementation (the ground truth, any CPU)
 * and per-ISA implementations beside it, chosen at run time per model.
 *
 * The one kernel is a small GEMM with a fused epilogue over rows given by
 * pointers:
 *
 *     out[i][j] = act( sum_k a[i][k] * W[j][k]  (+ add[i][j])  (+ bias[j]) )
 *
 * for i < n_rows and the columns of panels [panel_begin, panel_end). W is
 * prepacked (elman_pack_panels) into panels of ELMAN_PANEL columns, so the
 * kernel streams it contiguously. Row pointers let the recurrence read
 * h_{t-1} from and write h_t to the output buffer directly, for whichever
 * sequences are running, in any order.
 *
 * Every element is computed the same way whatever the number of rows, their
 * order or the panel range: one multiply-add chain over k = 0..K-1, then
 * add, then bias, then the activation. So a sequence's result never depends
 * on the batch it runs in or on how work is split between threads.
 */
#ifndef ELMAN_KERNEL_H
#define ELMAN_KERNEL_H

#include <stddef.h>

#include "activation.h"

#define ELMAN_PANEL 16

typedef struct elman_gemm_args {
    int n_rows;
    int K;                    /* inner dimension */
    int N;                    /* valid columns */
    int panel_begin, panel_end;
    const float *const *a;    /* n_rows pointers to K floats */
    const float *w;           /* packed; panel p starts at w + p * K * ELMAN_PANEL */
    const float *const *add;  /* NULL, or n_rows pointers to N floats */
    const float *bias;        /* NULL, or N floats */
    float *const *out;        /* n_rows pointers to N floats */
    const elman_act *act;     /* clip and activation (act ELMAN_ACT_NONE: none) */
} elman_gemm_args;

/* The same for double. */
typedef struct elman_gemm_args_f64 {
    int n_rows, K, N, panel_begin, panel_end;
    const double *const *a;
    const double *w;
    const double *const *add;
    const double *bias;
    double *const *out;
    const elman_act *act;
} elman_gemm_args_f64;

typedef struct elman_kernels {
    const char *name;
    void (*gemm)(const elman_gemm_args *g);
    void (*gemm_f64)(const elman_gemm_args_f64 *g);
    void (*tanh)(float *v, size_t n); /* in place; tests compare paths */
} elman_kernels;

/* Number of panels for N columns. */
static inline int elman_num_panels(int N)
{
    return (N + ELMAN_PANEL - 1) / ELMAN_PANEL;
}

/* Floats of the packed form of an (N, K) matrix. */
static inline size_t elman_packed_size(int N, int K)
{
    return (size_t)elman_num_panels(N) * (size_t)K * ELMAN_PANEL;
}

/* Packs the row-major (N, K) matrix w (row j = output column j) into
 * dst[p][k][c] = w[p*ELMAN_PANEL + c][k], zero past N. */
void elman_pack_panels(float *dst, const float *w, int N, int K);
void elman_pack_panels_f64(double *dst, const double *w, int N, int K);

/* The portable double GEMM, which every kernel table uses. */
void elman_gemm_portable_f64(const elman_gemm_args_f64 *g);

extern const elman_kernels elman_kernels_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ELMAN_HAVE_AVX2_KERNELS 1
extern const elman_kernels elman_kernels_avx2;
#define ELMAN_HAVE_AVX512_KERNELS 1
extern const elman_kernels elman_kernels_avx512;
#endif

/* The best kernels this CPU runs, unless the environment variable
 * ELMAN_KERNELS names others ("portable", "avx2", "avx512") that it can
 * run. */
const elman_kernels *elman_select_kernels(void);
/* Whether k computes the input projection faster than OpenBLAS's sgemm,
 * so the forward pass keeps it off BLAS. */
int elman_kernels_project_faster(const elman_kernels *k);
/* The kernels called `name`, or NULL if unknown or not runnable here. */
const elman_kernels *elman_find_kernels(const char *name);


#endif /* ELMAN_KERNEL_H */
