/*
 * An nn.RNN from a parsed safetensors file: find its tensors by their
 * state_dict() names, infer the configuration, check every shape, read the
 * metadata, and build an elman_rnn.
 *
 * Every entry point re-derives everything from the file (a scan over the
 * tensor names is cheap next to reading them), so a caller can never pair a
 * file with a configuration it does not match.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"
#include "onnx_internal.h"

enum { W_IH, W_HH, B_IH, B_HH, N_KINDS };
static const char *const KIND[N_KINDS] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};

/* Layer indices have at most this many digits (a million layers). */
#define MAX_LAYER_DIGITS 6

/* Parses r, a name after the prefix. Returns 1 for an RNN parameter name
 * (kind, layer, reverse set), 0 for a name that is no RNN parameter, -1 for
 * one that looks like an RNN parameter but is not a valid one. */
static int parse_param(const char *r, int *kind, int *layer, int *reverse)
{
    static const char *const heads[] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l",
                                        "weight_hr_l"};
    int k = -1;
    for (int i = 0; i < 5; i++)
        if (strncmp(r, heads[i], strlen(heads[i])) == 0) {
            k = i;
            r += strlen(heads[i]);
            break;
        }
    if (k < 0)
        return 0;
    if (k == 4) /* LSTM's projection: not an nn.RNN */
        return -1;
    int digits = 0, v = 0;
    while (r[digits] >= '0' && r[digits] <= '9') {
        if (digits == MAX_LAYER_DIGITS)
            return -1;
        v = v * 10 + (r[digits] - '0');
        digits++;
    }
    if (digits == 0 || (digits > 1 && r[0] == '0'))
        return -1;
    r += digits;
    if (strcmp(r, "") != 0 && strcmp(r, "_reverse") != 0)
        return -1;
    *kind = k;
    *layer = v;
    *reverse = r[0] != '\0';
    return 1;
}

static void param_name(char *buf, size_t n, const char *prefix, int kind, int layer, int dir)
{
    snprintf(buf, n, "%s%s_l%d%s", prefix, KIND[kind], layer, dir ? "_reverse" : "");
}

static const char *esc_name(char *buf, size_t n, const char *s)
{
    return io_escape(buf, n, s, strlen(s));
}

static int has_l0(const elman_safetensors *st, const char *prefix)
{
    char name[ELMAN_PREFIX_MAX + 32];
    param_name(name, sizeof(name), prefix, W_IH, 0, 0);
    return elman_safetensors_find(st, name) != NULL;
}

/* Chooses the prefix: the caller's (or it with a '.' added), or the one
 * the file's names imply. */
static int resolve_prefix(const elman_safetensors *st, const char *prefix, char *out, char *err,
                          size_t err_size)
{
    char esc[300];
    static const char anchor[] = "weight_ih_l0";
    const size_t alen = sizeof(anchor) - 1;
    if (prefix != NULL) {
        size_t n = strlen(prefix);
        if (n + 1 >= ELMAN_PREFIX_MAX)
            return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                           "prefix \"%s\" is longer than %d bytes", esc_name(esc, sizeof(esc), prefix),
                           ELMAN_PREFIX_MAX - 2);
        memcpy(out, prefix, n + 1);
        if (has_l0(st, out))
            return ELMAN_OK;
        if (n > 0 && prefix[n - 1] != '.') {
            out[n] = '.';
            out[n + 1] = '\0';
            if (has_l0(st, out))
                return ELMAN_OK;
            out[n] = '\0';
        }
    }

    /* Not found: list the prefixes the file does have. */
    char found[ELMAN_PREFIX_MAX] = "", list[400] = "";
    size_t nfound = 0, used = 0;
    for (size_t i = 0; i < elman_safetensors_count(st); i++) {
        const char *name = elman_safetensors_tensor(st, i)->name;
        size_t len = strlen(name);
        if (len <= alen || strcmp(name + len - alen, anchor) != 0 || name[len - alen - 1] != '.')
            continue;
        if (nfound++ == 0 && len - alen < ELMAN_PREFIX_MAX) {
            memcpy(found, name, len - alen);
            found[len - alen] = '\0';
        }
        if (used + 8 < sizeof(list)) {
            char pe[120];
            io_escape(pe, sizeof(pe), name, len - alen);
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
                                     nfound > 1 ? ", " : "", pe);
        }
    }
    /* Detected: an unprefixed RNN is one candidate among the others. */
    const int bare = prefix == NULL && has_l0(st, "");
    if (prefix == NULL && nfound + (size_t)bare == 1 && (bare || found[0] != '\0')) {
        memcpy(out, bare ? "" : found, bare ? 1 : sizeof(found));
        return ELMAN_OK;
    }
    if (prefix == NULL && nfound + (size_t)bare > 1)
        return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                       "the file holds several RNNs (prefixes %s%s%s): choose one with "
                       "--prefix (the prefix argument; \"\" for the unprefixed one)",
                       bare ? "\"\" (none)" : "", bare ? ", " : "", list);
    if (nfound > 0)
        return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                       "no tensor \"%sweight_ih_l0\": the file's RNN prefixes are %s",
                       esc_name(esc, sizeof(esc), prefix != NULL ? prefix : ""), list);
    return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                   "no tensor \"%sweight_ih_l0\": the file holds no nn.RNN weights%s",
                   esc_name(esc, sizeof(esc), prefix != NULL ? prefix : ""),
                   prefix != NULL && prefix[0] ? " under this prefix" : "");
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

static int parse_bool(const char *s, int *out)
{
    if (ieq(s, "true") || strcmp(s, "1") == 0)
        *out = 1;
    else if (ieq(s, "false") || strcmp(s, "0") == 0)
        *out = 0;
    else
        return 0;
    return 1;
}

static int parse_count(const char *s, long *out)
{
    long v = 0;
    if (*s == '\0')
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (LONG_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

/* Reads nonlinearity and batch_first, and checks the metadata that
 * describes sizes against what the tensors say. */
static int read_metadata(const elman_safetensors *st, elman_rnn_info *info, char *err,
                         size_t err_size)
{
    char esc[120];
    elman_config *cfg = &info->config;
    const char *v = elman_safetensors_metadata(st, "nonlinearity");
    if (v != NULL) {
        if (ieq(v, "tanh"))
            cfg->nonlinearity = ELMAN_TANH;
        else if (ieq(v, "relu"))
            cfg->nonlinearity = ELMAN_RELU;
        else
            return io_fail(err, err_size, ELMAN_ERR_INVALID_CONFIG,
                           "metadata nonlinearity \"%s\" is not \"tanh\" or \"relu\"",
                           esc_name(esc, sizeof(esc), v));
        info->nonlinearity_from_metadata = 1;
    }
    v = elman_safetensors_metadata(st, "batch_first");
    if (v != NULL) {
        if (!parse_bool(v, &cfg->batch_first))
            return io_fail(err, err_size, ELMAN_ERR_INVALID_CONFIG,
                           "metadata batch_first \"%s\" is not \"true\" or \"false\"",
                           esc_name(esc, sizeof(esc), v));
        info->batch_first_from_metadata = 1;
    }

    const struct {
        const char *key;
        long value;
        int is_bool;
    } sizes[] = {{"input_size", cfg->input_size, 0},
                 {"hidden_size", cfg->hidden_size, 0},
                 {"num_layers", cfg->num_layers, 0},
                 {"bias", cfg->bias != ELMAN_BIAS_NONE, 1},
                 {"bidirectional", cfg->bidirectional, 1}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        v = elman_safetensors_metadata(st, sizes[i].key);
        if (v == NULL)
            continue;
        long got;
        int b;
        int ok = sizes[i].is_bool ? parse_bool(v, &b) : parse_count(v, &got);
        if (sizes[i].is_bool)
            got = b;
        if (!ok)
            return io_fail(err, err_size, ELMAN_ERR_INVALID_CONFIG,
                           "metadata %s \"%s\" is not %s", sizes[i].key,
                           esc_name(esc, sizeof(esc), v),
                           sizes[i].is_bool ? "\"true\" or \"false\"" : "a number");
        if (got != sizes[i].value) {
            if (sizes[i].is_bool)
                return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                               "metadata says %s %s, the tensors say %s", sizes[i].key,
                               got ? "true" : "false", sizes[i].value ? "true" : "false");
            return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                           "metadata says %s %ld, the tensors say %ld", sizes[i].key, got,
                           sizes[i].value);
        }
    }
    return ELMAN_OK;
}

/* Checks one tensor's dtype and shape. */
static int check_tensor(const elman_tensor *t, const size_t *want, int ndim, char *err,
                        size_t err_size)
{
    char esc[300], a[96], b[96];
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == want[i];
    if (!same)
        return io_fail(err, err_size, ELMAN_ERR_SHAPE, "tensor %s: shape %s, expected %s",
                       esc_name(esc, sizeof(esc), t->name),
                       io_shape_str(a, sizeof(a), t->shape, t->ndim),
                       io_shape_str(b, sizeof(b), want, ndim));
    if (!io_dtype_is_real(t->dtype))
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "tensor %s: dtype %s, expected F32, F64, F16 or BF16",
                       esc_name(esc, sizeof(esc), t->name), elman_dtype_name(t->dtype));
    return ELMAN_OK;
}

/* nn.GRU and nn.LSTM name their tensors as nn.RNN does, with 3 and 4 gates
 * stacked in the rows: weight_ih (G*H, I), weight_hh (G*H, H). */
static int check_not_gru_lstm(const elman_tensor *ih, const elman_tensor *hh, char *err,
                              size_t err_size)
{
    if (ih->ndim != 2 || hh->ndim != 2 || hh->shape[1] == 0)
        return ELMAN_OK;
    const size_t H = hh->shape[1];
    for (size_t g = 3; g <= 4; g++)
        if (hh->shape[0] / g == H && hh->shape[0] % g == 0 && ih->shape[0] == hh->shape[0]) {
            char esc[300], a[96], b[96];
            return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                           "this is an nn.%s, not an nn.RNN (%s has shape %s and "
                           "weight_hh_l0 %s: %zu gates of hidden_size %zu); elman runs nn.RNN",
                           g == 3 ? "GRU" : "LSTM", esc_name(esc, sizeof(esc), ih->name),
                           io_shape_str(a, sizeof(a), ih->shape, ih->ndim),
                           io_shape_str(b, sizeof(b), hh->shape, hh->ndim), g, H);
        }
    return ELMAN_OK;
}

/* Everything about the RNN behind the exact prefix `prefix`, into info. */
static int scan(const elman_safetensors *st, const char *prefix, elman_rnn_info *info,
                char *err, size_t err_size)
{
    char esc[300], name[ELMAN_PREFIX_MAX + 32];
    const size_t plen = strlen(prefix);
    int max_layer = -1, D = 1, has_ih = 0, has_hh = 0;

    memset(info, 0, sizeof(*info));
    elman_config_init(&info->config);
    memcpy(info->prefix, prefix, plen + 1);

    for (size_t i = 0; i < elman_safetensors_count(st); i++) {
        const char *n = elman_safetensors_tensor(st, i)->name;
        if (strncmp(n, prefix, plen) != 0)
            continue;
        int kind, layer, rev;
        int r = parse_param(n + plen, &kind, &layer, &rev);
        if (r == 0)
            continue;
        if (r < 0)
            return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                           "unexpected tensor %s: not a parameter of nn.RNN",
                           esc_name(esc, sizeof(esc), n));
        if (layer > max_layer)
            max_layer = layer;
        if (rev)
            D = 2;
        has_ih |= kind == B_IH;
        has_hh |= kind == B_HH;
    }
    const int L = max_layer + 1; /* >= 1: resolve_prefix found weight_ih_l0 */
    /* Any bias_hh makes the model PyTorch's, with both biases everywhere;
     * bias_ih alone everywhere is one bias (TFLite, Keras, oneDNN). */
    const int bias = has_hh ? ELMAN_BIAS_BOTH : has_ih ? ELMAN_BIAS_SINGLE : ELMAN_BIAS_NONE;

    /* Sizes from layer 0: weight_hh_l0 is (H, H), weight_ih_l0 is (H, I). */
    param_name(name, sizeof(name), prefix, W_HH, 0, 0);
    const elman_tensor *hh = elman_safetensors_find(st, name);
    param_name(name, sizeof(name), prefix, W_IH, 0, 0);
    const elman_tensor *ih = elman_safetensors_find(st, name);
    if (ih == NULL || hh == NULL) {
        param_name(name, sizeof(name), prefix, ih == NULL ? W_IH : W_HH, 0, 0);
        return io_fail(err, err_size, ELMAN_ERR_SHAPE, "missing tensor %s",
                       esc_name(esc, sizeof(esc), name));
    }
    char a[96];
    int rc = check_not_gru_lstm(ih, hh, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    if (hh->ndim != 2 || hh->shape[0] == 0 || hh->shape[0] != hh->shape[1])
        return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                       "tensor %s: shape %s, expected (hidden_size, hidden_size) with "
                       "hidden_size > 0",
                       esc_name(esc, sizeof(esc), hh->name),
                       io_shape_str(a, sizeof(a), hh->shape, hh->ndim));
    if (ih->ndim != 2 || ih->shape[1] == 0 || ih->shape[0] != hh->shape[0])
        return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                       "tensor %s: shape %s, expected (%zu, input_size) with input_size > 0",
                       esc_name(esc, sizeof(esc), ih->name),
                       io_shape_str(a, sizeof(a), ih->shape, ih->ndim), hh->shape[0]);
    if (hh->shape[0] > (size_t)(INT_MAX / 2) || ih->shape[1] > (size_t)INT_MAX)
        return io_fail(err, err_size, ELMAN_ERR_SHAPE, "tensor %s: sizes too large",
                       esc_name(esc, sizeof(esc), ih->name));
    const size_t H = hh->shape[0], I = ih->shape[1];

    elman_config *cfg = &info->config;
    cfg->input_size = (int)I;
    cfg->hidden_size = (int)H;
    cfg->num_layers = L;
    cfg->bias = bias;
    cfg->bidirectional = D == 2;

    int dtype = ih->dtype;
    size_t params = 0;
    for (int l = 0; l < L; l++)
        for (int d = 0; d < D; d++)
            for (int k = 0; k < N_KINDS; k++) {
                if ((k == B_IH && bias == ELMAN_BIAS_NONE) ||
                    (k == B_HH && bias != ELMAN_BIAS_BOTH))
                    continue;
                param_name(name, sizeof(name), prefix, k, l, d);
                const elman_tensor *t = elman_safetensors_find(st, name);
                if (t == NULL && k == B_HH)
                    return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                                   "missing tensor %s: the model mixes one and two biases "
                                   "(other layers or directions have bias_hh; a one-bias "
                                   "model has bias_ih only, in every layer and direction)",
                                   esc_name(esc, sizeof(esc), name));
                if (t == NULL)
                    return io_fail(err, err_size, ELMAN_ERR_SHAPE,
                                   "missing tensor %s (the other tensors make a model of %d "
                                   "layer%s, %s, %s)",
                                   esc_name(esc, sizeof(esc), name), L, L > 1 ? "s" : "",
                                   D == 2 ? "bidirectional" : "unidirectional",
                                   bias == ELMAN_BIAS_BOTH     ? "with two biases"
                                   : bias == ELMAN_BIAS_SINGLE ? "with one bias"
                                                               : "without bias");
                const size_t in = l == 0 ? I : (size_t)D * H;
                const size_t want[2] = {H, k == W_IH ? in : H};
                rc = check_tensor(t, want, k == W_IH || k == W_HH ? 2 : 1, err, err_size);
                if (rc != ELMAN_OK)
                    return rc;
                if (t->dtype != dtype)
                    dtype = -1;
                params += t->count;
            }
    info->dtype = dtype;
    info->num_parameters = params;
    return read_metadata(st, info, err, err_size);
}

int elman_rnn_info_from_safetensors(const elman_safetensors *st, const char *prefix,
                                    elman_rnn_info *info, char *err, size_t err_size)
{
    if (st == NULL || info == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    char chosen[ELMAN_PREFIX_MAX];
    int rc = resolve_prefix(st, prefix, chosen, err, err_size);
    if (rc == ELMAN_OK)
        rc = scan(st, chosen, info, err, err_size);
    if (rc == ELMAN_OK)
        io_ok(err, err_size);
    return rc;
}

/* Re-derives the file's configuration for info->prefix and checks that the
 * caller kept the fields the file decides. */
static int recheck(const elman_safetensors *st, const elman_rnn_info *info, elman_rnn_info *file,
                   char *err, size_t err_size)
{
    if (st == NULL || info == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    if (memchr(info->prefix, '\0', sizeof(info->prefix)) == NULL)
        return io_fail(err, err_size, ELMAN_ERR_INVALID_CONFIG, "info->prefix is not terminated");
    int rc = resolve_prefix(st, info->prefix, file->prefix, err, err_size);
    if (rc == ELMAN_OK && strcmp(file->prefix, info->prefix) != 0)
        rc = io_fail(err, err_size, ELMAN_ERR_INVALID_CONFIG,
                     "info->prefix is not the file's prefix");
    if (rc == ELMAN_OK) {
        char prefix[ELMAN_PREFIX_MAX];
        memcpy(prefix, file->prefix, sizeof(prefix));
        rc = scan(st, prefix, file, err, err_size);
    }
    if (rc != ELMAN_OK)
        return rc;
    return io_same_shape(&info->config, &file->config, err, err_size);
}

/* The tensors of one layer and direction of a checked file (NULL for the
 * biases it does not have). */
static void lookup(const elman_safetensors *st, const elman_rnn_info *file, int layer,
                   int direction, const elman_tensor **p)
{
    for (int k = 0; k < N_KINDS; k++) {
        p[k] = NULL;
        if ((k == B_IH && file->config.bias == ELMAN_BIAS_NONE) ||
            (k == B_HH && file->config.bias != ELMAN_BIAS_BOTH))
            continue;
        char name[ELMAN_PREFIX_MAX + 32];
        param_name(name, sizeof(name), file->prefix, k, layer, direction);
        p[k] = elman_safetensors_find(st, name); /* scan() checked it is there */
    }
}

int elman_rnn_weights_from_safetensors(const elman_safetensors *st, const elman_rnn_info *info,
                                       int layer, int direction, const double **w_ih,
                                       const double **w_hh, const double **b_ih,
                                       const double **b_hh, char *err, size_t err_size)
{
    elman_rnn_info file;
    int rc = recheck(st, info, &file, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    const int D = file.config.bidirectional ? 2 : 1;
    if (layer < 0 || layer >= file.config.num_layers || direction < 0 || direction >= D)
        return io_fail(err, err_size, ELMAN_ERR_INVALID_INDEX,
                       "layer %d direction %d: the model has %d layers and %d directions", layer,
                       direction, file.config.num_layers, D);
    const elman_tensor *t[N_KINDS];
    lookup(st, &file, layer, direction, t);
    const double *p[N_KINDS] = {NULL, NULL, NULL, NULL};
    const double **out[N_KINDS] = {w_ih, w_hh, b_ih, b_hh};
    for (int k = 0; k < N_KINDS; k++)
        if (t[k] != NULL && out[k] != NULL) {
            rc = elman_safetensors_values(st, t[k], &p[k], err, err_size);
            if (rc != ELMAN_OK)
                return rc;
        }
    for (int k = 0; k < N_KINDS; k++)
        if (out[k] != NULL)
            *out[k] = p[k];
    io_ok(err, err_size);
    return ELMAN_OK;
}

/* The four tensors of one layer and direction, converted to the model's
 * type into buf (buf[k] large enough for the largest layer's). */
static int convert_layer(const elman_safetensors *st, const elman_tensor *const *t, int dtype,
                         void *const *buf, const void **p, char *err, size_t err_size)
{
    for (int k = 0; k < N_KINDS; k++) {
        p[k] = NULL;
        if (t[k] == NULL)
            continue;
        int rc = elman_safetensors_tensor_read(st, t[k], dtype, buf[k], err, err_size);
        if (rc != ELMAN_OK)
            return rc;
        p[k] = buf[k];
    }
    return ELMAN_OK;
}

/* Sets every layer and direction's weights, one layer and direction at a
 * time, converted straight from the file to the model's type: a float64
 * model takes the values exactly, a float32 model rounds them. */
static int set_all_weights(const elman_safetensors *st, const elman_rnn_info *file, elman_rnn *rnn,
                           int f64, char *err, size_t err_size)
{
    const elman_config *cfg = &file->config;
    const int D = cfg->bidirectional ? 2 : 1;
    const size_t H = (size_t)cfg->hidden_size, es = f64 ? sizeof(double) : sizeof(float);
    const size_t in_max = (size_t)cfg->input_size > (size_t)D * H ? (size_t)cfg->input_size
                                                                  : (size_t)D * H;
    /* Sizes fit: elman_rnn_create() allocated more than this. */
    void *buf[N_KINDS] = {malloc(H * in_max * es), malloc(H * H * es), malloc(H * es),
                          malloc(H * es)};
    int rc = ELMAN_OK;
    for (int k = 0; k < N_KINDS; k++)
        if (buf[k] == NULL)
            rc = io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    for (int l = 0; l < cfg->num_layers && rc == ELMAN_OK; l++) {
        for (int d = 0; d < D && rc == ELMAN_OK; d++) {
            const elman_tensor *t[N_KINDS];
            const void *p[N_KINDS];
            lookup(st, file, l, d, t);
            rc = convert_layer(st, t, f64 ? ELMAN_DTYPE_F64 : ELMAN_DTYPE_F32, buf, p, err,
                               err_size);
            if (rc != ELMAN_OK)
                break;
            if (f64)
                rc = elman_rnn_set_weights_f64(rnn, l, d, p[W_IH], p[W_HH], p[B_IH], p[B_HH]);
            else
                rc = elman_rnn_set_weights(rnn, l, d, p[W_IH], p[W_HH], p[B_IH], p[B_HH]);
            if (rc != ELMAN_OK)
                rc = io_fail(err, err_size, rc, "cannot set the weights: %s", elman_strerror(rc));
        }
    }
    for (int k = 0; k < N_KINDS; k++)
        free(buf[k]);
    return rc;
}

int elman_rnn_from_safetensors(const elman_safetensors *st, const elman_rnn_info *info,
                               elman_rnn **out, char *err, size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    elman_rnn_info file;
    int rc = recheck(st, info, &file, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    elman_rnn *rnn;
    rc = elman_rnn_create(&info->config, &rnn);
    if (rc != ELMAN_OK)
        return io_fail(err, err_size, rc, "cannot create the model: %s", elman_strerror(rc));
    rc = set_all_weights(st, &file, rnn, info->config.dtype == ELMAN_FLOAT64, err, err_size);
    if (rc != ELMAN_OK) {
        elman_rnn_free(rnn);
        return rc;
    }
    io_ok(err, err_size);
    *out = rnn;
    return ELMAN_OK;
}

/* Configuration and model of a parsed file (elman_rnn_load, _parse). */
static int load_parsed(elman_safetensors *st, const char *prefix, elman_rnn **out,
                       elman_rnn_info *info, char *err, size_t err_size)
{
    elman_rnn_info local;
    elman_rnn_info *inf = info != NULL ? info : &local;
    int rc = elman_rnn_info_from_safetensors(st, prefix, inf, err, err_size);
    if (rc == ELMAN_OK)
        rc = elman_rnn_from_safetensors(st, inf, out, err, err_size);
    elman_safetensors_free(st);
    return rc;
}

int elman_rnn_load(const char *path, const char *prefix, elman_rnn **out, elman_rnn_info *info,
                   char *err, size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    int format; /* an ONNX file goes to its own loader (src/io/onnx_format.c) */
    int rc = elman_model_file_format(path, &format, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    if (format == ELMAN_FORMAT_ONNX)
        return io_onnx_load(path, prefix, out, info, err, err_size);
    elman_safetensors *st;
    rc = elman_safetensors_read(path, &st, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    rc = load_parsed(st, prefix, out, info, err, err_size);
    return rc == ELMAN_OK ? rc : io_context(err, err_size, rc, path);
}

int elman_rnn_parse(const void *data, size_t size, const char *prefix, elman_rnn **out,
                    elman_rnn_info *info, char *err, size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    elman_safetensors *st;
    int rc = elman_safetensors_parse(data, size, &st, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    return load_parsed(st, prefix, out, info, err, err_size);
}
