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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"
#include "kernel.h"

#define ALIGN ((size_t)ELMAN_WORKSPACE_ALIGNMENT)

/* Byte layout of the workspace; all offsets are multiples of ALIGN. */
typedef struct ws_layout {
    size_t proj;   /* float (B*T, D*H): input projections of one layer */
    size_t zeros;  /* float (H): zeros */
    size_t ptrs;   /* pointer (D, 2, B): h_{t-1} and h_t rows */
    size_t add;    /* pointer (D, B): projection rows */
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
    const size_t D = (size_t)rnn->num_directions;
    return elman_mul_size(B, T, &bt) && elman_mul_size(bt, DH, &n) &&
           push_block(&ws->total, &ws->proj, n, sizeof(float)) &&
           push_block(&ws->total, &ws->zeros, H, sizeof(float)) &&
           push_block(&ws->total, &ws->ptrs, 2 * D * B, sizeof(float *)) &&
           push_block(&ws->total, &ws->add, D * B, sizeof(float *)) &&
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

typedef struct run {
    const elman_rnn *rnn;
    int B, T, H, D;
    size_t DH;
    const int *order, *len;
    float *proj;
    const float *zeros;      /* H zeros: h_{-1} when there is no h0 */
    const float **ptrs;      /* 2*B row pointers per direction */
    const float **add_ptrs;  /* B row pointers per direction */
    float *output;
} run;

/* Row of (b, t) in x, output and proj. */
static inline size_t row_of(const run *r, int b, int t)
{
    return r->rnn->cfg.batch_first ? (size_t)b * (size_t)r->T + (size_t)t
                                   : (size_t)t * (size_t)r->B + (size_t)b;
}

/* Sizes below which a BLAS call costs more than it saves. */
#define PROJ_BLAS_MIN_FLOPS (1u << 20)

/* proj = in W_ih^T for every (b, t) row, both directions at once. */
static void project(const run *r, const elman_layer *ly, const float *in)
{
    const int M = r->B * r->T, N = (int)r->DH, K = ly->in_size;
    if ((double)M * N * K >= PROJ_BLAS_MIN_FLOPS) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, in, K, ly->w_ih, K,
                    0.0f, r->proj, N);
        return;
    }
    enum { CHUNK = 64 };
    const float *a[CHUNK];
    float *out[CHUNK];
    elman_gemm_args g = {0};
    g.K = K;
    g.N = N;
    g.panel_begin = 0;
    g.panel_end = elman_num_panels(N);
    g.a = a;
    g.w = ly->w_ih_packed;
    g.out = out;
    g.act = ELMAN_ACT_NONE;
    for (int m0 = 0; m0 < M; m0 += CHUNK) {
        g.n_rows = M - m0 < CHUNK ? M - m0 : CHUNK;
        for (int i = 0; i < g.n_rows; i++) {
            a[i] = in + (size_t)(m0 + i) * (size_t)K;
            out[i] = r->proj + (size_t)(m0 + i) * (size_t)N;
        }
        r->rnn->kernels->gemm(&g);
    }
}

/* The time loop of one direction of layer l. At step s the n longest
 * sequences run; sequence i (in length order) is at time s going forward,
 * len[i]-1-s going backward. h_{t-1} is read from the output row written
 * at the previous step (or h0), h_t written to the output. */
static void run_direction(const run *r, int l, int d, const float *h0, float *h_n)
{
    const elman_layer *ly = &r->rnn->layers[l];
    const size_t H = (size_t)r->H, B = (size_t)r->B;
    const size_t ld = (size_t)l * (size_t)r->D + (size_t)d;
    const float **prev = r->ptrs + (size_t)d * 2 * B;
    const float **cur = prev + B;
    const float **add = r->add_ptrs + (size_t)d * B;

    for (size_t i = 0; i < B; i++)
        prev[i] = h0 != NULL ? h0 + (ld * B + (size_t)r->order[i]) * H : r->zeros;

    elman_gemm_args g = {0};
    g.K = r->H;
    g.N = r->H;
    g.panel_begin = 0;
    g.panel_end = elman_num_panels(r->H);
    g.w = ly->w_hh_packed[d];
    g.bias = ly->bias[d];
    g.act = r->rnn->cfg.nonlinearity;
    g.add = add;

    int n = r->B;
    for (int s = 0; s < r->T; s++) {
        while (n > 0 && r->len[n - 1] <= s)
            n--;
        if (n == 0)
            break;
        for (int i = 0; i < n; i++) {
            const int t = d == 0 ? s : r->len[i] - 1 - s;
            const size_t off = row_of(r, r->order[i], t) * r->DH + (size_t)d * H;
            cur[i] = r->output + off;
            add[i] = r->proj + off;
        }
        g.n_rows = n;
        g.a = prev;
        g.out = (float *const *)cur;
        r->rnn->kernels->gemm(&g);
        const float **tmp = prev;
        prev = cur;
        cur = tmp;
    }

    if (h_n == NULL)
        return;
    /* The final state of sequence b: its last output row in this
     * direction's half. */
    for (size_t i = 0; i < B; i++) {
        const int b = r->order[i], len = r->len[i];
        const int t = d == 0 ? len - 1 : 0;
        memcpy(h_n + (ld * B + (size_t)b) * H,
               r->output + row_of(r, b, t) * r->DH + (size_t)d * H, H * sizeof(float));
    }
}

static void run_layer(const run *r, int l, const float *in, const float *h0, float *h_n)
{
    project(r, &r->rnn->layers[l], in);
    for (int d = 0; d < r->D; d++)
        run_direction(r, l, d, h0, h_n);
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
    float *zeros = (float *)(void *)(base + ws.zeros);
    memset(zeros, 0, (size_t)r.H * sizeof(float));
    r.zeros = zeros;
    r.ptrs = (const float **)(void *)(base + ws.ptrs);
    r.add_ptrs = (const float **)(void *)(base + ws.add);
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
