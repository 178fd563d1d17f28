/*
 * Private to the ONNX loader of elman_io (src/io/onnx*.c). Never installed.
 */
#ifndef ELMAN_IO_ONNX_INTERNAL_H
#define ELMAN_IO_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "io_internal.h"

struct Onnx__ModelProto;
struct Onnx__TensorProto;

/* A parsed model: the decoded protobuf (names point into it), the RNN's
 * configuration and its weights in double precision, layer l direction d
 * at index l * D + d. */
struct elman_onnx {
    struct Onnx__ModelProto *model;
    elman_rnn_info info;
    int num_layers, num_directions;
    double **w_ih, **w_hh; /* (H, I_l) and (H, H) each */
    double **b_ih, **b_hh; /* (H) each, NULL where a node has no B */
    elman_onnx_node *nodes;
    size_t num_nodes;
    const char *x, *initial_h, *sequence_lens;
};

/* elman_rnn_load() for a file elman_model_file_format() calls ONNX. */
int io_onnx_load(const char *path, const char *prefix, elman_rnn **out, elman_rnn_info *info,
                 char *err, size_t err_size);

/* Finds the RNN in m->model's graph and fills the rest of m (the caller
 * frees m on error). */
int onnx_analyse(elman_onnx *m, char *err, size_t err_size);

/* The values of a floating-point tensor as doubles, exactly: *out is
 * malloc'ed (count elements; NULL when count is 0). `what` names the tensor
 * in messages. */
int onnx_tensor_reals(const struct Onnx__TensorProto *t, const char *what, double **out,
                      size_t *count, char *err, size_t err_size);

/* The values of an int64 or int32 tensor, at most `max` of them. */
int onnx_tensor_ints(const struct Onnx__TensorProto *t, const char *what, int64_t *out,
                     size_t max, size_t *count, char *err, size_t err_size);

/* The elman_tensor_dtype of an ONNX TensorProto data type, or -1. */
int onnx_dtype(int32_t onnx_type);

/* Escapes a name read from the file for a message (NULL reads as ""). */
const char *onnx_esc(char *buf, size_t n, const char *s);

#endif /* ELMAN_IO_ONNX_INTERNAL_H */
