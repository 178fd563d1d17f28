/*
 * golden - loader for the PyTorch golden data in tests/data/golden/.
 *
 * The files are written by tests/gen_golden.py; the format is documented
 * there. Test-only code: depends on nothing but libc.
 */
#ifndef ELMAN_TESTS_GOLDEN_H
#define ELMAN_TESTS_GOLDEN_H

typedef struct golden_case {
    char name[128];          /* file name without directory */
    int input_size, hidden_size, num_layers, nonlinearity, bias, batch_first, bidirectional;
    int batch, seq_len, unbatched;
    int dtype;       /* 0: the arrays below hold float, 1: double */
    void **w_ih, **w_hh, **b_ih, **b_hh; /* arrays of L*D pointers, index l*D+d; b_* entries NULL when bias==0 */
    void *x;         /* B*T*I */
    int *lengths;    /* B values or NULL */
    void *h0;        /* L*D*B*H or NULL */
    void *output;    /* expected, B*T*D*H */
    void *h_n;       /* expected, L*D*B*H */
} golden_case;

/* Loads one golden file into *c (which need not be initialised).
 * Returns 0 on success, -1 on any error (prints why to stderr; *c is then
 * left zeroed, so golden_free() on it is harmless). Validates the magic,
 * the version, that all sizes are > 0 and flags are 0/1, that lengths are in
 * 1..seq_len, and that the file is exactly the expected length. */
int golden_load(const char *path, golden_case *c);

/* Frees everything golden_load() allocated and zeroes *c. Accepts a zeroed
 * struct. */
void golden_free(golden_case *c);

/* Reads dir/index.txt and calls fn(path, user) for each listed file, where
 * path is "dir/name". Blank lines are skipped. Returns the number of files,
 * or -1 on error (prints why to stderr). */
int golden_for_each(const char *dir, void (*fn)(const char *path, void *user), void *user);

#endif /* ELMAN_TESTS_GOLDEN_H */
