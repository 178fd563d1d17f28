/* libFuzzer target: the model loader on arbitrary bytes, through
 * elman_rnn_parse(), the path of elman_rnn_load() (parse, infer the
 * configuration, check every tensor, convert them into a model), then one
 * step of the model it made, in float32 and float64. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "elman_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One time step of batch 1 on zeros: the model must run. */
static void run_once(elman_rnn *rnn, const elman_config *c)
{
    const int D = c->bidirectional ? 2 : 1;
    const size_t es = c->dtype == ELMAN_FLOAT64 ? sizeof(double) : sizeof(float);
    void *x = calloc((size_t)c->input_size, es);
    void *y = calloc((size_t)D * (size_t)c->hidden_size, es);
    void *hn = calloc((size_t)c->num_layers * (size_t)D * (size_t)c->hidden_size, es);
    if (x != NULL && y != NULL && hn != NULL) {
        int rc = c->dtype == ELMAN_FLOAT64
                     ? elman_rnn_forward_f64(rnn, 1, 1, x, NULL, NULL, y, hn, NULL, 0)
                     : elman_rnn_forward(rnn, 1, 1, x, NULL, NULL, y, hn, NULL, 0);
        if (rc != ELMAN_OK)
            abort();
    }
    free(x);
    free(y);
    free(hn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ELMAN_IO_ERROR_SIZE];
    elman_rnn *rnn = NULL;
    elman_rnn_info info;
    if (elman_rnn_parse(data, size, NULL, &rnn, &info, err, sizeof(err)) != ELMAN_OK) {
        if (rnn != NULL || err[0] == '\0')
            abort(); /* a failure sets no model and always says why */
        return 0;
    }
    const elman_config *c = &info.config;
    if (c->input_size <= 0 || c->hidden_size <= 0 || c->num_layers <= 0)
        abort();
    run_once(rnn, c);
    elman_rnn_free(rnn);

    /* The same file as a float64 model. */
    elman_safetensors *st;
    if (elman_safetensors_parse(data, size, &st, err, sizeof(err)) != ELMAN_OK)
        abort(); /* it parsed a moment ago */
    info.config.dtype = ELMAN_FLOAT64;
    if (elman_rnn_from_safetensors(st, &info, &rnn, err, sizeof(err)) != ELMAN_OK)
        abort();
    run_once(rnn, &info.config);
    elman_rnn_free(rnn);
    elman_safetensors_free(st);
    return 0;
}
