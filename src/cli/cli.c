/*
 * cli_main(): the tool's commands, dispatched from the command line, and
 * its one way of reporting an error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Prints "elman: <message>" as one line, control characters replaced. */
void print_error(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    fprintf(stderr, "elman: %s\n", msg);
}

int cli_main(int argc, char **argv)
{
    if (argc < 2) {
        print_error("missing command: run or info (see 'elman --help')");
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("elman %s\n", elman_version_string());
        return 0;
    }
    cli_args a;
    cli_args_init(&a);
    int rc = parse_command_line(argc, argv, cmd, &a);
    if (rc != 0)
        return rc;
    if (a.given[OPT_HELP]) {
        print_help(stdout);
        return 0;
    }
    return strcmp(cmd, "run") == 0 ? run_command(&a) : info_command(&a);
}
