/* f32-dwconv9-neon: the 3x3 case, nine taps unrolled, 4 channels per step (see el_dwconv_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <math.h>

#include "../../include/el_neon.h"

void el_f32_dwconv9_neon(size_t taps, size_t channels, size_t pixels, const float **input, size_t pixel_stride,
                         const float *w, float *out, float lo, float hi) {
  (void)taps;
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (size_t p = 0; p < pixels; p++, out += channels) {
    const float **in = pixel_stride ? input : input + p * 9;
    const size_t offset = pixel_stride * p;
    const float *i[9];
    for (int t = 0; t < 9; t++) i[t] = in[t] + offset;
    size_t c = 0;
    for (; c + 4 <= channels; c += 4) {
      float32x4_t acc = vld1q_f32(w + c);
      for (int t = 0; t < 9; t++) acc = vfmaq_f32(acc, vld1q_f32(i[t] + c), vld1q_f32(w + (1 + t) * channels + c));
      vst1q_f32(out + c, el_nclamp4(acc, vlo, vhi));
    }
    for (; c < channels; c++) {
      float acc = w[c];
      for (int t = 0; t < 9; t++) acc = fmaf(i[t][c], w[(1 + t) * channels + c], acc);
      acc = lo > acc ? lo : acc;
      out[c] = hi < acc ? hi : acc;
    }
  }
}
#endif
