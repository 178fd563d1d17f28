/* Test helpers: see iotest.h. POSIX for the directory functions. */
#define _POSIX_C_SOURCE 200809L
#include "iotest.h"

#include "cmocka_wrap.h"
#include "elman_io.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put_le(unsigned char *p, unsigned long long v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

it_buf it_safetensors(const char *header, size_t hlen, const void *data, size_t data_size)
{
    const size_t n = strlen(header);
    it_buf b;
    b.size = 8 + n + data_size;
    b.data = calloc(1, b.size);
    assert_non_null(b.data);
    put_le(b.data, hlen == (size_t)-1 ? n : hlen, 8);
    memcpy(b.data + 8, header, n);
    if (data != NULL && data_size)
        memcpy(b.data + 8 + n, data, data_size);
    return b;
}

it_buf it_npy(int major, int minor, const char *dict, size_t hlen, const void *data,
              size_t data_size)
{
    const size_t pre = major == 1 ? 10 : 12, n = strlen(dict);
    size_t padded = n + 1;
    padded += (64 - (pre + padded) % 64) % 64;
    it_buf b;
    b.size = pre + padded + data_size;
    b.data = malloc(b.size);
    assert_non_null(b.data);
    memcpy(b.data, "\x93NUMPY", 6);
    b.data[6] = (unsigned char)major;
    b.data[7] = (unsigned char)minor;
    put_le(b.data + 8, hlen == (size_t)-1 ? padded : hlen, major == 1 ? 2 : 4);
    memcpy(b.data + pre, dict, n);
    memset(b.data + pre + n, ' ', padded - n - 1);
    b.data[pre + padded - 1] = '\n';
    if (data_size)
        memcpy(b.data + pre + padded, data, data_size);
    return b;
}

void it_free(it_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->size = 0;
}

void it_write_file(const char *path, const it_buf *b)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b->data, 1, b->size, f), b->size);
    assert_int_equal(fclose(f), 0);
}

unsigned char *it_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

const char *it_tempdir(int slot)
{
    static char dirs[4][256];
    const char *base = getenv("TMPDIR");
    snprintf(dirs[slot], sizeof(dirs[slot]), "%s/elman-test-XXXXXX", base ? base : "/tmp");
    assert_non_null(mkdtemp(dirs[slot]));
    return dirs[slot];
}

int it_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

void it_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        remove(path);
    }
    closedir(d);
    rmdir(dir);
}

void it_check_message(const char *what, it_call call, void *ctx, int code)
{
    char full[ELMAN_IO_ERROR_SIZE], buf[ELMAN_IO_ERROR_SIZE + 8];
    memset(full, 'Z', sizeof(full));
    int rc = call(ctx, full, sizeof(full));
    const size_t len = strnlen(full, sizeof(full));
    if (rc != code || len == 0 || len == sizeof(full)) {
        print_error("%s: got %d (%.*s), expected %d and a message\n", what, rc, (int)len, full,
                    code);
        fail();
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)full[i] < 0x20 || full[i] == 0x7f) {
            print_error("%s: control character at byte %zu of \"%s\"\n", what, i, full);
            fail();
        }
    for (size_t n = 0; n <= len + 1; n++) {
        memset(buf, 'Z', sizeof(buf));
        rc = call(ctx, buf, n);
        const size_t keep = n == 0 ? 0 : n - 1; /* n - 1 <= len */
        int ok = rc == code && (n == 0 || (memcmp(buf, full, keep) == 0 && buf[keep] == '\0'));
        for (size_t i = n; i < sizeof(buf); i++)
            ok &= buf[i] == 'Z';
        if (!ok) {
            print_error("%s: err_size %zu: got %d \"%.*s\", expected %d \"%.*s\"\n", what, n,
                        rc, (int)keep, buf, code, (int)keep, full);
            fail();
        }
    }
    assert_int_equal(call(ctx, NULL, 64), code);
    assert_int_equal(call(ctx, NULL, 0), code);
}

void it_check_cleared(const char *what, it_call call, void *ctx)
{
    char err[ELMAN_IO_ERROR_SIZE];
    memset(err, 'Z', sizeof(err));
    strcpy(err, "an old message");
    int rc = call(ctx, err, sizeof(err));
    if (rc != ELMAN_OK || err[0] != '\0') {
        print_error("%s: got %d \"%s\", expected ELMAN_OK and \"\"\n", what, rc, err);
        fail();
    }
    char one = 'Z';
    assert_int_equal(call(ctx, &one, 0), ELMAN_OK);
    assert_int_equal(one, 'Z');
    assert_int_equal(call(ctx, NULL, 64), ELMAN_OK);
}
