/*
 * Telling ONNX from safetensors by content, and elman_rnn_load() for ONNX
 * files. Built with or without the ONNX loader (without it, loading an
 * ONNX file says so).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "onnx_internal.h"

int elman_model_file_format(const char *path, int *format, char *err, size_t err_size)
{
    if (path == NULL || format == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    /* opened as every reader opens: devices, FIFOs and directories are
     * refused at once, never waited on or read */
    int fd;
    uint64_t size;
    int rc = io_open_regular(path, &fd, &size, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    unsigned char head[9];
    const size_t n = size < sizeof(head) ? (size_t)size : sizeof(head);
    rc = io_pread_full(fd, head, n, 0, err, err_size);
    close(fd);
    if (rc != ELMAN_OK)
        return io_context(err, err_size, rc, path);
    /* safetensors: an 8-byte length, then the JSON header. ONNX: a
     * ModelProto, whose writers put ir_version (field 1, varint: tag 0x08)
     * first. */
    const size_t len = strlen(path);
    const int onnx_name = len >= 5 && strcmp(path + len - 5, ".onnx") == 0;
    if (n == sizeof(head) && head[8] == '{')
        *format = ELMAN_FORMAT_SAFETENSORS;
    else if ((n > 0 && head[0] == 0x08) || onnx_name)
        *format = ELMAN_FORMAT_ONNX;
    else
        *format = ELMAN_FORMAT_SAFETENSORS;
    io_ok(err, err_size);
    return ELMAN_OK;
}

int io_onnx_load(const char *path, const char *prefix, elman_rnn **out, elman_rnn_info *info,
                 char *err, size_t err_size)
{
    if (prefix != NULL && prefix[0] != '\0')
        return io_context(err, err_size,
                          io_fail(err, err_size, ELMAN_ERR_INVALID_CONFIG,
                                  "a prefix names safetensors tensors; this is an ONNX model"),
                          path);
    elman_onnx *m;
    int rc = elman_onnx_read(path, &m, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    elman_rnn_info local;
    elman_rnn_info *inf = info != NULL ? info : &local;
    rc = elman_rnn_info_from_onnx(m, inf, err, err_size);
    if (rc == ELMAN_OK)
        rc = elman_rnn_from_onnx(m, inf, out, err, err_size);
    elman_onnx_free(m);
    return rc == ELMAN_OK ? rc : io_context(err, err_size, rc, path);
}
