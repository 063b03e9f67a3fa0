/* f32-ibilinear-neon: 4 channels per step, products and sums in the scalar kernel's order and
 * without FMA, so the result is the same to the bit (see el_ibilinear_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <arm_neon.h>

void el_f32_ibilinear_neon(size_t channels, const float *t0, const float *t1, const float *b0,
                           const float *b1, float dy, float dx, float *out) {
  const float uy = 1.0f - dy, ux = 1.0f - dx;
  size_t c = 0;
  for (; c + 4 <= channels; c += 4) {
    float32x4_t s = vmulq_n_f32(vmulq_n_f32(vld1q_f32(t0 + c), uy), ux);
    s = vaddq_f32(s, vmulq_n_f32(vmulq_n_f32(vld1q_f32(b0 + c), dy), ux));
    s = vaddq_f32(s, vmulq_n_f32(vmulq_n_f32(vld1q_f32(t1 + c), uy), dx));
    s = vaddq_f32(s, vmulq_n_f32(vmulq_n_f32(vld1q_f32(b1 + c), dy), dx));
    vst1q_f32(out + c, s);
  }
  for (; c < channels; c++) out[c] = t0[c] * uy * ux + b0[c] * dy * ux + t1[c] * uy * dx + b1[c] * dy * dx;
}
#endif
