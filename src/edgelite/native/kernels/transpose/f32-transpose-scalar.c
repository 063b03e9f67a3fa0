/* f32-transpose-scalar: y[c * y_stride + r] = x[r * x_stride + c] in 8 x 8 blocks (cache-friendly
 * on both sides). */
#include "../../include/el_kernels.h"

#define EL_BLOCK 8

void el_f32_transpose_scalar(size_t rows, size_t cols, const float *x, size_t x_stride, float *y, size_t y_stride) {
  for (size_t r0 = 0; r0 < rows; r0 += EL_BLOCK)
    for (size_t c0 = 0; c0 < cols; c0 += EL_BLOCK) {
      const size_t r1 = r0 + EL_BLOCK < rows ? r0 + EL_BLOCK : rows, c1 = c0 + EL_BLOCK < cols ? c0 + EL_BLOCK : cols;
      for (size_t c = c0; c < c1; c++)
        for (size_t r = r0; r < r1; r++) y[c * y_stride + r] = x[r * x_stride + c];
    }
}
