/*
 * elman - the forward pass of PyTorch's nn.RNN (Elman RNN) in C on OpenBLAS.
 *
 * Copyright (c) 2026 the elman authors. MIT licence, see LICENSE.
 *
 * This header is the whole public API. Shapes are written as PyTorch writes
 * them: L = num_layers, D = 2 if bidirectional else 1, H = hidden_size,
 * I = input_size, B = batch, T = seq_len. All tensors are float32, dense and
 * row-major (C order), exactly as `tensor.contiguous().numpy()` lays them out.
 *
 * Quick start:
 *
 *     elman_config cfg;
 *     elman_config_init(&cfg);                 // nn.RNN's defaults
 *     cfg.input_size = 1; cfg.hidden_size = 4; cfg.batch_first = 1;
 *     elman_rnn *rnn;
 *     if (elman_rnn_create(&cfg, &rnn) != ELMAN_OK) ...;
 *     elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b_ih, b_hh);
 *     elman_rnn_forward(rnn, B, T, x, NULL, NULL, out, h_n, NULL, 0);
 *     elman_rnn_free(rnn);
 *
 * Thread safety: nothing in the library is global or mutable. A model is
 * read-only once its weights are set, so any number of threads may call
 * elman_rnn_forward() on one model at the same time, each with its own
 * output buffers and workspace. Creating, setting weights on and freeing a
 * model must not race with other calls on the same model.
 */
#ifndef ELMAN_H
#define ELMAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ELMAN_API marks the exported symbols; everything else is hidden. */
#if defined(_WIN32) && defined(ELMAN_SHARED)
#  ifdef ELMAN_BUILDING
#    define ELMAN_API __declspec(dllexport)
#  else
#    define ELMAN_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define ELMAN_API __attribute__((visibility("default")))
#else
#  define ELMAN_API
#endif

#define ELMAN_VERSION_MAJOR 0
#define ELMAN_VERSION_MINOR 1
#define ELMAN_VERSION_PATCH 0
/** Version as one number: major * 10000 + minor * 100 + patch. */
#define ELMAN_VERSION_NUMBER \
    (ELMAN_VERSION_MAJOR * 10000 + ELMAN_VERSION_MINOR * 100 + ELMAN_VERSION_PATCH)

/** @return the library's ELMAN_VERSION_NUMBER (of the library linked, which
 *  may differ from the header compiled against). */
ELMAN_API unsigned elman_version_number(void);
/** @return the library's version as a string, e.g. "0.1.0". */
ELMAN_API const char *elman_version_string(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/** Every function that can fail returns one of these. The numbers are fixed:
 *  new codes are only ever appended. */
typedef enum elman_status {
    ELMAN_OK = 0,
    ELMAN_ERR_NULL_ARGUMENT = 1,    /**< a required pointer is NULL */
    ELMAN_ERR_INVALID_SIZE = 2,     /**< a size or count is zero or negative */
    ELMAN_ERR_SIZE_OVERFLOW = 3,    /**< a product of sizes overflows */
    ELMAN_ERR_INVALID_LENGTH = 4,   /**< a per-sequence length is out of range */
    ELMAN_ERR_WORKSPACE_TOO_SMALL = 5, /**< workspace_size below elman_rnn_workspace_size() */
    ELMAN_ERR_WEIGHTS_NOT_SET = 6,  /**< forward before every layer/direction has weights */
    ELMAN_ERR_INVALID_CONFIG = 7,   /**< unknown nonlinearity, bias mode or flag */
    ELMAN_ERR_INVALID_INDEX = 8,    /**< layer or direction out of range */
    ELMAN_ERR_BIAS_MISMATCH = 9,    /**< biases given to a model without bias, or missing */
    ELMAN_ERR_OVERLAP = 10,         /**< input and output buffers overlap */
    ELMAN_ERR_OUT_OF_MEMORY = 11,   /**< an allocation failed */
    ELMAN_ERR_MISALIGNED = 12,      /**< workspace is not aligned to ELMAN_WORKSPACE_ALIGNMENT */
    /* Codes of the file formats (elman_io): */
    ELMAN_ERR_IO = 13,              /**< a file cannot be opened, read or written */
    ELMAN_ERR_FORMAT = 14,          /**< a file is malformed or truncated */
    ELMAN_ERR_UNSUPPORTED = 15,     /**< well-formed but unsupported (dtype, byte order, ...) */
    ELMAN_ERR_SHAPE = 16            /**< tensor shapes are missing or inconsistent */
} elman_status;

/** @return a short English description of `status` (never NULL; an unknown
 *  value gives "unknown elman status"). The string is static. */
ELMAN_API const char *elman_strerror(int status);

/* ------------------------------------------------------------------------ */
/* Model                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum elman_nonlinearity {
    ELMAN_TANH = 0, /**< h = tanh(...), nn.RNN's default */
    ELMAN_RELU = 1  /**< h = max(0, ...) */
} elman_nonlinearity;

typedef enum elman_bias {
    ELMAN_BIAS_NONE = 0, /**< nn.RNN(bias=False): no b_ih, no b_hh */
    ELMAN_BIAS_BOTH = 1  /**< nn.RNN(bias=True): b_ih and b_hh (default) */
} elman_bias;

/** Mirrors nn.RNN's constructor. Always start from elman_config_init() so
 *  that fields added in later versions get their defaults. */
typedef struct elman_config {
    int input_size;    /**< I, features per time step (> 0) */
    int hidden_size;   /**< H, features of the hidden state (> 0) */
    int num_layers;    /**< L, stacked layers (> 0, default 1) */
    int nonlinearity;  /**< an elman_nonlinearity (default ELMAN_TANH) */
    int bias;          /**< an elman_bias (default ELMAN_BIAS_BOTH) */
    int batch_first;   /**< 0: x and output are (T, B, *); 1: (B, T, *). Never
                            applies to h0/h_n, as in PyTorch. Default 0. */
    int bidirectional; /**< 0 or 1 (D = 2); default 0 */
    int num_threads;   /**< most threads one forward call may use (>= 1,
                            default 1); it uses fewer where more would not
                            pay. These are elman's own threads, started per
                            call: OpenBLAS's are set apart (OPENBLAS_NUM_THREADS). */
} elman_config;

/** Fills `cfg` with nn.RNN's defaults: num_layers 1, tanh, bias on,
 *  batch_first off, unidirectional, and num_threads 1; input_size and hidden_size 0 (the caller
 *  must set them). Does nothing if `cfg` is NULL. */
ELMAN_API void elman_config_init(elman_config *cfg);

/** An RNN model: configuration plus weights. Opaque. */
typedef struct elman_rnn elman_rnn;

/** Creates a model with the configuration `cfg` and no weights yet.
 *  @param cfg configuration (copied; the caller keeps ownership).
 *  @param out receives the new model on success, NULL on failure.
 *  @return ELMAN_OK, ELMAN_ERR_NULL_ARGUMENT, ELMAN_ERR_INVALID_SIZE,
 *          ELMAN_ERR_INVALID_CONFIG, ELMAN_ERR_SIZE_OVERFLOW or
 *          ELMAN_ERR_OUT_OF_MEMORY. */
ELMAN_API int elman_rnn_create(const elman_config *cfg, elman_rnn **out);

/** Frees a model and its weights. NULL is accepted and ignored. */
ELMAN_API void elman_rnn_free(elman_rnn *rnn);

/** Copies the configuration the model was created with into `cfg`.
 *  @return ELMAN_OK or ELMAN_ERR_NULL_ARGUMENT. */
ELMAN_API int elman_rnn_get_config(const elman_rnn *rnn, elman_config *cfg);

/** Sets the weights of one layer and direction, in PyTorch's layouts
 *  (the tensors weight_ih_l{layer}[_reverse] etc. of nn.RNN.state_dict()).
 *  The model copies them; the caller's arrays are not referenced afterwards.
 *  @param layer     0 .. num_layers-1
 *  @param direction 0 (forward) or 1 (backward, the "_reverse" tensors;
 *                   bidirectional models only)
 *  @param w_ih (H, I_l) where I_l = input_size for layer 0, D*H above
 *  @param w_hh (H, H)
 *  @param b_ih (H), or NULL when the model has no bias
 *  @param b_hh (H), or NULL when the model has no bias
 *  @return ELMAN_OK, ELMAN_ERR_NULL_ARGUMENT, ELMAN_ERR_INVALID_INDEX or
 *          ELMAN_ERR_BIAS_MISMATCH (biases missing with bias on, or given
 *          with bias off). */
ELMAN_API int elman_rnn_set_weights(elman_rnn *rnn, int layer, int direction,
                                    const float *w_ih, const float *w_hh,
                                    const float *b_ih, const float *b_hh);

/* ------------------------------------------------------------------------ */
/* Forward pass                                                             */
/* ------------------------------------------------------------------------ */

/** Workspace pointers passed to elman_rnn_forward() must be aligned to this. */
#define ELMAN_WORKSPACE_ALIGNMENT 64

/** Bytes of workspace one elman_rnn_forward() call with this batch and
 *  seq_len needs. The size grows with batch * seq_len * D * H.
 *  @return the size in bytes (always > 0), or 0 if `rnn` is NULL, batch or
 *          seq_len is <= 0, or the size overflows. */
ELMAN_API size_t elman_rnn_workspace_size(const elman_rnn *rnn, int batch, int seq_len);

/** Runs the model over a batch of sequences, exactly as nn.RNN does in eval
 *  mode (no dropout), and writes every hidden state h_t to `output` and the
 *  final states to `h_n`.
 *
 *  @param batch   B > 0. Unbatched input, PyTorch's (T, I) x and (L*D, H)
 *                 h0/h_n, is the same memory as batch 1: pass batch = 1.
 *  @param seq_len T > 0, the padded length of every sequence.
 *  @param x       (T, B, I), or (B, T, I) when batch_first.
 *  @param lengths NULL: every sequence has length T. Otherwise B lengths,
 *                 each 1..T, in any order: the semantics of
 *                 pack_padded_sequence(enforce_sorted=False) -> nn.RNN ->
 *                 pad_packed_sequence(total_length=T). Sequence b is read
 *                 at t < lengths[b] only; its outputs at t >= lengths[b] are
 *                 zero; its forward final state is the state at
 *                 t = lengths[b]-1; its backward direction starts at
 *                 t = lengths[b]-1 and ends at t = 0.
 *  @param h0      (L*D, B, H) initial states, row l*D + d; NULL = zeros.
 *  @param output  (T, B, D*H), or (B, T, D*H) when batch_first. Direction 0
 *                 fills [0, H) of the last axis, direction 1 [H, 2H).
 *                 Must not overlap x, h0 or h_n.
 *  @param h_n     (L*D, B, H) final states, row l*D + d; NULL if not
 *                 wanted. May be the same buffer as h0 (state updated in
 *                 place) but must not overlap it otherwise.
 *  @param workspace NULL: the call allocates what it needs and frees it
 *                 before returning. Otherwise at least
 *                 elman_rnn_workspace_size(rnn, batch, seq_len) bytes,
 *                 aligned to ELMAN_WORKSPACE_ALIGNMENT, and the call
 *                 allocates nothing. Its contents need no initialisation
 *                 and are garbage afterwards.
 *  @param workspace_size size of `workspace` in bytes (ignored if NULL).
 *  @return ELMAN_OK, or an error code. Every argument is checked and any
 *          internal workspace allocated before anything is written, so on
 *          error `output` and `h_n` are untouched.
 *
 *  Thread safety: the model is only read; see the note at the top. */
ELMAN_API int elman_rnn_forward(const elman_rnn *rnn, int batch, int seq_len,
                                const float *x, const int *lengths,
                                const float *h0, float *output, float *h_n,
                                void *workspace, size_t workspace_size);

#ifdef __cplusplus
}
#endif

#endif /* ELMAN_H */
