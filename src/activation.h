/*
 * Activations: the table every part of the library reads (ONNX name,
 * parameter count, default alpha/beta), and the scalar reference functions
 * with clip, for float and double. The portable kernels use the scalar
 * functions for everything, the vector kernels for the less common
 * activations. A new activation is one enum value in include/elman.h, one
 * row in activation.c and one case in each elman_activate_* below.
 */
#ifndef ELMAN_ACTIVATION_H
#define ELMAN_ACTIVATION_H

#include <math.h>

#include "elman.h"

/* One activation: its ONNX spelling, how many of alpha/beta it takes (0,
 * 1 = alpha, 2 = alpha and beta) and their ONNX defaults. */
typedef struct elman_activation_info {
    const char *name;
    int params;
    double alpha, beta;
} elman_activation_info;

/* The row of act, or NULL if act is not an elman_nonlinearity. */
const elman_activation_info *elman_activation_info_of(int act);

/* Parameters of the epilogue: act is an elman_nonlinearity or
 * ELMAN_ACT_NONE (the projection); clip 0 means none. */
typedef struct elman_act {
    int act;
    double alpha, beta, clip;
} elman_act;

enum { ELMAN_ACT_NONE = -1 };

/* The epilogue of a checked configuration: NAN alpha/beta replaced by the
 * activation's ONNX default. */
void elman_act_from_config(const elman_config *cfg, elman_act *out);

/* tanh for float, the approximation every kernel path computes (the vector
 * paths lane by lane): constants and error bound in tanh_coeffs.h. */
float elman_tanh_portable(float x);

/* Clamp that keeps NaN. */
static inline double elman_clip_d(double v, double c)
{
    return v > c ? c : (v < -c ? -c : v);
}

static inline float elman_activate_f(const elman_act *a, float v)
{
    const float alpha = (float)a->alpha, beta = (float)a->beta;
    if (a->clip > 0)
        v = (float)elman_clip_d(v, a->clip);
    switch (a->act) {
    case ELMAN_TANH: return elman_tanh_portable(v);
    case ELMAN_RELU: return v < 0.0f ? 0.0f : v; /* NaN passes through, as in PyTorch */
    case ELMAN_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case ELMAN_AFFINE: return alpha * v + beta;
    case ELMAN_LEAKY_RELU: return v < 0.0f ? alpha * v : v;
    case ELMAN_THRESHOLDED_RELU: return v > alpha ? v : (v != v ? v : 0.0f);
    case ELMAN_SCALED_TANH: return alpha * elman_tanh_portable(beta * v);
    case ELMAN_HARD_SIGMOID: {
        const float y = alpha * v + beta;
        return y > 1.0f ? 1.0f : (y < 0.0f ? 0.0f : y);
    }
    case ELMAN_ELU: return v < 0.0f ? alpha * expm1f(v) : v;
    case ELMAN_SOFTSIGN: return v / (1.0f + fabsf(v));
    case ELMAN_SOFTPLUS: return v > 20.0f ? v : log1pf(expf(v));
    default: return v;
    }
}

static inline double elman_activate_d(const elman_act *a, double v)
{
    const double alpha = a->alpha, beta = a->beta;
    if (a->clip > 0)
        v = elman_clip_d(v, a->clip);
    switch (a->act) {
    case ELMAN_TANH: return tanh(v);
    case ELMAN_RELU: return v < 0.0 ? 0.0 : v;
    case ELMAN_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case ELMAN_AFFINE: return alpha * v + beta;
    case ELMAN_LEAKY_RELU: return v < 0.0 ? alpha * v : v;
    case ELMAN_THRESHOLDED_RELU: return v > alpha ? v : (v != v ? v : 0.0);
    case ELMAN_SCALED_TANH: return alpha * tanh(beta * v);
    case ELMAN_HARD_SIGMOID: {
        const double y = alpha * v + beta;
        return y > 1.0 ? 1.0 : (y < 0.0 ? 0.0 : y);
    }
    case ELMAN_ELU: return v < 0.0 ? alpha * expm1(v) : v;
    case ELMAN_SOFTSIGN: return v / (1.0 + fabs(v));
    case ELMAN_SOFTPLUS: return v > 40.0 ? v : log1p(exp(v));
    default: return v;
    }
}

#endif /* ELMAN_ACTIVATION_H */
