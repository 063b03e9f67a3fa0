/* f32-dwconv9-neon: the 3x3 case, nine taps unrolled, 8 channels per step in two accumulators,
 * then 4, then one at a time (see el_dwconv_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <math.h>

#include "../../include/el_neon.h"

#define EL_TAP8(t)                                                 \
  do {                                                             \
    a0 = vfmaq_f32(a0, vld1q_f32(i##t + c), vld1q_f32(w##t + c));         \
    a1 = vfmaq_f32(a1, vld1q_f32(i##t + c + 4), vld1q_f32(w##t + c + 4)); \
  } while (0)
#define EL_TAP4(t) a0 = vfmaq_f32(a0, vld1q_f32(i##t + c), vld1q_f32(w##t + c))
#define EL_TAP1(t) acc = fmaf(i##t[c], w##t[c], acc)

void el_f32_dwconv9_neon(size_t taps, size_t channels, size_t pixels, const float **input, size_t pixel_stride,
                         const float *w, float *out, float lo, float hi) {
  (void)taps;
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  const float *w0 = w + channels, *w1 = w0 + channels, *w2 = w1 + channels, *w3 = w2 + channels;
  const float *w4 = w3 + channels, *w5 = w4 + channels, *w6 = w5 + channels, *w7 = w6 + channels;
  const float *w8 = w7 + channels;
  for (size_t p = 0; p < pixels; p++, out += channels) {
    const float **in = pixel_stride ? input : input + p * 9;
    const size_t offset = pixel_stride * p;
    const float *i0 = in[0] + offset, *i1 = in[1] + offset, *i2 = in[2] + offset, *i3 = in[3] + offset;
    const float *i4 = in[4] + offset, *i5 = in[5] + offset, *i6 = in[6] + offset, *i7 = in[7] + offset;
    const float *i8 = in[8] + offset;
    size_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      float32x4_t a0 = vld1q_f32(w + c), a1 = vld1q_f32(w + c + 4);
      EL_TAP8(0); EL_TAP8(1); EL_TAP8(2); EL_TAP8(3); EL_TAP8(4); EL_TAP8(5); EL_TAP8(6); EL_TAP8(7); EL_TAP8(8);
      vst1q_f32(out + c, el_nclamp4(a0, vlo, vhi));
      vst1q_f32(out + c + 4, el_nclamp4(a1, vlo, vhi));
    }
    for (; c + 4 <= channels; c += 4) {
      float32x4_t a0 = vld1q_f32(w + c);
      EL_TAP4(0); EL_TAP4(1); EL_TAP4(2); EL_TAP4(3); EL_TAP4(4); EL_TAP4(5); EL_TAP4(6); EL_TAP4(7); EL_TAP4(8);
      vst1q_f32(out + c, el_nclamp4(a0, vlo, vhi));
    }
    for (; c < channels; c++) {
      float acc = w[c];
      EL_TAP1(0); EL_TAP1(1); EL_TAP1(2); EL_TAP1(3); EL_TAP1(4); EL_TAP1(5); EL_TAP1(6); EL_TAP1(7); EL_TAP1(8);
      acc = lo > acc ? lo : acc;
      out[c] = hi < acc ? hi : acc;
    }
  }
}
#endif
