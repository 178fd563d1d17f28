/* Stands for the real src/activation.h: the check must refuse it although it exists. */
