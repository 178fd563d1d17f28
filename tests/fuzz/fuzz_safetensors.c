/* libFuzzer target: the safetensors reader and the nn.RNN loader on
 * arbitrary bytes. A file that loads is also run forward once, so that the
 * model the loader built is exercised too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elman_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ELMAN_IO_ERROR_SIZE];
    elman_safetensors *st;
    if (elman_safetensors_parse(data, size, &st, err, sizeof(err)) != ELMAN_OK)
        return 0;
    /* Touch every tensor and metadata entry. */
    double sum = 0;
    for (size_t i = 0; i < elman_safetensors_count(st); i++) {
        const elman_tensor *t = elman_safetensors_tensor(st, i);
        if (elman_safetensors_find(st, t->name) != t)
            abort();
        for (size_t k = 0; t->data != NULL && k < t->count; k++)
            sum += t->data[k];
    }
    for (size_t i = 0; i < elman_safetensors_metadata_count(st); i++) {
        const char *k, *v;
        if (elman_safetensors_metadata_entry(st, i, &k, &v) != ELMAN_OK ||
            elman_safetensors_metadata(st, k) != v)
            abort();
    }
    (void)sum;

    elman_rnn_info info;
    elman_rnn *rnn;
    if (elman_rnn_info_from_safetensors(st, NULL, &info, err, sizeof(err)) == ELMAN_OK &&
        elman_rnn_from_safetensors(st, &info, &rnn, err, sizeof(err)) == ELMAN_OK) {
        const elman_config *c = &info.config;
        const size_t D = c->bidirectional ? 2 : 1, H = (size_t)c->hidden_size;
        const size_t T = 2;
        float *x = calloc(T * (size_t)c->input_size, sizeof(float));
        float *out = malloc(T * D * H * sizeof(float));
        float *hn = malloc((size_t)c->num_layers * D * H * sizeof(float));
        if (x != NULL && out != NULL && hn != NULL &&
            elman_rnn_forward(rnn, 1, (int)T, x, NULL, NULL, out, hn, NULL, 0) != ELMAN_OK)
            abort(); /* a model the loader accepted must run */
        free(x);
        free(out);
        free(hn);
        elman_rnn_free(rnn);

        /* The same file as a float64 model: only memory may fail now. */
        info.config.dtype = ELMAN_FLOAT64;
        int rc = elman_rnn_from_safetensors(st, &info, &rnn, err, sizeof(err));
        if (rc != ELMAN_OK && rc != ELMAN_ERR_OUT_OF_MEMORY)
            abort();
        if (rc != ELMAN_OK) {
            elman_safetensors_free(st);
            return 0;
        }
        double *xd = calloc(T * (size_t)c->input_size, sizeof(double));
        double *outd = malloc(T * D * H * sizeof(double));
        double *hnd = malloc((size_t)c->num_layers * D * H * sizeof(double));
        if (xd != NULL && outd != NULL && hnd != NULL &&
            elman_rnn_forward_f64(rnn, 1, (int)T, xd, NULL, NULL, outd, hnd, NULL, 0) != ELMAN_OK)
            abort();
        free(xd);
        free(outd);
        free(hnd);
        elman_rnn_free(rnn);
    }
    elman_safetensors_free(st);
    return 0;
}
