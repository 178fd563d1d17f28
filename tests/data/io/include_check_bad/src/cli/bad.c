/* A source of the elman tool that reaches into the core: the check must refuse
 * each of these (the headers exist here, as in the real tree). */
#include "internal.h"
#include "kernels/kernel.h"
#include "../internal.h"
#include "io_internal.h"
#include "onnx.pb-c.h"
