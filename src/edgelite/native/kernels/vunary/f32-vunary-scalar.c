/* f32-vunary-scalar: CLAMP, HSWISH, SIGMOID (see el_vunary_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_vunary_scalar(int op, size_t n, const float *x, float *y, float lo, float hi) {
  switch (op) {
    case EL_UN_CLAMP:
      for (size_t i = 0; i < n; i++) y[i] = el_clamp(x[i], lo, hi);
      break;
    case EL_UN_HSWISH:
      for (size_t i = 0; i < n; i++) y[i] = el_hswish(x[i], i >= n - n % 4);
      break;
    default:
      for (size_t i = 0; i < n; i++) y[i] = el_sigmoid(x[i]);
      break;
  }
}
