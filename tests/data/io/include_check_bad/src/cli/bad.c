/* A source of the elman tool that reaches into the core: the check must refuse it. */
#include "internal.h"
