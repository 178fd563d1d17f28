/* The model: configuration, weight storage and repacking. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernel.h"
#include "team.h"

void elman_config_init(elman_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->num_layers = 1;
    cfg->nonlinearity = ELMAN_TANH;
    cfg->bias = ELMAN_BIAS_BOTH;
    cfg->batch_first = 0;
    cfg->bidirectional = 0;
    cfg->num_threads = 1;
    cfg->reverse = 0;
    cfg->activation_alpha = NAN;
    cfg->activation_beta = NAN;
    cfg->clip = 0.0;
    cfg->dtype = ELMAN_FLOAT32;
    cfg->state_batch_first = 0;
    cfg->deterministic = 0;
}

static int is_flag(int v)
{
    return v == 0 || v == 1;
}

/* Whether the activation takes alpha / beta (ONNX). */
static int takes_alpha(int act)
{
    return act == ELMAN_AFFINE || act == ELMAN_LEAKY_RELU || act == ELMAN_THRESHOLDED_RELU ||
           act == ELMAN_SCALED_TANH || act == ELMAN_HARD_SIGMOID || act == ELMAN_ELU;
}

static int takes_beta(int act)
{
    return act == ELMAN_AFFINE || act == ELMAN_SCALED_TANH || act == ELMAN_HARD_SIGMOID;
}

static int check_config(const elman_config *cfg)
{
    if (cfg->input_size <= 0 || cfg->hidden_size <= 0 || cfg->num_layers <= 0 ||
        cfg->num_threads <= 0)
        return ELMAN_ERR_INVALID_SIZE;
    if (cfg->nonlinearity < ELMAN_TANH || cfg->nonlinearity > ELMAN_SOFTPLUS)
        return ELMAN_ERR_INVALID_CONFIG;
    if (cfg->bias != ELMAN_BIAS_NONE && cfg->bias != ELMAN_BIAS_BOTH &&
        cfg->bias != ELMAN_BIAS_SINGLE)
        return ELMAN_ERR_INVALID_CONFIG;
    if (!is_flag(cfg->batch_first) || !is_flag(cfg->bidirectional) || !is_flag(cfg->reverse) ||
        !is_flag(cfg->state_batch_first) || !is_flag(cfg->deterministic) ||
        (cfg->dtype != ELMAN_FLOAT32 && cfg->dtype != ELMAN_FLOAT64))
        return ELMAN_ERR_INVALID_CONFIG;
    if (cfg->reverse && cfg->bidirectional)
        return ELMAN_ERR_INVALID_CONFIG;
    /* alpha/beta: NAN for the default; a value only where the activation
     * has the parameter */
    if (!isnan(cfg->activation_alpha) &&
        (!takes_alpha(cfg->nonlinearity) || !isfinite(cfg->activation_alpha)))
        return ELMAN_ERR_INVALID_CONFIG;
    if (!isnan(cfg->activation_beta) &&
        (!takes_beta(cfg->nonlinearity) || !isfinite(cfg->activation_beta)))
        return ELMAN_ERR_INVALID_CONFIG;
    if (!(cfg->clip >= 0.0) || !isfinite(cfg->clip))
        return ELMAN_ERR_INVALID_CONFIG;
    /* D*H and I are BLAS dimensions and leading dimensions. */
    if (cfg->hidden_size > ELMAN_MAX_FEATURES || cfg->input_size > ELMAN_MAX_FEATURES)
        return ELMAN_ERR_SIZE_OVERFLOW;
    return ELMAN_OK;
}

/* Floats one layer needs: W_ih raw and packed, W_hh packed per direction,
 * and the bias. */
static int layer_floats(const elman_config *cfg, int in_size, int D, size_t *out)
{
    const int H = cfg->hidden_size;
    const size_t dh = (size_t)D * (size_t)H;
    const size_t in = (size_t)in_size, pad = ELMAN_PANEL;
    size_t raw, packed, rec, n;
    if (!elman_mul_size(dh, in, &raw) ||
        !elman_mul_size((size_t)elman_num_panels(D * H) * pad, in, &packed) ||
        !elman_mul_size((size_t)elman_num_panels(H) * pad * (size_t)D, (size_t)H, &rec) ||
        !elman_add_size(raw, packed, &n) || !elman_add_size(n, rec, &n))
        return 0;
    if (cfg->bias != ELMAN_BIAS_NONE && !elman_add_size(n, dh, &n))
        return 0;
    *out = n;
    return 1;
}

int elman_rnn_create(const elman_config *cfg, elman_rnn **out)
{
    if (out != NULL)
        *out = NULL;
    if (cfg == NULL || out == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    int rc = check_config(cfg);
    if (rc != ELMAN_OK)
        return rc;

    const int D = cfg->bidirectional ? 2 : 1;
    const int H = cfg->hidden_size;
    const int L = cfg->num_layers;
    /* Layer 0 reads input_size features, every layer above D*H. */
    const size_t es = cfg->dtype == ELMAN_FLOAT64 ? sizeof(double) : sizeof(float);
    size_t first, upper, total, bytes;
    if (!layer_floats(cfg, cfg->input_size, D, &first) || !layer_floats(cfg, D * H, D, &upper) ||
        !elman_mul_size(upper, (size_t)(L - 1), &total) ||
        !elman_add_size(total, first, &total) || !elman_mul_size(total, es, &bytes))
        return ELMAN_ERR_SIZE_OVERFLOW;

    elman_rnn *rnn = calloc(1, sizeof(*rnn));
    if (rnn == NULL)
        return ELMAN_ERR_OUT_OF_MEMORY;
    rnn->cfg = *cfg;
    rnn->num_directions = D;
    rnn->elem_size = es;
    rnn->layers = calloc((size_t)L, sizeof(*rnn->layers));
    rnn->kernels = elman_select_kernels();
    const char *force = getenv("ELMAN_FORCE_THREADS");
    rnn->force_threads = force != NULL && strcmp(force, "1") == 0;
    /* what splitting a step between threads costs here (forward.c) */
    rnn->barrier_ns = cfg->num_threads > 1 ? elman_barrier_cost_ns() : 0.0;
    /* zeroed: the packed W_ih of a layer is repacked from both directions'
     * rows whenever one is set */
    rnn->storage = calloc(total, es);
    if (rnn->layers == NULL || rnn->storage == NULL) {
        elman_rnn_free(rnn);
        return ELMAN_ERR_OUT_OF_MEMORY;
    }

    char *p = rnn->storage;
    for (int l = 0; l < L; l++) {
        elman_layer *ly = &rnn->layers[l];
        ly->in_size = l == 0 ? cfg->input_size : D * H;
        ly->w_ih = p;
        p += (size_t)D * (size_t)H * (size_t)ly->in_size * es;
        ly->w_ih_packed = p;
        p += elman_packed_size(D * H, ly->in_size) * es;
        for (int d = 0; d < D; d++) {
            ly->w_hh_packed[d] = p;
            p += elman_packed_size(H, H) * es;
        }
        for (int d = 0; d < D && cfg->bias != ELMAN_BIAS_NONE; d++) {
            ly->bias[d] = p;
            p += (size_t)H * es;
        }
    }
    *out = rnn;
    return ELMAN_OK;
}

void elman_rnn_free(elman_rnn *rnn)
{
    if (rnn == NULL)
        return;
    free(rnn->storage);
    free(rnn->layers);
    free(rnn);
}

int elman_rnn_get_config(const elman_rnn *rnn, elman_config *cfg)
{
    if (rnn == NULL || cfg == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    *cfg = rnn->cfg;
    return ELMAN_OK;
}

/* Checks shared by both element types. */
static int check_weights(const elman_rnn *rnn, int dtype, int layer, int direction,
                         const void *w_ih, const void *w_hh, const void *b_ih, const void *b_hh)
{
    if (rnn == NULL || w_ih == NULL || w_hh == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    if (rnn->cfg.dtype != dtype)
        return ELMAN_ERR_INVALID_CONFIG;
    if (layer < 0 || layer >= rnn->cfg.num_layers || direction < 0 ||
        direction >= rnn->num_directions)
        return ELMAN_ERR_INVALID_INDEX;
    switch (rnn->cfg.bias) {
    case ELMAN_BIAS_NONE:
        return b_ih == NULL && b_hh == NULL ? ELMAN_OK : ELMAN_ERR_BIAS_MISMATCH;
    case ELMAN_BIAS_SINGLE:
        return b_ih != NULL && b_hh == NULL ? ELMAN_OK : ELMAN_ERR_BIAS_MISMATCH;
    default:
        return b_ih != NULL && b_hh != NULL ? ELMAN_OK : ELMAN_ERR_BIAS_MISMATCH;
    }
}

#define DEFINE_SET_WEIGHTS(NAME, REAL, DTYPE, PACK)                                               \
    int NAME(elman_rnn *rnn, int layer, int direction, const REAL *w_ih, const REAL *w_hh,       \
             const REAL *b_ih, const REAL *b_hh)                                                \
    {                                                                                            \
        int rc = check_weights(rnn, DTYPE, layer, direction, w_ih, w_hh, b_ih, b_hh);            \
        if (rc != ELMAN_OK)                                                                      \
            return rc;                                                                           \
        elman_layer *ly = &rnn->layers[layer];                                                   \
        const size_t H = (size_t)rnn->cfg.hidden_size, in = (size_t)ly->in_size;                 \
        REAL *raw = ly->w_ih;                                                                    \
        memcpy(raw + (size_t)direction * H * in, w_ih, H * in * sizeof(REAL));                   \
        PACK(ly->w_ih_packed, raw, rnn->num_directions * (int)H, (int)in);                       \
        PACK(ly->w_hh_packed[direction], w_hh, (int)H, (int)H);                                  \
        REAL *bias = ly->bias[direction];                                                        \
        for (size_t j = 0; bias != NULL && j < H; j++)                                           \
            bias[j] = b_hh != NULL ? b_ih[j] + b_hh[j] : b_ih[j];                                \
        ly->is_set[direction] = 1;                                                               \
        return ELMAN_OK;                                                                         \
    }

DEFINE_SET_WEIGHTS(elman_rnn_set_weights, float, ELMAN_FLOAT32, elman_pack_panels)
DEFINE_SET_WEIGHTS(elman_rnn_set_weights_f64, double, ELMAN_FLOAT64, elman_pack_panels_f64)
