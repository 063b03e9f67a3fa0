/* f32-scopy-scalar: y[i] = x[i * stride] for i < n (see el_scopy_fn). */
#include <string.h>

#include "../../include/el_kernels.h"

void el_f32_scopy_scalar(size_t n, const float *x, ptrdiff_t stride, float *y) {
  if (stride == 1) {
    memcpy(y, x, n * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n; i++) y[i] = x[(ptrdiff_t)i * stride];
}
