/* libFuzzer target: the elman tool end to end, in process (cli_main()
 * returns its exit status and never exits). The input is an argument
 * vector and up to four files:
 *
 *   ARG\nARG\n...\n=====\nFILE f0=====\nFILE f1 ...
 *
 * The arguments follow "elman"; each file is written to f0..f3 in a
 * scratch directory that is the working directory while the tool runs, so
 * arguments name them (and the outputs, y.npy, hn.npy) without a path. A
 * '/' in an argument becomes '_': the tool reads and writes nothing outside
 * that directory. After each input the directory is emptied. (libFuzzer's
 * own files are relative to where it started: .ci/run passes an absolute
 * -artifact_prefix in case a crash leaves the scratch directory current.) A crash, a sanitizer report,
 * an exit status other than 0, 1, 2, or a temporary left behind fails. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64
#define MAX_FILES 4
static const char SEP[] = "\n=====\n";

static char scratch[] = "/tmp/fuzz_cli-XXXXXX";

/* The scratch directory, made once; stdout (elman info's report) goes to
 * /dev/null. */
static int make_scratch(void)
{
    static int ready;
    if (ready)
        return 1;
    if (mkdtemp(scratch) == NULL)
        return 0;
    int fd = open("/dev/null", O_WRONLY);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        close(fd);
    }
    ready = 1;
    return 1;
}

/* The tool in the scratch directory, then back where we were. */
static int run_in_scratch(int argc, char **argv)
{
    int here = open(".", O_RDONLY | O_DIRECTORY);
    if (here < 0 || chdir(scratch) != 0)
        abort();
    const int rc = cli_main(argc, argv);
    if (fchdir(here) != 0)
        abort();
    close(here);
    return rc;
}

/* Empties the scratch directory; aborts on a temporary left behind. */
static void clean_scratch(void)
{
    DIR *d = opendir(scratch);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strncmp(e->d_name, ".elman-", 7) == 0)
            abort(); /* the commit protocol left a temporary */
        char path[sizeof(scratch) + 256 + 1];
        snprintf(path, sizeof(path), "%s/%s", scratch, e->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    if (d != NULL)
        closedir(d);
}

static const uint8_t *find_sep(const uint8_t *p, const uint8_t *end)
{
    const size_t n = sizeof(SEP) - 1;
    for (; p + n <= end; p++)
        if (memcmp(p, SEP, n) == 0)
            return p;
    return end;
}

static int write_file(const char *name, const uint8_t *p, size_t n)
{
    FILE *f = fopen(name, "wb");
    if (f == NULL)
        return 0;
    const int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!make_scratch())
        return 0;
    const uint8_t *end = data + size, *sep = find_sep(data, end);
    char *text = malloc((size_t)(sep - data) + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, (size_t)(sep - data));
    text[sep - data] = '\0';
    char *argv[MAX_ARGS + 2] = {"elman"};
    int argc = 1;
    for (char *p = text, *nl; argc <= MAX_ARGS && p != NULL; p = nl) {
        nl = strchr(p, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        for (char *c = p; *c; c++)
            if (*c == '/')
                *c = '_';
        argv[argc++] = p;
    }
    argv[argc] = NULL;
    for (int k = 0; k < MAX_FILES && sep < end; k++) {
        const uint8_t *start = sep + sizeof(SEP) - 1;
        sep = find_sep(start, end);
        char name[sizeof(scratch) + 4];
        snprintf(name, sizeof(name), "%s/f%d", scratch, k);
        write_file(name, start, (size_t)(sep - start));
    }
    const int rc = run_in_scratch(argc, argv);
    if (rc < 0 || rc > 2)
        abort();
    clean_scratch();
    free(text);
    return 0;
}
