/* Stands for the real src/io/io_internal.h: the check must refuse it although it exists. */
