/*
 * `elman run`: the model's configuration with the command line's overrides,
 * the inputs, the forward pass (in one call or in chunks), the outputs.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "elman_size.h"

typedef struct run_state {
    elman_safetensors *st; /* the model file: safetensors */
    elman_onnx *onnx;      /* or ONNX */
    elman_rnn *rnn;
    elman_array x, h0, lengths;
    void *xr, *h0r, *out, *hn; /* float, or double with --dtype float64 */
    int *len;
    /* --chunk */
    void *ws, *xc, *yc;
    int *lc;
    /* The run's configuration and shapes, set as the inputs are read. */
    elman_rnn_info info;
    int f64, batched, sdim;
    size_t es, T, B, L, D, H, I;
    size_t sshape[3]; /* H0's and HN's shape */
    /* The files, checked before anything is read or computed. */
    cli_file ins[4];
    size_t n_ins;
    cli_output outs[2]; /* Y, and HN if asked for */
    size_t n_outs;
} run_state;

static void run_free(run_state *s)
{
    elman_safetensors_free(s->st);
    elman_onnx_free(s->onnx);
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
    /* aligned_alloc wants a multiple of the alignment */
    if (ws_size == 0 || !elman_round_up_size(ws_size, ELMAN_WORKSPACE_ALIGNMENT, &ws_size))
        return ELMAN_ERR_SIZE_OVERFLOW;
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
    /* Only what the command line gives changes the file's settings (an
     * ONNX file sets activations, alpha/beta, clip, direction and layout). */
    if (a->nonlinearity >= 0) {
        cfg->nonlinearity = a->nonlinearity;
        cfg->activation_alpha = a->alpha;
        cfg->activation_beta = a->beta;
    }
    if (a->batch_first >= 0)
        cfg->batch_first = a->batch_first;
    if (a->given[OPT_CLIP])
        cfg->clip = a->clip;
    cfg->dtype = a->f64 ? ELMAN_FLOAT64 : ELMAN_FLOAT32;
    if (a->given[OPT_STATE_BATCH_FIRST])
        cfg->state_batch_first = 1;
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
                    wpath, cli_direction_names[a->direction]);
        return EXIT_BAD_INPUT;
    }
    if (a->direction != DIR_MODEL)
        cfg->reverse = a->direction == DIR_REVERSE;
    if (a->chunk > 0 && cfg->bidirectional) {
        print_error("%s: --chunk cannot run a bidirectional model: the backward direction needs "
                    "the whole sequence (run it without --chunk)",
                    wpath);
        return EXIT_BAD_INPUT;
    }
    return 0;
}


/* The model file's configuration with the command line's overrides.
 * Returns 0 or an exit status (the error printed). */
static int read_config(const cli_args *a, run_state *s)
{
    const char *wpath = a->value[OPT_WEIGHTS];
    char err[ELMAN_IO_ERROR_SIZE];
    int format;
    if (elman_model_file_format(wpath, &format, err, sizeof(err)) != ELMAN_OK) {
        print_error("%s", err);
        return EXIT_BAD_INPUT;
    }
    if (format == ELMAN_FORMAT_ONNX) {
        if (!read_onnx(a, wpath, &s->onnx, &s->info))
            return EXIT_BAD_INPUT;
    } else if (elman_safetensors_read(wpath, &s->st, err, sizeof(err)) != ELMAN_OK ||
               elman_rnn_info_from_safetensors(s->st, a->value[OPT_PREFIX], &s->info, err,
                                               sizeof(err)) != ELMAN_OK) {
        print_error("%s%s%s", s->st != NULL ? wpath : "", s->st != NULL ? ": " : "", err);
        return EXIT_BAD_INPUT;
    }
    int status = configure(a, wpath, &s->info);
    if (status != 0)
        return status;
    const elman_config *cfg = &s->info.config;
    s->f64 = cfg->dtype == ELMAN_FLOAT64;
    s->es = s->f64 ? sizeof(double) : sizeof(float);
    s->L = (size_t)cfg->num_layers;
    s->D = cfg->bidirectional ? 2 : 1;
    s->H = (size_t)cfg->hidden_size;
    s->I = (size_t)cfg->input_size;
    return 0;
}

/* X: (T, B, I), (B, T, I) or unbatched (T, I). Returns 1, or 0 with the
 * error printed. */
static int read_x(const char *xpath, run_state *s)
{
    const elman_config *cfg = &s->info.config;
    char s1[128];
    if (!read_reals(xpath, "--input", s->f64, &s->x, &s->xr))
        return 0;
    s->batched = s->x.ndim == 3;
    if (s->x.ndim != 2 && s->x.ndim != 3) {
        print_error("%s: input shape %s: expected 3 dimensions (%s) or 2 (T, I) unbatched",
                    xpath, shape_str(s1, sizeof(s1), s->x.shape, s->x.ndim),
                    cfg->batch_first ? "B, T, I" : "T, B, I");
        return 0;
    }
    if (s->x.shape[s->x.ndim - 1] != s->I) {
        print_error("%s: input shape %s: last dimension %zu, the model's input_size is %zu",
                    xpath, shape_str(s1, sizeof(s1), s->x.shape, s->x.ndim),
                    s->x.shape[s->x.ndim - 1], s->I);
        return 0;
    }
    s->T = s->batched && cfg->batch_first ? s->x.shape[1] : s->x.shape[0];
    s->B = !s->batched ? 1 : cfg->batch_first ? s->x.shape[0] : s->x.shape[1];
    if (s->T == 0 || s->B == 0 || s->T > 0x7fffffff || s->B > 0x7fffffff) {
        print_error("%s: input shape %s: seq_len and batch must be 1 .. 2^31-1", xpath,
                    shape_str(s1, sizeof(s1), s->x.shape, s->x.ndim));
        return 0;
    }
    /* H0 and HN: (L*D, B, H), (B, L*D, H) with --state-batch-first, or
     * (L*D, H) unbatched. */
    const size_t LD = s->L * s->D;
    s->sdim = s->batched ? 3 : 2;
    if (!s->batched) {
        s->sshape[0] = LD;
        s->sshape[1] = s->H;
    } else {
        s->sshape[0] = cfg->state_batch_first ? s->B : LD;
        s->sshape[1] = cfg->state_batch_first ? LD : s->B;
        s->sshape[2] = s->H;
    }
    return 1;
}

/* H0, in HN's shape. Returns 1, or 0 with the error printed. */
static int read_h0(const char *h0path, run_state *s)
{
    char s1[128], s2[128];
    if (!read_reals(h0path, "--h0", s->f64, &s->h0, &s->h0r))
        return 0;
    if (!same_shape(&s->h0, s->sshape, s->sdim)) {
        print_error("%s: h0 shape %s, expected %s%s", h0path,
                    shape_str(s1, sizeof(s1), s->h0.shape, s->h0.ndim),
                    shape_str(s2, sizeof(s2), s->sshape, s->sdim),
                    s->batched && s->info.config.state_batch_first ? " (--state-batch-first)"
                                                                   : "");
        return 0;
    }
    return 1;
}

/* The model, and the forward pass into s->out and s->hn. Returns 1, or 0
 * with the error printed. */
static int forward(const cli_args *a, run_state *s)
{
    const char *wpath = a->value[OPT_WEIGHTS], *xpath = a->value[OPT_INPUT];
    char err[ELMAN_IO_ERROR_SIZE];
    const int lrc = s->onnx != NULL
                       ? elman_rnn_from_onnx(s->onnx, &s->info, &s->rnn, err, sizeof(err))
                       : elman_rnn_from_safetensors(s->st, &s->info, &s->rnn, err, sizeof(err));
    if (lrc != ELMAN_OK) {
        print_error("%s: %s", wpath, err);
        return 0;
    }
    elman_safetensors_free(s->st);
    s->st = NULL;
    elman_onnx_free(s->onnx);
    s->onnx = NULL;
    /* T*B fits (X holds T*B*I elements), D*H fits (the model holds D*H*H
     * weights); their product need not. */
    const size_t B = s->B, T = s->T, es = s->es;
    const size_t tb = T * B, dh = s->D * s->H, nst = s->L * dh * B;
    if (tb > ((size_t)-1 / sizeof(double)) / dh || nst / B != s->L * dh) {
        print_error("%s: input too large for this model's output", xpath);
        return 0;
    }
    s->out = malloc(tb * dh * es);
    s->hn = malloc(nst * es);
    if (s->out == NULL || s->hn == NULL) {
        print_error("out of memory");
        return 0;
    }
    int rc;
    if (a->chunk > 0) {
        if (s->h0r != NULL)
            memcpy(s->hn, s->h0r, nst * es);
        else
            memset(s->hn, 0, nst * es); /* all-zero bits: 0.0 in IEEE float and double */
        const run_dims d = {T, B, s->I, dh, s->info.config.batch_first, s->f64};
        rc = run_chunked(s, &d, (size_t)a->chunk);
    } else if (s->f64) {
        rc = elman_rnn_forward_f64(s->rnn, (int)B, (int)T, s->xr, s->len, s->h0r, s->out, s->hn,
                                   NULL, 0);
    } else {
        rc = elman_rnn_forward(s->rnn, (int)B, (int)T, s->xr, s->len, s->h0r, s->out, s->hn,
                               NULL, 0);
    }
    if (rc != ELMAN_OK) {
        print_error("forward pass failed: %s", elman_strerror(rc));
        return 0;
    }
    return 1;
}

/* Y in elman's layout (X's, last dimension D*H) or, with --y-layout onnx,
 * ONNX's: [T, D, B, H], or [B, T, D, H] for a batch-first X (ONNX layout
 * 1, the same bytes as elman's); an unbatched X is a batch of one. Returns
 * 1, or 0 with o->failed set. */
static int write_y(const cli_args *a, const run_state *s, cli_output *o)
{
    const int odtype = s->f64 ? ELMAN_DTYPE_F64 : ELMAN_DTYPE_F32;
    const size_t T = s->T, B = s->B, D = s->D, H = s->H, es = s->es;
    const char *y = s->out;
    if (!a->y_onnx) {
        size_t shape[3];
        memcpy(shape, s->x.shape, sizeof(shape));
        shape[s->x.ndim - 1] = D * H;
        return output_begin_npy(o, odtype, s->x.ndim, shape) &&
               output_put(o, y, T * B * D * H * es);
    }
    if (s->batched && s->info.config.batch_first) {
        const size_t shape[4] = {B, T, D, H};
        return output_begin_npy(o, odtype, 4, shape) && output_put(o, y, T * B * D * H * es);
    }
    const size_t shape[4] = {T, D, B, H};
    int ok = output_begin_npy(o, odtype, 4, shape);
    for (size_t t = 0; t < T && ok; t++)
        for (size_t d = 0; d < D && ok; d++)
            for (size_t b = 0; b < B && ok; b++)
                ok = output_put(o, y + ((t * B + b) * D + d) * H * es, H * es);
    return ok;
}

/* Y, then HN, written to their temporaries and renamed into place
 * together. Returns 1, or 0 with the error printed (nothing replaced). */
static int write_outputs(const cli_args *a, run_state *s)
{
    cli_output *y = &s->outs[0], *hn = s->n_outs > 1 ? &s->outs[1] : NULL;
    const int odtype = s->f64 ? ELMAN_DTYPE_F64 : ELMAN_DTYPE_F32;
    if (!write_y(a, s, y))
        return outputs_fail(s->outs, s->n_outs, y), 0;
    if (hn != NULL && !(output_begin_npy(hn, odtype, s->sdim, s->sshape) &&
                        output_put(hn, s->hn, s->L * s->D * s->B * s->H * s->es)))
        return outputs_fail(s->outs, s->n_outs, hn), 0;
    return outputs_commit(s->outs, s->n_outs) == 0;
}

/* Every input is a regular file, and no output names an input or another
 * output; the outputs' temporaries are created. Returns 0 or an exit status
 * (the error printed). */
static int check_files(const cli_args *a, run_state *s)
{
    static const struct {
        int id;
        const char *option;
    } inputs[] = {{OPT_WEIGHTS, "--weights"},
                  {OPT_INPUT, "--input"},
                  {OPT_H0, "--h0"},
                  {OPT_LENGTHS, "--lengths"}},
      outputs[] = {{OPT_OUTPUT, "--output"}, {OPT_HN, "--hn"}};
    for (size_t i = 0; i < COUNT(outputs); i++)
        if (a->value[outputs[i].id] != NULL) {
            cli_output *o = &s->outs[s->n_outs++];
            o->path = a->value[outputs[i].id];
            o->option = outputs[i].option;
            o->fd = -1; /* nothing to close or remove yet */
            o->slot = -1;
        }
    for (size_t i = 0; i < COUNT(inputs); i++) {
        const char *path = a->value[inputs[i].id];
        if (path != NULL && !check_input(path, inputs[i].option, &s->ins[s->n_ins++]))
            return EXIT_BAD_INPUT;
    }
    return outputs_prepare(s->outs, s->n_outs, s->ins, s->n_ins);
}

/* The command line's own consistency. Returns 0 or EXIT_USAGE. */
static int check_run_args(const cli_args *a)
{
    const char *wpath = a->value[OPT_WEIGHTS], *xpath = a->value[OPT_INPUT];
    const char *ypath = a->value[OPT_OUTPUT], *hnpath = a->value[OPT_HN];
    if (wpath == NULL || xpath == NULL || ypath == NULL) {
        print_error("run: --%s is required (see 'elman --help')",
                    wpath == NULL ? "weights" : xpath == NULL ? "input" : "output");
        return EXIT_USAGE;
    }
    struct stat st; /* a device may take both (--output /dev/null --hn /dev/null) */
    if (hnpath != NULL && strcmp(hnpath, ypath) == 0 &&
        !(stat(ypath, &st) == 0 && S_ISCHR(st.st_mode))) {
        print_error("run: --output and --hn name the same file '%s'", ypath);
        return EXIT_USAGE;
    }
    if (a->chunk > 0 && a->direction >= DIR_REVERSE) {
        print_error("run: --chunk cannot run with --direction %s: the backward direction needs "
                    "the whole sequence",
                    cli_direction_names[a->direction]);
        return EXIT_USAGE;
    }
    return 0;
}

int run_command(const cli_args *a)
{
    int status = check_run_args(a);
    if (status != 0)
        return status;
    run_state *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        print_error("out of memory");
        return EXIT_BAD_INPUT;
    }
    status = check_files(a, s);
    if (status == 0)
        status = read_config(a, s);
    if (status == 0) {
        const char *h0path = a->value[OPT_H0], *lpath = a->value[OPT_LENGTHS];
        const int ok = read_x(a->value[OPT_INPUT], s) &&
                       (h0path == NULL || read_h0(h0path, s)) &&
                       (lpath == NULL ||
                        read_lengths(lpath, s->batched, s->B, s->T, &s->lengths, &s->len)) &&
                       forward(a, s) && write_outputs(a, s);
        status = ok ? 0 : EXIT_BAD_INPUT;
    }
    outputs_discard(s->outs, s->n_outs); /* the temporaries left, if it failed */
    run_free(s);
    free(s);
    return status;
}
