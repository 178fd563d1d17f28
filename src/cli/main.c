/*
 * elman - the command-line tool: run a PyTorch nn.RNN saved as safetensors
 * on .npy data, or describe the model. The work is cli_main()'s (cli.c);
 * main() only sets up the process.
 *
 * OpenBLAS is kept to one thread. The tool runs elman's own threads
 * (--threads), so BLAS threads would only compete with them; and OpenBLAS
 * 0.3.21's worker threads spin forever in blas_memory_alloc() when memory
 * is short (under `ulimit -v`: upstream OpenBLAS issue 5289), so that the
 * tool writes its output and never exits. The pool is started by a
 * library constructor before main() runs, and openblas_set_num_threads(1)
 * does not stop it (measured: still hangs), so the only sure way is the
 * environment OpenBLAS reads at load time: main() sets
 * OPENBLAS_NUM_THREADS=1 and executes the tool again, once (ELMAN_CLI_EXEC
 * guards against a loop). If that fails, it runs as it is.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int main(int argc, char **argv)
{
    const char *n = getenv("OPENBLAS_NUM_THREADS");
    if ((n == NULL || strcmp(n, "1") != 0) && getenv("ELMAN_CLI_EXEC") == NULL &&
        setenv("OPENBLAS_NUM_THREADS", "1", 1) == 0 && setenv("ELMAN_CLI_EXEC", "1", 1) == 0)
        execv("/proc/self/exe", argv); /* returns only if it failed */
    unsetenv("ELMAN_CLI_EXEC");
    return cli_main(argc, argv);
}
