/*
 * `elman info`: the configuration inferred from a model file, where each
 * setting came from (the file's metadata, a flag, or nn.RNN's default; the
 * sizes always come from the tensors), and the tensors that are not the
 * RNN's and were ignored (a Linear head saved beside it, say).
 *
 * Every name read from a file is printed escaped: a byte below 0x20 or from
 * 0x7f up as \xNN, a backslash as \\ (as elman_io's messages do, which
 * also escape '"'; a listing has no quotes to delimit). So a file cannot
 * forge lines of the listing or send control sequences to a terminal; a
 * name with none of those prints as it is.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Writes s to stdout escaped (see above). */
static void put_name(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
        if (*c == '\\')
            fputs("\\\\", stdout);
        else if (*c < 0x20 || *c >= 0x7f)
            printf("\\x%02x", (unsigned)*c);
        else
            putchar(*c);
    }
}

/* Whether name is one of the RNN's tensors: PREFIX{weight,bias}_{ih,hh}_lK
 * with K < num_layers, and "_reverse" for a bidirectional model. */
static int is_rnn_tensor(const elman_rnn_info *info, const char *name)
{
    static const char *const kinds[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    const size_t plen = strlen(info->prefix);
    if (strncmp(name, info->prefix, plen) != 0)
        return 0;
    name += plen;
    const elman_config *c = &info->config;
    for (int l = 0; l < c->num_layers; l++)
        for (int d = 0; d < (c->bidirectional ? 2 : 1); d++)
            for (size_t k = 0; k < COUNT(kinds); k++) {
                char want[64];
                snprintf(want, sizeof(want), "%s_l%d%s", kinds[k], l, d ? "_reverse" : "");
                if (strcmp(name, want) == 0)
                    return 1;
            }
    return 0;
}

/* "ignored: NAME [SHAPE], ..." or "ignored: none". */
static void print_ignored(const elman_safetensors *st, const elman_rnn_info *info)
{
    size_t n = 0;
    fputs("ignored:", stdout);
    for (size_t i = 0; i < elman_safetensors_count(st); i++) {
        const elman_tensor *t = elman_safetensors_tensor(st, i);
        if (is_rnn_tensor(info, t->name))
            continue;
        char shape[128];
        printf("%s ", n++ ? "," : "");
        put_name(t->name);
        printf(" %s", shape_str(shape, sizeof(shape), t->shape, t->ndim));
    }
    puts(n ? "" : " none");
}

/* Where a setting came from: a flag overrides the metadata. */
static const char *source(int flag, int metadata)
{
    return flag ? "flag" : metadata ? "metadata" : "default";
}

static void print_config(const elman_rnn_info *info, const cli_args *a)
{
    const elman_config *c = &info->config;
    const int D = c->bidirectional ? 2 : 1;
    fputs("prefix: ", stdout);
    put_name(info->prefix[0] ? info->prefix : "(none)");
    printf(" (%s)\n", a->value[OPT_PREFIX] != NULL ? "flag" : "detected");
    printf("input_size: %d\n", c->input_size);
    printf("hidden_size: %d\n", c->hidden_size);
    printf("num_layers: %d\n", c->num_layers);
    printf("bidirectional: %s\n", c->bidirectional ? "true" : "false");
    printf("bias: %s\n", c->bias == ELMAN_BIAS_BOTH     ? "true"
                         : c->bias == ELMAN_BIAS_SINGLE ? "single (bias_ih only)"
                                                        : "false");
    printf("nonlinearity: %s (%s)\n", c->nonlinearity == ELMAN_RELU ? "relu" : "tanh",
           source(a->nonlinearity >= 0, info->nonlinearity_from_metadata));
    printf("batch_first: %s (%s)\n", c->batch_first ? "true" : "false",
           source(a->batch_first >= 0, info->batch_first_from_metadata));
    printf("dtype: %s\n", info->dtype >= 0 ? elman_dtype_name(info->dtype) : "mixed");
    printf("parameters: %zu\n", info->num_parameters);
    if (c->batch_first)
        printf("input: X (B, T, %d), or (T, %d) unbatched\n", c->input_size, c->input_size);
    else
        printf("input: X (T, B, %d), or (T, %d) unbatched\n", c->input_size, c->input_size);
    printf("output: Y (%s, %d), h_n (%d, B, %d)\n", c->batch_first ? "B, T" : "T, B",
           D * c->hidden_size, c->num_layers * D, c->hidden_size);
}

/* The flags info takes over the file's settings, then the first line. */
static void apply_flags(const cli_args *a, elman_rnn_info *info, const char *path)
{
    if (a->nonlinearity >= 0)
        info->config.nonlinearity = a->nonlinearity;
    if (a->batch_first >= 0)
        info->config.batch_first = a->batch_first;
    printf("model: %s\n", path);
}

static const char *const ROLES[] = {"ignored", "layer", "layout", "state", "lengths", "weights"};

/* The ONNX settings (from the file, or a flag) and every node's role. */
static void print_onnx(const elman_onnx *m, const elman_rnn_info *info, const cli_args *a)
{
    const elman_config *c = &info->config;
    const char *name = elman_activation_name(c->nonlinearity);
    printf("format: onnx\n");
    printf("input_size: %d\nhidden_size: %d\nnum_layers: %d\n", c->input_size,
           c->hidden_size, c->num_layers);
    printf("direction: %s (file)\n",
           c->bidirectional ? "bidirectional" : c->reverse ? "reverse" : "forward");
    printf("bias: %s\n", c->bias == ELMAN_BIAS_NONE ? "false" : "true");
    printf("activation: %s (%s)\n", name != NULL ? name : "?",
           a->nonlinearity >= 0 ? "flag" : "file");
    if (!isnan(c->activation_alpha))
        printf("activation_alpha: %g\n", c->activation_alpha);
    if (!isnan(c->activation_beta))
        printf("activation_beta: %g\n", c->activation_beta);
    printf("clip: %g\n", c->clip);
    printf("batch_first: %s (%s)\n", c->batch_first ? "true" : "false",
           a->batch_first >= 0 ? "flag" : "file");
    printf("state_batch_first: %s (file: layout %d)\n", c->state_batch_first ? "true" : "false",
           c->state_batch_first);
    printf("parameters: %zu\n", info->num_parameters);
    const char *x = NULL, *h = NULL, *len = NULL;
    elman_onnx_inputs(m, &x, &h, &len);
    fputs("inputs: X ", stdout);
    put_name(x != NULL ? x : "-");
    fputs(", initial_h ", stdout);
    put_name(h != NULL ? h : "(none)");
    fputs(", sequence_lens ", stdout);
    put_name(len != NULL ? len : "(none)");
    putchar('\n');
    size_t ignored = 0;
    for (size_t i = 0; i < elman_onnx_node_count(m); i++) {
        const elman_onnx_node *n = elman_onnx_node_at(m, i);
        const char *role = n->role >= 0 && (size_t)n->role < COUNT(ROLES) ? ROLES[n->role] : "?";
        ignored += n->role == ELMAN_ONNX_IGNORED;
        /* "node: OP NAME: ROLE", NAME "(unnamed)" when the file gives none */
        fputs("node: ", stdout);
        put_name(n->op_type);
        putchar(' ');
        put_name(n->name[0] != '\0' ? n->name : "(unnamed)");
        if (n->role == ELMAN_ONNX_LAYER)
            printf(": layer %d\n", n->layer);
        else
            printf(": %s\n", role);
    }
    printf("ignored: %zu node%s\n", ignored, ignored == 1 ? "" : "s");
}

static int info_onnx(const cli_args *a, const char *path)
{
    elman_onnx *m;
    elman_rnn_info info;
    if (!read_onnx(a, path, &m, &info))
        return EXIT_BAD_INPUT;
    apply_flags(a, &info, path);
    print_onnx(m, &info, a);
    elman_onnx_free(m);
    return fflush(stdout) == 0 ? 0 : EXIT_BAD_INPUT;
}

int info_command(const cli_args *a)
{
    const char *path = a->positional;
    if (path == NULL) {
        print_error("info: which model? usage: elman info MODEL.safetensors [--prefix PREFIX]");
        return EXIT_USAGE;
    }
    char err[ELMAN_IO_ERROR_SIZE];
    cli_file file;
    elman_safetensors *st;
    elman_rnn_info info;
    if (!check_input(path, "MODEL", &file))
        return EXIT_BAD_INPUT;
    int format;
    if (elman_model_file_format(path, &format, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s", err);
        return EXIT_BAD_INPUT;
    }
    if (format == ELMAN_FORMAT_ONNX)
        return info_onnx(a, path);
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
    apply_flags(a, &info, path);
    print_config(&info, a);
    print_ignored(st, &info);
    elman_safetensors_free(st);
    return fflush(stdout) == 0 ? 0 : EXIT_BAD_INPUT;
}
