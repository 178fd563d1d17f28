/* The loops of the forward pass, included by forward.c once per element
 * type with REAL, SFX, GEMM_ARGS, KERNEL_GEMM and CBLAS_GEMM defined. */

/* proj = in W_ih^T for the rows of thread tid of nt, both directions at
 * once. Without lengths, large problems go to BLAS; otherwise the kernel
 * computes only rows inside a sequence (padding is never read). */
static void SFX(project)(const run *r, const elman_layer *ly, const REAL *in, int tid, int nt)
{
    const long long M = (long long)r->B * r->T;
    const int N = (int)r->DH, K = ly->in_size;
    REAL *proj = r->proj;
    if (r->use_blas && (double)M * N * K >= PROJ_BLAS_MIN_FLOPS) {
        /* Blocks of rows fixed by M alone, one BLAS call each: BLAS's
         * result for a row depends on the M of its call, so the threads
         * share whole blocks and every row sees the same call whatever nt. */
        const long long R = PROJ_BLOCK_ROWS, blocks = (M + R - 1) / R;
        const long long b0 = blocks * tid / nt, b1 = blocks * (tid + 1) / nt;
        if (r->stats != NULL && b1 > b0) {
            atomic_fetch_add(&r->stats->blas_calls, (int)(b1 - b0));
            atomic_fetch_add(&r->stats->proj_threads, 1);
        }
        for (long long blk = b0; blk < b1; blk++) {
            const long long m0 = blk * R, rows = M - m0 < R ? M - m0 : R;
            CBLAS_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, N, K, 1.0,
                       in + (size_t)m0 * (size_t)K, K, (const REAL *)ly->w_ih, K, 0.0,
                       proj + (size_t)m0 * (size_t)N, N);
        }
        return;
    }
    enum { CHUNK = 64 };
    const REAL *a[CHUNK];
    REAL *out[CHUNK];
    const elman_act none = {ELMAN_ACT_NONE, 0, 0, 0};
    GEMM_ARGS g;
    memset(&g, 0, sizeof(g));
    g.K = K;
    g.N = N;
    g.panel_begin = 0;
    g.panel_end = elman_num_panels(N);
    g.a = a;
    g.w = ly->w_ih_packed;
    g.out = out;
    g.act = &none;
    /* this thread's share of the valid rows, by their ordinal */
    const long long v0 = r->valid_rows * tid / nt, v1 = r->valid_rows * (tid + 1) / nt;
    if (r->stats != NULL && v1 > v0) {
        atomic_fetch_add(&r->stats->kernel_rows, v1 - v0);
        atomic_fetch_add(&r->stats->proj_threads, 1);
    }
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
        out[n] = proj + (size_t)m * (size_t)N;
        if (++n == CHUNK) {
            g.n_rows = n;
            r->rnn->kernels->KERNEL_GEMM(&g);
            n = 0;
        }
    }
    if (n > 0) {
        g.n_rows = n;
        r->rnn->kernels->KERNEL_GEMM(&g);
    }
}

/* The time loop of direction d of layer l, columns of member `rank` of a
 * group of `size` threads that meet at `bar` after every step. At step s
 * the n longest sequences run; sequence i (in length order) is at time s
 * going forward, len[i]-1-s going backward. h_{t-1} is read from the output
 * row written at the previous step (or h0), h_t written to the output. */
static void SFX(run_direction)(const run *r, void **ptrs, int l, int d, int rank, int size,
                               elman_barrier *bar)
{
    const elman_layer *ly = &r->rnn->layers[l];
    const size_t H = (size_t)r->H, B = (size_t)r->B;
    const size_t ld = (size_t)l * (size_t)r->D + (size_t)d;
    const REAL **prev = (const REAL **)ptrs, **cur = prev + B, **add = prev + 2 * B;
    const REAL *h0 = r->h0;
    REAL *output = r->output, *proj = r->proj;
    const int back = backward(r, d);

    for (size_t i = 0; i < B; i++)
        prev[i] = h0 != NULL ? h0 + state_of(r, ld, r->order[i]) : (const REAL *)r->zeros;

    const int P = elman_num_panels(r->H);
    GEMM_ARGS g;
    memset(&g, 0, sizeof(g));
    g.K = r->H;
    g.N = r->H;
    g.panel_begin = (int)((long long)P * rank / size);
    g.panel_end = (int)((long long)P * (rank + 1) / size);
    g.w = ly->w_hh_packed[d];
    g.bias = ly->bias[d];
    g.act = &r->act;
    g.add = add;
    if (r->stats != NULL && g.panel_begin < g.panel_end)
        atomic_fetch_add(&r->stats->step_threads, 1);

    int n = r->B;
    for (int s = 0; s < r->T; s++) {
        while (n > 0 && r->len[n - 1] <= s)
            n--;
        if (n == 0)
            break;
        for (int i = 0; i < n; i++) {
            const int t = back ? r->len[i] - 1 - s : s;
            const size_t off = row_of(r, r->order[i], t) * r->DH + (size_t)d * H;
            cur[i] = output + off;
            add[i] = proj + off;
        }
        g.n_rows = n;
        g.a = prev;
        g.out = (REAL *const *)cur;
        if (g.panel_begin < g.panel_end)
            r->rnn->kernels->KERNEL_GEMM(&g);
        if (size > 1)
            elman_barrier_wait(bar);
        const REAL **tmp = prev;
        prev = cur;
        cur = tmp;
    }
}

/* h_n of layer l: each sequence's last output row in each direction's half;
 * a sequence with no step keeps its h0 (or zeros). */
static void SFX(copy_final_states)(const run *r, int l)
{
    const size_t H = (size_t)r->H, B = (size_t)r->B;
    const REAL *output = r->output, *h0 = r->h0;
    REAL *h_n = r->h_n;
    for (int d = 0; d < r->D; d++) {
        const size_t ld = (size_t)l * (size_t)r->D + (size_t)d;
        for (size_t i = 0; i < B; i++) {
            const int b = r->order[i], len = r->len[i];
            REAL *dst = h_n + state_of(r, ld, b);
            if (len == 0) {
                if (h0 == NULL)
                    memset(dst, 0, H * sizeof(REAL));
                else if (h0 + state_of(r, ld, b) != dst)
                    memcpy(dst, h0 + state_of(r, ld, b), H * sizeof(REAL));
                continue;
            }
            const int t = backward(r, d) ? 0 : len - 1;
            memcpy(dst, output + row_of(r, b, t) * r->DH + (size_t)d * H, H * sizeof(REAL));
        }
    }
}

/* The time loops of layer l, as thread tid of nt. With two directions and
 * two or more threads, thread tid works on direction tid % 2. */
static void SFX(run_steps)(run *r, void **ptrs, int l, int tid, int nt)
{
    if (r->D == 2 && nt >= 2) {
        const int d = tid % 2;
        const int size = d == 0 ? (nt + 1) / 2 : nt / 2;
        if (!r->split_steps) {
            if (tid < 2)
                SFX(run_direction)(r, ptrs, l, d, 0, 1, NULL);
            return;
        }
        SFX(run_direction)(r, ptrs, l, d, tid / 2, size, &r->group[d]);
        return;
    }
    if (!r->split_steps && tid != 0)
        return;
    for (int d = 0; d < r->D; d++)
        SFX(run_direction)(r, ptrs, l, d, r->split_steps ? tid : 0, r->split_steps ? nt : 1,
                           &r->all);
}

/* The whole forward pass, as thread tid of nt. */
static void SFX(worker)(void *arg, int tid, int nt)
{
    run *r = arg;
    void **ptrs = r->ptrs + (size_t)tid * 3 * (size_t)r->B;
    for (int l = 0; l < r->rnn->cfg.num_layers; l++) {
        SFX(project)(r, &r->rnn->layers[l], l == 0 ? (const REAL *)r->x : (const REAL *)r->output,
                     tid, nt);
        elman_barrier_wait(&r->all);
        SFX(run_steps)(r, ptrs, l, tid, nt);
        elman_barrier_wait(&r->all);
        /* layer l+1 reads the output but writes it only after the next
         * barrier, so thread 0 can copy h_n meanwhile */
        if (tid == 0 && r->h_n != NULL)
            SFX(copy_final_states)(r, l);
    }
}
