/* A header of src/common/ (which io and cli include) reaching into the core. */
#include "team.h"
