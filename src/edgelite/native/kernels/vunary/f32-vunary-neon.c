/* f32-vunary-neon: CLAMP, HARD_SWISH (in LiteRT's two roundings, el_hswish) and SIGMOID 4 lanes per
 * step. SIGMOID is the reference's formula (e = exp(-|x|); x >= 0 ? 1 / (1 + e) : e / (1 + e))
 * with el_nexp4; a step with some |x| > 87 (subnormal e) takes the scalar el_sigmoid. */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include "../../include/el_math.h"
#include "../../include/el_neon.h"

/* relu6(x + 3) with NaN propagating, as el_relu6_shift3. */
static inline float32x4_t relu6_shift3(float32x4_t x) {
  float32x4_t t = vaddq_f32(x, vdupq_n_f32(3.0f));
  t = vbslq_f32(vcltq_f32(t, vdupq_n_f32(0.0f)), vdupq_n_f32(0.0f), t);
  return vbslq_f32(vcgtq_f32(t, vdupq_n_f32(6.0f)), vdupq_n_f32(6.0f), t);
}

void el_f32_vunary_neon(int op, size_t n, const float *x, float *y, float lo, float hi) {
  size_t i = 0;
  if (op == EL_UN_CLAMP) {
    const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, el_nclamp4(vld1q_f32(x + i), vlo, vhi));
    for (; i < n; i++) y[i] = el_clamp(x[i], lo, hi);
  } else if (op == EL_UN_HSWISH) {
    const float32x4_t sixth = vdupq_n_f32(1.0f / 6.0f);
    for (; i + 4 <= n; i += 4) {
      const float32x4_t v = vld1q_f32(x + i);
      vst1q_f32(y + i, vmulq_f32(vmulq_f32(v, sixth), relu6_shift3(v)));
    }
    for (; i < n; i++) y[i] = el_hswish(x[i], 1);
  } else {
    const float32x4_t one = vdupq_n_f32(1.0f);
    for (; i + 4 <= n; i += 4) {
      const float32x4_t v = vld1q_f32(x + i), t = vnegq_f32(vabsq_f32(v));
      if (!el_nexp4_covers(t)) {
        for (size_t j = i; j < i + 4; j++) y[j] = el_sigmoid(x[j]);
        continue;
      }
      const float32x4_t e = el_nexp4(t);
      vst1q_f32(y + i, vdivq_f32(vbslq_f32(vcgeq_f32(v, vdupq_n_f32(0.0f)), one, e), vaddq_f32(one, e)));
    }
    for (; i < n; i++) y[i] = el_sigmoid(x[i]);
  }
}
#endif
