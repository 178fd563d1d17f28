/*
 * The elman tool's private header: what its files share.
 *
 *   main.c     the process: main(), OpenBLAS kept to one thread
 *   cli.c      cli_main(): the command dispatch, print_error()
 *   args.c     the option tables, the help text, parsing the command line
 *   inputs.c   reading and checking the input files
 *   run.c      `elman run`: configuration, the forward pass
 *   outputs.c  writing the outputs (temporary files, then renamed)
 *   info.c     `elman info`
 *
 * Errors: one line on stderr, "elman: ...", and a non-zero exit status
 * (1 for bad input files or I/O, 2 for a bad command line).
 */
#ifndef ELMAN_CLI_H
#define ELMAN_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "elman.h"
#include "elman_io.h"

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* --threads above this is surely a mistake (the library uses at most 64). */
#define MAX_THREADS 1024

typedef struct cli_option {
    const char *name;  /* without the leading "--" */
    int id;
    const char *value; /* the value's name in the help, NULL for a flag */
    const char *help;
} cli_option;

enum {
    OPT_HELP,
    OPT_WEIGHTS,
    OPT_INPUT,
    OPT_OUTPUT,
    OPT_HN,
    OPT_H0,
    OPT_LENGTHS,
    OPT_NONLINEARITY,
    OPT_BATCH_FIRST,
    OPT_SEQ_FIRST,
    OPT_PREFIX,
    OPT_DIRECTION,
    OPT_ACTIVATION,
    OPT_CLIP,
    OPT_DTYPE,
    OPT_CHUNK,
    OPT_THREADS,
    OPT_STATE_BATCH_FIRST,
    OPT_DETERMINISTIC,
    OPT_Y_LAYOUT,
    OPT_COUNT
};

enum { DIR_MODEL = -1, DIR_FORWARD, DIR_REVERSE, DIR_BIDIRECTIONAL };
extern const char *const cli_direction_names[3];

/* What the command line asked for. Unset strings are NULL, unset choices -1. */
typedef struct cli_args {
    const char *value[OPT_COUNT]; /* the value of each option given */
    int given[OPT_COUNT];
    const char *positional;       /* info: MODEL */
    int nonlinearity;             /* from --nonlinearity or --activation */
    int batch_first;
    int direction;                /* a DIR_ value */
    double alpha, beta;           /* NAN: the activation's default */
    double clip;                  /* 0: none */
    int f64;                      /* --dtype float64 */
    long chunk;                   /* 0: one run */
    int threads;                  /* 0: the default */
    int y_onnx;                   /* --y-layout onnx */
} cli_args;

/* The command line, parsed: elman's exit status for it, to return from
 * main(). Never exits; safe to call again (the fuzz target does). */
int cli_main(int argc, char **argv);

/* cli.c: prints "elman: <message>" as one line, control characters
 * replaced. */
void print_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* args.c */
void print_help(FILE *f);
void cli_args_init(cli_args *a);
/* Parses argv[2..] for command cmd ("run" or "info"). Returns 0 or an exit
 * status (the error printed); 2 for an unknown command. */
int parse_command_line(int argc, char **argv, const char *cmd, cli_args *a);

/* inputs.c */
const char *shape_str(char *buf, size_t n, const size_t *shape, int ndim);
int same_shape(const elman_array *a, const size_t *want, int ndim);
/* Reads a float32/float64 .npy file into a new buffer of float, or of
 * double when f64. Returns 1, or 0 with the error printed. */
int read_reals(const char *path, const char *what, int f64, elman_array *a, void **buf);
/* Reads LENGTHS: (B,) int32/int64, each 1..T, into a new int array.
 * Returns 1, or 0 with the error printed. */
int read_lengths(const char *path, int batched, size_t B, size_t T, elman_array *arr,
                 int **len);
/* Reads the ONNX model at path and the configuration it gives, for run
 * and info alike (--prefix, which names safetensors tensors, is refused).
 * Returns 1, or 0 with the error printed and *m NULL. */
int read_onnx(const cli_args *a, const char *path, elman_onnx **m, elman_rnn_info *info);

/* An input file, checked: a regular file, and who it is (for aliases). */
typedef struct cli_file {
    const char *path, *option; /* option: "--input", ... */
    unsigned long long dev, ino;
} cli_file;

/* Opens path (without blocking, without reading) and refuses anything but a
 * regular file: a FIFO, a device or a directory. Returns 1, or 0 with the
 * error printed. */
int check_input(const char *path, const char *option, cli_file *f);

/* outputs.c: the commit protocol (see there). */
#define CLI_MAX_OUTPUTS 4
#define CLI_PATH_SIZE 4200 /* PATH_MAX, and a temporary's name beside it */

typedef struct cli_output {
    const char *path, *option; /* as given; option: "--output", ... */
    char dest[CLI_PATH_SIZE];  /* where it goes: the resolved path */
    int exists, chr, direct;   /* direct: a device or FIFO written in place */
    unsigned long long dev, ino;
    int fd, slot;              /* slot: its temporary's row, -1 if none */
    int failed;                /* the errno of a failed write, 0 */
    size_t es, used;           /* element size (for byte order), bytes in buf */
    unsigned char buf[1 << 15];
} cli_output;

/* Checks outs[0..n) (path and option set, fd and slot -1) against each other and the
 * inputs, and creates their temporaries. Returns 0 or an exit status (the
 * error printed, nothing left behind). */
int outputs_prepare(cli_output *outs, size_t n, const cli_file *inputs, size_t n_in);
/* Starts writing a .npy file of float32 or float64 to o; output_put()
 * appends whole elements (native byte order; written little-endian).
 * Return 1, or 0 with o->failed set (report with outputs_fail()). */
int output_begin_npy(cli_output *o, int dtype, int ndim, const size_t *shape);
int output_put(cli_output *o, const void *data, size_t bytes);
/* Syncs and closes every output, then renames the temporaries into place.
 * Returns 0 or an exit status (the error printed, temporaries removed). */
int outputs_commit(cli_output *outs, size_t n);
/* Prints o's write error, removes every temporary; returns EXIT_BAD_INPUT. */
int outputs_fail(cli_output *outs, size_t n, const cli_output *o);
/* Closes outputs and removes their temporaries. */
void output_discard(cli_output *o);
void outputs_discard(cli_output *outs, size_t n);

/* run.c, info.c */
int run_command(const cli_args *a);
int info_command(const cli_args *a);

#endif /* ELMAN_CLI_H */
