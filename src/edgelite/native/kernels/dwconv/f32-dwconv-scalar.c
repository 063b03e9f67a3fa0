/* f32-dwconv-scalar: any number of taps (see el_dwconv_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_dwconv_scalar(size_t taps, size_t channels, size_t pixels, const float **input, size_t pixel_stride,
                          const float *w, float *out, float lo, float hi) {
  for (size_t p = 0; p < pixels; p++, out += channels) {
    const float **in = pixel_stride ? input : input + p * taps;
    const size_t offset = pixel_stride * p;
    for (size_t c = 0; c < channels; c++) {
      float acc = w[c];
      for (size_t t = 0; t < taps; t++) acc += in[t][offset + c] * w[(1 + t) * channels + c];
      out[c] = el_clamp(acc, lo, hi);
    }
  }
}
