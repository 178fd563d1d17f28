/**
 * @file elman.h
 * @brief elman: the forward pass of PyTorch's nn.RNN (Elman RNN) in C on
 * OpenBLAS.
 *
 * Copyright (c) 2026 the elman authors. MIT licence, see LICENSE.
 *
 * This header is the whole public API. Shapes are written as PyTorch writes
 * them: L = num_layers, D = 2 if bidirectional else 1, H = hidden_size,
 * I = input_size, B = batch, T = seq_len. Tensors are float32 (float), or
 * float64 (double) for a model created with dtype ELMAN_FLOAT64 and passed
 * to the `_f64` functions; always dense and row-major (C order), exactly as
 * `tensor.contiguous().numpy()` lays them out.
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
 * Errors: every function that can fail returns an #elman_status (as an
 * int); elman_strerror() names it. No function aborts, exits or prints on
 * a caller's bad input, and a failed call leaves its outputs untouched
 * (constructors set their result to NULL).
 *
 * Ownership: the library never keeps a pointer the caller passed in. A model
 * copies its configuration and weights; elman_rnn_forward() reads and
 * writes the caller's buffers only during the call. The caller frees what
 * it created, a model with elman_rnn_free().
 *
 * Thread safety: nothing in the library is global. A model is read-only
 * once its weights are set (its own threads, when num_threads > 1, are
 * handed from call to call inside it), so any number of threads may call
 * elman_rnn_forward() (and the other functions taking a const model) on one
 * model at the same time, each with its own output buffers and workspace.
 * elman_rnn_set_weights() and elman_rnn_free() change the model: they must
 * not run at the same time as any other call on the same model. Different
 * models are independent. OpenBLAS may run its own threads inside a call;
 * OPENBLAS_NUM_THREADS sets how many (why 1 is best next to elman's own
 * threads: see elman_rnn_forward()).
 *
 * ABI policy: the shared library's SONAME carries #ELMAN_SOVERSION, a
 * number of its own (libelman.so.1, and libelman_io.so.1 alike). A program
 * built against any header with the same SOVERSION runs against any later
 * library with that SOVERSION. Within one SOVERSION a release may only:
 * append functions; append fields at the end of elman_config (a program
 * built against an older header passes a smaller struct_size, and the
 * library gives the fields it lacks their defaults); append values to the
 * enums (activations, dtypes, bias modes); append status codes (code that
 * does not know a status must treat it as an error). Anything else bumps
 * the SOVERSION: removing or renaming a function, changing a function's
 * parameters or return type, changing the type, order or meaning of an
 * existing field or enum value, or reading a field beyond struct_size.
 * A program built against a newer header than the library it runs with
 * is refused where it would matter: elman_rnn_create() returns
 * ELMAN_ERR_INVALID_CONFIG for a struct_size larger than the library
 * knows. CI compares the library's ABI with the last release's
 * (abi/libelman.abi, abidiff) and fails on an incompatible change unless the
 * SOVERSION moved.
 */
#ifndef ELMAN_H
#define ELMAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @def ELMAN_API
 *  Marks the functions the library exports; everything else is built with
 *  hidden visibility. Defining ELMAN_SHARED when using a shared elman on
 *  Windows (the CMake package and elman.pc do it) makes it dllimport. */
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

/* The build reads the version from these three lines (cmake/ElmanVersion.cmake):
 * they are the only place it is written. */
/** Major version of this header: changes when the API or ABI breaks. */
#define ELMAN_VERSION_MAJOR 0
/** Minor version of this header: additions that keep compatibility. */
#define ELMAN_VERSION_MINOR 2
/** Patch version of this header: fixes only. */
#define ELMAN_VERSION_PATCH 0
/** Version of this header as one number: major * 10000 + minor * 100 + patch,
 *  e.g. 200 for 0.2.0. Compare it with elman_version_number() to check
 *  which library is linked. */
#define ELMAN_VERSION_NUMBER \
    (ELMAN_VERSION_MAJOR * 10000 + ELMAN_VERSION_MINOR * 100 + ELMAN_VERSION_PATCH)
/** The ABI generation of the shared libraries, their SONAME's number
 *  (libelman.so.1): it changes only when a change breaks programs built
 *  against an older header (see the ABI policy above), independently of
 *  the version. Like the version, it is written only here: the build reads
 *  it (cmake/ElmanVersion.cmake) for both libraries' SOVERSION. */
#define ELMAN_SOVERSION 1

/** Version of the library linked, which may differ from the header compiled
 *  against (a newer shared library, for instance).
 *  @return the library's #ELMAN_VERSION_NUMBER. */
ELMAN_API unsigned elman_version_number(void);
/** Version of the library linked, as text.
 *  @return "major.minor.patch", e.g. "1.2.3": a static string, never NULL. */
ELMAN_API const char *elman_version_string(void);
/** The version query by its short name: the same as elman_version_string().
 *  @return "major.minor.patch": a static string, never NULL. */
ELMAN_API const char *elman_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/** Status codes. Every function that can fail returns one of these, as an
 *  int. The numbers are fixed: new codes are only ever appended, so code
 *  that does not know a value must treat it as an error. ELMAN_ERR_IO to
 *  ELMAN_ERR_SHAPE are returned by the file formats library (elman_io), never
 *  by the functions of this header. */
typedef enum elman_status {
    ELMAN_OK = 0,                   /**< success */
    ELMAN_ERR_NULL_ARGUMENT = 1,    /**< a required pointer is NULL */
    ELMAN_ERR_INVALID_SIZE = 2,     /**< a size or count is zero or negative */
    ELMAN_ERR_SIZE_OVERFLOW = 3,    /**< a product of sizes overflows */
    ELMAN_ERR_INVALID_LENGTH = 4,   /**< a per-sequence length is out of range */
    ELMAN_ERR_WORKSPACE_TOO_SMALL = 5, /**< workspace_size below elman_rnn_workspace_size() */
    ELMAN_ERR_WEIGHTS_NOT_SET = 6,  /**< forward before every layer/direction has weights */
    ELMAN_ERR_INVALID_CONFIG = 7,   /**< invalid configuration value, or a call that
                                         does not fit the model's configuration */
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

/** Describes a status code.
 *  @param status an #elman_status value (any int is accepted).
 *  @return a short English description: a static string, never NULL. An
 *          unknown value gives "unknown elman status". */
ELMAN_API const char *elman_strerror(int status);

/* ------------------------------------------------------------------------ */
/* Model                                                                    */
/* ------------------------------------------------------------------------ */

/** The activation applied to W_ih x_t + b_ih + W_hh h_{t-1} + b_hh: nn.RNN's
 *  `nonlinearity` argument (ELMAN_TANH, ELMAN_RELU) or one of ONNX RNN's
 *  activations, with its parameters alpha and beta
 *  (elman_config.activation_alpha/beta): Sigmoid 1/(1+e^-x); Affine a*x+b;
 *  LeakyRelu x<0 ? a*x : x; ThresholdedRelu x>a ? x : 0; ScaledTanh
 *  a*tanh(b*x); HardSigmoid max(0, min(1, a*x+b)); Elu x<0 ? a*(e^x-1) : x;
 *  Softsign x/(1+|x|); Softplus log(1+e^x). */
typedef enum elman_nonlinearity {
    ELMAN_TANH = 0,             /**< tanh, nn.RNN's default */
    ELMAN_RELU = 1,             /**< max(0, x) */
    ELMAN_SIGMOID = 2,
    ELMAN_AFFINE = 3,           /**< alpha 1, beta 0 by default */
    ELMAN_LEAKY_RELU = 4,       /**< alpha 0.01 */
    ELMAN_THRESHOLDED_RELU = 5, /**< alpha 1 */
    ELMAN_SCALED_TANH = 6,      /**< alpha 1, beta 1 */
    ELMAN_HARD_SIGMOID = 7,     /**< alpha 0.2, beta 0.5 */
    ELMAN_ELU = 8,              /**< alpha 1 */
    ELMAN_SOFTSIGN = 9,
    ELMAN_SOFTPLUS = 10
} elman_nonlinearity;

/** Finds an activation by its ONNX name, as a model file or a command line
 *  spells it.
 *  @param name "Tanh", "Relu", "Sigmoid", "Affine", "LeakyRelu",
 *              "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu",
 *              "Softsign" or "Softplus", in any mix of upper and lower case
 *              (ASCII; the locale plays no part).
 *  @param act  receives the #elman_nonlinearity on success; untouched
 *              otherwise.
 *  @return ELMAN_OK; ELMAN_ERR_NULL_ARGUMENT if name or act is NULL;
 *          ELMAN_ERR_INVALID_CONFIG if name is none of the above. */
ELMAN_API int elman_activation_from_name(const char *name, int *act);

/** The ONNX name of an activation.
 *  @param act an #elman_nonlinearity.
 *  @return its ONNX spelling (e.g. "LeakyRelu"): a static string; NULL if
 *          act is not an #elman_nonlinearity. */
ELMAN_API const char *elman_activation_name(int act);

/** How many of the parameters alpha and beta an activation takes, which
 *  says which of elman_config.activation_alpha/beta may be set for it.
 *  @param act an #elman_nonlinearity.
 *  @return 0 (none), 1 (alpha) or 2 (alpha and beta); -1 if act is not an
 *          #elman_nonlinearity. */
ELMAN_API int elman_activation_params(int act);

/** Whether the model has biases: nn.RNN's `bias` argument. */
typedef enum elman_bias {
    ELMAN_BIAS_NONE = 0,  /**< nn.RNN(bias=False): no b_ih, no b_hh */
    ELMAN_BIAS_BOTH = 1,  /**< nn.RNN(bias=True): b_ih and b_hh (default) */
    ELMAN_BIAS_SINGLE = 2 /**< one bias, as TFLite, Keras and oneDNN have:
                               pass it as b_ih, with b_hh NULL */
} elman_bias;

/** The element type of a model's weights, inputs and outputs. */
typedef enum elman_dtype {
    ELMAN_FLOAT32 = 0, /**< float (default) */
    ELMAN_FLOAT64 = 1  /**< double: use the *_f64 functions */
} elman_dtype;

/** A model's configuration; mirrors nn.RNN's constructor (dropout is not
 *  here: it has no effect on inference), plus what other runtimes need.
 *  Always start from elman_config_init(), which sets struct_size, so that
 *  fields added in later versions get their defaults; elman_rnn_create()
 *  checks every field. New fields are only ever appended. */
typedef struct elman_config {
    size_t struct_size; /**< sizeof(elman_config) as the caller's header
                            declares it, set by elman_config_init(): the
                            library reads and writes only the fields inside
                            it and gives the others their defaults. At
                            least #ELMAN_CONFIG_MIN_SIZE (the fields up to
                            num_threads), at most the library's own
                            sizeof(elman_config). */
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
                            pay, and never more than 64: a larger value
                            (even INT_MAX) acts as 64, in the workspace size
                            too. These are elman's own threads, owned by
                            the model: with num_threads > 1,
                            elman_rnn_create() starts num_threads - 1 of
                            them and elman_rnn_free() joins them. Between
                            calls each spins for about 200 microseconds,
                            then sleeps until the next call. One call at a
                            time uses them; a call that finds them busy
                            (another thread's call on the same model), or
                            that runs in a child process after fork(),
                            starts threads of its own and joins them before
                            it returns. elman_rnn_create() also measures
                            what a barrier between two of them and the
                            exchange of a step's state across it cost (up
                            to about 2 ms) to decide which steps are worth
                            splitting. OpenBLAS's threads are set apart (see
                            "OpenBLAS's threads" at elman_rnn_forward()). */
    /* Beyond nn.RNN: */
    int reverse;       /**< 1: a unidirectional model runs each sequence from
                            its last valid step back to t = 0, as the
                            backward half of a bidirectional layer does
                            (ONNX/oneDNN "reverse"). Default 0. */
    double activation_alpha; /**< alpha of the activation; NAN (default) =
                            the activation's default. Must stay NAN for an
                            activation that takes no alpha. */
    double activation_beta;  /**< beta, likewise */
    double clip;       /**< > 0: clamp the pre-activation to [-clip, clip]
                            (ONNX clip); 0 (default): no clipping */
    int dtype;         /**< an elman_dtype (default ELMAN_FLOAT32) */
    int state_batch_first; /**< 1: h0 and h_n are (B, L*D, H) instead of
                            PyTorch's (L*D, B, H). Default 0. */
    int deterministic; /**< 1: each sequence's output and h_n are bitwise
                            the same whatever batch it runs in, its place in
                            it, seq_len, chunking and num_threads (on the
                            same machine and build): OpenBLAS is not used.
                            Default 0. */
} elman_config;

/** The smallest struct_size the library accepts: the end of num_threads,
 *  the fields of nn.RNN's constructor. Every field after it is optional. */
#define ELMAN_CONFIG_MIN_SIZE \
    (offsetof(elman_config, num_threads) + sizeof(int))

/** elman_config_init() for a struct of struct_size bytes: writes only
 *  those (the fields inside them and the padding between), sets
 *  cfg->struct_size to struct_size. Called by elman_config_init() with the
 *  size of the caller's header, which is what a program should use.
 *  @param cfg the configuration to fill; if NULL, or if struct_size is
 *             smaller than a size_t, nothing happens.
 *  @param struct_size the size of *cfg in bytes. A size the library does
 *             not accept (see elman_config.struct_size) is stored all the
 *             same, and elman_rnn_create() refuses it. */
ELMAN_API void elman_config_init_sized(elman_config *cfg, size_t struct_size);

/** Fills a configuration with nn.RNN's defaults: num_layers 1, tanh, bias
 *  on, batch_first off, unidirectional, num_threads 1, forward direction,
 *  default activation parameters (NAN), no clip, float32, PyTorch's state
 *  layout, not deterministic; input_size and hidden_size 0 (the caller must
 *  set them); struct_size the size of elman_config in the header compiled
 *  against. Inline, so that the size is the caller's, not the library's.
 *  @param cfg the configuration to fill; if NULL, nothing happens. */
static inline void elman_config_init(elman_config *cfg)
{
    elman_config_init_sized(cfg, sizeof(elman_config));
}

/** An RNN model: its configuration plus its weights, in memory the model
 *  owns. Opaque: made by elman_rnn_create(), freed by elman_rnn_free(). */
typedef struct elman_rnn elman_rnn;

/** Creates a model with a configuration and no weights yet, allocating
 *  room for every layer's weights. Set them with elman_rnn_set_weights()
 *  before the first forward call. With num_threads > 1 it also starts the
 *  model's num_threads - 1 threads (see elman_config.num_threads); where
 *  the system starts none, the model still works and each call that uses
 *  threads starts its own.
 *  @param cfg configuration, from elman_config_init() plus the caller's
 *             changes (copied; the caller keeps ownership). Only its
 *             first cfg->struct_size bytes are read; the fields beyond
 *             take their defaults.
 *  @param out receives the new model on success, which the caller owns and
 *             frees with elman_rnn_free(); NULL on failure.
 *  @return ELMAN_OK;
 *          ELMAN_ERR_NULL_ARGUMENT if cfg or out is NULL;
 *          ELMAN_ERR_INVALID_SIZE if input_size, hidden_size, num_layers or
 *          num_threads is <= 0;
 *          ELMAN_ERR_INVALID_CONFIG if struct_size is below
 *          #ELMAN_CONFIG_MIN_SIZE or above the library's
 *          sizeof(elman_config), if nonlinearity, bias or dtype is not
 *          one of its enum values, a flag is not 0 or 1, reverse is set
 *          with bidirectional, alpha or beta is given (not NAN) for an
 *          activation without that parameter or is not finite, or clip is
 *          negative or not finite;
 *          ELMAN_ERR_SIZE_OVERFLOW if input_size or hidden_size is above
 *          (INT_MAX - 64) / 2 or the weights' size in bytes overflows
 *          size_t;
 *          ELMAN_ERR_OUT_OF_MEMORY. */
ELMAN_API int elman_rnn_create(const elman_config *cfg, elman_rnn **out);

/** Frees a model and its weights, and joins its threads (in the process
 *  that created it; in a child after fork() they do not exist). Must not
 *  run at the same time as any other call on the same model.
 *  @param rnn the model, or NULL (then nothing happens). */
ELMAN_API void elman_rnn_free(elman_rnn *rnn);

/** Copies the configuration the model was created with (fields the
 *  caller's struct lacked at creation hold their defaults).
 *  @param rnn the model.
 *  @param cfg receives the configuration; cfg->struct_size must be set
 *             (elman_config_init() does it): only that many bytes are
 *             written, and struct_size keeps its value.
 *  @return ELMAN_OK; ELMAN_ERR_NULL_ARGUMENT if rnn or cfg is NULL;
 *          ELMAN_ERR_INVALID_CONFIG if cfg->struct_size is not accepted
 *          (see elman_config.struct_size); cfg is then untouched. */
ELMAN_API int elman_rnn_get_config(const elman_rnn *rnn, elman_config *cfg);

/** Sets the weights of one layer and direction, in PyTorch's layouts
 *  (the tensors weight_ih_l{layer}[_reverse] etc. of nn.RNN.state_dict()).
 *  The model copies them; the caller's arrays are not referenced afterwards.
 *  Setting a layer and direction again replaces its weights. Every layer
 *  and direction must be set before elman_rnn_forward(). Changes the model:
 *  must not run at the same time as any other call on the same model.
 *  For a float32 model (elman_config.dtype ELMAN_FLOAT32).
 *  @param rnn       the model.
 *  @param layer     0 .. num_layers-1
 *  @param direction 0 (forward) or 1 (backward, the "_reverse" tensors;
 *                   bidirectional models only)
 *  @param w_ih (H, I_l) where I_l = input_size for layer 0, D*H above
 *  @param w_hh (H, H)
 *  @param b_ih (H); NULL when the model has no bias
 *  @param b_hh (H); NULL when the model has no bias or a single bias
 *              (ELMAN_BIAS_SINGLE)
 *  @return ELMAN_OK;
 *          ELMAN_ERR_NULL_ARGUMENT if rnn, w_ih or w_hh is NULL;
 *          ELMAN_ERR_INVALID_CONFIG if the model is float64;
 *          ELMAN_ERR_INVALID_INDEX if layer or direction is out of range;
 *          ELMAN_ERR_BIAS_MISMATCH if biases are missing, or given where the
 *          model's bias mode has none. On error the model is unchanged. */
ELMAN_API int elman_rnn_set_weights(elman_rnn *rnn, int layer, int direction,
                                    const float *w_ih, const float *w_hh,
                                    const float *b_ih, const float *b_hh);

/** elman_rnn_set_weights() for a float64 model (dtype ELMAN_FLOAT64): the
 *  same parameters, shapes and return codes, with double weights.
 *  @param rnn,layer,direction,w_ih,w_hh,b_ih,b_hh as for
 *         elman_rnn_set_weights(), the tensors double.
 *  @return as elman_rnn_set_weights(); ELMAN_ERR_INVALID_CONFIG if the
 *          model is float32. */
ELMAN_API int elman_rnn_set_weights_f64(elman_rnn *rnn, int layer, int direction,
                                        const double *w_ih, const double *w_hh,
                                        const double *b_ih, const double *b_hh);

/* ------------------------------------------------------------------------ */
/* Forward pass                                                             */
/* ------------------------------------------------------------------------ */

/** Alignment in bytes that a workspace passed to elman_rnn_forward() must
 *  have (aligned_alloc(ELMAN_WORKSPACE_ALIGNMENT, ...) gives it). */
#define ELMAN_WORKSPACE_ALIGNMENT 64

/** Bytes of workspace one elman_rnn_forward() call with this batch and
 *  seq_len needs, whatever its lengths and h0. The size grows with
 *  batch * seq_len * D * H; it may change between versions, so ask rather
 *  than compute it. Allocates nothing.
 *  @param rnn     the model.
 *  @param batch   B, as it will be passed to elman_rnn_forward().
 *  @param seq_len T, as it will be passed to elman_rnn_forward().
 *  @return the size in bytes (always > 0), or 0 if rnn is NULL, batch or
 *          seq_len is <= 0, or the size overflows. */
ELMAN_API size_t elman_rnn_workspace_size(const elman_rnn *rnn, int batch, int seq_len);

/** Runs the model over a batch of sequences, exactly as nn.RNN does in eval
 *  mode (no dropout), and writes every hidden state h_t to `output` and the
 *  final states to `h_n`.
 *
 *  @param rnn     the model, with the weights of every layer and direction
 *                 set. Only read: any number of threads may run forward on
 *                 one model at once.
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
 *                 (B, L*D, H) when the model has state_batch_first.
 *  @param output  (T, B, D*H), or (B, T, D*H) when batch_first. Direction 0
 *                 fills [0, H) of the last axis, direction 1 [H, 2H).
 *                 Must not overlap x, h0 or h_n.
 *  @param h_n     (L*D, B, H) final states, row l*D + d (or (B, L*D, H)
 *                 with state_batch_first); NULL if not
 *                 wanted. May be the same buffer as h0 (state updated in
 *                 place) but must not overlap it otherwise.
 *  @param workspace NULL: the call allocates what it needs and frees it
 *                 before returning. Otherwise at least
 *                 elman_rnn_workspace_size(rnn, batch, seq_len) bytes,
 *                 aligned to ELMAN_WORKSPACE_ALIGNMENT, and the call
 *                 allocates nothing. Its contents need no initialisation
 *                 and are garbage afterwards. One workspace serves one call
 *                 at a time: concurrent calls need one each.
 *  @param workspace_size size of `workspace` in bytes (ignored if NULL).
 *  @return ELMAN_OK;
 *          ELMAN_ERR_NULL_ARGUMENT if rnn, x or output is NULL;
 *          ELMAN_ERR_INVALID_CONFIG if the model is float64;
 *          ELMAN_ERR_INVALID_SIZE if batch or seq_len is <= 0;
 *          ELMAN_ERR_WEIGHTS_NOT_SET if a layer or direction has no weights;
 *          ELMAN_ERR_SIZE_OVERFLOW if batch * seq_len exceeds INT_MAX (a BLAS
 *          dimension) or a buffer's size in bytes overflows size_t;
 *          ELMAN_ERR_INVALID_LENGTH if a length is outside 1..seq_len;
 *          ELMAN_ERR_OVERLAP if output overlaps x, h0 or h_n, or h_n
 *          overlaps x, or h_n overlaps h0 without being the same buffer;
 *          ELMAN_ERR_WORKSPACE_TOO_SMALL, ELMAN_ERR_MISALIGNED for a
 *          workspace that is too small or not aligned;
 *          ELMAN_ERR_OUT_OF_MEMORY if workspace is NULL and allocating one
 *          fails. When several apply, any one of them may be returned.
 *          Every argument is checked and any internal workspace allocated
 *          before anything is written, so on error `output` and `h_n` are
 *          untouched.
 *
 *  Memory: with a workspace, elman allocates nothing, also when a call
 *  runs on the model's threads; only a call that finds them busy starts
 *  threads of its own, whose stacks the C library maps. OpenBLAS allocates nothing when it
 *  runs on one thread; when it splits a matrix product across its own
 *  threads, some builds (Debian's 0.3.21 among them) allocate a job table
 *  (512 KiB) per product (one per 256 rows of an input projection). Set OPENBLAS_NUM_THREADS=1 for calls that must
 *  not touch the heap at all.
 *
 *  Threads: with num_threads > 1 the input projections are split by rows,
 *  in blocks whose bounds depend on the problem's size only (never on the
 *  thread count), and each time step by columns (or the two directions run
 *  side by side) when it is large enough to pay for a barrier. Every
 *  element is computed by the same operations whatever the thread count,
 *  so output and h_n are bitwise those of num_threads 1, in every mode
 *  (float32 and float64, with or without lengths, deterministic or not).
 *
 *  OpenBLAS's threads: the input projection of a large enough call without
 *  lengths, not deterministic, goes to OpenBLAS (cblas_sgemm, cblas_dgemm),
 *  which by default starts threads of its own, one per core. Let one of
 *  the two run threads, not both: with num_threads > 1 each of elman's
 *  threads calls OpenBLAS, whose threads then fight elman's for the same
 *  cores (oversubscription: slower, not faster). And OpenBLAS 0.3.21
 *  (Debian 12) can hang: when memory is short (ulimit -v, a cgroup limit)
 *  its worker threads may spin forever in blas_memory_alloc (upstream
 *  OpenBLAS issue 5289). So with num_threads > 1, or under a memory limit,
 *  make OpenBLAS single-threaded: set OPENBLAS_NUM_THREADS=1 in the
 *  environment before the process starts, or call
 *  openblas_set_num_threads(1) (OpenBLAS's cblas.h) before the first
 *  forward call.
 *
 *  Thread safety: the model is only read; see the note at the top. */
ELMAN_API int elman_rnn_forward(const elman_rnn *rnn, int batch, int seq_len,
                                const float *x, const int *lengths,
                                const float *h0, float *output, float *h_n,
                                void *workspace, size_t workspace_size);

/** elman_rnn_forward() for a float64 model (dtype ELMAN_FLOAT64): the same
 *  semantics, shapes and rules, in double precision throughout.
 *  @param rnn,batch,seq_len,x,lengths,h0,output,h_n,workspace,workspace_size
 *         as for elman_rnn_forward(), the tensors double.
 *  @return as elman_rnn_forward(); ELMAN_ERR_INVALID_CONFIG if the model
 *          is float32. */
ELMAN_API int elman_rnn_forward_f64(const elman_rnn *rnn, int batch, int seq_len,
                                    const double *x, const int *lengths,
                                    const double *h0, double *output, double *h_n,
                                    void *workspace, size_t workspace_size);

/* ------------------------------------------------------------------------ */
/* Streaming                                                                */
/* ------------------------------------------------------------------------ */

/** Runs the next chunk of a batch of streams: elman_rnn_forward() with the
 *  state carried in `state`, read as h0 and overwritten with h_n. Feeding
 *  a sequence chunk by chunk gives what one elman_rnn_forward() call over
 *  the whole sequence gives (within rounding; bitwise in deterministic
 *  mode).
 *
 *  Unlike elman_rnn_forward(), a length may be 0: that stream has no step
 *  in this chunk, its state passes through unchanged and its outputs are
 *  zeros. So streams can start and end at different chunks.
 *
 *  Only forward-running models stream: a bidirectional or reverse model
 *  needs the whole sequence (the backward direction starts at its end).
 *  @param rnn     the model (float32).
 *  @param batch   B > 0 streams.
 *  @param seq_len T > 0, steps in this chunk (the longest stream's).
 *  @param x       (T, B, I), or (B, T, I) when batch_first.
 *  @param lengths NULL (every stream runs T steps) or B values 0..T.
 *  @param state   (L, B, H), or (B, L, H) with state_batch_first: the
 *                 streams' states, updated in place; required.
 *  @param output  (T, B, H), or (B, T, H) when batch_first.
 *  @param workspace as for elman_rnn_forward().
 *  @param workspace_size as for elman_rnn_forward().
 *  @return as elman_rnn_forward(), and ELMAN_ERR_NULL_ARGUMENT if state is
 *          NULL; ELMAN_ERR_INVALID_CONFIG for a bidirectional or reverse
 *          model; ELMAN_ERR_INVALID_LENGTH for a length outside 0..T. */
ELMAN_API int elman_rnn_forward_chunk(const elman_rnn *rnn, int batch, int seq_len,
                                      const float *x, const int *lengths, float *state,
                                      float *output, void *workspace, size_t workspace_size);

/** elman_rnn_forward_chunk() for a float64 model.
 *  @param rnn,batch,seq_len,x,lengths,state,output,workspace,workspace_size
 *         as for elman_rnn_forward_chunk(), the tensors double.
 *  @return as elman_rnn_forward_chunk(). */
ELMAN_API int elman_rnn_forward_chunk_f64(const elman_rnn *rnn, int batch, int seq_len,
                                          const double *x, const int *lengths, double *state,
                                          double *output, void *workspace,
                                          size_t workspace_size);

/** One time step of every stream, for the lowest latency:
 *  elman_rnn_forward_chunk() with seq_len 1 and every stream running.
 *  @param rnn   the model (float32, forward-running).
 *  @param batch B > 0 streams.
 *  @param x     (B, I), this step's input of each stream.
 *  @param state (L, B, H), or (B, L, H) with state_batch_first; updated in
 *               place; required.
 *  @param y     (B, H): receives the top layer's new state; NULL if not
 *               wanted.
 *  @param workspace NULL (allocated per call) or
 *               elman_rnn_workspace_size(rnn, batch, 1) bytes, aligned to
 *               ELMAN_WORKSPACE_ALIGNMENT.
 *  @param workspace_size size of `workspace` in bytes.
 *  @return as elman_rnn_forward_chunk(). */
ELMAN_API int elman_rnn_step(const elman_rnn *rnn, int batch, const float *x, float *state,
                             float *y, void *workspace, size_t workspace_size);

/** elman_rnn_step() for a float64 model.
 *  @param rnn,batch,x,state,y,workspace,workspace_size as for
 *         elman_rnn_step(), the tensors double.
 *  @return as elman_rnn_step(). */
ELMAN_API int elman_rnn_step_f64(const elman_rnn *rnn, int batch, const double *x,
                                 double *state, double *y, void *workspace,
                                 size_t workspace_size);

#ifdef __cplusplus
}
#endif

#endif /* ELMAN_H */
