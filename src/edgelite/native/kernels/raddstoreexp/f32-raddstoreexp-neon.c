/* f32-raddstoreexp-neon: 4 exponentials per step with el_nexp4 (libm's expf for a step with an
 * argument outside [-87, 88]), summed in 4 lanes (see el_raddstoreexp_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <math.h>

#include "../../include/el_neon.h"

float el_f32_raddstoreexp_neon(size_t n, const float *x, float max, float beta, float *y) {
  const float32x4_t vmax = vdupq_n_f32(max);
  float32x4_t acc = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t t = vmulq_n_f32(vsubq_f32(vld1q_f32(x + i), vmax), beta);
    if (el_nexp4_covers(t)) {
      const float32x4_t e = el_nexp4(t);
      vst1q_f32(y + i, e);
      acc = vaddq_f32(acc, e);
    } else {
      float e[4];
      vst1q_f32(e, t);
      for (int j = 0; j < 4; j++) y[i + j] = e[j] = expf(e[j]);
      acc = vaddq_f32(acc, vld1q_f32(e));
    }
  }
  float sum = vaddvq_f32(acc);
  for (; i < n; i++) sum += y[i] = expf((x[i] - max) * beta);
  return sum;
}
#endif
