/*
 * Preloaded into the elman tool by test_cli_fs.sh (LD_PRELOAD): records in
 * the file that ELMAN_TEST_TRACE names, one line each,
 *   start OPENBLAS_NUM_THREADS=<value or -> ELMAN_CLI_EXEC=<value or ->
 *         when a process image starts (so a re-execution shows twice);
 *   fsync <path>       each fsync() and fdatasync(), with the path of its fd;
 *   rename <from> <to> threads=<n>
 *         each rename() that succeeds, with the threads the process has then.
 * With ELMAN_TEST_FSYNC_ERRNO=<n>, an fsync() of a regular file fails with
 * errno n instead (a disk that reports a write error at the sync).
 * So the test sees what no output file shows: that the outputs were synced
 * before they were renamed into place, that the directory was synced after,
 * and that OpenBLAS ran one thread.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsync(int fd);
int fdatasync(int fd);
int rename(const char *from, const char *to);

static void *next(const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL)
        abort();
    return sym;
}

static void trace(const char *line)
{
    const char *path = getenv("ELMAN_TEST_TRACE");
    if (path == NULL)
        return;
    const int saved = errno;
    const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        const size_t n = strlen(line);
        if (write(fd, line, n) != (ssize_t)n)
            abort();
        close(fd);
    }
    errno = saved;
}

static const char *env_or_dash(const char *name)
{
    const char *v = getenv(name);
    return v != NULL ? v : "-";
}

__attribute__((constructor)) static void started(void)
{
    char line[256];
    snprintf(line, sizeof(line), "start OPENBLAS_NUM_THREADS=%s ELMAN_CLI_EXEC=%s\n",
             env_or_dash("OPENBLAS_NUM_THREADS"), env_or_dash("ELMAN_CLI_EXEC"));
    trace(line);
}

static int synced(const char *name, int fd)
{
    char link[64], path[4096] = "?", line[4200];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n > 0)
        path[n] = '\0';
    snprintf(line, sizeof(line), "fsync %s\n", path);
    trace(line);
    struct stat st;
    const char *fail = getenv("ELMAN_TEST_FSYNC_ERRNO");
    if (fail != NULL && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        errno = atoi(fail);
        return -1;
    }
    int (*real)(int);
    void *sym = next(name);
    memcpy(&real, &sym, sizeof(real)); /* ISO C has no object-to-function cast */
    return real(fd);
}

int fsync(int fd)
{
    return synced("fsync", fd);
}

int fdatasync(int fd)
{
    return synced("fdatasync", fd);
}

static int threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *);
    void *sym = next("rename");
    memcpy(&real, &sym, sizeof(real));
    const int rc = real(from, to);
    if (rc == 0) {
        char line[8400];
        snprintf(line, sizeof(line), "rename %s %s threads=%d\n", from, to, threads());
        trace(line);
    }
    return rc;
}
