/*
 * Private helpers shared by the modules of libelman_io. Never installed.
 */
#ifndef ELMAN_IO_INTERNAL_H
#define ELMAN_IO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "elman_io.h"
#include "elman_size.h"

#if defined(__GNUC__)
#define ELMAN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ELMAN_PRINTF(f, a)
#endif

/* Writes a formatted message into err (if err && err_size) and returns
 * status, so that error paths read "return io_fail(err, n, CODE, ...)". */
int io_fail(char *err, size_t err_size, int status, const char *fmt, ...) ELMAN_PRINTF(4, 5);

/* Clears err (sets it to ""). */
void io_ok(char *err, size_t err_size);

/* Prefixes the message in err with "what: " (a file name, typically).
 * Returns status. */
int io_context(char *err, size_t err_size, int status, const char *what);

/* Copies s into buf (size n) with control characters, quotes, backslashes
 * and bytes >= 0x7f escaped, truncated with "..." if too long, so that a
 * hostile name can be printed on one line. Returns buf. */
const char *io_escape(char *buf, size_t n, const char *s, size_t len);

/* Formats a shape as "[2, 3]" into buf. Returns buf. */
const char *io_shape_str(char *buf, size_t n, const size_t *shape, int ndim);

/* Opens path read-only (close-on-exec) and sets *size; refuses with
 * ELMAN_ERR_IO what is not a regular file (devices, FIFOs, directories:
 * endless or changing), with a message naming the path. */
int io_open_regular(const char *path, int *fd, uint64_t *size, char *err, size_t err_size);

/* ELMAN_OK if a configuration keeps the sizes a file's weights fix
 * (input_size, hidden_size, num_layers, bias, bidirectional); else
 * ELMAN_ERR_INVALID_CONFIG with both sets in the message. */
int io_same_shape(const elman_config *a, const elman_config *file, char *err, size_t err_size);

/* Reads a whole regular file into a malloc'ed buffer (the ONNX loader,
 * whose protobuf decoder needs the message in memory). Returns ELMAN_OK,
 * ELMAN_ERR_IO or ELMAN_ERR_OUT_OF_MEMORY with a message naming the path. */
int io_read_file(const char *path, unsigned char **data, size_t *size, char *err,
                 size_t err_size);

/* Reads exactly n bytes at offset off; ELMAN_ERR_IO if the file ends first
 * or a read fails. */
int io_pread_full(int fd, void *buf, size_t n, uint64_t off, char *err, size_t err_size);

/* What the first n bytes of a file look like when it is not the format
 * expected ("a .npy array (numpy)", "an ONNX model (protobuf)", ...), or
 * NULL if they look like nothing known. */
const char *io_sniff(const unsigned char *b, size_t n);

/* Little-endian loads, whatever the machine's byte order. */
static inline uint16_t io_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}
static inline uint32_t io_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t io_le64(const unsigned char *p)
{
    return (uint64_t)io_le32(p) | (uint64_t)io_le32(p + 4) << 32;
}

/* Converts one little-endian element of a floating-point dtype (F32, F64,
 * F16, BF16) to double, exactly. */
double io_load_real(int dtype, const unsigned char *p);

/* Whether dtype is F32, F64, F16 or BF16. */
int io_dtype_is_real(int dtype);

/* The dtype of a safetensors dtype name, or -1. */
int io_dtype_from_name(const char *name);

#endif /* ELMAN_IO_INTERNAL_H */
