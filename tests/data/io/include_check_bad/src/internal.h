/* Stands for the real src/internal.h: the check must refuse it although it exists. */
