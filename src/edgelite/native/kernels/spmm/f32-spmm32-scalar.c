/* f32-spmm32-scalar: block-CSR weights times a transposed tile of 32 pixels (see el_spmm_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_spmm32_scalar(size_t mr, size_t nc, size_t block, const float *xt, const int32_t *row_ptr,
                          const int32_t *cols, const float *values, const float *bias, float *y, size_t y_stride,
                          float lo, float hi) {
  for (size_t n = 0; n < nc; n++) {
    float acc[EL_SPMM_MT];
    for (size_t i = 0; i < EL_SPMM_MT; i++) acc[i] = bias[n];
    for (int32_t j = row_ptr[n]; j < row_ptr[n + 1]; j++) {
      const float *w = values + (size_t)j * block, *x = xt + (size_t)cols[j] * EL_SPMM_MT;
      for (size_t b = 0; b < block; b++, x += EL_SPMM_MT)
        for (size_t i = 0; i < EL_SPMM_MT; i++) acc[i] += w[b] * x[i];
    }
    for (size_t i = 0; i < mr; i++) y[i * y_stride + n] = el_clamp(acc[i], lo, hi);
  }
}
