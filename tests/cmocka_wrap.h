/* cmocka 1.1 needs these headers first. */
#ifndef ELMAN_CMOCKA_WRAP_H
#define ELMAN_CMOCKA_WRAP_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#endif
