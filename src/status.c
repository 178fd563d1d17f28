/* Status codes and version. */
#include "elman.h"

#define ELMAN_STR2(x) #x
#define ELMAN_STR(x) ELMAN_STR2(x)

unsigned elman_version_number(void)
{
    return ELMAN_VERSION_NUMBER;
}

const char *elman_version_string(void)
{
    return ELMAN_STR(ELMAN_VERSION_MAJOR) "." ELMAN_STR(ELMAN_VERSION_MINOR) "." ELMAN_STR(
        ELMAN_VERSION_PATCH);
}

const char *elman_version(void)
{
    return elman_version_string();
}

const char *elman_strerror(int status)
{
    switch (status) {
    case ELMAN_OK: return "success";
    case ELMAN_ERR_NULL_ARGUMENT: return "a required pointer argument is NULL";
    case ELMAN_ERR_INVALID_SIZE: return "a size or count is zero or negative";
    case ELMAN_ERR_SIZE_OVERFLOW: return "the sizes are too large: a size product overflows";
    case ELMAN_ERR_INVALID_LENGTH: return "a sequence length is out of range (1..seq_len; 0..seq_len for a chunk)";
    case ELMAN_ERR_WORKSPACE_TOO_SMALL: return "the workspace is smaller than elman_rnn_workspace_size()";
    case ELMAN_ERR_WEIGHTS_NOT_SET: return "the weights of some layer or direction have not been set";
    case ELMAN_ERR_INVALID_CONFIG: return "invalid configuration value (nonlinearity, bias, flag)";
    case ELMAN_ERR_INVALID_INDEX: return "layer or direction index out of range";
    case ELMAN_ERR_BIAS_MISMATCH: return "biases do not match the model's bias setting";
    case ELMAN_ERR_OVERLAP: return "input and output buffers overlap";
    case ELMAN_ERR_OUT_OF_MEMORY: return "out of memory";
    case ELMAN_ERR_MISALIGNED: return "the workspace is not aligned to ELMAN_WORKSPACE_ALIGNMENT bytes";
    case ELMAN_ERR_IO: return "a file cannot be opened, read or written";
    case ELMAN_ERR_FORMAT: return "a file is malformed or truncated";
    case ELMAN_ERR_UNSUPPORTED: return "the file is well-formed but uses an unsupported feature";
    case ELMAN_ERR_SHAPE: return "tensor shapes are missing or inconsistent";
    default: return "unknown elman status";
    }
}
