/* Scalar helpers shared by kernels and op glue. */
#ifndef EL_MATH_H
#define EL_MATH_H

#include <math.h>

/* TFLite's clamp order: NaN and -0.0 pass through (lo > x ? lo : x, then hi < x ? hi : x). */
static inline float el_clamp(float x, float lo, float hi) {
  x = lo > x ? lo : x;
  return hi < x ? hi : x;
}

/* edgelite's reference logistic: exp(-|x|) never overflows; NaN stays NaN. */
static inline float el_sigmoid(float x) {
  float e = expf(-fabsf(x));
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

/* relu6(x + 3) with NaN propagating through the clamp, as numpy's minimum/maximum. */
static inline float el_relu6_shift3(float x) {
  float t = x + 3.0f;
  t = t < 0.0f ? 0.0f : t;
  return t > 6.0f ? 6.0f : t;
}

/* LiteRT's float HARD_SWISH rounds in two ways: x * (1/6) * relu6(x + 3) on the elements its SIMD
 * loop covers (all but the last n % 4), x * relu6(x + 3) * (1/6) on those. `tail`: which one. */
static inline float el_hswish(float x, int tail) {
  const float t = el_relu6_shift3(x);
  return tail ? x * t * (1.0f / 6.0f) : x * (1.0f / 6.0f) * t;
}

#endif
