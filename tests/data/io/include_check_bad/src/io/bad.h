/* A header of src/io/ reaching into the core. */
#include "activation.h"
