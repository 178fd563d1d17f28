/*
 * Preloaded into the elman tool by test_cli_fs.sh (LD_PRELOAD): a rename()
 * that passes each call to the C library's and, after the first one that
 * succeeds, raises the signal whose number ELMAN_TEST_RENAME_SIGNAL holds,
 * as if it had arrived between two of the tool's renames. That is the one
 * moment of the outputs' commit that a kill from outside reaches only by
 * chance; here every run reaches it.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *from, const char *to);

int rename(const char *from, const char *to)
{
    static int raised;
    int (*real)(const char *, const char *);
    void *sym = dlsym(RTLD_NEXT, "rename");
    if (sym == NULL)
        abort();
    memcpy(&real, &sym, sizeof(real)); /* ISO C has no object-to-function cast */
    const int rc = real(from, to);
    const char *sig = getenv("ELMAN_TEST_RENAME_SIGNAL");
    if (rc == 0 && sig != NULL && !raised) {
        raised = 1;
        raise(atoi(sig));
    }
    return rc;
}
