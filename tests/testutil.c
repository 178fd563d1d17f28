#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long compare_one(const char *what, size_t i, double got, double want)
{
    double tol = TEST_ATOL + TEST_RTOL * fabs(want);
    if (isfinite(got) && isfinite(want) && fabs(got - want) <= tol)
        return -1;
    fprintf(stderr, "%s: element %zu is %.9g, expected %.9g (tolerance %.3g)\n", what, i, got,
            want, tol);
    return (long)i;
}

long tu_compare(const char *what, const float *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (compare_one(what, i, got[i], want[i]) >= 0)
            return (long)i;
    return -1;
}

long tu_compare_d(const char *what, const double *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const double tol = TEST_F64_TOL * (1 + fabs(want[i]));
        if (!(isfinite(got[i]) && isfinite(want[i]) && fabs(got[i] - want[i]) <= tol)) {
            fprintf(stderr, "%s: element %zu is %.17g, expected %.17g (tolerance %.3g)\n", what,
                    i, got[i], want[i], tol);
            return (long)i;
        }
    }
    return -1;
}

long tu_compare_f(const char *what, const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (compare_one(what, i, got[i], want[i]) >= 0)
            return (long)i;
    return -1;
}

void tu_seed(tu_rng *r, uint64_t seed)
{
    r->s = seed * 2685821657736338717ULL + 0x9E3779B97F4A7C15ULL;
    if (r->s == 0)
        r->s = 1;
}

static uint64_t next(tu_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

float tu_uniform(tu_rng *r, float lo, float hi)
{
    double u = (double)(next(r) >> 11) / 9007199254740992.0;
    return (float)(lo + (hi - lo) * u);
}

int tu_int(tu_rng *r, int lo, int hi)
{
    return lo + (int)(next(r) % (uint64_t)(hi - lo + 1));
}

float *tu_random(tu_rng *r, size_t n, float bound)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (p == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        p[i] = tu_uniform(r, -bound, bound);
    return p;
}

void tu_model_random(tu_model *m, const elman_config *cfg, tu_rng *r)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    m->D = cfg->bidirectional ? 2 : 1;
    const size_t H = (size_t)cfg->hidden_size;
    const float bound = 1.0f / sqrtf((float)H);
    for (int l = 0; l < cfg->num_layers; l++)
        for (int d = 0; d < m->D; d++) {
            int k = l * m->D + d;
            size_t in = l == 0 ? (size_t)cfg->input_size : (size_t)m->D * H;
            m->w_ih[k] = tu_random(r, H * in, bound);
            m->w_hh[k] = tu_random(r, H * H, bound);
            if (cfg->bias != ELMAN_BIAS_NONE)
                m->b_ih[k] = tu_random(r, H, bound);
            if (cfg->bias == ELMAN_BIAS_BOTH)
                m->b_hh[k] = tu_random(r, H, bound);
        }
}

void tu_model_free(tu_model *m)
{
    for (int k = 0; k < 16; k++) {
        free(m->w_ih[k]);
        free(m->w_hh[k]);
        free(m->b_ih[k]);
        free(m->b_hh[k]);
    }
    memset(m, 0, sizeof(*m));
}

elman_rnn *tu_model_build(const tu_model *m)
{
    elman_rnn *rnn = NULL;
    int rc = elman_rnn_create(&m->cfg, &rnn);
    if (rc != ELMAN_OK) {
        fprintf(stderr, "elman_rnn_create: %s\n", elman_strerror(rc));
        abort();
    }
    for (int l = 0; l < m->cfg.num_layers; l++)
        for (int d = 0; d < m->D; d++) {
            int k = l * m->D + d;
            rc = elman_rnn_set_weights(rnn, l, d, m->w_ih[k], m->w_hh[k], m->b_ih[k],
                                       m->b_hh[k]);
            if (rc != ELMAN_OK) {
                fprintf(stderr, "elman_rnn_set_weights: %s\n", elman_strerror(rc));
                abort();
            }
        }
    return rnn;
}

static double *widen(const float *p, size_t n);

elman_rnn *tu_model_build_f64(const tu_model *m, int nt)
{
    elman_config cfg = m->cfg;
    cfg.dtype = ELMAN_FLOAT64;
    cfg.num_threads = nt;
    elman_rnn *rnn = NULL;
    int rc = elman_rnn_create(&cfg, &rnn);
    const size_t H = (size_t)cfg.hidden_size;
    for (int l = 0; rc == ELMAN_OK && l < cfg.num_layers; l++)
        for (int d = 0; rc == ELMAN_OK && d < m->D; d++) {
            const int k = l * m->D + d;
            const size_t in = l == 0 ? (size_t)cfg.input_size : (size_t)m->D * H;
            double *w_ih = widen(m->w_ih[k], H * in), *w_hh = widen(m->w_hh[k], H * H);
            double *b_ih = widen(m->b_ih[k], H), *b_hh = widen(m->b_hh[k], H);
            rc = elman_rnn_set_weights_f64(rnn, l, d, w_ih, w_hh, b_ih, b_hh);
            free(w_ih);
            free(w_hh);
            free(b_ih);
            free(b_hh);
        }
    if (rc != ELMAN_OK) {
        fprintf(stderr, "float64 model: %s\n", elman_strerror(rc));
        abort();
    }
    return rnn;
}

size_t tu_elems_x(const elman_config *cfg, int B, int T)
{
    return (size_t)B * (size_t)T * (size_t)cfg->input_size;
}

size_t tu_elems_out(const elman_config *cfg, int B, int T)
{
    return (size_t)B * (size_t)T * (size_t)(cfg->bidirectional ? 2 : 1) *
           (size_t)cfg->hidden_size;
}

size_t tu_elems_state(const elman_config *cfg, int B)
{
    return (size_t)cfg->num_layers * (size_t)(cfg->bidirectional ? 2 : 1) * (size_t)B *
           (size_t)cfg->hidden_size;
}

/* An activation straight from its definition (nn.RNN's and ONNX's). */
static double ref_activate(const elman_config *cfg, double v)
{
    const int act = cfg->nonlinearity;
    double alpha = cfg->activation_alpha, beta = cfg->activation_beta;
    if (isnan(alpha))
        alpha = act == ELMAN_LEAKY_RELU ? 0.01 : act == ELMAN_HARD_SIGMOID ? 0.2 : 1.0;
    if (isnan(beta))
        beta = act == ELMAN_HARD_SIGMOID ? 0.5 : act == ELMAN_SCALED_TANH ? 1.0 : 0.0;
    if (cfg->clip > 0)
        v = fmin(fmax(v, -cfg->clip), cfg->clip);
    switch (act) {
    case ELMAN_TANH: return tanh(v);
    case ELMAN_RELU: return v > 0 ? v : 0;
    case ELMAN_SIGMOID: return 1 / (1 + exp(-v));
    case ELMAN_AFFINE: return alpha * v + beta;
    case ELMAN_LEAKY_RELU: return v >= 0 ? v : alpha * v;
    case ELMAN_THRESHOLDED_RELU: return v > alpha ? v : 0;
    case ELMAN_SCALED_TANH: return alpha * tanh(beta * v);
    case ELMAN_HARD_SIGMOID: return fmax(0, fmin(1, alpha * v + beta));
    case ELMAN_ELU: return v >= 0 ? v : alpha * (exp(v) - 1);
    case ELMAN_SOFTSIGN: return v / (1 + fabs(v));
    case ELMAN_SOFTPLUS: return log(1 + exp(v));
    default: abort();
    }
}

void tu_reference_d(const elman_config *cfg, const double *const *w_ih, const double *const *w_hh,
                    const double *const *b_ih, const double *const *b_hh, int B, int T,
                    const double *x, const int *lengths, const double *h0, double *output,
                    double *h_n)
{
    const int D = cfg->bidirectional ? 2 : 1, H = cfg->hidden_size, L = cfg->num_layers;
    const int DH = D * H, LD = L * D;
    /* layer input and output, (B, T, width) */
    double *in = calloc((size_t)B * T * (size_t)(cfg->input_size > DH ? cfg->input_size : DH),
                        sizeof(double));
    double *out = calloc((size_t)B * T * DH, sizeof(double));
    double *h = malloc((size_t)H * sizeof(double)), *hn = malloc((size_t)H * sizeof(double));
    if (!in || !out || !h || !hn)
        abort();
    int in_size = cfg->input_size;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int i = 0; i < in_size; i++) {
                size_t src = cfg->batch_first ? ((size_t)b * T + t) : ((size_t)t * B + b);
                in[((size_t)b * T + t) * in_size + i] = x[src * in_size + i];
            }
    for (int l = 0; l < L; l++) {
        memset(out, 0, (size_t)B * T * DH * sizeof(double));
        for (int d = 0; d < D; d++) {
            const int k = l * D + d;
            const int back = d == 1 || cfg->reverse;
            for (int b = 0; b < B; b++) {
                const int n = lengths ? lengths[b] : T;
                const size_t st = cfg->state_batch_first ? ((size_t)b * LD + k) * H
                                                         : ((size_t)k * B + b) * H;
                for (int j = 0; j < H; j++)
                    h[j] = h0 ? h0[st + j] : 0.0;
                for (int s = 0; s < n; s++) {
                    const int t = back ? n - 1 - s : s;
                    const double *xt = in + ((size_t)b * T + t) * in_size;
                    for (int j = 0; j < H; j++) {
                        double v = 0.0;
                        for (int i = 0; i < in_size; i++)
                            v += w_ih[k][(size_t)j * in_size + i] * xt[i];
                        for (int i = 0; i < H; i++)
                            v += w_hh[k][(size_t)j * H + i] * h[i];
                        if (cfg->bias != ELMAN_BIAS_NONE)
                            v += b_ih[k][j];
                        if (cfg->bias == ELMAN_BIAS_BOTH)
                            v += b_hh[k][j];
                        hn[j] = ref_activate(cfg, v);
                    }
                    memcpy(h, hn, (size_t)H * sizeof(double));
                    memcpy(out + ((size_t)b * T + t) * DH + (size_t)d * H, h,
                           (size_t)H * sizeof(double));
                }
                if (h_n)
                    memcpy(h_n + st, h, (size_t)H * sizeof(double));
            }
        }
        in_size = DH;
        memcpy(in, out, (size_t)B * T * DH * sizeof(double));
    }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t dst = cfg->batch_first ? ((size_t)b * T + t) : ((size_t)t * B + b);
            memcpy(output + dst * DH, out + ((size_t)b * T + t) * DH, (size_t)DH * sizeof(double));
        }
    free(in);
    free(out);
    free(h);
    free(hn);
}

static double *widen(const float *p, size_t n)
{
    if (p == NULL)
        return NULL;
    double *d = malloc((n ? n : 1) * sizeof(double));
    if (d == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        d[i] = p[i];
    return d;
}

void tu_reference(const elman_config *cfg, const float *const *w_ih, const float *const *w_hh,
                  const float *const *b_ih, const float *const *b_hh, int B, int T,
                  const float *x, const int *lengths, const float *h0, double *output,
                  double *h_n)
{
    const int D = cfg->bidirectional ? 2 : 1, H = cfg->hidden_size;
    double *wi[16] = {0}, *wh[16] = {0}, *bi[16] = {0}, *bh[16] = {0};
    for (int l = 0; l < cfg->num_layers; l++)
        for (int d = 0; d < D; d++) {
            const int k = l * D + d;
            const size_t in = l == 0 ? (size_t)cfg->input_size : (size_t)D * H;
            wi[k] = widen(w_ih[k], (size_t)H * in);
            wh[k] = widen(w_hh[k], (size_t)H * H);
            bi[k] = cfg->bias != ELMAN_BIAS_NONE ? widen(b_ih[k], (size_t)H) : NULL;
            bh[k] = cfg->bias == ELMAN_BIAS_BOTH ? widen(b_hh[k], (size_t)H) : NULL;
        }
    double *xd = widen(x, tu_elems_x(cfg, B, T));
    double *h0d = widen(h0, tu_elems_state(cfg, B));
    tu_reference_d(cfg, (const double *const *)wi, (const double *const *)wh,
                   (const double *const *)bi, (const double *const *)bh, B, T, xd, lengths, h0d,
                   output, h_n);
    for (int k = 0; k < 16; k++) {
        free(wi[k]);
        free(wh[k]);
        free(bi[k]);
        free(bh[k]);
    }
    free(xd);
    free(h0d);
}
