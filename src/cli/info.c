/*
 * `elman info`: the configuration inferred from a model file.
 */
#include <stdio.h>

#include "cli.h"

int info_command(const cli_args *a)
{
    const char *path = a->positional;
    if (path == NULL) {
        print_error("info: which model? usage: elman info MODEL.safetensors [--prefix PREFIX]");
        return EXIT_USAGE;
    }
    char err[ELMAN_IO_ERROR_SIZE];
    elman_safetensors *st;
    elman_rnn_info info;
    if (elman_safetensors_read(path, &st, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s", err);
        return EXIT_BAD_INPUT;
    }
    if (elman_rnn_info_from_safetensors(st, a->value[OPT_PREFIX], &info, err, sizeof(err)) !=
        ELMAN_OK) {
        print_error("%s: %s", path, err);
        elman_safetensors_free(st);
        return EXIT_BAD_INPUT;
    }
    const elman_config *c = &info.config;
    const int D = c->bidirectional ? 2 : 1;
    printf("model: %s\n", path);
    printf("prefix: %s\n", info.prefix[0] ? info.prefix : "(none)");
    printf("input_size: %d\n", c->input_size);
    printf("hidden_size: %d\n", c->hidden_size);
    printf("num_layers: %d\n", c->num_layers);
    printf("bidirectional: %s\n", c->bidirectional ? "true" : "false");
    printf("bias: %s\n", c->bias == ELMAN_BIAS_BOTH     ? "true"
                         : c->bias == ELMAN_BIAS_SINGLE ? "single (bias_ih only)"
                                                        : "false");
    printf("nonlinearity: %s (%s)\n", c->nonlinearity == ELMAN_RELU ? "relu" : "tanh",
           info.nonlinearity_from_metadata ? "metadata" : "default");
    printf("batch_first: %s (%s)\n", c->batch_first ? "true" : "false",
           info.batch_first_from_metadata ? "metadata" : "default");
    printf("dtype: %s\n", info.dtype >= 0 ? elman_dtype_name(info.dtype) : "mixed");
    printf("parameters: %zu\n", info.num_parameters);
    if (c->batch_first)
        printf("input: X (B, T, %d), or (T, %d) unbatched\n", c->input_size, c->input_size);
    else
        printf("input: X (T, B, %d), or (T, %d) unbatched\n", c->input_size, c->input_size);
    printf("output: Y (%s, %d), h_n (%d, B, %d)\n", c->batch_first ? "B, T" : "T, B",
           D * c->hidden_size, c->num_layers * D, c->hidden_size);
    elman_safetensors_free(st);
    return fflush(stdout) == 0 ? 0 : EXIT_BAD_INPUT;
}

