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
#include "team.h"

#define ALIGN ((size_t)ELMAN_WORKSPACE_ALIGNMENT)

/* Byte layout of the workspace; all offsets are multiples of ALIGN. */
typedef struct ws_layout {
    size_t proj;   /* float (B*T, D*H): input projections of one layer */
    size_t zeros;  /* float (H): zeros */
    size_t ptrs;   /* pointer (threads, 3, B): h_{t-1}, h_t, projection rows */
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
           push_block(&ws->total, &ws->zeros, H, sizeof(float)) &&
           elman_mul_size((size_t)rnn->cfg.num_threads * 3, B, &n) &&
           push_block(&ws->total, &ws->ptrs, n, sizeof(float *)) &&
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
    const int *lengths;    /* the caller's, or NULL */
    long long valid_rows;  /* sum of the lengths */
    const float *x, *h0;
    float *output, *h_n;
    float *proj;
    const float *zeros;  /* H zeros: h_{-1} when there is no h0 */
    const float **ptrs;  /* 3*B row pointers per thread */
    int nt;              /* threads running */
    int split_steps;     /* whether threads share the columns of each step */
    elman_barrier all, group[2];
} run;

/* Row of (b, t) in x, output and proj. */
static inline size_t row_of(const run *r, int b, int t)
{
    return r->rnn->cfg.batch_first ? (size_t)b * (size_t)r->T + (size_t)t
                                   : (size_t)t * (size_t)r->B + (size_t)b;
}

/* Sizes below which a BLAS call costs more than it saves. */
#define PROJ_BLAS_MIN_FLOPS (1u << 20)

/* proj = in W_ih^T for the rows of thread tid of nt, both directions at
 * once. Without lengths, large problems go to OpenBLAS; otherwise the
 * kernel computes only rows inside a sequence (padding is never read). */
static void project(const run *r, const elman_layer *ly, const float *in, int tid, int nt)
{
    const long long M = (long long)r->B * r->T;
    const int N = (int)r->DH, K = ly->in_size;
    if (r->lengths == NULL && (double)M * N * K >= PROJ_BLAS_MIN_FLOPS) {
        const long long m0 = M * tid / nt, m1 = M * (tid + 1) / nt;
        if (m1 > m0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(m1 - m0), N, K, 1.0f,
                        in + (size_t)m0 * (size_t)K, K, ly->w_ih, K, 0.0f,
                        r->proj + (size_t)m0 * (size_t)N, N);
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
    /* this thread's share of the valid rows, by their ordinal */
    const long long v0 = r->valid_rows * tid / nt, v1 = r->valid_rows * (tid + 1) / nt;
    long long v = 0;
    int n = 0;
    for (long long m = 0; m < M && v < v1; m++) {
        if (r->lengths != NULL) {
            const long long b = r->rnn->cfg.batch_first ? m / r->T : m % r->B;
            const long long t = r->rnn->cfg.batch_first ? m % r->T : m / r->B;
            if (t >= r->lengths[b])
                continue;
        }
        if (v++ < v0)
            continue;
        a[n] = in + (size_t)m * (size_t)K;
        out[n] = r->proj + (size_t)m * (size_t)N;
        if (++n == CHUNK) {
            g.n_rows = n;
            r->rnn->kernels->gemm(&g);
            n = 0;
        }
    }
    if (n > 0) {
        g.n_rows = n;
        r->rnn->kernels->gemm(&g);
    }
}

/* The time loop of direction d of layer l, columns of member `rank` of a
 * group of `size` threads that meet at `bar` after every step. At step s
 * the n longest sequences run; sequence i (in length order) is at time s
 * going forward, len[i]-1-s going backward. h_{t-1} is read from the output
 * row written at the previous step (or h0), h_t written to the output. */
static void run_direction(const run *r, const float **ptrs, int l, int d, int rank, int size,
                          elman_barrier *bar)
{
    const elman_layer *ly = &r->rnn->layers[l];
    const size_t H = (size_t)r->H, B = (size_t)r->B;
    const size_t ld = (size_t)l * (size_t)r->D + (size_t)d;
    const float **prev = ptrs, **cur = ptrs + B, **add = ptrs + 2 * B;

    for (size_t i = 0; i < B; i++)
        prev[i] = r->h0 != NULL ? r->h0 + (ld * B + (size_t)r->order[i]) * H : r->zeros;

    const int P = elman_num_panels(r->H);
    elman_gemm_args g = {0};
    g.K = r->H;
    g.N = r->H;
    g.panel_begin = (int)((long long)P * rank / size);
    g.panel_end = (int)((long long)P * (rank + 1) / size);
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
        if (g.panel_begin < g.panel_end)
            r->rnn->kernels->gemm(&g);
        if (size > 1)
            elman_barrier_wait(bar);
        const float **tmp = prev;
        prev = cur;
        cur = tmp;
    }
}

/* h_n of layer l: each sequence's last output row in each direction's half. */
static void copy_final_states(const run *r, int l)
{
    const size_t H = (size_t)r->H, B = (size_t)r->B;
    for (int d = 0; d < r->D; d++) {
        const size_t ld = (size_t)l * (size_t)r->D + (size_t)d;
        for (size_t i = 0; i < B; i++) {
            const int b = r->order[i], len = r->len[i];
            const int t = d == 0 ? len - 1 : 0;
            memcpy(r->h_n + (ld * B + (size_t)b) * H,
                   r->output + row_of(r, b, t) * r->DH + (size_t)d * H, H * sizeof(float));
        }
    }
}

static void team_init(void *arg, int nt)
{
    run *r = arg;
    r->nt = nt;
    elman_barrier_init(&r->all, nt);
    /* with two directions and two or more threads, thread tid works on
     * direction tid % 2 */
    elman_barrier_init(&r->group[0], (nt + 1) / 2);
    elman_barrier_init(&r->group[1], nt / 2);
}

/* The time loops of layer l, as thread tid of nt. With two directions and
 * two or more threads, thread tid works on direction tid % 2. */
static void run_steps(run *r, const float **ptrs, int l, int tid, int nt)
{
    elman_barrier *bar;
    if (r->D == 2 && nt >= 2) {
        const int d = tid % 2;
        const int size = d == 0 ? (nt + 1) / 2 : nt / 2;
        if (!r->split_steps) {
            if (tid < 2)
                run_direction(r, ptrs, l, d, 0, 1, NULL);
            return;
        }
        bar = &r->group[d];
        run_direction(r, ptrs, l, d, tid / 2, size, bar);
        return;
    }
    if (!r->split_steps && tid != 0)
        return;
    bar = &r->all;
    for (int d = 0; d < r->D; d++)
        run_direction(r, ptrs, l, d, r->split_steps ? tid : 0, r->split_steps ? nt : 1, bar);
}

/* The whole forward pass, as thread tid of nt. */
static void worker(void *arg, int tid, int nt)
{
    run *r = arg;
    const float **ptrs = r->ptrs + (size_t)tid * 3 * (size_t)r->B;
    for (int l = 0; l < r->rnn->cfg.num_layers; l++) {
        project(r, &r->rnn->layers[l], l == 0 ? r->x : r->output, tid, nt);
        elman_barrier_wait(&r->all);
        run_steps(r, ptrs, l, tid, nt);
        elman_barrier_wait(&r->all);
        /* layer l+1 reads the output but writes it only after the next
         * barrier, so thread 0 can copy h_n meanwhile */
        if (tid == 0 && r->h_n != NULL)
            copy_final_states(r, l);
    }
}

/* Threads worth starting: the projections always split; the steps only
 * when each has enough work to pay for a barrier. */
enum { PARALLEL_MIN_FLOPS = 1 << 22, SPLIT_STEP_MIN_MACS = 1 << 16 };

static int plan_threads(const elman_rnn *rnn, int batch, int seq_len, int *split_steps)
{
    const double B = batch, T = seq_len, H = rnn->cfg.hidden_size;
    const int D = rnn->num_directions;
    *split_steps = rnn->force_threads || B * H * H >= SPLIT_STEP_MIN_MACS;
    double parallel = 0;
    for (int l = 0; l < rnn->cfg.num_layers; l++) {
        parallel += 2.0 * B * T * rnn->layers[l].in_size * D * H;
        if (*split_steps || D == 2)
            parallel += 2.0 * B * T * D * H * H;
    }
    if (rnn->cfg.num_threads <= 1 || (parallel < PARALLEL_MIN_FLOPS && !rnn->force_threads))
        return 1;
    return rnn->cfg.num_threads;
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
    memset(&r, 0, sizeof(r));
    r.rnn = rnn;
    r.B = batch;
    r.T = seq_len;
    r.H = rnn->cfg.hidden_size;
    r.D = rnn->num_directions;
    r.DH = (size_t)r.D * (size_t)r.H;
    r.x = x;
    r.h0 = h0;
    r.output = output;
    r.h_n = h_n;
    r.proj = (float *)(void *)(base + ws.proj);
    float *zeros = (float *)(void *)(base + ws.zeros);
    memset(zeros, 0, (size_t)r.H * sizeof(float));
    r.zeros = zeros;
    r.ptrs = (const float **)(void *)(base + ws.ptrs);
    int *order = (int *)(void *)(base + ws.order);
    int *len = (int *)(void *)(base + ws.len);
    sort_by_length(batch, seq_len, lengths, order, len, (int *)(void *)(base + ws.count));
    r.order = order;
    r.len = len;
    r.lengths = lengths;
    for (int i = 0; i < batch; i++)
        r.valid_rows += len[i];

    /* Padding is zero in the result and is read as input by layers above 0;
     * no step ever writes it. */
    if (lengths != NULL)
        for (int b = 0; b < batch; b++)
            for (int t = lengths[b]; t < seq_len; t++)
                memset(output + row_of(&r, b, t) * r.DH, 0, r.DH * sizeof(float));

    const int nt = plan_threads(rnn, batch, seq_len, &r.split_steps);
    elman_team_run(nt, team_init, worker, &r);

    free(owned);
    return ELMAN_OK;
}
