/*
 * The forward pass: argument checks, workspace, length order and threads,
 * shared by both element types; the loops themselves are in
 * forward.inc, compiled once for float and once for double.
 *
 * Per layer: one GEMM computes W_ih x_t for every time step and both
 * directions (the input projection does not depend on h, so it leaves the
 * time loop). The time loop then computes W_hh h_{t-1} for the sequences
 * still running and applies bias and activation.
 *
 * Sequences are processed in order of decreasing length (a stable counting
 * sort, as pack_padded_sequence does), so at step s the running sequences
 * are always the first n_s of that order. For the backward direction, step
 * s of sequence b is time lengths[b]-1-s: each sequence starts at its own
 * last valid step.
 *
 * Every layer writes its hidden states into the caller's output buffer, and
 * each step reads h_{t-1} back from the row the previous step wrote: the
 * next layer's input GEMM consumes the whole buffer before its time loop
 * overwrites it, so no layer needs a buffer of its own and no state is
 * copied.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "forward_stats.h"
#include "internal.h"
#include "kernels/kernel.h"
#include "team.h"

#define ALIGN ((size_t)ELMAN_WORKSPACE_ALIGNMENT)

/* Byte layout of the workspace; all offsets are multiples of ALIGN. */
typedef struct ws_layout {
    size_t proj;    /* (B*T, D*H) elements: input projections of one layer */
    size_t scratch; /* (B, D*H) elements: output of elman_rnn_step when y is NULL */
    size_t zeros;   /* (H) elements: zeros */
    size_t ptrs;    /* pointers (threads, 3, B): h_{t-1}, h_t, projection rows */
    size_t order;   /* int (B): batch index of the i-th longest sequence */
    size_t len;     /* int (B): its length */
    size_t count;   /* int (T+1): counting-sort buckets */
    size_t total;
} ws_layout;

/* Adds a block of n elements of elem bytes at the end of the layout. */
static int push_block(size_t *total, size_t *offset, size_t n, size_t elem)
{
    size_t bytes;
    if (!elman_mul_size(n, elem, &bytes) || !elman_round_up_size(bytes, ALIGN, &bytes))
        return 0;
    *offset = *total;
    return elman_add_size(*total, bytes, total);
}

/* Threads that can run: the team never starts more than its cap. */
static int team_size(const elman_rnn *rnn)
{
    const int nt = rnn->cfg.num_threads;
    return nt < ELMAN_TEAM_MAX_THREADS ? nt : ELMAN_TEAM_MAX_THREADS;
}

static int plan_workspace(const elman_rnn *rnn, int batch, int seq_len, ws_layout *ws)
{
    const size_t B = (size_t)batch, T = (size_t)seq_len, es = rnn->elem_size;
    const size_t DH = (size_t)rnn->num_directions * (size_t)rnn->cfg.hidden_size;
    const size_t H = (size_t)rnn->cfg.hidden_size;
    size_t bt, n;
    memset(ws, 0, sizeof(*ws));
    return elman_mul_size(B, T, &bt) && elman_mul_size(bt, DH, &n) &&
           push_block(&ws->total, &ws->proj, n, es) && elman_mul_size(B, DH, &n) &&
           push_block(&ws->total, &ws->scratch, n, es) &&
           push_block(&ws->total, &ws->zeros, H, es) &&
           elman_mul_size((size_t)team_size(rnn) * 3, B, &n) &&
           push_block(&ws->total, &ws->ptrs, n, sizeof(void *)) &&
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

/* Whether [a, a+na) and [b, b+nb) (in bytes) share any byte. */
static int overlaps(const void *a, size_t na, const void *b, size_t nb)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + nb && pb < pa + na;
}

/* What a forward call was asked to do, checked by check_args. */
typedef struct call {
    const elman_rnn *rnn;
    int dtype;
    int batch, seq_len;
    const void *x;
    const int *lengths;
    int min_length; /* 1, or 0 for chunks of streams */
    const void *h0;
    void *output, *h_n;
    elman_forward_stats *stats; /* tests only: NULL from the public API */
} call;

static int check_args(const call *c)
{
    const elman_rnn *rnn = c->rnn;
    if (rnn == NULL || c->x == NULL || c->output == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    if (rnn->cfg.dtype != c->dtype)
        return ELMAN_ERR_INVALID_CONFIG;
    if (c->batch <= 0 || c->seq_len <= 0)
        return ELMAN_ERR_INVALID_SIZE;
    for (int l = 0; l < rnn->cfg.num_layers; l++)
        for (int d = 0; d < rnn->num_directions; d++)
            if (!rnn->layers[l].is_set[d])
                return ELMAN_ERR_WEIGHTS_NOT_SET;

    /* Every BLAS dimension must fit in an int; sizes in bytes in size_t. */
    const size_t B = (size_t)c->batch, T = (size_t)c->seq_len, es = rnn->elem_size;
    const size_t H = (size_t)rnn->cfg.hidden_size;
    const size_t DH = (size_t)rnn->num_directions * H;
    const size_t LD = (size_t)rnn->cfg.num_layers * (size_t)rnn->num_directions;
    size_t bt, nx, nout, nstate;
    if (!elman_mul_size(B, T, &bt) || bt > ELMAN_BLAS_INT_MAX ||
        !elman_mul_size(bt, (size_t)rnn->cfg.input_size, &nx) || !elman_mul_size(nx, es, &nx) ||
        !elman_mul_size(bt, DH, &nout) || !elman_mul_size(nout, es, &nout) ||
        !elman_mul_size(LD, B, &nstate) || !elman_mul_size(nstate, H, &nstate) ||
        !elman_mul_size(nstate, es, &nstate))
        return ELMAN_ERR_SIZE_OVERFLOW;

    if (c->lengths != NULL)
        for (int b = 0; b < c->batch; b++)
            if (c->lengths[b] < c->min_length || c->lengths[b] > c->seq_len)
                return ELMAN_ERR_INVALID_LENGTH;

    const void *h0 = c->h0, *h_n = c->h_n;
    if (overlaps(c->x, nx, c->output, nout) ||
        (h0 != NULL && overlaps(h0, nstate, c->output, nout)) ||
        (h_n != NULL && overlaps(h_n, nstate, c->output, nout)) ||
        (h_n != NULL && overlaps(h_n, nstate, c->x, nx)) ||
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

/* One forward call in progress; the element pointers are float or double
 * as the model is. */
typedef struct run {
    const elman_rnn *rnn;
    int B, T, H, D;
    size_t DH;
    const int *order, *len;
    const int *lengths;   /* the caller's, or NULL */
    long long valid_rows; /* sum of the lengths */
    const void *x, *h0;
    void *output, *h_n;
    void *proj;
    const void *zeros;    /* H zeros: h_{-1} when there is no h0 */
    void **ptrs;          /* 3*B row pointers per thread */
    elman_act act;
    int use_blas;         /* large projections without lengths go to BLAS */
    int split_steps;      /* whether threads share the columns of each step */
    elman_barrier all, group[2];
    elman_forward_stats *stats; /* NULL except in white-box tests */
} run;

/* Row of (b, t) in x, output and proj. */
static inline size_t row_of(const run *r, int b, int t)
{
    return r->rnn->cfg.batch_first ? (size_t)b * (size_t)r->T + (size_t)t
                                   : (size_t)t * (size_t)r->B + (size_t)b;
}

/* Element offset of the state of layer/direction ld, batch entry b. */
static inline size_t state_of(const run *r, size_t ld, int b)
{
    const size_t LD = (size_t)r->rnn->cfg.num_layers * (size_t)r->D;
    return (r->rnn->cfg.state_batch_first ? (size_t)b * LD + ld : ld * (size_t)r->B + (size_t)b) *
           (size_t)r->H;
}

/* Whether direction d runs from each sequence's end back to its start. */
static inline int backward(const run *r, int d)
{
    return d == 1 || r->rnn->cfg.reverse;
}

static void team_init(void *arg, int nt)
{
    run *r = arg;
    elman_barrier_init(&r->all, nt);
    /* with two directions and two or more threads, thread tid works on
     * direction tid % 2 */
    elman_barrier_init(&r->group[0], (nt + 1) / 2);
    elman_barrier_init(&r->group[1], nt / 2);
    if (r->stats != NULL) {
        r->stats->threads = nt;
        r->stats->split_steps = r->split_steps;
        r->stats->kernels = r->rnn->kernels->name;
    }
}

/* Below this a BLAS call costs more than it saves. */
#define PROJ_BLAS_MIN_FLOPS 1048576.0

/* Rows of one BLAS call of the input projection (the threads share whole
 * blocks). At one thread, blocks of 256 or 512 rows ran as fast as one
 * call for the bench configs' projections (M = 500..3200, N = 256..1024,
 * K = 128..512); 64 rows cost up to 40%, 128 up to 10%. */
enum { PROJ_BLOCK_ROWS = 256 };

/* Threads worth starting: the projections always split; the steps only
 * when a step is long enough to pay for the barrier that ends it. A split
 * saves about half a step and costs one barrier and the exchange of the
 * halves of h_t across it, so a step must take SPLIT_STEP_BARRIERS such
 * barriers (measured for the model at creation: rnn->barrier_ns; on an
 * AMD Zen 4 the barrier alone read 41 ns and with two cache lines
 * exchanged 119-158 ns: split at the first, a 64-column step of one
 * sequence, ~170 ns, ran 1.4-4x slower at two threads than at one),
 * estimated at STEP_MACS_PER_NS multiply-adds a nanosecond (the AVX-512 kernel's rate on one core for a step of one
 * sequence with W_hh in L2, mid1: 65,536 in ~3 us; L1-resident steps run
 * faster, so the estimate errs towards not splitting). A machine where the
 * partner thread loses its core measures barriers of many microseconds and
 * splits nothing: a 2 us step split in two ran 1.6x faster on a quiet
 * machine and 8-30x slower on a busy one. */
#define PARALLEL_MIN_FLOPS 4194304.0
#define SPLIT_STEP_BARRIERS 4.0
#define STEP_MACS_PER_NS 24.0

static int plan_threads(const elman_rnn *rnn, int batch, int seq_len, int *split_steps)
{
    *split_steps = 0;
    if (rnn->cfg.num_threads <= 1)
        return 1; /* one thread: how steps would split does not matter */
    const double B = batch, T = seq_len, H = rnn->cfg.hidden_size;
    const int D = rnn->num_directions;
    const int force = rnn->force_threads;
    *split_steps = force ||
                   B * H * H / STEP_MACS_PER_NS >= SPLIT_STEP_BARRIERS * rnn->barrier_ns;
    double parallel = 0;
    for (int l = 0; l < rnn->cfg.num_layers; l++) {
        parallel += 2.0 * B * T * rnn->layers[l].in_size * D * H;
        if (*split_steps || D == 2)
            parallel += 2.0 * B * T * D * H * H;
    }
    /* When only the projection splits, starting a thread must buy more:
     * mid1 (B=1, H=256, 33 MFLOP of projection) was not faster with two. */
    const double min_flops = *split_steps || D == 2 ? PARALLEL_MIN_FLOPS : 16.0 * PARALLEL_MIN_FLOPS;
    if (parallel < min_flops && !force)
        return 1;
    return team_size(rnn);
}

#define REAL float
#define SFX(name) name
#define GEMM_ARGS elman_gemm_args
#define KERNEL_GEMM gemm
#define CBLAS_GEMM cblas_sgemm
#include "forward.inc"

#define REAL double
#define SFX(name) name##_f64
#define GEMM_ARGS elman_gemm_args_f64
#define KERNEL_GEMM gemm_f64
#define CBLAS_GEMM cblas_dgemm
#include "forward.inc"

/* The caller's workspace, checked, or (*workspace NULL) a new one, which
 * *owned then holds for the caller to free. */
static int acquire_workspace(const ws_layout *ws, void **workspace, size_t *workspace_size,
                             void **owned)
{
    *owned = NULL;
    if (*workspace != NULL) {
        if (*workspace_size < ws->total)
            return ELMAN_ERR_WORKSPACE_TOO_SMALL;
        if ((uintptr_t)*workspace % ALIGN != 0)
            return ELMAN_ERR_MISALIGNED;
        return ELMAN_OK;
    }
    size_t bytes;
    if (!elman_add_size(ws->total, ALIGN, &bytes))
        return ELMAN_ERR_SIZE_OVERFLOW;
    *owned = malloc(bytes);
    if (*owned == NULL)
        return ELMAN_ERR_OUT_OF_MEMORY;
    *workspace = (void *)(((uintptr_t)*owned + ALIGN - 1) / ALIGN * ALIGN);
    *workspace_size = ws->total;
    return ELMAN_OK;
}

/* Checks, workspace, order, padding, then the team. */
static int forward(const call *c, void *workspace, size_t workspace_size)
{
    int rc = check_args(c);
    if (rc != ELMAN_OK)
        return rc;
    const elman_rnn *rnn = c->rnn;
    ws_layout ws;
    if (!plan_workspace(rnn, c->batch, c->seq_len, &ws))
        return ELMAN_ERR_SIZE_OVERFLOW;

    void *owned = NULL;
    rc = acquire_workspace(&ws, &workspace, &workspace_size, &owned);
    if (rc != ELMAN_OK)
        return rc;

    char *base = workspace;
    run r;
    memset(&r, 0, sizeof(r));
    r.rnn = rnn;
    r.B = c->batch;
    r.T = c->seq_len;
    r.H = rnn->cfg.hidden_size;
    r.D = rnn->num_directions;
    r.DH = (size_t)r.D * (size_t)r.H;
    r.x = c->x;
    r.h0 = c->h0;
    r.output = c->output;
    r.h_n = c->h_n;
    r.proj = base + ws.proj;
    memset(base + ws.zeros, 0, (size_t)r.H * rnn->elem_size);
    r.zeros = base + ws.zeros;
    r.ptrs = (void **)(void *)(base + ws.ptrs);
    int *order = (int *)(void *)(base + ws.order);
    int *len = (int *)(void *)(base + ws.len);
    sort_by_length(r.B, r.T, c->lengths, order, len, (int *)(void *)(base + ws.count));
    r.order = order;
    r.len = len;
    r.lengths = c->lengths;
    for (int i = 0; i < r.B; i++)
        r.valid_rows += len[i];
    elman_act_from_config(&rnn->cfg, &r.act);
    /* Deterministic mode keeps to the row-independent kernels, and so do
     * kernels that project faster than the BLAS (float32 only: double
     * projections are the portable GEMM on every path). */
    r.use_blas = !rnn->cfg.deterministic && c->lengths == NULL && rnn->w_ih_blas;

    /* Padding is zero in the result and is read as input by layers above 0;
     * no step ever writes it. */
    if (c->lengths != NULL)
        for (int b = 0; b < r.B; b++)
            for (int t = c->lengths[b]; t < r.T; t++)
                memset((char *)r.output + row_of(&r, b, t) * r.DH * rnn->elem_size, 0,
                       r.DH * rnn->elem_size);

    r.stats = c->stats;
    const int nt = plan_threads(rnn, r.B, r.T, &r.split_steps);
    const int pooled =
        elman_team_run(rnn->pool, nt, team_init,
                       rnn->cfg.dtype == ELMAN_FLOAT64 ? worker_f64 : worker, &r);
    if (r.stats != NULL)
        r.stats->pooled = pooled;

    free(owned);
    return ELMAN_OK;
}

int elman_rnn_forward(const elman_rnn *rnn, int batch, int seq_len, const float *x,
                      const int *lengths, const float *h0, float *output, float *h_n,
                      void *workspace, size_t workspace_size)
{
    const call c = {rnn, ELMAN_FLOAT32, batch, seq_len, x, lengths, 1, h0, output, h_n, NULL};
    return forward(&c, workspace, workspace_size);
}

int elman_rnn_forward_f64(const elman_rnn *rnn, int batch, int seq_len, const double *x,
                          const int *lengths, const double *h0, double *output, double *h_n,
                          void *workspace, size_t workspace_size)
{
    const call c = {rnn, ELMAN_FLOAT64, batch, seq_len, x, lengths, 1, h0, output, h_n, NULL};
    return forward(&c, workspace, workspace_size);
}

int elman_forward_with_stats(const elman_rnn *rnn, int batch, int seq_len, const void *x,
                             const int *lengths, const void *h0, void *output, void *h_n,
                             void *workspace, size_t workspace_size, elman_forward_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    const int dtype = rnn != NULL ? rnn->cfg.dtype : ELMAN_FLOAT32;
    const call c = {rnn, dtype, batch, seq_len, x, lengths, 1, h0, output, h_n, stats};
    return forward(&c, workspace, workspace_size);
}

/* A chunk of streams: lengths may be 0, the state is h0 and h_n at once,
 * and only forward-running models qualify. */
static int forward_chunk(const call *c, void *workspace, size_t workspace_size)
{
    if (c->rnn == NULL || c->h0 == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    if (c->rnn->cfg.bidirectional || c->rnn->cfg.reverse)
        return ELMAN_ERR_INVALID_CONFIG;
    return forward(c, workspace, workspace_size);
}

int elman_rnn_forward_chunk(const elman_rnn *rnn, int batch, int seq_len, const float *x,
                            const int *lengths, float *state, float *output, void *workspace,
                            size_t workspace_size)
{
    const call c = {rnn, ELMAN_FLOAT32, batch, seq_len, x, lengths, 0, state, output, state, NULL};
    return forward_chunk(&c, workspace, workspace_size);
}

int elman_rnn_forward_chunk_f64(const elman_rnn *rnn, int batch, int seq_len, const double *x,
                                const int *lengths, double *state, double *output,
                                void *workspace, size_t workspace_size)
{
    const call c = {rnn, ELMAN_FLOAT64, batch, seq_len, x, lengths, 0, state, output, state, NULL};
    return forward_chunk(&c, workspace, workspace_size);
}

/* One step; without y the output goes to the workspace's scratch block. */
static int step(const call *proto, void *workspace, size_t workspace_size)
{
    call c = *proto;
    void *owned = NULL;
    if (c.output == NULL) {
        ws_layout ws;
        if (c.rnn == NULL)
            return ELMAN_ERR_NULL_ARGUMENT;
        if (c.batch <= 0)
            return ELMAN_ERR_INVALID_SIZE;
        if (!plan_workspace(c.rnn, c.batch, 1, &ws))
            return ELMAN_ERR_SIZE_OVERFLOW;
        /* allocated here if need be, so the scratch block outlives the
         * call below */
        int rc = acquire_workspace(&ws, &workspace, &workspace_size, &owned);
        if (rc != ELMAN_OK)
            return rc;
        c.output = (char *)workspace + ws.scratch;
    }
    int rc = forward_chunk(&c, workspace, workspace_size);
    free(owned);
    return rc;
}

int elman_rnn_step(const elman_rnn *rnn, int batch, const float *x, float *state, float *y,
                   void *workspace, size_t workspace_size)
{
    const call c = {rnn, ELMAN_FLOAT32, batch, 1, x, NULL, 0, state, y, state, NULL};
    return step(&c, workspace, workspace_size);
}

int elman_rnn_step_f64(const elman_rnn *rnn, int batch, const double *x, double *state,
                       double *y, void *workspace, size_t workspace_size)
{
    const call c = {rnn, ELMAN_FLOAT64, batch, 1, x, NULL, 0, state, y, state, NULL};
    return step(&c, workspace, workspace_size);
}
