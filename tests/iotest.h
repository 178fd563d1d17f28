/* Helpers of the elman_io tests: building safetensors and .npy files in
 * memory, temporary directories. */
#ifndef ELMAN_TESTS_IOTEST_H
#define ELMAN_TESTS_IOTEST_H

#include <stddef.h>

/* A byte buffer. */
typedef struct it_buf {
    unsigned char *data;
    size_t size;
} it_buf;

/* 8-byte little-endian header length `hlen` (the header's own length if
 * hlen is (size_t)-1), the header text, then `data_size` bytes of `data`
 * (zeros if data is NULL). Fails the test on allocation failure. */
it_buf it_safetensors(const char *header, size_t hlen, const void *data, size_t data_size);

/* A .npy file: magic, version, header length (the padded header's own if
 * hlen is (size_t)-1), the dict padded to 64 bytes and '\n', the data. */
it_buf it_npy(int major, int minor, const char *dict, size_t hlen, const void *data,
              size_t data_size);

void it_free(it_buf *b);

/* Writes a buffer to a file; fails the test on error. */
void it_write_file(const char *path, const it_buf *b);

/* The whole of the file at path, malloc'ed (free it), its size in *size;
 * fails the test if it cannot be read or is empty. */
unsigned char *it_read_file(const char *path, size_t *size);

/* Creates a fresh empty directory under the system's temporary directory
 * and returns its path (static storage per call slot 0..3). */
const char *it_tempdir(int slot);

/* Number of entries in a directory, not counting . and .. */
int it_dir_entries(const char *dir);

/* Removes a directory and the files in it (one level). */
void it_rmdir(const char *dir);

/* One call of an elman_io function that takes a message buffer, with its
 * arguments in ctx; it frees whatever the call returns. */
typedef int (*it_call)(void *ctx, char *err, size_t err_size);

/* The message promises of elman_io.h for a call that fails with `code`:
 * one line, no control characters, shorter than ELMAN_IO_ERROR_SIZE; into
 * a buffer of every size n from 1 to its length + 1, its first n - 1
 * bytes and a NUL, nothing written from err[n] on; err_size 0 and a NULL
 * err write nothing and give the same code. `what` names the call. */
void it_check_message(const char *what, it_call call, void *ctx, int code);

/* For a call that succeeds: a buffer holding an old message is set to "",
 * and err_size 0 or a NULL err are accepted and write nothing. */
void it_check_cleared(const char *what, it_call call, void *ctx);

#endif
