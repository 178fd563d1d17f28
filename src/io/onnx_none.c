/*
 * The ONNX entry points of an elman_io built without the ONNX loader
 * (-DELMAN_ONNX=OFF, or AUTO without libprotobuf-c, protoc-c or
 * onnx.proto): the same API, every call refused.
 */
#include <stdlib.h>

#include "io_internal.h"

static int unsupported(char *err, size_t err_size)
{
    return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                   "this elman_io was built without ONNX support (rebuild with "
                   "libprotobuf-c-dev, protobuf-c-compiler and libonnx-dev installed)");
}

int elman_onnx_supported(void)
{
    return 0;
}

int elman_onnx_read(const char *path, elman_onnx **out, char *err, size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    (void)path;
    return io_context(err, err_size, unsupported(err, err_size), path);
}

int elman_onnx_parse(const void *data, size_t size, elman_onnx **out, char *err,
                     size_t err_size)
{
    (void)data;
    (void)size;
    if (out != NULL)
        *out = NULL;
    return unsupported(err, err_size);
}

void elman_onnx_free(elman_onnx *m)
{
    (void)m;
}

int elman_rnn_info_from_onnx(const elman_onnx *m, elman_rnn_info *info, char *err,
                             size_t err_size)
{
    (void)m;
    (void)info;
    return unsupported(err, err_size);
}

int elman_rnn_from_onnx(const elman_onnx *m, const elman_rnn_info *info, elman_rnn **out,
                        char *err, size_t err_size)
{
    (void)m;
    (void)info;
    if (out != NULL)
        *out = NULL;
    return unsupported(err, err_size);
}

size_t elman_onnx_node_count(const elman_onnx *m)
{
    (void)m;
    return 0;
}

const elman_onnx_node *elman_onnx_node_at(const elman_onnx *m, size_t index)
{
    (void)m;
    (void)index;
    return NULL;
}

int elman_onnx_inputs(const elman_onnx *m, const char **x, const char **initial_h,
                      const char **sequence_lens)
{
    (void)m;
    (void)x;
    (void)initial_h;
    (void)sequence_lens;
    return ELMAN_ERR_UNSUPPORTED;
}
