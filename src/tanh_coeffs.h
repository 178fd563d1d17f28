/*
 * Constants of the vectorizable tanh shared by every kernel path
 * (elman_tanh_portable in activation.c, and each vector kernel).
 *
 * |x| < ELMAN_TANH_SMALL: tanh x = x + x^3 Q(x^2), Q of degree 4 fitted by
 * weighted least squares to tanh on [0, 0.625]. Above: 1 - 2/(exp(2|x|) + 1)
 * with exp by Cody-Waite reduction and the Cephes expf polynomial; 2|x| is
 * clamped at 20, where tanh is 1 in float.
 */
#ifndef ELMAN_TANH_COEFFS_H
#define ELMAN_TANH_COEFFS_H

/* The largest absolute error against tanh in double precision, measured
 * over every float in [0, 20] (1.1e9 values; the function is odd and is 1
 * beyond) on the portable and AVX2 paths: 8.089e-8, at x = 0.63098222,
 * just above the switch between the two formulas (below it: 4.43e-8).
 * This is the one place the figure is written; tests/test_kernel.c bounds
 * every path by it, the README quotes it. */
#define ELMAN_TANH_MAX_ERROR 8.09e-8

#define ELMAN_TANH_SMALL 0.625f
#define ELMAN_TANH_Q0 -0.3333326280117035f
#define ELMAN_TANH_Q1 0.13331091403961182f
#define ELMAN_TANH_Q2 -0.0537186823785305f
#define ELMAN_TANH_Q3 0.020588181912899017f
#define ELMAN_TANH_Q4 -0.005662285722792149f

#define ELMAN_TANH_YMAX 20.0f
#define ELMAN_LOG2E 1.44269504088896341f
#define ELMAN_LN2_HI 0.693359375f
#define ELMAN_LN2_LO -2.12194440e-4f
#define ELMAN_EXP_P0 1.9875691500e-4f
#define ELMAN_EXP_P1 1.3981999507e-3f
#define ELMAN_EXP_P2 8.3334519073e-3f
#define ELMAN_EXP_P3 4.1665795894e-2f
#define ELMAN_EXP_P4 1.6666665459e-1f
#define ELMAN_EXP_P5 5.0000001201e-1f

#endif
