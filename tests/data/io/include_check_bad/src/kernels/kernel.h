/* Stands for the real src/kernels/kernel.h: the check must refuse it although it exists. */
