/* f32-dwconv9-scalar: the 3x3 case with the nine taps unrolled (see el_dwconv_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_dwconv9_scalar(size_t taps, size_t channels, size_t pixels, const float **input, size_t pixel_stride,
                           const float *w, float *out, float lo, float hi) {
  (void)taps;
  const float *w0 = w + channels, *w1 = w0 + channels, *w2 = w1 + channels, *w3 = w2 + channels;
  const float *w4 = w3 + channels, *w5 = w4 + channels, *w6 = w5 + channels, *w7 = w6 + channels;
  const float *w8 = w7 + channels;
  for (size_t p = 0; p < pixels; p++, out += channels) {
    const float **in = pixel_stride ? input : input + p * 9;
    const size_t offset = pixel_stride * p;
    const float *i0 = in[0] + offset, *i1 = in[1] + offset, *i2 = in[2] + offset, *i3 = in[3] + offset;
    const float *i4 = in[4] + offset, *i5 = in[5] + offset, *i6 = in[6] + offset, *i7 = in[7] + offset;
    const float *i8 = in[8] + offset;
    for (size_t c = 0; c < channels; c++) {
      float acc = w[c];
      acc += i0[c] * w0[c]; acc += i1[c] * w1[c]; acc += i2[c] * w2[c];
      acc += i3[c] * w3[c]; acc += i4[c] * w4[c]; acc += i5[c] * w5[c];
      acc += i6[c] * w6[c]; acc += i7[c] * w7[c]; acc += i8[c] * w8[c];
      out[c] = el_clamp(acc, lo, hi);
    }
  }
}
