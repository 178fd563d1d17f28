/* A header of src/cli/ reaching into the core. */
#include "activation.h"
