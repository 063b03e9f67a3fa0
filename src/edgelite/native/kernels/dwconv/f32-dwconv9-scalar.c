/* f32-dwconv9-scalar: the 3x3 case with the nine taps unrolled (see el_dwconv_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_dwconv9_scalar(size_t taps, size_t channels, size_t pixels, const float **input,
                           const float *w, float *out, float lo, float hi) {
  (void)taps;
  const float *w0 = w + channels, *w1 = w0 + channels, *w2 = w1 + channels, *w3 = w2 + channels;
  const float *w4 = w3 + channels, *w5 = w4 + channels, *w6 = w5 + channels, *w7 = w6 + channels;
  const float *w8 = w7 + channels;
  for (size_t p = 0; p < pixels; p++, input += 9, out += channels) {
    const float *i0 = input[0], *i1 = input[1], *i2 = input[2], *i3 = input[3], *i4 = input[4];
    const float *i5 = input[5], *i6 = input[6], *i7 = input[7], *i8 = input[8];
    for (size_t c = 0; c < channels; c++) {
      float acc = w[c];
      acc += i0[c] * w0[c]; acc += i1[c] * w1[c]; acc += i2[c] * w2[c];
      acc += i3[c] * w3[c]; acc += i4[c] * w4[c]; acc += i5[c] * w5[c];
      acc += i6[c] * w6[c]; acc += i7[c] * w7[c]; acc += i8[c] * w8[c];
      out[c] = el_clamp(acc, lo, hi);
    }
  }
}
