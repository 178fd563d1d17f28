/*
 * The command line: the option tables, the help printed from them, and the
 * parser. Options are table-driven: each command has a table of cli_option
 * entries (name, value name, help) and apply_option() applies one by id,
 * so a new option is one table row and one case. The help text's OPTIONS
 * section is printed from the same tables.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_option run_options[] = {
    {"weights", OPT_WEIGHTS, "MODEL",
     "the model: a .safetensors of nn.RNN.state_dict() tensors (elman-export\n"
     "writes them), or a .onnx file with RNN nodes (told by content);\n"
     "bias_ih without bias_hh is a one-bias model (TFLite, Keras, oneDNN)"},
    {"input", OPT_INPUT, "X.npy",
     "input, float32 or float64: (T, B, I), (B, T, I) with --batch-first, or (T, I) unbatched"},
    {"output", OPT_OUTPUT, "Y.npy",
     "output, float32 (float64 with --dtype float64): the layout of X with last\n"
     "dimension D*H; zero past each length"},
    {"hn", OPT_HN, "HN.npy",
     "final states, of Y's dtype: (L*D, B, H), (B, L*D, H) with --state-batch-first,\n"
     "or (L*D, H) unbatched"},
    {"h0", OPT_H0, "H0.npy",
     "initial states, float32 or float64, in HN's layout; default zeros"},
    {"lengths", OPT_LENGTHS, "LENGTHS.npy",
     "sequence lengths, int32 or int64, shape (B,), each 1..T (as pack_padded_sequence)"},
    {"nonlinearity", OPT_NONLINEARITY, "tanh|relu",
     "overrides the model's metadata; default tanh"},
    {"activation", OPT_ACTIVATION, "NAME[:ALPHA[:BETA]]",
     "an ONNX RNN activation, any case; overrides --nonlinearity and the metadata:\n"
     "Tanh, Relu, Sigmoid, Softsign, Softplus (no parameters),\n"
     "LeakyRelu:ALPHA (default 0.01), ThresholdedRelu:ALPHA (1), Elu:ALPHA (1),\n"
     "Affine:ALPHA:BETA (1, 0), ScaledTanh:ALPHA:BETA (1, 1),\n"
     "HardSigmoid:ALPHA:BETA (0.2, 0.5); a parameter left out is its default"},
    {"clip", OPT_CLIP, "C",
     "clamp the pre-activation to [-C, C] before the activation (ONNX clip); C > 0"},
    {"direction", OPT_DIRECTION, "forward|reverse|bidirectional",
     "reverse runs a one-direction model from each sequence's last step back to\n"
     "its first (ONNX \"reverse\"); forward and bidirectional must match the model"},
    {"batch-first", OPT_BATCH_FIRST, NULL, "X and Y are (B, T, *); overrides the metadata"},
    {"seq-first", OPT_SEQ_FIRST, NULL, "X and Y are (T, B, *) (the default); overrides the metadata"},
    {"state-batch-first", OPT_STATE_BATCH_FIRST, NULL,
     "H0 and HN are (B, L*D, H) instead of PyTorch's (L*D, B, H)"},
    {"dtype", OPT_DTYPE, "float32|float64",
     "compute in this precision and write Y and HN in it (default float32); float64\n"
     "takes X, H0 and the weights (F32, F64, F16 or BF16) exactly"},
    {"chunk", OPT_CHUNK, "N",
     "run the input in consecutive chunks of N >= 1 time steps, carrying the state\n"
     "from one to the next as a streaming caller does; same result as one run.\n"
     "Forward models only: a backward direction needs the whole sequence"},
    {"threads", OPT_THREADS, "N",
     "let one forward call use up to N threads (1..1024, default 1)"},
    {"deterministic", OPT_DETERMINISTIC, NULL,
     "each sequence's Y and HN bitwise the same whatever its batch, its place in\n"
     "it, T, --chunk and --threads (on the same machine and build); slower"},
    {"y-layout", OPT_Y_LAYOUT, "elman|onnx",
     "Y's layout: elman's (the default) is X's with last dimension D*H; onnx is\n"
     "ONNX RNN's Y, [T, D, B, H], or [B, T, D, H] with --batch-first (ONNX\n"
     "layout 1); an unbatched X is a batch of 1. The same values either way"},
    {"prefix", OPT_PREFIX, "PREFIX",
     "name prefix of the RNN's tensors, e.g. rnn. (default: detected; \"\" for none)"},
    {"help", OPT_HELP, NULL, "print this help and exit"},
};

static const cli_option info_options[] = {
    {"prefix", OPT_PREFIX, "PREFIX", "name prefix of the RNN's tensors (default: detected)"},
    {"nonlinearity", OPT_NONLINEARITY, "tanh|relu", "as run takes it: shown as from a flag"},
    {"batch-first", OPT_BATCH_FIRST, NULL, "as run takes it: shown as from a flag"},
    {"seq-first", OPT_SEQ_FIRST, NULL, "as run takes it: shown as from a flag"},
    {"help", OPT_HELP, NULL, "print this help and exit"},
};


const char *const cli_direction_names[3] = {"forward", "reverse", "bidirectional"};


/* "    --name VALUE", then the help indented, one line per '\n' in it. */
static void print_option(FILE *f, const cli_option *o)
{
    fprintf(f, "    --%s%s%s\n", o->name, o->value ? " " : "", o->value ? o->value : "");
    for (const char *p = o->help; *p;) {
        const char *nl = strchr(p, '\n');
        const int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "            %.*s\n", len, p);
        p += len + (nl != NULL);
    }
}

void print_help(FILE *f)
{
    fputs("NAME\n"
          "    elman - run a PyTorch nn.RNN (safetensors) or an ONNX RNN on .npy arrays\n"
          "\n"
          "SYNOPSIS\n"
          "    elman run --weights MODEL.safetensors --input X.npy --output Y.npy\n"
          "              [--hn HN.npy] [--h0 H0.npy] [--lengths LENGTHS.npy]\n"
          "              [--nonlinearity tanh|relu | --activation NAME[:ALPHA[:BETA]]]\n"
          "              [--clip C] [--direction forward|reverse|bidirectional]\n"
          "              [--batch-first | --seq-first] [--state-batch-first]\n"
          "              [--dtype float32|float64] [--chunk N] [--threads N]\n"
          "              [--deterministic] [--y-layout elman|onnx] [--prefix PREFIX]\n"
          "    elman info MODEL.safetensors [--prefix PREFIX] [--nonlinearity tanh|relu]\n"
          "               [--batch-first | --seq-first]\n"
          "    elman --help | --version\n"
          "\n"
          "DESCRIPTION\n"
          "    run computes nn.RNN's forward pass (eval mode) exactly as PyTorch defines it,\n"
          "    with the model's layers, directions and biases inferred from its tensors and\n"
          "    nonlinearity and batch_first read from the file's __metadata__ (command-line\n"
          "    flags override them; without either, PyTorch's defaults: tanh, sequence-first).\n"
          "    With --lengths, sequence b is read at t < lengths[b] only, as\n"
          "    pack_padded_sequence(enforce_sorted=False) -> nn.RNN -> pad_packed_sequence\n"
          "    (total_length=T) computes it. Beyond nn.RNN: ONNX's activations and clip,\n"
          "    a reverse direction, one-bias models, float64, batch-major states, chunked\n"
          "    (streaming) runs and a deterministic mode (see the options). In an ONNX\n"
          "    model, the RNN nodes' activations, alpha/beta, clip, direction and layout\n"
          "    take the metadata's place: the options override them the same way.\n"
          "\n"
          "    info prints the configuration inferred from a model file, each setting with\n"
          "    where it came from (metadata or ONNX file, flag, default), and the tensors\n"
          "    it ignored; for an ONNX file, every node with its role.\n"
          "\n"
          "    Shapes: L layers, D directions (2 if bidirectional), H hidden_size,\n"
          "    I input_size, T seq_len, B batch. A 2-D X is one unbatched sequence.\n"
          "\n"
          "OPTIONS (run)\n",
          f);
    for (size_t i = 0; i < COUNT(run_options); i++)
        print_option(f, &run_options[i]);
    fputs("\nOPTIONS (info)\n", f);
    for (size_t i = 0; i < COUNT(info_options); i++)
        print_option(f, &info_options[i]);
    fputs("\n"
          "    An option's value may also be given as --option=VALUE.\n"
          "\n"
          "OUTPUT FILES\n"
          "    Each is written to a temporary file in its directory (.elman-XXXXXX), synced,\n"
          "    and renamed into place when every output is complete; a failure or a fatal\n"
          "    signal removes the temporaries and nothing else. An output naming an input\n"
          "    or another output is refused; a device or FIFO (/dev/null) is written in\n"
          "    place. Inputs must be regular files.\n"
          "\n"
          "EXIT STATUS\n"
          "    0 success; 1 a bad or unreadable input file, inconsistent shapes, lengths out\n"
          "    of range, an option the model cannot take (--direction, --chunk of a\n"
          "    bidirectional model), an output that cannot be written; 2 a bad command\n"
          "    line. Every failure prints one line on standard error.\n"
          "\n"
          "EXAMPLES\n"
          "    elman-export model.pt model.safetensors\n"
          "    elman info model.safetensors\n"
          "    elman run --weights model.safetensors --input x.npy --output y.npy --hn hn.npy\n"
          "    elman run --weights model.safetensors --input x.npy --output y.npy \\\n"
          "              --activation HardSigmoid:0.25 --clip 3 --dtype float64 --chunk 16\n",
          f);
}

/* A finite number written as the whole of s[0..len). */
static int parse_real(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf) || isspace((unsigned char)s[0]))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + len || errno == ERANGE || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* A whole decimal integer lo..hi. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
    if (!isdigit((unsigned char)s[0]) && s[0] != '-' && s[0] != '+')
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* --activation NAME[:ALPHA[:BETA]] */
static int parse_activation(cli_args *a, const char *cmd, const char *v)
{
    const char *colon = strchr(v, ':');
    const size_t nlen = colon != NULL ? (size_t)(colon - v) : strlen(v);
    /* the name alone, for the library's table (elman_activation_from_name) */
    char want[32];
    int id = -1;
    if (nlen < sizeof(want)) {
        memcpy(want, v, nlen);
        want[nlen] = '\0';
        if (elman_activation_from_name(want, &id) != ELMAN_OK)
            id = -1;
    }
    if (id < 0) {
        print_error("%s: --activation '%.*s' is not one of Tanh, Relu, Sigmoid, Affine, LeakyRelu, "
                    "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus",
                    cmd, (int)nlen, v);
        return EXIT_USAGE;
    }
    const char *name = elman_activation_name(id);
    const int params = elman_activation_params(id);
    double *dst[2] = {&a->alpha, &a->beta};
    static const char *const what[2] = {"ALPHA", "BETA"};
    int n = 0;
    while (colon != NULL) {
        const char *p = colon + 1;
        colon = strchr(p, ':');
        const size_t len = colon != NULL ? (size_t)(colon - p) : strlen(p);
        if (n >= params) {
            if (params == 0)
                print_error("%s: --activation %s takes no parameter (no ALPHA or BETA)", cmd, name);
            else
                print_error("%s: --activation %s takes %s, no more (%s:%s)", cmd, name,
                            params == 1 ? "ALPHA only" : "ALPHA and BETA", name,
                            params == 1 ? "ALPHA" : "ALPHA:BETA");
            return EXIT_USAGE;
        }
        if (!parse_real(p, len, dst[n])) {
            print_error("%s: --activation %s: %s '%.*s' is not a finite number", cmd, name,
                        what[n], (int)len, p);
            return EXIT_USAGE;
        }
        n++;
    }
    a->nonlinearity = id;
    return 0;
}

/* Applies option o (value v, NULL for a flag) to a. */
static int apply_option(cli_args *a, const char *cmd, const cli_option *o, const char *v)
{
    if (a->given[o->id]++) {
        print_error("%s: option --%s given twice", cmd, o->name);
        return EXIT_USAGE;
    }
    a->value[o->id] = v;
    long n;
    switch (o->id) {
    case OPT_NONLINEARITY:
        if (strcmp(v, "tanh") != 0 && strcmp(v, "relu") != 0) {
            print_error("%s: --nonlinearity must be tanh or relu, not '%s'", cmd, v);
            return EXIT_USAGE;
        }
        if (!a->given[OPT_ACTIVATION]) /* which overrides it */
            a->nonlinearity = strcmp(v, "tanh") == 0 ? ELMAN_TANH : ELMAN_RELU;
        break;
    case OPT_ACTIVATION:
        return parse_activation(a, cmd, v);
    case OPT_CLIP:
        if (!parse_real(v, strlen(v), &a->clip) || !(a->clip > 0)) {
            print_error("%s: --clip must be a finite number > 0, not '%s'", cmd, v);
            return EXIT_USAGE;
        }
        break;
    case OPT_DIRECTION:
        a->direction = DIR_MODEL;
        for (int d = DIR_FORWARD; d <= DIR_BIDIRECTIONAL; d++)
            if (strcmp(v, cli_direction_names[d]) == 0)
                a->direction = d;
        if (a->direction == DIR_MODEL) {
            print_error("%s: --direction must be forward, reverse or bidirectional, not '%s'",
                        cmd, v);
            return EXIT_USAGE;
        }
        break;
    case OPT_DTYPE:
        if (strcmp(v, "float32") != 0 && strcmp(v, "float64") != 0) {
            print_error("%s: --dtype must be float32 or float64, not '%s'", cmd, v);
            return EXIT_USAGE;
        }
        a->f64 = strcmp(v, "float64") == 0;
        break;
    case OPT_Y_LAYOUT:
        if (strcmp(v, "elman") != 0 && strcmp(v, "onnx") != 0) {
            print_error("%s: --y-layout must be elman or onnx, not '%s'", cmd, v);
            return EXIT_USAGE;
        }
        a->y_onnx = strcmp(v, "onnx") == 0;
        break;
    case OPT_CHUNK:
        if (!parse_int(v, 1, INT_MAX, &n)) {
            print_error("%s: --chunk must be a number of time steps >= 1, not '%s'", cmd, v);
            return EXIT_USAGE;
        }
        a->chunk = n;
        break;
    case OPT_THREADS:
        if (!parse_int(v, 1, MAX_THREADS, &n)) {
            print_error("%s: --threads must be 1..%d, not '%s'", cmd, MAX_THREADS, v);
            return EXIT_USAGE;
        }
        a->threads = (int)n;
        break;
    case OPT_BATCH_FIRST:
    case OPT_SEQ_FIRST:
        if (a->given[OPT_BATCH_FIRST] && a->given[OPT_SEQ_FIRST]) {
            print_error("%s: --batch-first and --seq-first exclude each other", cmd);
            return EXIT_USAGE;
        }
        a->batch_first = o->id == OPT_BATCH_FIRST;
        break;
    default:
        break;
    }
    return 0;
}

/* Parses argv[first..argc-1] against the table. Returns 0 or an exit
 * status (the error already printed). */
static int parse_options(int argc, char **argv, int first, const char *cmd,
                         const cli_option *opts, size_t n_opts, int max_positional,
                         cli_args *a)
{
    int positional = 0, options_done = 0;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (positional++ >= max_positional) {
                print_error("%s: unexpected argument '%s' (see 'elman --help')", cmd, arg);
                return EXIT_USAGE;
            }
            a->positional = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = 1;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            print_error("%s: unknown option '%s' (see 'elman --help')", cmd, arg);
            return EXIT_USAGE;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        const size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        const cli_option *o = NULL;
        for (size_t k = 0; k < n_opts; k++)
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0)
                o = &opts[k];
        if (o == NULL) {
            print_error("%s: unknown option '--%.*s' (see 'elman --help')", cmd, (int)len, name);
            return EXIT_USAGE;
        }
        const char *v = NULL;
        if (o->value == NULL) {
            if (eq != NULL) {
                print_error("%s: option --%s takes no value", cmd, o->name);
                return EXIT_USAGE;
            }
        } else if (eq != NULL) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            print_error("%s: option --%s needs a value (%s)", cmd, o->name, o->value);
            return EXIT_USAGE;
        }
        if (v != NULL && v[0] == '\0' && o->id != OPT_PREFIX) { /* --prefix "": none */
            print_error("%s: option --%s has an empty value", cmd, o->name);
            return EXIT_USAGE;
        }
        int rc = apply_option(a, cmd, o, v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void cli_args_init(cli_args *a)
{
    memset(a, 0, sizeof(*a));
    a->nonlinearity = -1;
    a->batch_first = -1;
    a->direction = DIR_MODEL;
    a->alpha = NAN;
    a->beta = NAN;
}

int parse_command_line(int argc, char **argv, const char *cmd, cli_args *a)
{
    if (strcmp(cmd, "run") == 0)
        return parse_options(argc, argv, 2, "run", run_options, COUNT(run_options), 0, a);
    if (strcmp(cmd, "info") == 0)
        return parse_options(argc, argv, 2, "info", info_options, COUNT(info_options), 1, a);
    print_error("unknown command '%s': run or info (see 'elman --help')", cmd);
    return EXIT_USAGE;
}
