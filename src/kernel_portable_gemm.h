/* Body of the portable kernels, included once per element type with
 * REAL, ARGS, ACTIVATE, GEMM_NAME and PACK_NAME defined. */

void PACK_NAME(REAL *dst, const REAL *w, int N, int K)
{
    const int P = elman_num_panels(N);
    for (int p = 0; p < P; p++)
        for (int k = 0; k < K; k++) {
            REAL *d = dst + ((size_t)p * (size_t)K + (size_t)k) * ELMAN_PANEL;
            for (int c = 0; c < ELMAN_PANEL; c++) {
                const int j = p * ELMAN_PANEL + c;
                d[c] = j < N ? w[(size_t)j * (size_t)K + (size_t)k] : (REAL)0;
            }
        }
}

void GEMM_NAME(const ARGS *g)
{
    const size_t K = (size_t)g->K;
    for (int p = g->panel_begin; p < g->panel_end; p++) {
        const REAL *w = g->w + (size_t)p * K * ELMAN_PANEL;
        const int j0 = p * ELMAN_PANEL;
        const int nc = g->N - j0 < ELMAN_PANEL ? g->N - j0 : ELMAN_PANEL;
        for (int i = 0; i < g->n_rows; i++) {
            const REAL *a = g->a[i];
            REAL acc[ELMAN_PANEL] = {0};
            for (size_t k = 0; k < K; k++) {
                const REAL ak = a[k];
                const REAL *wk = w + k * ELMAN_PANEL;
                for (int c = 0; c < ELMAN_PANEL; c++)
                    acc[c] += ak * wk[c];
            }
            REAL *o = g->out[i] + j0;
            const REAL *add = g->add != NULL ? g->add[i] + j0 : NULL;
            const REAL *bias = g->bias != NULL ? g->bias + j0 : NULL;
            for (int c = 0; c < nc; c++) {
                REAL v = acc[c];
                if (add != NULL)
                    v += add[c];
                if (bias != NULL)
                    v += bias[c];
                o[c] = g->act->act == ELMAN_ACT_NONE ? v : ACTIVATE(g->act, v);
            }
        }
    }
}
