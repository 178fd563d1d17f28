/* libFuzzer target: the ONNX loader on arbitrary bytes. A model that loads
 * is run forward once, as float32 and float64, so that what the loader
 * built is exercised too; its node list and inputs are read. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elman_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One forward pass of T = 2, B = 1 with zero input; a model the loader
 * accepted must run (only memory may fail). */
static void run(const elman_onnx *m, int f64)
{
    char err[ELMAN_IO_ERROR_SIZE];
    elman_rnn_info info;
    elman_rnn *rnn;
    if (elman_rnn_info_from_onnx(m, &info, err, sizeof(err)) != ELMAN_OK)
        abort();
    info.config.dtype = f64 ? ELMAN_FLOAT64 : ELMAN_FLOAT32;
    int rc = elman_rnn_from_onnx(m, &info, &rnn, err, sizeof(err));
    if (rc == ELMAN_ERR_OUT_OF_MEMORY || rc == ELMAN_ERR_SIZE_OVERFLOW)
        return;
    if (rc != ELMAN_OK)
        abort();
    const elman_config *c = &info.config;
    const size_t D = c->bidirectional ? 2 : 1, H = (size_t)c->hidden_size, T = 2;
    const size_t es = f64 ? sizeof(double) : sizeof(float);
    void *x = calloc(T * (size_t)c->input_size, es);
    void *out = malloc(T * D * H * es);
    void *hn = malloc((size_t)c->num_layers * D * H * es);
    if (x != NULL && out != NULL && hn != NULL) {
        rc = f64 ? elman_rnn_forward_f64(rnn, 1, (int)T, x, NULL, NULL, out, hn, NULL, 0)
                 : elman_rnn_forward(rnn, 1, (int)T, x, NULL, NULL, out, hn, NULL, 0);
        if (rc != ELMAN_OK && rc != ELMAN_ERR_OUT_OF_MEMORY)
            abort();
    }
    free(x);
    free(out);
    free(hn);
    elman_rnn_free(rnn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ELMAN_IO_ERROR_SIZE];
    elman_onnx *m;
    if (elman_onnx_parse(data, size, &m, err, sizeof(err)) != ELMAN_OK) {
        if (m != NULL || err[0] == '\0' || memchr(err, '\n', strlen(err)) != NULL)
            abort(); /* a refusal is one line, and returns nothing */
        return 0;
    }
    size_t used = 0;
    for (size_t i = 0; i < elman_onnx_node_count(m); i++) {
        const elman_onnx_node *n = elman_onnx_node_at(m, i);
        if (n == NULL || n->name == NULL || n->op_type == NULL)
            abort();
        used += n->role == ELMAN_ONNX_LAYER;
    }
    const char *x;
    if (used == 0 || elman_onnx_inputs(m, &x, NULL, NULL) != ELMAN_OK || x == NULL)
        abort();
    run(m, 0);
    run(m, 1);
    elman_onnx_free(m);
    return 0;
}
