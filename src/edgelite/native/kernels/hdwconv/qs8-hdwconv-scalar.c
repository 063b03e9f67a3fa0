/* qs8-hdwconv-scalar: a hybrid depthwise output pixel one channel at a time (see el_hdwconv_fn). */
#include "../../include/el_kernels.h"

void el_qs8_hdwconv_scalar(size_t taps, size_t channels, const int16_t **input, const int16_t *w, size_t w_stride,
                           const float *scale, const float *bias, float in_scale, size_t blocked, float *out,
                           float lo, float hi) {
  for (size_t c = 0; c < channels; c++) {
    uint32_t acc = 0; /* unsigned: wraps like the reference's int32 */
    for (size_t t = 0; t < taps; t++)
      if (input[t] != NULL) acc += (uint32_t)((int32_t)input[t][c] * w[t * w_stride + c]);
    out[c] = el_hdw_out((int32_t)acc, scale[c], bias[c], in_scale, c < blocked, lo, hi);
  }
}
