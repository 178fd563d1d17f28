/*
 * The part of include/elman.h that tests/test_abi_old.c uses, as a program
 * built against an older header sees it: elman_config without its newest
 * field (deterministic). A copy made for the test, never installed; the
 * declarations must stay those of the real header except for that field.
 */
#ifndef ELMAN_OLD_H
#define ELMAN_OLD_H

#include <stddef.h>

#define ELMAN_API __attribute__((visibility("default")))

enum { ELMAN_OK = 0, ELMAN_ERR_INVALID_CONFIG = 7 };
enum { ELMAN_TANH = 0 };

typedef struct elman_config {
    size_t struct_size;
    int input_size;
    int hidden_size;
    int num_layers;
    int nonlinearity;
    int bias;
    int batch_first;
    int bidirectional;
    int num_threads;
    int reverse;
    double activation_alpha;
    double activation_beta;
    double clip;
    int dtype;
    int state_batch_first;
    /* deterministic: not in this layout */
} elman_config;

ELMAN_API unsigned elman_version_number(void);
ELMAN_API void elman_config_init_sized(elman_config *cfg, size_t struct_size);
static inline void elman_config_init(elman_config *cfg)
{
    elman_config_init_sized(cfg, sizeof(elman_config));
}

typedef struct elman_rnn elman_rnn;
ELMAN_API int elman_rnn_create(const elman_config *cfg, elman_rnn **out);
ELMAN_API void elman_rnn_free(elman_rnn *rnn);
ELMAN_API int elman_rnn_get_config(const elman_rnn *rnn, elman_config *cfg);
ELMAN_API int elman_rnn_set_weights(elman_rnn *rnn, int layer, int direction,
                                    const float *w_ih, const float *w_hh,
                                    const float *b_ih, const float *b_hh);
ELMAN_API int elman_rnn_forward(const elman_rnn *rnn, int batch, int seq_len,
                                const float *x, const int *lengths,
                                const float *h0, float *output, float *h_n,
                                void *workspace, size_t workspace_size);

#endif /* ELMAN_OLD_H */
