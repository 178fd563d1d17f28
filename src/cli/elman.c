/*
 * elman - the command-line tool: run a PyTorch nn.RNN saved as safetensors
 * on .npy data, or describe the model.
 *
 * Options are table-driven: each command has a table of cli_option entries
 * (name, value name, help) and one function that applies an option by id,
 * so a new option is one table row and one case. The help text's OPTIONS
 * section is printed from the same tables.
 *
 * Errors: one line on stderr, "elman: ...", and a non-zero exit status
 * (1 for bad input files or I/O, 2 for a bad command line). Outputs are
 * written under temporary names and renamed (elman_npy_write), and an
 * output already written is removed if a later one fails, so a failed run
 * leaves no output file behind.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elman.h"
#include "elman_io.h"

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2

/* ---- messages ---- */

/* Prints "elman: <message>" as one line, control characters replaced. */
static void print_error(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    fprintf(stderr, "elman: %s\n", msg);
}

/* ---- option tables ---- */

typedef struct cli_option {
    const char *name;  /* without the leading "--" */
    int id;
    const char *value; /* the value's name in the help, NULL for a flag */
    const char *help;
} cli_option;

enum {
    OPT_HELP,
    OPT_WEIGHTS,
    OPT_INPUT,
    OPT_OUTPUT,
    OPT_HN,
    OPT_H0,
    OPT_LENGTHS,
    OPT_NONLINEARITY,
    OPT_BATCH_FIRST,
    OPT_SEQ_FIRST,
    OPT_PREFIX,
    OPT_DIRECTION,
    OPT_ACTIVATION,
    OPT_CLIP,
    OPT_DTYPE,
    OPT_CHUNK,
    OPT_THREADS,
    OPT_STATE_BATCH_FIRST,
    OPT_DETERMINISTIC,
    OPT_COUNT
};

/* --threads above this is surely a mistake (the library uses at most 64). */
#define MAX_THREADS 1024

static const cli_option run_options[] = {
    {"weights", OPT_WEIGHTS, "MODEL.safetensors",
     "the model: nn.RNN.state_dict() tensors (tools/export_pytorch.py writes them);\n"
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
    {"prefix", OPT_PREFIX, "PREFIX",
     "name prefix of the RNN's tensors, e.g. rnn. (default: detected; \"\" for none)"},
    {"help", OPT_HELP, NULL, "print this help and exit"},
};

static const cli_option info_options[] = {
    {"prefix", OPT_PREFIX, "PREFIX", "name prefix of the RNN's tensors (default: detected)"},
    {"help", OPT_HELP, NULL, "print this help and exit"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What the command line asked for. Unset strings are NULL, unset choices -1. */
typedef struct cli_args {
    const char *value[OPT_COUNT]; /* the value of each option given */
    int given[OPT_COUNT];
    const char *positional;       /* info: MODEL */
    int nonlinearity;             /* from --nonlinearity or --activation */
    int batch_first;
    int direction;                /* a DIR_ value */
    double alpha, beta;           /* NAN: the activation's default */
    double clip;                  /* 0: none */
    int f64;                      /* --dtype float64 */
    long chunk;                   /* 0: one run */
    int threads;                  /* 0: the default */
} cli_args;

enum { DIR_MODEL = -1, DIR_FORWARD, DIR_REVERSE, DIR_BIDIRECTIONAL };
static const char *const DIRECTION[] = {"forward", "reverse", "bidirectional"};

/* ONNX RNN's activations and how many parameters (alpha, beta) each takes. */
static const struct {
    const char *name;
    int id, params;
} activations[] = {
    {"Tanh", ELMAN_TANH, 0},
    {"Relu", ELMAN_RELU, 0},
    {"Sigmoid", ELMAN_SIGMOID, 0},
    {"Affine", ELMAN_AFFINE, 2},
    {"LeakyRelu", ELMAN_LEAKY_RELU, 1},
    {"ThresholdedRelu", ELMAN_THRESHOLDED_RELU, 1},
    {"ScaledTanh", ELMAN_SCALED_TANH, 2},
    {"HardSigmoid", ELMAN_HARD_SIGMOID, 2},
    {"Elu", ELMAN_ELU, 1},
    {"Softsign", ELMAN_SOFTSIGN, 0},
    {"Softplus", ELMAN_SOFTPLUS, 0},
};

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

static void print_help(FILE *f)
{
    fputs("NAME\n"
          "    elman - run a PyTorch nn.RNN saved as safetensors on .npy arrays\n"
          "\n"
          "SYNOPSIS\n"
          "    elman run --weights MODEL.safetensors --input X.npy --output Y.npy\n"
          "              [--hn HN.npy] [--h0 H0.npy] [--lengths LENGTHS.npy]\n"
          "              [--nonlinearity tanh|relu | --activation NAME[:ALPHA[:BETA]]]\n"
          "              [--clip C] [--direction forward|reverse|bidirectional]\n"
          "              [--batch-first | --seq-first] [--state-batch-first]\n"
          "              [--dtype float32|float64] [--chunk N] [--threads N]\n"
          "              [--deterministic] [--prefix PREFIX]\n"
          "    elman info MODEL.safetensors [--prefix PREFIX]\n"
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
          "    (streaming) runs and a deterministic mode (see the options).\n"
          "\n"
          "    info prints the configuration inferred from a model file.\n"
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
          "    Written to a temporary file in the same directory and renamed when complete:\n"
          "    a failed run leaves no output file behind.\n"
          "\n"
          "EXIT STATUS\n"
          "    0 success; 1 a bad or unreadable input file, inconsistent shapes, lengths out\n"
          "    of range, an option the model cannot take (--direction, --chunk of a\n"
          "    bidirectional model), an output that cannot be written; 2 a bad command\n"
          "    line. Every failure prints one line on standard error.\n"
          "\n"
          "EXAMPLES\n"
          "    python3 tools/export_pytorch.py model.pt model.safetensors\n"
          "    elman info model.safetensors\n"
          "    elman run --weights model.safetensors --input x.npy --output y.npy --hn hn.npy\n"
          "    elman run --weights model.safetensors --input x.npy --output y.npy \\\n"
          "              --activation HardSigmoid:0.25 --clip 3 --dtype float64 --chunk 16\n",
          f);
}

static int ieq(const char *a, const char *b, size_t blen)
{
    size_t i = 0;
    for (; i < blen && a[i]; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return i == blen && a[i] == '\0';
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
    int k = -1;
    for (size_t i = 0; i < COUNT(activations); i++)
        if (ieq(activations[i].name, v, nlen))
            k = (int)i;
    if (k < 0) {
        print_error("%s: --activation '%.*s' is not one of Tanh, Relu, Sigmoid, Affine, LeakyRelu, "
                    "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus",
                    cmd, (int)nlen, v);
        return EXIT_USAGE;
    }
    const char *name = activations[k].name;
    const int params = activations[k].params;
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
    a->nonlinearity = activations[k].id;
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
            if (strcmp(v, DIRECTION[d]) == 0)
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

/* ---- run ---- */

typedef struct run_state {
    elman_safetensors *st;
    elman_rnn *rnn;
    elman_array x, h0, lengths;
    void *xr, *h0r, *out, *hn; /* float, or double with --dtype float64 */
    int *len;
    /* --chunk */
    void *ws, *xc, *yc;
    int *lc;
} run_state;

static void run_free(run_state *s)
{
    elman_safetensors_free(s->st);
    elman_rnn_free(s->rnn);
    elman_array_free(&s->x);
    elman_array_free(&s->h0);
    elman_array_free(&s->lengths);
    free(s->xr);
    free(s->h0r);
    free(s->out);
    free(s->hn);
    free(s->len);
    free(s->ws);
    free(s->xc);
    free(s->yc);
    free(s->lc);
}

static const char *shape_str(char *buf, size_t n, const size_t *shape, int ndim)
{
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, i ? ", %zu" : "%zu", shape[i]);
    if (o < n)
        snprintf(buf + o, n - o, "]");
    return buf;
}

static int same_shape(const elman_array *a, const size_t *want, int ndim)
{
    if (a->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (a->shape[i] != want[i])
            return 0;
    return 1;
}

/* Reads a float32/float64 .npy file into a new buffer of float, or of
 * double when f64 (float32 values convert exactly). */
static int read_reals(const char *path, const char *what, int f64, elman_array *a, void **buf)
{
    char err[ELMAN_IO_ERROR_SIZE];
    if (elman_npy_read(path, a, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s", err);
        return 0;
    }
    if (a->dtype != ELMAN_DTYPE_F32 && a->dtype != ELMAN_DTYPE_F64) {
        print_error("%s: %s has dtype %s, expected float32 or float64", path, what,
                    a->dtype == ELMAN_DTYPE_I32 ? "int32" : "int64");
        return 0;
    }
    *buf = malloc((a->count ? a->count : 1) * (f64 ? sizeof(double) : sizeof(float)));
    if (*buf == NULL) {
        print_error("%s: out of memory", path);
        return 0;
    }
    if (!f64) {
        elman_array_to_float(a, *buf, NULL, 0);
    } else {
        double *d = *buf;
        for (size_t i = 0; i < a->count; i++)
            d[i] = a->dtype == ELMAN_DTYPE_F64 ? ((const double *)a->data)[i]
                                               : (double)((const float *)a->data)[i];
    }
    return 1;
}

/* The shapes of a run, in elements. */
typedef struct run_dims {
    size_t T, B, I, DH;
    int batch_first, f64;
} run_dims;

/* --chunk: the input in consecutive chunks of `chunk` steps through
 * elman_rnn_forward_chunk(), the state (h0, or zeros) carried in s->hn.
 * A sequence of length n has min(chunk, max(0, n - t0)) steps in the chunk
 * starting at t0. Returns an elman_status. */
static int run_chunked(run_state *s, const run_dims *d, size_t chunk)
{
    const size_t es = d->f64 ? sizeof(double) : sizeof(float);
    const size_t N = chunk < d->T ? chunk : d->T, B = d->B, T = d->T, I = d->I, DH = d->DH;
    size_t ws_size = elman_rnn_workspace_size(s->rnn, (int)B, (int)N);
    if (ws_size == 0)
        return ELMAN_ERR_SIZE_OVERFLOW;
    ws_size = (ws_size + ELMAN_WORKSPACE_ALIGNMENT - 1) / ELMAN_WORKSPACE_ALIGNMENT *
              ELMAN_WORKSPACE_ALIGNMENT;
    s->ws = aligned_alloc(ELMAN_WORKSPACE_ALIGNMENT, ws_size);
    /* Batch-major X and Y are gathered and scattered per chunk (B*N*I and
     * B*N*DH are at most the sizes of X and Y); time-major ones are sliced. */
    const int gather = d->batch_first && B > 1;
    if (gather) {
        s->xc = malloc(B * N * I * es);
        s->yc = malloc(B * N * DH * es);
    }
    if (s->len != NULL)
        s->lc = malloc(B * sizeof(int));
    if (s->ws == NULL || (gather && (s->xc == NULL || s->yc == NULL)) ||
        (s->len != NULL && s->lc == NULL))
        return ELMAN_ERR_OUT_OF_MEMORY;

    const char *x = s->xr;
    char *out = s->out;
    for (size_t t0 = 0; t0 < T; t0 += N) {
        const size_t n = T - t0 < N ? T - t0 : N;
        if (s->len != NULL)
            for (size_t b = 0; b < B; b++) {
                const size_t left = (size_t)s->len[b] > t0 ? (size_t)s->len[b] - t0 : 0;
                s->lc[b] = (int)(left < n ? left : n);
            }
        const void *xp = x + t0 * B * I * es;
        void *yp = out + t0 * B * DH * es;
        if (gather) {
            for (size_t b = 0; b < B; b++)
                memcpy((char *)s->xc + b * n * I * es, x + (b * T + t0) * I * es, n * I * es);
            xp = s->xc;
            yp = s->yc;
        }
        int rc = d->f64 ? elman_rnn_forward_chunk_f64(s->rnn, (int)B, (int)n, xp, s->lc, s->hn,
                                                      yp, s->ws, ws_size)
                        : elman_rnn_forward_chunk(s->rnn, (int)B, (int)n, xp, s->lc, s->hn, yp,
                                                  s->ws, ws_size);
        if (rc != ELMAN_OK)
            return rc;
        if (gather)
            for (size_t b = 0; b < B; b++)
                memcpy(out + (b * T + t0) * DH * es, (char *)s->yc + b * n * DH * es,
                       n * DH * es);
    }
    return ELMAN_OK;
}

/* Applies the command line to the file's configuration. Returns 0 or an
 * exit status (the error printed). */
static int configure(const cli_args *a, const char *wpath, elman_rnn_info *info)
{
    elman_config *cfg = &info->config;
    if (a->nonlinearity >= 0)
        cfg->nonlinearity = a->nonlinearity;
    if (a->batch_first >= 0)
        cfg->batch_first = a->batch_first;
    cfg->activation_alpha = a->alpha;
    cfg->activation_beta = a->beta;
    cfg->clip = a->clip;
    cfg->dtype = a->f64 ? ELMAN_FLOAT64 : ELMAN_FLOAT32;
    cfg->state_batch_first = a->given[OPT_STATE_BATCH_FIRST] != 0;
    cfg->deterministic = a->given[OPT_DETERMINISTIC] != 0;
    if (a->threads > 0)
        cfg->num_threads = a->threads;
    if (a->direction == DIR_BIDIRECTIONAL && !cfg->bidirectional) {
        print_error("%s: --direction bidirectional needs a bidirectional model (with _reverse "
                    "tensors), but this one has one direction",
                    wpath);
        return EXIT_BAD_INPUT;
    }
    if ((a->direction == DIR_FORWARD || a->direction == DIR_REVERSE) && cfg->bidirectional) {
        print_error("%s: --direction %s needs a model with one direction, but this one is "
                    "bidirectional (it has _reverse tensors)",
                    wpath, DIRECTION[a->direction]);
        return EXIT_BAD_INPUT;
    }
    cfg->reverse = a->direction == DIR_REVERSE;
    if (a->chunk > 0 && cfg->bidirectional) {
        print_error("%s: --chunk cannot run a bidirectional model: the backward direction needs "
                    "the whole sequence (run it without --chunk)",
                    wpath);
        return EXIT_BAD_INPUT;
    }
    return 0;
}

static int run_command(const cli_args *a)
{
    const char *wpath = a->value[OPT_WEIGHTS], *xpath = a->value[OPT_INPUT];
    const char *ypath = a->value[OPT_OUTPUT], *hnpath = a->value[OPT_HN];
    const char *h0path = a->value[OPT_H0], *lpath = a->value[OPT_LENGTHS];
    if (wpath == NULL || xpath == NULL || ypath == NULL) {
        print_error("run: --%s is required (see 'elman --help')",
                    wpath == NULL ? "weights" : xpath == NULL ? "input" : "output");
        return EXIT_USAGE;
    }
    if (hnpath != NULL && strcmp(hnpath, ypath) == 0) {
        print_error("run: --output and --hn name the same file '%s'", ypath);
        return EXIT_USAGE;
    }
    if (a->chunk > 0 && a->direction >= DIR_REVERSE) {
        print_error("run: --chunk cannot run with --direction %s: the backward direction needs "
                    "the whole sequence",
                    DIRECTION[a->direction]);
        return EXIT_USAGE;
    }

    char err[ELMAN_IO_ERROR_SIZE], s1[128], s2[128];
    run_state s;
    memset(&s, 0, sizeof(s));
    int status = EXIT_BAD_INPUT;

    /* The model's configuration, with the command line's overrides. */
    elman_rnn_info info;
    if (elman_safetensors_read(wpath, &s.st, err, sizeof(err)) != ELMAN_OK ||
        elman_rnn_info_from_safetensors(s.st, a->value[OPT_PREFIX], &info, err, sizeof(err)) !=
            ELMAN_OK) {
        print_error("%s%s%s", s.st != NULL ? wpath : "", s.st != NULL ? ": " : "", err);
        goto done;
    }
    if ((status = configure(a, wpath, &info)) != 0)
        goto done;
    status = EXIT_BAD_INPUT;
    const elman_config *cfg = &info.config;
    const int f64 = cfg->dtype == ELMAN_FLOAT64;
    const size_t es = f64 ? sizeof(double) : sizeof(float);
    const size_t L = (size_t)cfg->num_layers, D = cfg->bidirectional ? 2 : 1;
    const size_t H = (size_t)cfg->hidden_size, I = (size_t)cfg->input_size;

    /* X: (T, B, I), (B, T, I) or unbatched (T, I). */
    if (!read_reals(xpath, "the input", f64, &s.x, &s.xr))
        goto done;
    const int batched = s.x.ndim == 3;
    if (s.x.ndim != 2 && s.x.ndim != 3) {
        print_error("%s: input shape %s: expected 3 dimensions (%s) or 2 (T, I) unbatched",
                    xpath, shape_str(s1, sizeof(s1), s.x.shape, s.x.ndim),
                    cfg->batch_first ? "B, T, I" : "T, B, I");
        goto done;
    }
    if (s.x.shape[s.x.ndim - 1] != I) {
        print_error("%s: input shape %s: last dimension %zu, the model's input_size is %zu",
                    xpath, shape_str(s1, sizeof(s1), s.x.shape, s.x.ndim),
                    s.x.shape[s.x.ndim - 1], I);
        goto done;
    }
    const size_t T = batched && cfg->batch_first ? s.x.shape[1] : s.x.shape[0];
    const size_t B = !batched ? 1 : cfg->batch_first ? s.x.shape[0] : s.x.shape[1];
    if (T == 0 || B == 0 || T > 0x7fffffff || B > 0x7fffffff) {
        print_error("%s: input shape %s: seq_len and batch must be 1 .. 2^31-1", xpath,
                    shape_str(s1, sizeof(s1), s.x.shape, s.x.ndim));
        goto done;
    }

    /* H0: (L*D, B, H), (B, L*D, H) with --state-batch-first, or (L*D, H)
     * unbatched. */
    const size_t state_shape[3] = {L * D, B, H}, state_shape_bf[3] = {B, L * D, H};
    const size_t state_shape_unb[2] = {L * D, H};
    const size_t *sshape = !batched                ? state_shape_unb
                           : cfg->state_batch_first ? state_shape_bf
                                                    : state_shape;
    const int sdim = batched ? 3 : 2;
    if (h0path != NULL) {
        if (!read_reals(h0path, "h0", f64, &s.h0, &s.h0r))
            goto done;
        if (!same_shape(&s.h0, sshape, sdim)) {
            print_error("%s: h0 shape %s, expected %s%s", h0path,
                        shape_str(s1, sizeof(s1), s.h0.shape, s.h0.ndim),
                        shape_str(s2, sizeof(s2), sshape, sdim),
                        batched && cfg->state_batch_first ? " (--state-batch-first)" : "");
            goto done;
        }
    }

    /* LENGTHS: (B,) int32/int64, each 1..T. */
    if (lpath != NULL) {
        if (elman_npy_read(lpath, &s.lengths, err, sizeof(err)) != ELMAN_OK) {
            print_error("%s", err);
            goto done;
        }
        if (s.lengths.dtype != ELMAN_DTYPE_I32 && s.lengths.dtype != ELMAN_DTYPE_I64) {
            print_error("%s: lengths have dtype %s, expected int32 or int64", lpath,
                        s.lengths.dtype == ELMAN_DTYPE_F32 ? "float32" : "float64");
            goto done;
        }
        if (!batched) {
            print_error("%s: lengths need batched input, but the input is unbatched (T, I)",
                        lpath);
            goto done;
        }
        if (!same_shape(&s.lengths, &B, 1)) {
            print_error("%s: lengths shape %s, expected [%zu] (one per sequence)", lpath,
                        shape_str(s1, sizeof(s1), s.lengths.shape, s.lengths.ndim), B);
            goto done;
        }
        s.len = malloc(B * sizeof(int));
        if (s.len == NULL) {
            print_error("out of memory");
            goto done;
        }
        for (size_t b = 0; b < B; b++) {
            long long v = s.lengths.dtype == ELMAN_DTYPE_I32
                              ? ((const int *)s.lengths.data)[b]
                              : (long long)((const long long *)s.lengths.data)[b];
            if (v < 1 || (unsigned long long)v > T) {
                print_error("%s: lengths[%zu] = %lld is out of range 1..%zu", lpath, b, v, T);
                goto done;
            }
            s.len[b] = (int)v;
        }
    }

    /* The model, and the forward pass. */
    if (elman_rnn_from_safetensors(s.st, &info, &s.rnn, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s: %s", wpath, err);
        goto done;
    }
    elman_safetensors_free(s.st);
    s.st = NULL;
    /* T*B fits (X holds T*B*I elements), D*H fits (the model holds D*H*H
     * weights); their product need not. */
    const size_t tb = T * B, dh = D * H, nst = L * dh * B;
    if (tb > ((size_t)-1 / sizeof(double)) / dh || nst / B != L * dh) {
        print_error("%s: input too large for this model's output", xpath);
        goto done;
    }
    const size_t nout = tb * dh;
    s.out = malloc(nout * es);
    s.hn = malloc(nst * es);
    if (s.out == NULL || s.hn == NULL) {
        print_error("out of memory");
        goto done;
    }
    int rc;
    if (a->chunk > 0) {
        if (s.h0r != NULL)
            memcpy(s.hn, s.h0r, nst * es);
        else
            memset(s.hn, 0, nst * es); /* all-zero bits: 0.0 in IEEE float and double */
        const run_dims d = {T, B, I, dh, cfg->batch_first, f64};
        rc = run_chunked(&s, &d, (size_t)a->chunk);
    } else if (f64) {
        rc = elman_rnn_forward_f64(s.rnn, (int)B, (int)T, s.xr, s.len, s.h0r, s.out, s.hn, NULL,
                                   0);
    } else {
        rc = elman_rnn_forward(s.rnn, (int)B, (int)T, s.xr, s.len, s.h0r, s.out, s.hn, NULL, 0);
    }
    if (rc != ELMAN_OK) {
        print_error("forward pass failed: %s", elman_strerror(rc));
        goto done;
    }

    /* Outputs: Y in X's layout, then HN; Y is removed if HN fails. */
    const int odtype = f64 ? ELMAN_DTYPE_F64 : ELMAN_DTYPE_F32;
    size_t yshape[3];
    int ydim = s.x.ndim;
    memcpy(yshape, s.x.shape, sizeof(yshape));
    yshape[ydim - 1] = D * H;
    if (elman_npy_write(ypath, odtype, ydim, yshape, s.out, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s", err);
        goto done;
    }
    if (hnpath != NULL &&
        elman_npy_write(hnpath, odtype, sdim, sshape, s.hn, err, sizeof(err)) != ELMAN_OK) {
        remove(ypath);
        print_error("%s", err);
        goto done;
    }
    status = 0;
done:
    run_free(&s);
    return status;
}

/* ---- info ---- */

static int info_command(const cli_args *a)
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_error("missing command: run or info (see 'elman --help')");
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("elman %s\n", elman_version_string());
        return 0;
    }
    cli_args a;
    memset(&a, 0, sizeof(a));
    a.nonlinearity = -1;
    a.batch_first = -1;
    a.direction = DIR_MODEL;
    a.alpha = NAN;
    a.beta = NAN;
    int rc;
    if (strcmp(cmd, "run") == 0)
        rc = parse_options(argc, argv, 2, "run", run_options, COUNT(run_options), 0, &a);
    else if (strcmp(cmd, "info") == 0)
        rc = parse_options(argc, argv, 2, "info", info_options, COUNT(info_options), 1, &a);
    else {
        print_error("unknown command '%s': run or info (see 'elman --help')", cmd);
        return EXIT_USAGE;
    }
    if (rc != 0)
        return rc;
    if (a.given[OPT_HELP]) {
        print_help(stdout);
        return 0;
    }
    return strcmp(cmd, "run") == 0 ? run_command(&a) : info_command(&a);
}
