/*
 * elman - the command-line tool: run a PyTorch nn.RNN saved as safetensors
 * on .npy data, or describe the model. The work is cli_main()'s (cli.c);
 * main() only sets up the process.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
