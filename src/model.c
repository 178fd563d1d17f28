/* The model: configuration, weight storage and repacking. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "internal.h"
#include "kernels/kernel.h"
#include "team.h"

/* The fields of elman_config after struct_size, in order: what a caller's
 * struct of struct_size bytes holds is the fields that end inside it. */
#define FIELD(f) {offsetof(elman_config, f), sizeof(((elman_config *)0)->f)}
static const struct {
    size_t offset, size;
} FIELDS[] = {
    FIELD(input_size),       FIELD(hidden_size),     FIELD(num_layers),
    FIELD(nonlinearity),     FIELD(bias),            FIELD(batch_first),
    FIELD(bidirectional),    FIELD(num_threads),     FIELD(reverse),
    FIELD(activation_alpha), FIELD(activation_beta), FIELD(clip),
    FIELD(dtype),            FIELD(state_batch_first), FIELD(deterministic),
};
#undef FIELD
enum { NUM_FIELDS = sizeof(FIELDS) / sizeof(FIELDS[0]) };

/* Copies the fields that fit in struct_size bytes from src to dst. */
static void copy_fields(void *dst, const void *src, size_t struct_size)
{
    for (int i = 0; i < NUM_FIELDS && FIELDS[i].offset + FIELDS[i].size <= struct_size; i++)
        memcpy((char *)dst + FIELDS[i].offset, (const char *)src + FIELDS[i].offset,
               FIELDS[i].size);
}

static int size_accepted(size_t struct_size)
{
    return struct_size >= ELMAN_CONFIG_MIN_SIZE && struct_size <= sizeof(elman_config);
}

/* Every field at its default, struct_size the library's own. */
static elman_config defaults(void)
{
    elman_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.struct_size = sizeof(cfg);
    cfg.num_layers = 1;
    cfg.nonlinearity = ELMAN_TANH;
    cfg.bias = ELMAN_BIAS_BOTH;
    cfg.batch_first = 0;
    cfg.bidirectional = 0;
    cfg.num_threads = 1;
    cfg.reverse = 0;
    cfg.activation_alpha = NAN;
    cfg.activation_beta = NAN;
    cfg.clip = 0.0;
    cfg.dtype = ELMAN_FLOAT32;
    cfg.state_batch_first = 0;
    cfg.deterministic = 0;
    return cfg;
}

void elman_config_init_sized(elman_config *cfg, size_t struct_size)
{
    if (cfg == NULL || struct_size < sizeof(size_t))
        return;
    const elman_config def = defaults();
    /* padding included, so that two configurations compare equal as bytes */
    memset(cfg, 0, struct_size < sizeof(def) ? struct_size : sizeof(def));
    copy_fields(cfg, &def, struct_size);
    cfg->struct_size = struct_size;
}

/* The caller's configuration as far as its struct_size goes, the rest at
 * its defaults; 0 if struct_size is not accepted. */
static int read_config(const elman_config *in, elman_config *out)
{
    if (!size_accepted(in->struct_size))
        return 0;
    *out = defaults();
    copy_fields(out, in, in->struct_size);
    return 1;
}

static int is_flag(int v)
{
    return v == 0 || v == 1;
}

/* Whether the activation takes alpha (n = 1) or beta (n = 2). */
static int takes_param(int act, int n)
{
    const elman_activation_info *info = elman_activation_info_of(act);
    return info != NULL && info->params >= n;
}

static int check_config(const elman_config *cfg)
{
    if (cfg->input_size <= 0 || cfg->hidden_size <= 0 || cfg->num_layers <= 0 ||
        cfg->num_threads <= 0)
        return ELMAN_ERR_INVALID_SIZE;
    if (elman_activation_info_of(cfg->nonlinearity) == NULL)
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
        (!takes_param(cfg->nonlinearity, 1) || !isfinite(cfg->activation_alpha)))
        return ELMAN_ERR_INVALID_CONFIG;
    if (!isnan(cfg->activation_beta) &&
        (!takes_param(cfg->nonlinearity, 2) || !isfinite(cfg->activation_beta)))
        return ELMAN_ERR_INVALID_CONFIG;
    if (!(cfg->clip >= 0.0) || !isfinite(cfg->clip))
        return ELMAN_ERR_INVALID_CONFIG;
    /* D*H and I are BLAS dimensions and leading dimensions. */
    if (cfg->hidden_size > ELMAN_MAX_FEATURES || cfg->input_size > ELMAN_MAX_FEATURES)
        return ELMAN_ERR_SIZE_OVERFLOW;
    return ELMAN_OK;
}

/* Leading dimension of a layer's W_ih^T (internal.h): the panels of D*H
 * columns, made odd. */
static int w_ih_ld(int D, int H)
{
    const int P = elman_num_panels(D * H);
    return (P % 2 == 1 ? P : P + 1) * ELMAN_PANEL;
}

/* Elements of a layer's biases (D vectors of H), rounded up to whole
 * panels so that the next layer's W_ih^T starts on a 64-byte boundary as
 * this one's does. */
static size_t bias_floats(int D, int H)
{
    return (size_t)elman_num_panels(D * H) * ELMAN_PANEL;
}

/* Elements one layer needs: W_ih^T, W_hh packed per direction, and the
 * bias. Each part is whole panels (64 bytes of float, 128 of double). */
static int layer_floats(const elman_config *cfg, int in_size, int D, size_t *out)
{
    const int H = cfg->hidden_size;
    const size_t in = (size_t)in_size, pad = ELMAN_PANEL;
    size_t wih, rec, n;
    if (!elman_mul_size((size_t)w_ih_ld(D, H), in, &wih) ||
        !elman_mul_size((size_t)elman_num_panels(H) * pad * (size_t)D, (size_t)H, &rec) ||
        !elman_add_size(wih, rec, &n))
        return 0;
    if (cfg->bias != ELMAN_BIAS_NONE && !elman_add_size(n, bias_floats(D, H), &n))
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
    elman_config full;
    if (!read_config(cfg, &full))
        return ELMAN_ERR_INVALID_CONFIG;
    cfg = &full;
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
        !elman_add_size(total, first, &total) || !elman_mul_size(total, es, &bytes) ||
        !elman_round_up_size(bytes, ELMAN_WEIGHT_ALIGNMENT, &bytes)) /* aligned_alloc's rule */
        return ELMAN_ERR_SIZE_OVERFLOW;

    elman_rnn *rnn = calloc(1, sizeof(*rnn));
    if (rnn == NULL)
        return ELMAN_ERR_OUT_OF_MEMORY;
    rnn->cfg = *cfg;
    rnn->num_directions = D;
    rnn->elem_size = es;
    rnn->layers = calloc((size_t)L, sizeof(*rnn->layers));
    rnn->kernels = elman_select_kernels();
    /* float64 projections and those of kernels slower than BLAS may go to
     * BLAS (forward.c); the others never do */
    rnn->w_ih_blas = cfg->dtype == ELMAN_FLOAT64 || !elman_kernels_project_faster(rnn->kernels);
    /* Aligned: every part starts on a cache line, so no vector load of a
     * panel straddles two (from calloc, 16 bytes past one, the one-sequence
     * step ran 1.4x slower). Zeroed: W_ih^T's padding columns are read as
     * zero weights. */
    rnn->storage = aligned_alloc(ELMAN_WEIGHT_ALIGNMENT, bytes);
    if (rnn->layers == NULL || rnn->storage == NULL) {
        elman_rnn_free(rnn);
        return ELMAN_ERR_OUT_OF_MEMORY;
    }
    memset(rnn->storage, 0, bytes);
    /* the model's threads, and what splitting a step between them costs
     * here (forward.c); without a pool (no thread started) each call
     * starts its own and no step is split */
    rnn->pool = elman_pool_create(rnn->cfg.num_threads);
    rnn->barrier_ns = rnn->cfg.num_threads > 1 ? elman_pool_barrier_cost_ns(rnn->pool) : 0.0;
    const char *force = rnn->cfg.num_threads > 1 ? getenv("ELMAN_FORCE_THREADS") : NULL;
    rnn->force_threads = force != NULL && strcmp(force, "1") == 0;

    char *p = rnn->storage;
    for (int l = 0; l < L; l++) {
        elman_layer *ly = &rnn->layers[l];
        ly->in_size = l == 0 ? cfg->input_size : D * H;
        ly->w_ih = p;
        if (rnn->w_ih_blas) {
            ly->w_ih_pstride = ELMAN_PANEL;
            ly->w_ih_kstride = (size_t)w_ih_ld(D, H);
        } else {
            ly->w_ih_pstride = (size_t)ly->in_size * ELMAN_PANEL;
            ly->w_ih_kstride = ELMAN_PANEL;
        }
        /* room for the row-major layout, which is never smaller than the
         * packed one */
        p += (size_t)w_ih_ld(D, H) * (size_t)ly->in_size * es;
        for (int d = 0; d < D; d++) {
            ly->w_hh_packed[d] = p;
            p += elman_packed_size(H, H) * es;
        }
        for (int d = 0; d < D && cfg->bias != ELMAN_BIAS_NONE; d++)
            ly->bias[d] = p + (size_t)d * (size_t)H * es;
        if (cfg->bias != ELMAN_BIAS_NONE)
            p += bias_floats(D, H) * es;
    }
    *out = rnn;
    return ELMAN_OK;
}

void elman_rnn_free(elman_rnn *rnn)
{
    if (rnn == NULL)
        return;
    elman_pool_free(rnn->pool);
    free(rnn->storage);
    free(rnn->layers);
    free(rnn);
}

int elman_rnn_get_config(const elman_rnn *rnn, elman_config *cfg)
{
    if (rnn == NULL || cfg == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    if (!size_accepted(cfg->struct_size))
        return ELMAN_ERR_INVALID_CONFIG;
    copy_fields(cfg, &rnn->cfg, cfg->struct_size);
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

#define REAL float
#define SFX(name) name
#define DTYPE ELMAN_FLOAT32
#include "set_weights.inc"

#define REAL double
#define SFX(name) name##_f64
#define DTYPE ELMAN_FLOAT64
#include "set_weights.inc"
