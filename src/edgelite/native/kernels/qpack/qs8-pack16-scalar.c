/* qs8-pack16-scalar: y[i] = x[i] - zero_point as int16 (see el_qpack_fn). */
#include "../../include/el_kernels.h"

void el_qs8_pack16_scalar(size_t n, const int8_t *x, int32_t zero_point, int16_t *y) {
  for (size_t i = 0; i < n; i++) y[i] = (int16_t)(x[i] - zero_point);
}
