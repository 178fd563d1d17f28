/* A source of elman_io that reaches into the core: the check must refuse
 * each of these (the headers exist here, as in the real tree). */
#include "internal.h"
#include "kernels/kernel.h"
#include "../internal.h"
