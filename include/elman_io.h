/*
 * elman_io - files for elman: safetensors models, .npy arrays.
 *
 * Copyright (c) 2026 the elman authors. MIT licence, see LICENSE.
 *
 * A separate library (target elman::elman_io, depends on elman and cJSON),
 * so that embedding the core never pulls in file handling. Load a model
 * saved from PyTorch (tools/export_pytorch.py writes one) and run it:
 *
 *     char err[ELMAN_IO_ERROR_SIZE];
 *     elman_rnn *rnn;
 *     elman_rnn_info info;
 *     if (elman_rnn_load("model.safetensors", NULL, &rnn, &info, err, sizeof(err)) != ELMAN_OK)
 *         fprintf(stderr, "%s\n", err);
 *
 * Errors: every function that can fail returns an elman_status code and,
 * when `err` is not NULL and `err_size` > 0, writes one line of English into
 * it (truncated to err_size - 1 bytes, always NUL-terminated) naming exactly
 * what is wrong, e.g. "tensor weight_hh_l1: shape [4, 5], expected [4, 4]".
 * On success `err` is set to "". Names read from a file are escaped in
 * messages, so a message never contains control characters. Codes:
 *   ELMAN_ERR_IO          a file cannot be opened, read or written
 *   ELMAN_ERR_FORMAT      a file is malformed, truncated or self-contradictory
 *   ELMAN_ERR_UNSUPPORTED a well-formed file uses something not supported
 *                         (dtype, byte order, Fortran order, version)
 *   ELMAN_ERR_SHAPE       tensors are missing, unexpected or of the wrong shape
 *   ELMAN_ERR_INVALID_CONFIG  a metadata value is not understood
 *   ELMAN_ERR_NULL_ARGUMENT, ELMAN_ERR_OUT_OF_MEMORY, ELMAN_ERR_SIZE_OVERFLOW
 *
 * Thread safety: no global state. Parsed objects are read-only and may be
 * shared between threads; freeing must not race with other uses.
 */
#ifndef ELMAN_IO_H
#define ELMAN_IO_H

#include <stddef.h>

#include "elman.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A message buffer of this size holds any message of this library. */
#define ELMAN_IO_ERROR_SIZE 512

/** Most dimensions an array or tensor may have. */
#define ELMAN_MAX_DIMS 8

/** Element types of safetensors tensors and .npy arrays. The numbers are
 *  fixed; new types are only appended. */
typedef enum elman_tensor_dtype {
    ELMAN_DTYPE_F32 = 0,   /**< float32 (safetensors "F32", numpy "<f4") */
    ELMAN_DTYPE_F64 = 1,   /**< float64 ("F64", "<f8") */
    ELMAN_DTYPE_F16 = 2,   /**< IEEE half ("F16") */
    ELMAN_DTYPE_BF16 = 3,  /**< bfloat16 ("BF16") */
    ELMAN_DTYPE_I32 = 4,   /**< int32 ("I32", "<i4") */
    ELMAN_DTYPE_I64 = 5,   /**< int64 ("I64", "<i8") */
    ELMAN_DTYPE_I16 = 6,
    ELMAN_DTYPE_I8 = 7,
    ELMAN_DTYPE_U8 = 8,
    ELMAN_DTYPE_U16 = 9,
    ELMAN_DTYPE_U32 = 10,
    ELMAN_DTYPE_U64 = 11,
    ELMAN_DTYPE_BOOL = 12,
    ELMAN_DTYPE_F8_E4M3 = 13,
    ELMAN_DTYPE_F8_E5M2 = 14
} elman_tensor_dtype;

/** @return the safetensors name of `dtype` ("F32", "BF16", ...), or "?" for
 *  an unknown value. The string is static. */
ELMAN_API const char *elman_dtype_name(int dtype);

/** @return the size in bytes of one element of `dtype`, 0 if unknown. */
ELMAN_API size_t elman_dtype_size(int dtype);

/* ------------------------------------------------------------------------ */
/* safetensors                                                              */
/* ------------------------------------------------------------------------ */

/** A parsed safetensors file. Opaque; read-only once parsed. */
typedef struct elman_safetensors elman_safetensors;

/** One tensor of a parsed file. Points into the elman_safetensors, valid
 *  until it is freed. */
typedef struct elman_tensor {
    const char *name;               /**< as in the header */
    int dtype;                      /**< an elman_tensor_dtype */
    int ndim;                       /**< 0 (a scalar) .. ELMAN_MAX_DIMS */
    size_t shape[ELMAN_MAX_DIMS];   /**< shape[0 .. ndim-1]; the rest 0 */
    size_t count;                   /**< number of elements (1 for a scalar) */
    /** For a file parsed from memory (elman_safetensors_parse()): the
     *  values converted exactly to double, row-major, when dtype is F32,
     *  F64, F16 or BF16; NULL for the other dtypes (whose bytes are checked
     *  but not kept) and when count is 0. Always NULL for a file read with
     *  elman_safetensors_read(), which converts nothing until asked: read
     *  the values of either kind with elman_safetensors_values() or
     *  elman_safetensors_tensor_read(). */
    const double *data;
} elman_tensor;

/** Reads and validates a safetensors file. The header is read and checked
 *  at once; the data is not read (the file stays open, read-only, until
 *  elman_safetensors_free(), and each tensor is read and converted when it
 *  is asked for), so that reading a file costs the size of its header. Only
 *  regular files are read (a device, FIFO or directory: ELMAN_ERR_IO "is
 *  not a regular file"). A file that shrinks later makes the reads of its
 *  tensors fail with ELMAN_ERR_IO. Checked: the
 *  8-byte header length against the file size (and a 100 MB cap), the JSON
 *  header (parsed with cJSON), every entry's dtype, shape and data_offsets,
 *  offsets inside the data and not overlapping, each byte range exactly
 *  shape x dtype size, the ranges covering the data with no gap or trailing
 *  byte, unique names, and "__metadata__" being a map of strings. The
 *  header must be UTF-8 (no overlong forms, surrogates or code points above
 *  U+10FFFF) and no string may hold a NUL character (the escape \u0000);
 *  every number in it must be a plain JSON integer (no sign, fraction or
 *  exponent) of at most 2^53. A file of another format is named in the
 *  message: a .npy array, a torch.save() zip or pickle, an ONNX model.
 *  @param path file name.
 *  @param out  receives the parsed file (free with elman_safetensors_free),
 *              NULL on failure.
 *  @return ELMAN_OK, ELMAN_ERR_IO, ELMAN_ERR_FORMAT, ELMAN_ERR_UNSUPPORTED
 *          (unknown dtype, more than ELMAN_MAX_DIMS dimensions),
 *          ELMAN_ERR_NULL_ARGUMENT or ELMAN_ERR_OUT_OF_MEMORY. */
ELMAN_API int elman_safetensors_read(const char *path, elman_safetensors **out, char *err,
                                     size_t err_size);

/** Same as elman_safetensors_read(), from `size` bytes in memory (which
 *  are not referenced after the call: the data is copied, and every
 *  floating-point tensor converted to double into elman_tensor.data).
 *  `data` may be NULL when size is 0. */
ELMAN_API int elman_safetensors_parse(const void *data, size_t size, elman_safetensors **out,
                                      char *err, size_t err_size);

/** Frees a parsed file. NULL is accepted. */
ELMAN_API void elman_safetensors_free(elman_safetensors *st);

/** @return the number of tensors (0 if st is NULL). */
ELMAN_API size_t elman_safetensors_count(const elman_safetensors *st);

/** @return tensor `index` (0 .. count-1, in the order of their names), or
 *  NULL if out of range. */
ELMAN_API const elman_tensor *elman_safetensors_tensor(const elman_safetensors *st, size_t index);

/** @return the tensor called `name`, or NULL if there is none. */
ELMAN_API const elman_tensor *elman_safetensors_find(const elman_safetensors *st,
                                                     const char *name);

/** Converts the values of tensor `t` of `st` (F32, F64, F16 or BF16)
 *  exactly to `dtype` (ELMAN_DTYPE_F32: rounded to nearest; ELMAN_DTYPE_F64:
 *  exact) into `out`, t->count elements, row-major. Reads the file in
 *  small chunks: it needs no memory beyond `out`. Thread-safe.
 *  @return ELMAN_OK, ELMAN_ERR_IO (the file can no longer be read),
 *          ELMAN_ERR_UNSUPPORTED (an integer tensor; another dtype),
 *          ELMAN_ERR_INVALID_INDEX (t is not a tensor of st) or
 *          ELMAN_ERR_NULL_ARGUMENT. */
ELMAN_API int elman_safetensors_tensor_read(const elman_safetensors *st, const elman_tensor *t,
                                            int dtype, void *out, char *err, size_t err_size);

/** Sets *values to tensor `t`'s values converted exactly to double: t->data
 *  for a file parsed from memory; for a file read with
 *  elman_safetensors_read(), converted on the first call and kept with
 *  `st` (freed by elman_safetensors_free()); NULL if t->count is 0.
 *  Thread-safe: concurrent first calls agree on one copy.
 *  @return ELMAN_OK or the codes of elman_safetensors_tensor_read(),
 *          ELMAN_ERR_OUT_OF_MEMORY, ELMAN_ERR_SIZE_OVERFLOW. */
ELMAN_API int elman_safetensors_values(const elman_safetensors *st, const elman_tensor *t,
                                       const double **values, char *err, size_t err_size);

/** @return the "__metadata__" value of `key`, or NULL if absent. */
ELMAN_API const char *elman_safetensors_metadata(const elman_safetensors *st, const char *key);

/** @return the number of "__metadata__" entries; entry `i` (sorted by key)
 *  is read with elman_safetensors_metadata_entry(). */
ELMAN_API size_t elman_safetensors_metadata_count(const elman_safetensors *st);

/** Sets *key and *value to metadata entry `index`.
 *  @return ELMAN_OK, ELMAN_ERR_NULL_ARGUMENT or ELMAN_ERR_INVALID_INDEX. */
ELMAN_API int elman_safetensors_metadata_entry(const elman_safetensors *st, size_t index,
                                               const char **key, const char **value);

/* ------------------------------------------------------------------------ */
/* An nn.RNN in a safetensors file                                          */
/* ------------------------------------------------------------------------ */

/** Longest prefix (with its NUL) elman_rnn_info can hold. */
#define ELMAN_PREFIX_MAX 256

/** What a safetensors file says about the nn.RNN it holds. */
typedef struct elman_rnn_info {
    /** Inferred from the tensors: input_size, hidden_size, num_layers,
     *  bias, bidirectional; these must stay as inferred. From
     *  "__metadata__" when present, else nn.RNN's defaults: nonlinearity
     *  ("tanh" / "relu") and batch_first ("true" / "false"). Every other
     *  field has elman_config_init()'s default (float32 included). A caller
     *  may change any field but the five inferred ones before
     *  elman_rnn_from_safetensors() (a command-line override, say):
     *  nonlinearity, activation_alpha/beta, clip, batch_first, reverse
     *  (one-direction models only), dtype, state_batch_first,
     *  deterministic, num_threads. */
    elman_config config;
    int nonlinearity_from_metadata; /**< 1 if "__metadata__" set nonlinearity */
    int batch_first_from_metadata;  /**< 1 if "__metadata__" set batch_first */
    int dtype;           /**< the elman_tensor_dtype of the RNN's tensors, -1 if mixed */
    size_t num_parameters; /**< elements in the RNN's tensors */
    char prefix[ELMAN_PREFIX_MAX]; /**< prefix of the tensor names, "" if none */
    int format; /**< the file's elman_model_format: ELMAN_FORMAT_SAFETENSORS (0)
                     or ELMAN_FORMAT_ONNX (see elman_rnn_info_from_onnx()) */
} elman_rnn_info;

/** Finds the nn.RNN in a parsed file and checks it completely.
 *
 *  Names are those of nn.RNN.state_dict() behind `prefix`:
 *  weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, each also
 *  with the suffix "_reverse". num_layers is one more than the highest k,
 *  bidirectional is set by any "_reverse" tensor. bias is
 *  ELMAN_BIAS_BOTH if there is any bias_hh tensor, else ELMAN_BIAS_SINGLE
 *  if there is any bias_ih tensor (one bias, as TFLite, Keras and oneDNN
 *  have: bias_hh is taken as zero), else ELMAN_BIAS_NONE; a model that
 *  mixes one and two biases (bias_hh in some layers or directions only) is
 *  refused. Then every tensor of every layer and direction must be there with
 *  exactly PyTorch's shape and a floating-point dtype (F32, F64, F16,
 *  BF16). Tensors outside the prefix, and tensors under it whose names are
 *  not RNN parameters (another submodule's "rnn.fc.weight"), are ignored;
 *  a name under the prefix that looks like an RNN parameter but is not an
 *  expected one ("weight_ih_l01", "weight_hr_l0", a "_reverse" tensor in a
 *  layer without the other direction's) is an error. Metadata values
 *  input_size, hidden_size, num_layers, bias and bidirectional, when
 *  present, must agree with the tensors.
 *
 *  @param prefix the name prefix, e.g. "rnn." ("rnn" also works: a missing
 *         final '.' is tried too); "" for none; NULL to detect it: the one
 *         P ("" included) such that the file has P + "weight_ih_l0"; an
 *         error naming them all if there are several (an unprefixed RNN
 *         next to an "rnn." one too).
 *  @param info receives the configuration.
 *  @return ELMAN_OK, ELMAN_ERR_SHAPE (missing, unexpected or misshapen
 *          tensors, no RNN or several under a detected prefix, metadata
 *          sizes contradicting the tensors), ELMAN_ERR_UNSUPPORTED (an
 *          integer dtype; a prefix of ELMAN_PREFIX_MAX - 1 bytes or more;
 *          an nn.GRU or nn.LSTM, recognised by weight_ih_l0 and weight_hh_l0
 *          having 3 or 4 times hidden_size rows: the message says so),
 *          ELMAN_ERR_INVALID_CONFIG (a metadata value not understood, e.g.
 *          nonlinearity "gelu") or ELMAN_ERR_NULL_ARGUMENT. */
ELMAN_API int elman_rnn_info_from_safetensors(const elman_safetensors *st, const char *prefix,
                                              elman_rnn_info *info, char *err, size_t err_size);

/** Creates a model from a parsed file: info->config (with the caller's
 *  changes, see elman_rnn_info.config) and the tensors behind info->prefix,
 *  all checked again. With info->config.dtype ELMAN_FLOAT32 (the default
 *  elman_rnn_info_from_safetensors() sets) the weights are rounded to
 *  float32; with ELMAN_FLOAT64 the model is a float64 one (run it with the
 *  _f64 functions) holding the file's F32, F64, F16 or BF16 values
 *  converted exactly to double. The tensors are converted one layer and
 *  direction at a time (elman_safetensors_tensor_read()): beyond the model,
 *  this needs the memory of one layer's weights.
 *  @param out receives the model (free with elman_rnn_free), NULL on error.
 *  @return ELMAN_OK, the codes of elman_rnn_info_from_safetensors(), or
 *          those of elman_rnn_create(). */
ELMAN_API int elman_rnn_from_safetensors(const elman_safetensors *st, const elman_rnn_info *info,
                                         elman_rnn **out, char *err, size_t err_size);

/** The weights of one layer and direction in double precision, pointers
 *  into `st` (for back-ends other than elman_rnn): elman_safetensors_values()
 *  of each tensor (for a file read from disk, converted on first use and
 *  kept until elman_safetensors_free()).
 *  Layouts as in elman_rnn_set_weights(); b_ih and b_hh are set to NULL
 *  without bias, b_hh alone with one bias (ELMAN_BIAS_SINGLE). Any output
 *  pointer may be NULL if not wanted.
 *  @return ELMAN_OK, ELMAN_ERR_INVALID_INDEX, or the codes of
 *          elman_rnn_info_from_safetensors(). */
ELMAN_API int elman_rnn_weights_from_safetensors(const elman_safetensors *st,
                                                 const elman_rnn_info *info, int layer,
                                                 int direction, const double **w_ih,
                                                 const double **w_hh, const double **b_ih,
                                                 const double **b_hh, char *err,
                                                 size_t err_size);

/** Reads a safetensors file and creates the (float32) model it holds,
 *  configured by its tensors and metadata: elman_safetensors_read(),
 *  elman_rnn_info_from_safetensors() and elman_rnn_from_safetensors().
 *  Each tensor is converted straight from the file into the model: the
 *  memory needed is the model's plus one layer's weights.
 *  An ONNX file is recognised by its content (elman_model_file_format())
 *  and loaded with elman_onnx_read(), elman_rnn_info_from_onnx() and
 *  elman_rnn_from_onnx() instead; info->format tells which it was.
 *  @param prefix as for elman_rnn_info_from_safetensors() (NULL: detect);
 *         for an ONNX file it must be NULL or "" (ELMAN_ERR_INVALID_CONFIG).
 *  @param info   if not NULL, receives the configuration.
 *  @return ELMAN_OK or the codes of the three functions. */
ELMAN_API int elman_rnn_load(const char *path, const char *prefix, elman_rnn **out,
                             elman_rnn_info *info, char *err, size_t err_size);

/** Same as elman_rnn_load(), from `size` bytes of a safetensors file in
 *  memory (not referenced after the call): elman_safetensors_parse() and
 *  the same checks and conversions. */
ELMAN_API int elman_rnn_parse(const void *data, size_t size, const char *prefix, elman_rnn **out,
                              elman_rnn_info *info, char *err, size_t err_size);

/* ------------------------------------------------------------------------ */
/* .npy arrays                                                              */
/* ------------------------------------------------------------------------ */

/** An array read from or written to a .npy file. `data` holds `count`
 *  elements of `dtype` in C order and the machine's byte order. */
typedef struct elman_array {
    int dtype;                    /**< F32, F64, I32 or I64 */
    int ndim;                     /**< 0 .. ELMAN_MAX_DIMS */
    size_t shape[ELMAN_MAX_DIMS]; /**< shape[0 .. ndim-1]; the rest 0 */
    size_t count;                 /**< number of elements (1 for 0-d) */
    void *data;                   /**< malloc'ed, NULL when count is 0 */
} elman_array;

/** Reads a .npy file (format versions 1.0, 2.0, 3.0): the header, then the
 *  data straight into the array (no other copy). Only regular files are
 *  read: a device, FIFO or directory is ELMAN_ERR_IO ("is not a regular
 *  file"), never read without end. Little-endian
 *  float32, float64, int32 or int64 ("<f4", "<f8", "<i4", "<i8"), C order.
 *  The header must be a well-formed dict with exactly the keys descr,
 *  fortran_order and shape, and the data exactly as long as it says.
 *  @param out receives the array (free with elman_array_free); zeroed on
 *             failure.
 *  @return ELMAN_OK, ELMAN_ERR_IO, ELMAN_ERR_FORMAT (bad magic, malformed
 *          or lying header, truncated or over-long data),
 *          ELMAN_ERR_UNSUPPORTED (other dtypes, big-endian, Fortran order,
 *          an unknown version, more than ELMAN_MAX_DIMS dimensions),
 *          ELMAN_ERR_NULL_ARGUMENT or ELMAN_ERR_OUT_OF_MEMORY. */
ELMAN_API int elman_npy_read(const char *path, elman_array *out, char *err, size_t err_size);

/** Same as elman_npy_read(), from `size` bytes in memory. */
ELMAN_API int elman_npy_parse(const void *data, size_t size, elman_array *out, char *err,
                              size_t err_size);

/** Frees the data of an array and zeroes it. NULL is accepted. */
ELMAN_API void elman_array_free(elman_array *a);

/** Writes a .npy file (format version 1.0, data aligned to 64 bytes, as
 *  numpy writes it) of float32, float64, int32 or int64 data in C order
 *  (every dtype elman_npy_read() takes: what it reads, this writes back).
 *  The file is written under a temporary name in the same directory and
 *  renamed when complete, so
 *  `path` is either the whole new file or untouched; on error nothing is
 *  left behind.
 *  @param dtype ELMAN_DTYPE_F32, ELMAN_DTYPE_F64, ELMAN_DTYPE_I32 or
 *               ELMAN_DTYPE_I64.
 *  @param ndim  0 .. ELMAN_MAX_DIMS; shape has ndim entries.
 *  @return ELMAN_OK, ELMAN_ERR_IO, ELMAN_ERR_UNSUPPORTED (dtype),
 *          ELMAN_ERR_INVALID_SIZE (ndim), ELMAN_ERR_SIZE_OVERFLOW or
 *          ELMAN_ERR_NULL_ARGUMENT. */
ELMAN_API int elman_npy_write(const char *path, int dtype, int ndim, const size_t *shape,
                              const void *data, char *err, size_t err_size);

/** Converts an F32 or F64 array to float32 into `out` (a->count floats).
 *  @return ELMAN_OK, ELMAN_ERR_UNSUPPORTED (an integer array) or
 *          ELMAN_ERR_NULL_ARGUMENT. */
ELMAN_API int elman_array_to_float(const elman_array *a, float *out, char *err,
                                   size_t err_size);

/* ------------------------------------------------------------------------ */
/* ONNX models                                                              */
/* ------------------------------------------------------------------------ */

/** The model file formats elman_rnn_load() reads. */
typedef enum elman_model_format {
    ELMAN_FORMAT_SAFETENSORS = 0, /**< safetensors with nn.RNN's tensor names */
    ELMAN_FORMAT_ONNX = 1         /**< an ONNX model (ModelProto) with RNN nodes */
} elman_model_format;

/** Tells a model file's format from its first bytes: safetensors when the
 *  JSON header starts at byte 8 ('{'), else ONNX when the file starts with
 *  a ModelProto's ir_version field (byte 0x08) or its name ends in ".onnx",
 *  else safetensors (whose reader then says what is wrong).
 *  @param path   the file.
 *  @param format receives an elman_model_format.
 *  @return ELMAN_OK, ELMAN_ERR_IO or ELMAN_ERR_NULL_ARGUMENT. */
ELMAN_API int elman_model_file_format(const char *path, int *format, char *err,
                                      size_t err_size);

/** @return 1 if this elman_io was built with the ONNX loader (CMake option
 *  ELMAN_ONNX), 0 if not: then elman_onnx_read(), elman_onnx_parse(),
 *  elman_rnn_info_from_onnx(), elman_rnn_from_onnx() (each with a message)
 *  and elman_onnx_inputs() return ELMAN_ERR_UNSUPPORTED, as
 *  elman_rnn_load() does for an ONNX file; elman_onnx_node_count() is 0
 *  and elman_onnx_node_at() NULL. */
ELMAN_API int elman_onnx_supported(void);

/** A parsed ONNX model whose RNN part elman can run. Opaque; read-only once
 *  parsed. */
typedef struct elman_onnx elman_onnx;

/** Reads an ONNX model (protobuf, decoded with libprotobuf-c) and finds the
 *  RNN in its main graph. What is loaded:
 *  - one `RNN` node, or a chain of them, each node's Y reaching the next
 *    node's X through pure layout changes (Transpose, Squeeze, Unsqueeze,
 *    Reshape, Identity, checked to keep every element in its place), or
 *    through a Concat that joins a forward and a reverse node reading the
 *    same X into one bidirectional layer: the chain's nodes are the layers
 *    of one model;
 *  - W [D, H, I], R [D, H, H] and B [D, 2H] (split into b_ih = B[:, :H]
 *    and b_hh = B[:, H:]) from initializers or Constant nodes; without B a
 *    layer has no bias (zero biases where other layers have one);
 *  - the attributes hidden_size (checked against W and R), direction
 *    (forward, reverse, bidirectional: the same in every layer),
 *    activations (the same in both directions and every layer), activation_alpha
 *    and activation_beta (consumed in the order of the activations that
 *    take them; an absent value is the definition's default, e.g.
 *    ThresholdedRelu alpha 1, where ONNX Runtime 1.30 takes 0), clip, and
 *    layout (1: X, Y, initial_h and Y_h batch-major, which ONNX Runtime 1.30
 *    refuses and elman runs as ONNX defines: batch_first and
 *    state_batch_first);
 *  - X from a graph input, directly or through Transpose (batch_first
 *    follows); initial_h from a graph input (for a chain, Slices of one
 *    (L*D, B, H) input, as torch.onnx.export writes them), or absent, or a
 *    zero state built in the graph (ConstantOfShape, Expand, Slice... of
 *    zeros): all the run's h0; sequence_lens from a graph input, directly
 *    or through Cast: the run's lengths.
 *  Every other node (a head after the RNN, the outputs' reshaping) is
 *  ignored and listed by elman_onnx_node().
 *  @param out receives the model (free with elman_onnx_free), NULL on error.
 *  @return ELMAN_OK; ELMAN_ERR_IO; ELMAN_ERR_FORMAT (not a protobuf
 *          ModelProto, truncated, no graph); ELMAN_ERR_SHAPE (no RNN node,
 *          two RNN chains, missing W or R, shapes contradicting each other or
 *          hidden_size, an op between layers that is not a pure layout
 *          change, weights that are graph inputs without a value);
 *          ELMAN_ERR_UNSUPPORTED (external or integer weights, directions
 *          or layers that differ in activation, clip, direction or hidden
 *          size, a constant non-zero initial_h or sequence_lens, messages
 *          nested more than 64 deep); ELMAN_ERR_INVALID_CONFIG (an unknown
 *          activation or direction, a bad attribute value);
 *          ELMAN_ERR_NULL_ARGUMENT, ELMAN_ERR_OUT_OF_MEMORY. */
ELMAN_API int elman_onnx_read(const char *path, elman_onnx **out, char *err, size_t err_size);

/** Same as elman_onnx_read(), from `size` bytes in memory (not referenced
 *  after the call). */
ELMAN_API int elman_onnx_parse(const void *data, size_t size, elman_onnx **out, char *err,
                               size_t err_size);

/** Frees a parsed model. NULL is accepted. */
ELMAN_API void elman_onnx_free(elman_onnx *m);

/** The configuration of the model's RNN, as elman_rnn_info_from_safetensors()
 *  gives it for safetensors: input_size, hidden_size, num_layers, bias and
 *  bidirectional as inferred (to be kept); nonlinearity, activation_alpha/
 *  beta, clip, reverse, batch_first and state_batch_first from the nodes
 *  (nonlinearity_from_metadata and batch_first_from_metadata are 1); dtype
 *  the elman_tensor_dtype of the weights (-1 if mixed), prefix "", format
 *  ELMAN_FORMAT_ONNX.
 *  @return ELMAN_OK, ELMAN_ERR_NULL_ARGUMENT or ELMAN_ERR_UNSUPPORTED. */
ELMAN_API int elman_rnn_info_from_onnx(const elman_onnx *m, elman_rnn_info *info, char *err,
                                       size_t err_size);

/** Creates a model from a parsed ONNX model with info->config (the
 *  caller may change the fields elman_rnn_info.config lists, dtype
 *  ELMAN_FLOAT64 giving a float64 model with the file's values exactly).
 *  @return ELMAN_OK, ELMAN_ERR_INVALID_CONFIG (one of the five inferred
 *          fields changed), ELMAN_ERR_NULL_ARGUMENT,
 *          ELMAN_ERR_UNSUPPORTED, or the codes of elman_rnn_create(). */
ELMAN_API int elman_rnn_from_onnx(const elman_onnx *m, const elman_rnn_info *info,
                                  elman_rnn **out, char *err, size_t err_size);

/** What a node of the graph is to elman. */
typedef enum elman_onnx_role {
    ELMAN_ONNX_IGNORED = 0, /**< not part of the RNN (a head, the outputs' reshaping) */
    ELMAN_ONNX_LAYER = 1,   /**< an RNN node: a layer, or one direction of one */
    ELMAN_ONNX_LAYOUT = 2,  /**< a layout change on X or between layers, or its constants */
    ELMAN_ONNX_STATE = 3,   /**< builds or slices initial_h */
    ELMAN_ONNX_LENGTHS = 4, /**< carries sequence_lens (a Cast) */
    ELMAN_ONNX_WEIGHTS = 5  /**< a Constant node holding W, R or B */
} elman_onnx_role;

/** One node of the graph, in the file's order. Points into the
 *  elman_onnx, valid until it is freed. */
typedef struct elman_onnx_node {
    const char *name;    /**< the node's name ("" if it has none) */
    const char *op_type; /**< e.g. "RNN", "Transpose" */
    int role;            /**< an elman_onnx_role */
    int layer;           /**< for ELMAN_ONNX_LAYER: the layer (0 = first); else -1 */
} elman_onnx_node;

/** @return the number of nodes of the main graph (0 if m is NULL). */
ELMAN_API size_t elman_onnx_node_count(const elman_onnx *m);

/** @return node `index` (0 .. count-1), or NULL if out of range. */
ELMAN_API const elman_onnx_node *elman_onnx_node_at(const elman_onnx *m, size_t index);

/** The names of the graph inputs the run's tensors go to: X, initial_h
 *  (NULL when the graph has no initial state input, the state being absent
 *  or built as zeros) and sequence_lens (NULL if none). Any output pointer
 *  may be NULL. The strings point into m.
 *  @return ELMAN_OK or ELMAN_ERR_NULL_ARGUMENT. */
ELMAN_API int elman_onnx_inputs(const elman_onnx *m, const char **x, const char **initial_h,
                                const char **sequence_lens);

#ifdef __cplusplus
}
#endif

#endif /* ELMAN_IO_H */
