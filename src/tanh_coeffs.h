/*
 * Constants of the vectorizable tanh shared by every kernel.
 *
 * |x| < ELMAN_TANH_SMALL: tanh x = x + x^3 Q(x^2), Q of degree 4 fitted by
 * weighted least squares to tanh on [0, 0.625] (max abs error 4.2e-8 in
 * float evaluation). Above: 1 - 2/(exp(2|x|) + 1) with exp by Cody-Waite
 * reduction and the Cephes expf polynomial; 2|x| is clamped at 20, where
 * tanh is 1 in float. Overall absolute error <= 2e-7 (tests/test_kernel.c).
 */
#ifndef ELMAN_TANH_COEFFS_H
#define ELMAN_TANH_COEFFS_H

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
