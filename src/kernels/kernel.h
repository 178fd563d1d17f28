/*
 * Compute kernels: one portable implementation (the ground truth, any CPU)
 * and per-ISA implementations beside it, one file each in this folder,
 * listed in the registry (registry.c) and chosen at run time per model.
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
 * order or the panel range: the path's multiply-add chains over k (one over
 * k = 0..K-1 in the portable and AVX2 kernels; the even and the odd k,
 * added at the end, in the AVX-512 ones), then add, then bias, then the
 * activation. So a sequence's result never depends on the batch it runs in
 * or on how work is split between threads.
 *
 * A new instruction set: a file <isa>.c here defining
 * `const elman_kernels elman_kernels_<isa>`, one row in registry.c (with
 * its run-time check), one line in CMakeLists.txt (which compiles the file
 * with the ISA's flags and defines ELMAN_HAVE_KERNELS_<ISA> where it is
 * built).
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
    const float *w;           /* panel p, row k: w + p * w_pstride + k * w_kstride */
    const float *const *add;  /* NULL, or n_rows pointers to N floats */
    const float *bias;        /* NULL, or N floats */
    float *const *out;        /* n_rows pointers to N floats */
    const elman_act *act;     /* clip and activation (act ELMAN_ACT_NONE: none) */
    size_t w_pstride;         /* 0: K * ELMAN_PANEL (packed, elman_pack_panels) */
    size_t w_kstride;         /* 0: ELMAN_PANEL (packed); W^T row-major: its ld */
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
    size_t w_pstride, w_kstride; /* as for elman_gemm_args */
} elman_gemm_args_f64;

typedef struct elman_kernels {
    const char *name;
    void (*gemm)(const elman_gemm_args *g);
    void (*gemm_f64)(const elman_gemm_args_f64 *g);
    void (*tanh)(float *v, size_t n); /* in place; tests compare paths */
} elman_kernels;

/* The strides of g's W, with 0 read as the packed layout's. */
#define ELMAN_W_PSTRIDE(g) ((g)->w_pstride ? (g)->w_pstride : (size_t)(g)->K * ELMAN_PANEL)
#define ELMAN_W_KSTRIDE(g) ((g)->w_kstride ? (g)->w_kstride : (size_t)ELMAN_PANEL)

/* Number of panels for N columns. */
static inline int elman_num_panels(int N)
{
    return (N + ELMAN_PANEL - 1) / ELMAN_PANEL;
}

/* Elements of the packed form of an (N, K) matrix. */
static inline size_t elman_packed_size(int N, int K)
{
    return (size_t)elman_num_panels(N) * (size_t)K * ELMAN_PANEL;
}

/* Packs the row-major (N, K) matrix w (row j = output column j) into
 * dst[p][k][c] = w[p*ELMAN_PANEL + c][k], zero past N. */
void elman_pack_panels(float *dst, const float *w, int N, int K);
void elman_pack_panels_f64(double *dst, const double *w, int N, int K);

/* elman_finish_panel and elman_finish_panel_f64: the portable epilogue
 * of one panel (finish_panel.inc). */
#define REAL float
#define SFX(name) name
#define GEMM_ARGS elman_gemm_args
#define ACTIVATE elman_activate_f
#include "finish_panel.inc"
#define REAL double
#define SFX(name) name##_f64
#define GEMM_ARGS elman_gemm_args_f64
#define ACTIVATE elman_activate_d
#include "finish_panel.inc"

/* The portable GEMMs; every kernel table may use the double one. */
void elman_gemm_portable(const elman_gemm_args *g);
void elman_gemm_portable_f64(const elman_gemm_args_f64 *g);

/* The kernel tables, one per file of this folder. */
extern const elman_kernels elman_kernels_portable;
extern const elman_kernels elman_kernels_avx2;
extern const elman_kernels elman_kernels_avx512;

/* A row of the registry: a path built into this library, and whether this
 * CPU runs it. */
typedef struct elman_kernel_path {
    const char *name;
    const elman_kernels *kernels;
    int (*supported)(void);
    int project_faster; /* computes the input projection faster than
                           OpenBLAS's sgemm (measured), so the forward
                           pass keeps it off BLAS */
} elman_kernel_path;

/* The paths built into this library, best first; the last is "portable",
 * which every CPU runs. *count receives their number. */
const elman_kernel_path *elman_kernel_paths(int *count);

/* The first path of elman_kernel_paths() this CPU runs, unless the
 * environment variable ELMAN_KERNELS names another path this CPU runs; a
 * name that is unknown, not built or not runnable here is ignored. */
const elman_kernels *elman_select_kernels(void);

/* Whether k's row of the registry says it projects faster than BLAS. */
int elman_kernels_project_faster(const elman_kernels *k);

/* The kernels of the path called `name`, or NULL if it is unknown, not
 * built into this library or not runnable on this CPU. */
const elman_kernels *elman_find_kernels(const char *name);

#endif /* ELMAN_KERNEL_H */
