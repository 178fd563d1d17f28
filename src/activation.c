/* The activation table, its public lookups, and the float tanh. */
#include "activation.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tanh_coeffs.h"

/* Indexed by elman_nonlinearity. Defaults are ONNX's; an activation
 * without a parameter has 0 there (never read). */
static const elman_activation_info TABLE[] = {
    [ELMAN_TANH] = {"Tanh", 0, 0.0, 0.0},
    [ELMAN_RELU] = {"Relu", 0, 0.0, 0.0},
    [ELMAN_SIGMOID] = {"Sigmoid", 0, 0.0, 0.0},
    [ELMAN_AFFINE] = {"Affine", 2, 1.0, 0.0},
    [ELMAN_LEAKY_RELU] = {"LeakyRelu", 1, 0.01, 0.0},
    [ELMAN_THRESHOLDED_RELU] = {"ThresholdedRelu", 1, 1.0, 0.0},
    [ELMAN_SCALED_TANH] = {"ScaledTanh", 2, 1.0, 1.0},
    [ELMAN_HARD_SIGMOID] = {"HardSigmoid", 2, 0.2, 0.5},
    [ELMAN_ELU] = {"Elu", 1, 1.0, 0.0},
    [ELMAN_SOFTSIGN] = {"Softsign", 0, 0.0, 0.0},
    [ELMAN_SOFTPLUS] = {"Softplus", 0, 0.0, 0.0},
};
enum { NUM_ACTIVATIONS = sizeof(TABLE) / sizeof(TABLE[0]) };

const elman_activation_info *elman_activation_info_of(int act)
{
    return act >= 0 && act < NUM_ACTIVATIONS ? &TABLE[act] : NULL;
}

/* ASCII case-insensitive equality: names must not depend on the locale. */
static int same_name(const char *a, const char *b)
{
    for (;; a++, b++) {
        const unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
        const int la = ca >= 'A' && ca <= 'Z' ? ca + ('a' - 'A') : ca;
        const int lb = cb >= 'A' && cb <= 'Z' ? cb + ('a' - 'A') : cb;
        if (la != lb)
            return 0;
        if (la == 0)
            return 1;
    }
}

int elman_activation_from_name(const char *name, int *act)
{
    if (name == NULL || act == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    for (int i = 0; i < NUM_ACTIVATIONS; i++)
        if (same_name(name, TABLE[i].name)) {
            *act = i;
            return ELMAN_OK;
        }
    return ELMAN_ERR_INVALID_CONFIG;
}

const char *elman_activation_name(int act)
{
    const elman_activation_info *info = elman_activation_info_of(act);
    return info != NULL ? info->name : NULL;
}

int elman_activation_params(int act)
{
    const elman_activation_info *info = elman_activation_info_of(act);
    return info != NULL ? info->params : -1;
}

void elman_act_from_config(const elman_config *cfg, elman_act *out)
{
    const elman_activation_info *info = elman_activation_info_of(cfg->nonlinearity);
    const double alpha = info != NULL ? info->alpha : 0.0;
    const double beta = info != NULL ? info->beta : 0.0;
    out->act = cfg->nonlinearity;
    out->alpha = isnan(cfg->activation_alpha) ? alpha : cfg->activation_alpha;
    out->beta = isnan(cfg->activation_beta) ? beta : cfg->activation_beta;
    out->clip = cfg->clip;
}

float elman_tanh_portable(float x)
{
    if (x != x)
        return x;
    const float ax = fabsf(x);
    float r;
    if (ax < ELMAN_TANH_SMALL) {
        const float z = ax * ax;
        float q = ELMAN_TANH_Q4;
        q = q * z + ELMAN_TANH_Q3;
        q = q * z + ELMAN_TANH_Q2;
        q = q * z + ELMAN_TANH_Q1;
        q = q * z + ELMAN_TANH_Q0;
        r = ax + (ax * z) * q;
    } else {
        /* 1 - 2 / (exp(2|x|) + 1), exp by Cody-Waite reduction */
        const float y = fminf(2.0f * ax, ELMAN_TANH_YMAX);
        const int ni = (int)(y * ELMAN_LOG2E + 0.5f); /* y >= 0: round to nearest */
        const float n = (float)ni;
        float f = y - n * ELMAN_LN2_HI;
        f = f - n * ELMAN_LN2_LO;
        float p = ELMAN_EXP_P0;
        p = p * f + ELMAN_EXP_P1;
        p = p * f + ELMAN_EXP_P2;
        p = p * f + ELMAN_EXP_P3;
        p = p * f + ELMAN_EXP_P4;
        p = p * f + ELMAN_EXP_P5;
        float e = p * (f * f) + (f + 1.0f);
        const uint32_t bits = (uint32_t)(ni + 127) << 23; /* 2^n, 0 <= n <= 29 */
        float scale;
        memcpy(&scale, &bits, sizeof(scale));
        e *= scale;
        r = 1.0f - 2.0f / (e + 1.0f);
    }
    return copysignf(r, x);
}
