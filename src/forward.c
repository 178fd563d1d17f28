/*
 * The forward pass.
 *
 * Per layer: one GEMM computes W_ih x_t for every time step and both
 * directions (the input projection does not depend on h, so it leaves the
 * time loop). The time loop then computes W_hh h_{t-1} for the sequences
 * still running and applies bias and nonlinearity.
 *
 * Sequences are processed in order of decreasing length (a stable counting
 * sort, as pack_padded_sequence does), so at step s the running sequences
 * are always the first n_s of that order and their states form one dense
 * (n_s, H) matrix. For the backward direction, step s of sequence b is
 * time lengths[b]-1-s: each sequence starts at its own last valid step.
 *
 * Every layer writes its hidden states into the caller's output buffer: the
 * next layer's input GEMM consumes the whole buffer before its time loop
 * overwrites it, so no layer needs a buffer of its own.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"

#define ALIGN ((size_t)ELMAN_WORKSPACE_ALIGNMENT)

/* Byte layout of the workspace; all offsets are multiples of ALIGN. */
typedef struct ws_layout {
    size_t proj;   /* float (B*T, D*H): input projections of one layer */
    size_t state;  /* float (D, B, H): running states, in length order */
    size_t gemm;   /* float (B, H): W_hh h of one direction */
    size_t order;  /* int (B): batch index of the i-th longest sequence */
    size_t len;    /* int (B): its length */
    size_t count;  /* int (T+1): counting-sort buckets */
    size_t total;
} ws_layout;

static int round_up(size_t n, size_t *out)
{
    if (!elman_add_size(n, ALIGN - 1, &n))
        return 0;
    *out = n / ALIGN * ALIGN;
    return 1;
}

/* Adds a block of n elements of elem bytes at the end of the layout. */
static int push_block(size_t *total, size_t *offset, size_t n, size_t elem)
{
    size_t bytes;
    if (!elman_mul_size(n, elem, &bytes) || !round_up(bytes, &bytes))
        return 0;
    *offset = *total;
    return elman_add_size(*total, bytes, total);
}

static int plan_workspace(const elman_rnn *rnn, int batch, int seq_len, ws_layout *ws)
{
    const size_t B = (size_t)batch, T = (size_t)seq_len;
    const size_t DH = (size_t)rnn->num_directions * (size_t)rnn->cfg.hidden_size;
    const size_t H = (size_t)rnn->cfg.hidden_size;
    size_t bt, n;
    memset(ws, 0, sizeof(*ws));
    return elman_mul_size(B, T, &bt) && elman_mul_size(bt, DH, &n) &&
           push_block(&ws->total, &ws->proj, n, sizeof(float)) &&
           elman_mul_size(B, DH, &n) && push_block(&ws->total, &ws->state, n, sizeof(float)) &&
           elman_mul_size(B, H, &n) && push_block(&ws->total, &ws->gemm, n, sizeof(float)) &&
           push_block(&ws->total, &ws->order, B, sizeof(int)) &&
           push_block(&ws->total, &ws->len, B, sizeof(int)) &&
           push_block(&ws->total, &ws->count, T + 1, sizeof(int));
}

size_t elman_rnn_workspace_size(const elman_rnn *rnn, int batch, int seq_len)
{
    ws_layout ws;
    if (rnn == NULL || batch <= 0 || seq_len <= 0 || !plan_workspace(rnn, batch, seq_len, &ws))
        return 0;
    return ws.total;
}

/* Whether [a, a+na) and [b, b+nb) (in floats) share any byte. */
static int overlaps(const float *a, size_t na, const float *b, size_t nb)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + nb * sizeof(float) && pb < pa + na * sizeof(float);
}

static int check_args(const elman_rnn *rnn, int batch, int seq_len, const float *x,
                      const int *lengths, const float *h0, const float *output,
                      const float *h_n)
{
    if (rnn == NULL || x == NULL || output == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    if (batch <= 0 || seq_len <= 0)
        return ELMAN_ERR_INVALID_SIZE;
    for (int l = 0; l < rnn->cfg.num_layers; l++)
        for (int d = 0; d < rnn->num_directions; d++)
            if (!rnn->layers[l].is_set[d])
                return ELMAN_ERR_WEIGHTS_NOT_SET;

    /* Every BLAS dimension must fit in an int; sizes in bytes in size_t. */
    const size_t B = (size_t)batch, T = (size_t)seq_len;
    const size_t H = (size_t)rnn->cfg.hidden_size;
    const size_t DH = (size_t)rnn->num_directions * H;
    const size_t LD = (size_t)rnn->cfg.num_layers * (size_t)rnn->num_directions;
    size_t bt, nx, nout, nstate, bytes;
    if (!elman_mul_size(B, T, &bt) || bt > ELMAN_BLAS_INT_MAX ||
        !elman_mul_size(bt, (size_t)rnn->cfg.input_size, &nx) ||
        !elman_mul_size(bt, DH, &nout) || !elman_mul_size(nout, sizeof(float), &bytes) ||
        !elman_mul_size(nx, sizeof(float), &bytes) || !elman_mul_size(LD * B, H, &nstate) ||
        !elman_mul_size(nstate, sizeof(float), &bytes))
        return ELMAN_ERR_SIZE_OVERFLOW;

    if (lengths != NULL)
        for (int b = 0; b < batch; b++)
            if (lengths[b] < 1 || lengths[b] > seq_len)
                return ELMAN_ERR_INVALID_LENGTH;

    if (overlaps(x, nx, output, nout) || (h0 != NULL && overlaps(h0, nstate, output, nout)) ||
        (h_n != NULL && overlaps(h_n, nstate, output, nout)) ||
        (h_n != NULL && overlaps(h_n, nstate, x, nx)) ||
        (h0 != NULL && h_n != NULL && h0 != h_n && overlaps(h0, nstate, h_n, nstate)))
        return ELMAN_ERR_OVERLAP;
    return ELMAN_OK;
}

/* Fills order/len with the batch sorted by decreasing length, ties in batch
 * order (counting sort: no allocation, O(B + T)). */
static void sort_by_length(int batch, int seq_len, const int *lengths, int *order, int *len,
                           int *count)
{
    if (lengths == NULL) {
        for (int b = 0; b < batch; b++) {
            order[b] = b;
            len[b] = seq_len;
        }
        return;
    }
    memset(count, 0, ((size_t)seq_len + 1) * sizeof(int));
    for (int b = 0; b < batch; b++)
        count[seq_len - lengths[b]]++; /* bucket 0 = longest */
    int start = 0;
    for (int k = 0; k <= seq_len; k++) {
        int c = count[k];
        count[k] = start;
        start += c;
    }
    for (int b = 0; b < batch; b++) {
        int i = count[seq_len - lengths[b]]++;
        order[i] = b;
        len[i] = lengths[b];
    }
}

static inline float activate(int nonlinearity, float v)
{
    if (nonlinearity == ELMAN_RELU)
        return v < 0.0f ? 0.0f : v; /* NaN passes through, as in PyTorch */
    return tanhf(v);
}

typedef struct run {
    const elman_rnn *rnn;
    int B, T, H, D;
    size_t DH;
    const int *order, *len;
    float *proj, *state, *gemm;
    float *output;
} run;

/* Row of (b, t) in x, output and proj. */
static inline size_t row_of(const run *r, int b, int t)
{
    return r->rnn->cfg.batch_first ? (size_t)b * (size_t)r->T + (size_t)t
                                   : (size_t)t * (size_t)r->B + (size_t)b;
}

/* One time step of one direction for the n longest sequences. */
static void step(const run *r, const elman_layer *ly, int d, int s, int n)
{
    const int H = r->H;
    float *h = r->state + (size_t)d * (size_t)r->B * (size_t)H;
    const float *bias = ly->bias[d];
    const int act = r->rnn->cfg.nonlinearity;

    if (n == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, H, H, 1.0f, ly->w_hh[d], H, h, 1, 0.0f,
                    r->gemm, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H, H, 1.0f, h, H, ly->w_hh[d],
                    H, 0.0f, r->gemm, H);

    for (int i = 0; i < n; i++) {
        const int t = d == 0 ? s : r->len[i] - 1 - s;
        const size_t off = row_of(r, r->order[i], t) * r->DH + (size_t)d * (size_t)H;
        const float *p = r->proj + off;
        const float *g = r->gemm + (size_t)i * (size_t)H;
        float *hi = h + (size_t)i * (size_t)H;
        float *o = r->output + off;
        for (int j = 0; j < H; j++) {
            float v = p[j] + g[j];
            if (bias != NULL)
                v += bias[j];
            v = activate(act, v);
            hi[j] = v;
            o[j] = v;
        }
    }
}

static void run_layer(const run *r, int l, const float *in, const float *h0, float *h_n)
{
    const elman_layer *ly = &r->rnn->layers[l];
    const size_t H = (size_t)r->H, B = (size_t)r->B;

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r->B * r->T, (int)r->DH, ly->in_size,
                1.0f, in, ly->in_size, ly->w_ih, ly->in_size, 0.0f, r->proj, (int)r->DH);

    for (int d = 0; d < r->D; d++) {
        float *h = r->state + (size_t)d * B * H;
        const size_t ld = (size_t)l * (size_t)r->D + (size_t)d;
        if (h0 == NULL)
            memset(h, 0, B * H * sizeof(float));
        else
            for (size_t i = 0; i < B; i++)
                memcpy(h + i * H, h0 + (ld * B + (size_t)r->order[i]) * H, H * sizeof(float));
    }

    int n = r->B;
    for (int s = 0; s < r->T; s++) {
        while (n > 0 && r->len[n - 1] <= s)
            n--;
        if (n == 0)
            break;
        for (int d = 0; d < r->D; d++)
            step(r, ly, d, s, n);
    }

    if (h_n == NULL)
        return;
    for (int d = 0; d < r->D; d++) {
        const float *h = r->state + (size_t)d * B * H;
        const size_t ld = (size_t)l * (size_t)r->D + (size_t)d;
        for (size_t i = 0; i < B; i++)
            memcpy(h_n + (ld * B + (size_t)r->order[i]) * H, h + i * H, H * sizeof(float));
    }
}

int elman_rnn_forward(const elman_rnn *rnn, int batch, int seq_len, const float *x,
                      const int *lengths, const float *h0, float *output, float *h_n,
                      void *workspace, size_t workspace_size)
{
    int rc = check_args(rnn, batch, seq_len, x, lengths, h0, output, h_n);
    if (rc != ELMAN_OK)
        return rc;
    ws_layout ws;
    if (!plan_workspace(rnn, batch, seq_len, &ws))
        return ELMAN_ERR_SIZE_OVERFLOW;

    void *owned = NULL;
    if (workspace == NULL) {
        size_t bytes;
        if (!elman_add_size(ws.total, ALIGN, &bytes))
            return ELMAN_ERR_SIZE_OVERFLOW;
        owned = malloc(bytes);
        if (owned == NULL)
            return ELMAN_ERR_OUT_OF_MEMORY;
        workspace = (void *)(((uintptr_t)owned + ALIGN - 1) / ALIGN * ALIGN);
    } else if (workspace_size < ws.total) {
        return ELMAN_ERR_WORKSPACE_TOO_SMALL;
    } else if ((uintptr_t)workspace % ALIGN != 0) {
        return ELMAN_ERR_MISALIGNED;
    }

    char *base = workspace;
    run r;
    r.rnn = rnn;
    r.B = batch;
    r.T = seq_len;
    r.H = rnn->cfg.hidden_size;
    r.D = rnn->num_directions;
    r.DH = (size_t)r.D * (size_t)r.H;
    r.proj = (float *)(void *)(base + ws.proj);
    r.state = (float *)(void *)(base + ws.state);
    r.gemm = (float *)(void *)(base + ws.gemm);
    r.output = output;
    int *order = (int *)(void *)(base + ws.order);
    int *len = (int *)(void *)(base + ws.len);
    sort_by_length(batch, seq_len, lengths, order, len, (int *)(void *)(base + ws.count));
    r.order = order;
    r.len = len;

    /* Padding is zero in the result and is read as input by layers above 0;
     * no step ever writes it. */
    if (lengths != NULL)
        for (int b = 0; b < batch; b++)
            for (int t = lengths[b]; t < seq_len; t++)
                memset(output + row_of(&r, b, t) * r.DH, 0, r.DH * sizeof(float));

    for (int l = 0; l < rnn->cfg.num_layers; l++)
        run_layer(&r, l, l == 0 ? x : output, h0, h_n);

    free(owned);
    return ELMAN_OK;
}
