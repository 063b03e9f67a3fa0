/* f32-spmv-scalar: block-CSR weights times a few contiguous rows, one dot product per output
 * (see el_spmv_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_spmv_scalar(size_t mr, size_t nc, size_t block, const float *x, size_t x_stride,
                        const int32_t *row_ptr, const int32_t *cols, const float *values, const float *bias,
                        float *y, size_t y_stride, float lo, float hi) {
  for (size_t m = 0; m < mr; m++, x += x_stride, y += y_stride)
    for (size_t n = 0; n < nc; n++) {
      float acc = bias[n];
      for (int32_t j = row_ptr[n]; j < row_ptr[n + 1]; j++) {
        const float *w = values + (size_t)j * block, *xs = x + cols[j];
        for (size_t b = 0; b < block; b++) acc += w[b] * xs[b];
      }
      y[n] = el_clamp(acc, lo, hi);
    }
}
