/* f32-dwconv-neon: any number of taps, 8 channels per step with FMA, a masked-by-copy tail (see
 * el_dwconv_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <math.h>

#include "../../include/el_neon.h"

void el_f32_dwconv_neon(size_t taps, size_t channels, size_t pixels, const float **input, size_t pixel_stride,
                        const float *w, float *out, float lo, float hi) {
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (size_t p = 0; p < pixels; p++, out += channels) {
    const float **in = pixel_stride ? input : input + p * taps;
    const size_t offset = pixel_stride * p;
    size_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      float32x4_t a0 = vld1q_f32(w + c), a1 = vld1q_f32(w + c + 4);
      const float *wt = w + channels + c;
      for (size_t t = 0; t < taps; t++, wt += channels) {
        const float *x = in[t] + offset + c;
        a0 = vfmaq_f32(a0, vld1q_f32(x), vld1q_f32(wt));
        a1 = vfmaq_f32(a1, vld1q_f32(x + 4), vld1q_f32(wt + 4));
      }
      vst1q_f32(out + c, el_nclamp4(a0, vlo, vhi));
      vst1q_f32(out + c + 4, el_nclamp4(a1, vlo, vhi));
    }
    for (; c + 4 <= channels; c += 4) {
      float32x4_t a0 = vld1q_f32(w + c);
      const float *wt = w + channels + c;
      for (size_t t = 0; t < taps; t++, wt += channels) a0 = vfmaq_f32(a0, vld1q_f32(in[t] + offset + c), vld1q_f32(wt));
      vst1q_f32(out + c, el_nclamp4(a0, vlo, vhi));
    }
    for (; c < channels; c++) {
      float acc = w[c];
      for (size_t t = 0; t < taps; t++) acc = fmaf(in[t][offset + c], w[(1 + t) * channels + c], acc);
      acc = lo > acc ? lo : acc;
      out[c] = hi < acc ? hi : acc;
    }
  }
}
#endif
