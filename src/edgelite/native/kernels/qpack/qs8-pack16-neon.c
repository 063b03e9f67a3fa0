/* qs8-pack16-neon: y[i] = x[i] - zero_point as int16, 16 per step (see el_qpack_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <arm_neon.h>

void el_qs8_pack16_neon(size_t n, const int8_t *x, int32_t zero_point, int16_t *y) {
  const int16x8_t zp = vdupq_n_s16((int16_t)zero_point);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int8x16_t v = vld1q_s8(x + i);
    vst1q_s16(y + i, vsubq_s16(vmovl_s8(vget_low_s8(v)), zp));
    vst1q_s16(y + i + 8, vsubq_s16(vmovl_s8(vget_high_s8(v)), zp));
  }
  for (; i < n; i++) y[i] = (int16_t)(x[i] - zero_point);
}
#endif
