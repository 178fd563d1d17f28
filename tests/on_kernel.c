/* on_kernel NAME PROGRAM [ARG...]: runs PROGRAM with ELMAN_KERNELS=NAME if
 * this CPU runs the kernels NAME, else exits 77 (ctest: Skipped) saying
 * why, so a test of a path the machine cannot run never shows as passed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernels/kernel.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: on_kernel NAME PROGRAM [ARG...]\n");
        return 2;
    }
    if (elman_find_kernels(argv[1]) == NULL) {
        printf("SKIPPED: the %s kernels do not run on this CPU (or this build has none)\n",
               argv[1]);
        return 77;
    }
    if (setenv("ELMAN_KERNELS", argv[1], 1) != 0) {
        perror("setenv");
        return 2;
    }
    execv(argv[2], argv + 2);
    perror(argv[2]);
    return 2;
}
