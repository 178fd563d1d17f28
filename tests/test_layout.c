/* Where a model keeps its weights (src/internal.h). A white-box test: it
 * links the library's objects and reads the model's layers.
 *
 * - Every layer's W_ih^T and every direction's packed W_hh start on an
 *   ELMAN_WEIGHT_ALIGNMENT (64-byte) boundary, so the kernels' vector loads
 *   of a panel never straddle two cache lines (from a 16-byte-aligned
 *   allocation they did, and the step of one sequence ran 1.4x slower);
 *   for every input size, hidden size, layer count, direction count, bias
 *   and element type below, including those whose biases are not whole
 *   panels.
 * - No part overlaps another, and all lie inside the one allocation (its
 *   usable size, malloc_usable_size). */
#include "cmocka_wrap.h"

#include <malloc.h> /* malloc_usable_size (glibc, musl) */
#include <stdint.h>
#include <string.h>

#include "elman.h"
#include "internal.h"
#include "kernels/kernel.h"

typedef struct span {
    uintptr_t begin, end;
} span;

/* The largest model below: per layer W_ih^T, and W_hh and a bias for each
 * of two directions. */
enum { MAX_LAYERS = 3, MAX_PARTS = MAX_LAYERS * (1 + 2 * 2) };

static void check_layout(const elman_config *cfg)
{
    elman_rnn *rnn;
    assert_int_equal(elman_rnn_create(cfg, &rnn), ELMAN_OK);
    const int D = cfg->bidirectional ? 2 : 1, H = cfg->hidden_size;
    const size_t es = cfg->dtype == ELMAN_FLOAT64 ? sizeof(double) : sizeof(float);
    assert_true(cfg->num_layers <= MAX_LAYERS);
    span parts[MAX_PARTS];
    int n = 0;
    for (int l = 0; l < cfg->num_layers; l++) {
        const elman_layer *ly = &rnn->layers[l];
        const uintptr_t wih = (uintptr_t)ly->w_ih;
        assert_int_equal(wih % ELMAN_WEIGHT_ALIGNMENT, 0);
        /* W_ih^T: in_size rows of w_ih_kstride elements (the BLAS
         * layout), or packed panels */
        const size_t wih_elems = rnn->w_ih_blas
                                     ? (size_t)ly->in_size * ly->w_ih_kstride
                                     : elman_packed_size(D * H, ly->in_size);
        parts[n++] = (span){wih, wih + wih_elems * es};
        for (int d = 0; d < D; d++) {
            const uintptr_t w = (uintptr_t)ly->w_hh_packed[d];
            assert_int_equal(w % ELMAN_WEIGHT_ALIGNMENT, 0);
            parts[n++] = (span){w, w + elman_packed_size(H, H) * es};
            if (cfg->bias == ELMAN_BIAS_NONE) {
                assert_null(ly->bias[d]);
            } else {
                const uintptr_t b = (uintptr_t)ly->bias[d];
                assert_int_equal(b % es, 0);
                parts[n++] = (span){b, b + (size_t)H * es};
            }
        }
    }
    /* inside the allocation, and disjoint */
    const uintptr_t lo = (uintptr_t)rnn->storage, hi = lo + malloc_usable_size(rnn->storage);
    for (int i = 0; i < n; i++) {
        assert_true(parts[i].begin >= lo);
        assert_true(parts[i].end <= hi);
        assert_true(parts[i].end > parts[i].begin);
        for (int j = i + 1; j < n; j++)
            assert_true(parts[i].end <= parts[j].begin || parts[j].end <= parts[i].begin);
    }
    elman_rnn_free(rnn);
}

static void test_weights_aligned(void **state)
{
    (void)state;
    static const int inputs[] = {1, 3, 17, 64};
    static const int hiddens[] = {1, 5, 16, 33, 64};
    int configs = 0;
    for (int dtype = 0; dtype < 2; dtype++)
        for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
            for (size_t h = 0; h < sizeof(hiddens) / sizeof(hiddens[0]); h++)
                for (int L = 1; L <= MAX_LAYERS; L += 2)
                    for (int D = 1; D <= 2; D++)
                        for (int bias = 0; bias < 2; bias++) {
                            elman_config cfg;
                            elman_config_init(&cfg);
                            cfg.input_size = inputs[i];
                            cfg.hidden_size = hiddens[h];
                            cfg.num_layers = L;
                            cfg.bidirectional = D == 2;
                            cfg.bias = bias ? ELMAN_BIAS_BOTH : ELMAN_BIAS_NONE;
                            cfg.dtype = dtype ? ELMAN_FLOAT64 : ELMAN_FLOAT32;
                            check_layout(&cfg);
                            configs++;
                        }
    assert_int_equal(configs, 2 * 4 * 5 * 2 * 2 * 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
