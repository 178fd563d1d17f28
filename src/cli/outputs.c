/*
 * Writing the outputs without ever losing a file.
 *
 * The protocol: every output that is (or will be) a regular file is written
 * to a temporary file of its own directory with a short name
 * (".elman-XXXXXX", so any name the file system accepts for the output
 * works), flushed and fsync'd; only when all outputs are written are the
 * temporaries renamed into place, and the directory synced. On any failure
 * only the temporaries are removed: nothing else is removed, truncated or
 * renamed over. A signal that ends the process (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGPIPE, SIGXFSZ) removes the temporaries too, then kills the
 * process by the same signal: the names live in a fixed table that the
 * handler walks with unlink(), both async-signal-safe. Once the renames
 * have begun such a signal waits until every output is in place: the
 * outputs are replaced all together or not at all.
 *
 * An existing output that is not a regular file (a character or block
 * device such as /dev/null, a FIFO) is opened and written in place: it is
 * never renamed over. An output given through a symbolic link to an
 * existing file replaces that file, and leaves the link.
 *
 * Aliases are refused before anything is written or computed: two outputs
 * naming the same file (same device and inode when it exists; the same
 * resolved directory and name when it does not, so "y.npy", "./y.npy" and a
 * link are one file), and an output naming an input. Character devices may
 * be named twice (--output /dev/null --hn /dev/null loses nothing).
 */
#define _XOPEN_SOURCE 700 /* realpath(), fchmod() */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* ---- the temporaries, for the signal handler ---- */

static struct {
    volatile sig_atomic_t live;
    char name[CLI_PATH_SIZE];
} temps[CLI_MAX_OUTPUTS];

static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGXFSZ};
static struct sigaction saved_actions[COUNT(fatal_signals)];
static int handlers_installed;

static void on_fatal_signal(int sig)
{
    for (size_t i = 0; i < CLI_MAX_OUTPUTS; i++)
        if (temps[i].live)
            unlink(temps[i].name);
    signal(sig, SIG_DFL);
    raise(sig); /* delivered when the handler returns: the process dies of sig */
}

/* Blocks (or, with block 0, restores) the signals the handler catches, so
 * that the table and the file system change together. */
static void block_signals(int block, sigset_t *old)
{
    if (block) {
        sigset_t set;
        sigemptyset(&set);
        for (size_t i = 0; i < COUNT(fatal_signals); i++)
            sigaddset(&set, fatal_signals[i]);
        sigprocmask(SIG_BLOCK, &set, old);
    } else {
        sigprocmask(SIG_SETMASK, old, NULL);
    }
}

static void install_handlers(void)
{
    if (handlers_installed)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < COUNT(fatal_signals); i++) {
        sigaddset(&sa.sa_mask, fatal_signals[i]);
        sigaction(fatal_signals[i], NULL, &saved_actions[i]);
    }
    for (size_t i = 0; i < COUNT(fatal_signals); i++)
        if (saved_actions[i].sa_handler != SIG_IGN) /* nohup's SIGHUP stays ignored */
            sigaction(fatal_signals[i], &sa, NULL);
    handlers_installed = 1;
}

static void restore_handlers(void)
{
    for (size_t i = 0; i < CLI_MAX_OUTPUTS; i++)
        if (temps[i].live)
            return;
    if (!handlers_installed)
        return;
    for (size_t i = 0; i < COUNT(fatal_signals); i++)
        sigaction(fatal_signals[i], &saved_actions[i], NULL);
    handlers_installed = 0;
}

/* Creates o's temporary in directory dir with the mode the output gets.
 * Returns 1, or 0 with errno set. */
static int create_temp(cli_output *o, const char *dir, mode_t mode)
{
    size_t slot = 0;
    while (slot < CLI_MAX_OUTPUTS && temps[slot].live)
        slot++;
    const size_t dlen = strlen(dir);
    if (slot == CLI_MAX_OUTPUTS || dlen + sizeof("/.elman-XXXXXX") > CLI_PATH_SIZE) {
        errno = slot == CLI_MAX_OUTPUTS ? EMFILE : ENAMETOOLONG;
        return 0;
    }
    sigset_t old;
    install_handlers();
    block_signals(1, &old);
    memcpy(temps[slot].name, dir, dlen);
    memcpy(temps[slot].name + dlen, "/.elman-XXXXXX", sizeof("/.elman-XXXXXX"));
    o->fd = mkstemp(temps[slot].name);
    if (o->fd >= 0) {
        temps[slot].live = 1;
        o->slot = (int)slot;
    }
    block_signals(0, &old);
    if (o->fd < 0)
        return 0;
    if (fchmod(o->fd, mode) != 0) {
        int saved = errno;
        output_discard(o);
        errno = saved;
        return 0;
    }
    return 1;
}

/* ---- preparing the outputs ---- */

/* The directory part of path ("." if none) and its last component. */
static int split_path(const char *path, char *dir, size_t n, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash != NULL ? slash + 1 : path;
    if (slash == NULL)
        return snprintf(dir, n, ".") < (int)n;
    const size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= n)
        return 0;
    memcpy(dir, path, len);
    dir[len] = '\0';
    return 1;
}

/* Where a write to path lands when path does not exist: path itself, or
 * the missing file a dangling symbolic link (of links) names. Returns 1, or
 * 0 with errno set. */
static int follow_dangling(const char *path, char *out, size_t n)
{
    if (strlen(path) >= n) {
        errno = ENAMETOOLONG;
        return 0;
    }
    strcpy(out, path);
    for (int depth = 0; depth < 40; depth++) {
        struct stat st;
        char target[CLI_PATH_SIZE];
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode))
            return 1;
        const ssize_t len = readlink(out, target, sizeof(target) - 1);
        if (len <= 0)
            return 0;
        target[len] = '\0';
        const char *slash = strrchr(out, '/');
        const size_t keep = target[0] == '/' || slash == NULL ? 0 : (size_t)(slash - out) + 1;
        if (keep + (size_t)len >= n) {
            errno = ENAMETOOLONG;
            return 0;
        }
        memcpy(out + keep, target, (size_t)len + 1);
    }
    errno = ELOOP;
    return 0;
}

/* An output that does not exist yet: its resolved directory + name in
 * o->dest, its temporary in that directory. Returns 0 or an exit status. */
static int prepare_new(cli_output *o)
{
    char dir[CLI_PATH_SIZE], real[PATH_MAX], where[CLI_PATH_SIZE];
    const char *base;
    if (!follow_dangling(o->path, where, sizeof(where))) {
        print_error("%s: cannot create a file there: %s", o->path, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    if (!split_path(where, dir, sizeof(dir), &base) || strlen(base) > NAME_MAX) {
        print_error("%s: %s: the name is too long", o->path, o->option);
        return EXIT_BAD_INPUT;
    }
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        print_error("%s: %s names a directory, not a file", o->path, o->option);
        return EXIT_BAD_INPUT;
    }
    if (realpath(dir, real) == NULL) {
        print_error("%s: cannot create a file there: %s", o->path, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    const size_t rlen = strlen(real), blen = strlen(base);
    if (rlen + 1 + blen >= sizeof(o->dest)) {
        print_error("%s: %s: the path is too long", o->path, o->option);
        return EXIT_BAD_INPUT;
    }
    memcpy(o->dest, real, rlen);
    size_t at = rlen;
    if (real[rlen - 1] != '/') /* "/" itself ends with one */
        o->dest[at++] = '/';
    memcpy(o->dest + at, base, blen + 1);
    const mode_t mask = umask(0);
    umask(mask);
    if (!create_temp(o, real, 0666 & ~mask)) {
        print_error("%s: cannot create a file there: %s", o->path, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    return 0;
}

/* An existing output: a regular file (through any links) gets a temporary
 * beside it; a device or FIFO is written in place. Returns 0 or an exit
 * status. */
static int prepare_existing(cli_output *o, const struct stat *st)
{
    char dir[CLI_PATH_SIZE];
    const char *base;
    if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode)) {
        o->direct = 1;
        snprintf(o->dest, sizeof(o->dest), "%s", o->path);
        return 0;
    }
    if (!S_ISREG(st->st_mode)) {
        print_error("%s: %s names a %s; it must be a file, a device or a FIFO", o->path,
                    o->option, S_ISDIR(st->st_mode) ? "directory" : "socket");
        return EXIT_BAD_INPUT;
    }
    if (realpath(o->path, o->dest) == NULL) {
        print_error("%s: cannot write: %s", o->path, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    if (!split_path(o->dest, dir, sizeof(dir), &base) ||
        !create_temp(o, dir, st->st_mode & 07777)) {
        print_error("%s: cannot create a file there: %s", o->path, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    return 0;
}

/* Refuses o if it names an earlier output or an input. Returns 0 or
 * EXIT_BAD_INPUT. */
static int check_alias(const cli_output *outs, size_t k, const cli_file *inputs, size_t n_in)
{
    const cli_output *o = &outs[k];
    for (size_t i = 0; i < n_in && o->exists; i++)
        if (inputs[i].dev == o->dev && inputs[i].ino == o->ino) {
            print_error("%s: %s names the %s file (%s); elman never writes over an input",
                        o->path, o->option, inputs[i].option, inputs[i].path);
            return EXIT_BAD_INPUT;
        }
    for (size_t i = 0; i < k; i++) {
        const cli_output *p = &outs[i];
        const int same = o->exists ? p->exists && p->dev == o->dev && p->ino == o->ino &&
                                         !(o->chr && p->chr)
                                   : !p->exists && strcmp(p->dest, o->dest) == 0;
        if (same) {
            print_error("%s: %s and %s (%s) name the same file", o->path, o->option, p->option,
                        p->path);
            return EXIT_BAD_INPUT;
        }
    }
    return 0;
}

int outputs_prepare(cli_output *outs, size_t n, const cli_file *inputs, size_t n_in)
{
    for (size_t k = 0; k < n; k++) {
        cli_output *o = &outs[k];
        struct stat st;
        int rc;
        if (stat(o->path, &st) == 0) {
            o->exists = 1;
            o->chr = S_ISCHR(st.st_mode);
            o->dev = st.st_dev;
            o->ino = st.st_ino;
            rc = check_alias(outs, k, inputs, n_in);
            if (rc == 0)
                rc = prepare_existing(o, &st);
        } else if (errno == ENOENT) {
            rc = prepare_new(o);
            if (rc == 0)
                rc = check_alias(outs, k, inputs, n_in);
        } else {
            print_error("%s: cannot write: %s", o->path, strerror(errno));
            rc = EXIT_BAD_INPUT;
        }
        if (rc != 0) {
            outputs_discard(outs, k + 1);
            return rc;
        }
    }
    return 0;
}

/* ---- writing ---- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

static int flush_buffer(cli_output *o)
{
    if (o->failed)
        return 0;
    if (!write_all(o->fd, o->buf, o->used)) {
        o->failed = errno ? errno : EIO;
        return 0;
    }
    o->used = 0;
    return 1;
}

int output_put(cli_output *o, const void *data, size_t bytes)
{
    const unsigned char *p = data;
    const int swap = !host_is_little_endian() && o->es > 1;
    while (bytes > 0 && !o->failed) {
        if (o->used == sizeof(o->buf) && !flush_buffer(o))
            return 0;
        size_t n = sizeof(o->buf) - o->used;
        n = bytes < n ? bytes : n;
        if (swap)
            n -= n % o->es; /* whole elements: the buffer's size is a multiple of 8 */
        if (n == 0) {         /* a part of an element: a caller's mistake */
            o->failed = EINVAL;
            return 0;
        }
        for (size_t i = 0; i < n; i++)
            o->buf[o->used + i] = swap ? p[i - i % o->es + o->es - 1 - i % o->es] : p[i];
        o->used += n;
        p += n;
        bytes -= n;
    }
    return !o->failed;
}

int output_begin_npy(cli_output *o, int dtype, int ndim, const size_t *shape)
{
    if (o->direct) {
        do
            o->fd = open(o->path, O_WRONLY | O_CLOEXEC);
        while (o->fd < 0 && errno == EINTR);
        if (o->fd < 0) {
            o->failed = errno;
            return 0;
        }
    }
    /* The header, padded with spaces to a multiple of 64 bytes, as numpy
     * writes it (format 1.0). */
    char dict[512];
    int len = snprintf(dict, sizeof(dict), "{'descr': '<%s', 'fortran_order': False, 'shape': (",
                       dtype == ELMAN_DTYPE_F64 ? "f8" : "f4");
    for (int i = 0; i < ndim; i++)
        len += snprintf(dict + len, sizeof(dict) - (size_t)len, i ? ", %zu" : "%zu", shape[i]);
    len += snprintf(dict + len, sizeof(dict) - (size_t)len, "%s), }", ndim == 1 ? "," : "");
    const size_t hlen = (size_t)len + 1 + (64 - (10 + (size_t)len + 1) % 64) % 64;
    unsigned char head[10 + sizeof(dict) + 64] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)len);
    memset(head + 10 + len, ' ', hlen - (size_t)len - 1);
    head[10 + hlen - 1] = '\n';
    o->es = 1;
    const int ok = output_put(o, head, 10 + hlen);
    o->es = elman_dtype_size(dtype);
    return ok;
}

/* ---- committing, or not ---- */

void output_discard(cli_output *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (o->slot >= 0) {
        sigset_t old;
        block_signals(1, &old);
        unlink(temps[o->slot].name);
        temps[o->slot].live = 0;
        block_signals(0, &old);
        o->slot = -1;
    }
    restore_handlers();
}

void outputs_discard(cli_output *outs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        output_discard(&outs[k]);
}

/* Flushes o and closes it, its temporary synced to the disk. Returns 1, or
 * 0 with o->failed set. */
static int finish(cli_output *o)
{
    if (!flush_buffer(o))
        return 0;
    if (!o->direct && fsync(o->fd) != 0)
        o->failed = errno;
    if (close(o->fd) != 0 && !o->failed && errno != EINTR)
        o->failed = errno;
    o->fd = -1;
    return !o->failed;
}

static void sync_directory(const char *dest)
{
    char dir[CLI_PATH_SIZE];
    const char *base;
    if (!split_path(dest, dir, sizeof(dir), &base))
        return;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: the data itself is already synced */
        close(fd);
    }
}

int outputs_commit(cli_output *outs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!finish(&outs[k])) {
            print_error("%s: cannot write: %s", outs[k].path, strerror(outs[k].failed));
            outputs_discard(outs, n);
            return EXIT_BAD_INPUT;
        }
    /* The outputs are replaced together: the fatal signals wait from the
     * first rename to the last (a signal between two of them, during a
     * directory's fsync, left Y replaced and HN never written), then end
     * the process with every output in place. */
    sigset_t old;
    block_signals(1, &old);
    for (size_t k = 0; k < n; k++) {
        cli_output *o = &outs[k];
        if (o->slot < 0)
            continue;
        if (rename(temps[o->slot].name, o->dest) != 0) {
            print_error("%s: cannot write: %s", o->path, strerror(errno));
            outputs_discard(outs, n);
            block_signals(0, &old);
            return EXIT_BAD_INPUT;
        }
        temps[o->slot].live = 0;
        o->slot = -1;
        sync_directory(o->dest);
    }
    restore_handlers();
    block_signals(0, &old);
    return 0;
}

/* An output's write failed: the message, and every temporary removed. */
int outputs_fail(cli_output *outs, size_t n, const cli_output *o)
{
    print_error("%s: cannot write: %s", o->path, strerror(o->failed ? o->failed : EIO));
    outputs_discard(outs, n);
    return EXIT_BAD_INPUT;
}
