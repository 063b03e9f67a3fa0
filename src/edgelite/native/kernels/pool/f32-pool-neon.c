/* f32-pool-neon: see el_pool_fn; 4 channels per step, scalar tail. */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <math.h>

#include "../../include/el_math.h"
#include "../../include/el_neon.h"

void el_f32_pool_neon(int op, size_t taps, size_t channels, const float **input, float *out, int first,
                      int last, float scale, float lo, float hi) {
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi), vscale = vdupq_n_f32(scale);
  const float init = op == EL_POOL_MAX ? -INFINITY : 0.0f;
  size_t c = 0;
  for (; c + 4 <= channels; c += 4) {
    float32x4_t acc = first ? vdupq_n_f32(init) : vld1q_f32(out + c);
    if (op == EL_POOL_MAX)
      for (size_t t = 0; t < taps; t++) acc = el_nmax4(acc, vld1q_f32(input[t] + c));
    else
      for (size_t t = 0; t < taps; t++) acc = vaddq_f32(acc, vld1q_f32(input[t] + c));
    if (last) acc = el_nclamp4(op == EL_POOL_MAX ? acc : vmulq_f32(acc, vscale), vlo, vhi);
    vst1q_f32(out + c, acc);
  }
  for (; c < channels; c++) {
    float acc = first ? init : out[c];
    if (op == EL_POOL_MAX)
      for (size_t t = 0; t < taps; t++) acc = input[t][c] > acc ? input[t][c] : acc;
    else
      for (size_t t = 0; t < taps; t++) acc += input[t][c];
    out[c] = last ? el_clamp(op == EL_POOL_MAX ? acc : acc * scale, lo, hi) : acc;
  }
}
#endif
