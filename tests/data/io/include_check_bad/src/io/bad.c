/* A source of elman_io that reaches into the core: the check must refuse it. */
#include "internal.h"
