/* f32-qs8cvt-neon: 16 floats per step: multiply, round half to even (frintn), out of range and NaN
 * to INT32_MIN as the reference, add the zero point (wrapping), clamp and narrow; the rest and the
 * scalar-tail formula as f32-qs8cvt-scalar (see el_qvcvt_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <arm_neon.h>

#include "../../include/el_quant.h"

static inline int16x4_t convert4(const float *x, float32x4_t inv, int32x4_t zp) {
  const float32x4_t r = vrndnq_f32(vmulq_f32(vld1q_f32(x), inv));
  const uint32x4_t inside = vandq_u32(vcgeq_f32(r, vdupq_n_f32(-2147483648.0f)), vcltq_f32(r, vdupq_n_f32(2147483648.0f)));
  const int32x4_t v = vaddq_s32(vbslq_s32(inside, vcvtq_s32_f32(r), vdupq_n_s32(INT32_MIN)), zp);
  return vmovn_s32(vminq_s32(vmaxq_s32(v, vdupq_n_s32(-128)), vdupq_n_s32(127)));
}

void el_f32_qs8cvt_neon(size_t n, const float *x, int8_t *y, float inv_scale, float scale, int32_t zero_point,
                        int vector) {
  size_t i = 0;
  if (vector) {
    const float32x4_t inv = vdupq_n_f32(inv_scale);
    const int32x4_t zp = vdupq_n_s32(zero_point);
    for (; i + 16 <= n; i += 16) {
      const int16x8_t a = vcombine_s16(convert4(x + i, inv, zp), convert4(x + i + 4, inv, zp));
      const int16x8_t b = vcombine_s16(convert4(x + i + 8, inv, zp), convert4(x + i + 12, inv, zp));
      vst1q_s8(y + i, vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
    }
    for (; i < n; i++) y[i] = el_quantize_vector(x[i], inv_scale, zero_point);
    return;
  }
  for (; i < n; i++) y[i] = el_quantize_tail(x[i], scale, zero_point);
}
#endif
