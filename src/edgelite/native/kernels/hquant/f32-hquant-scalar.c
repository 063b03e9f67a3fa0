/* f32-hquant-scalar: a hybrid input region quantized one value at a time (see el_hquant_fn). */
#include "../../include/el_kernels.h"

/* C's round() of x * inv (ties away from zero), exact, as an int32 clamped to +-2^20. */
static inline int32_t round_away(float v) {
  if (!(v > -1048576.0f)) return v != v ? 0 : -1048576;
  if (v > 1048576.0f) return 1048576;
  const int32_t i = (int32_t)v;
  const float frac = v - (float)i;
  return i + (frac >= 0.5f) - (frac <= -0.5f);
}

float el_f32_hquant_scalar(size_t n, const float *x, int mode, int16_t *out) {
  float lo = x[0], hi = x[0];
  for (size_t i = 1; i < n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  float inv;
  int32_t zp, qmin;
  const float scale = el_hquant_params(lo, hi, mode, &inv, &zp, &qmin);
  for (size_t i = 0; i < n; i++) {
    int32_t q = round_away(x[i] * inv) + zp;
    q = q < qmin ? qmin : q > 127 ? 127 : q;
    out[i] = (int16_t)(q - zp);
  }
  return scale;
}
