/* f32-raddstoreexp-scalar: libm expf, summed in order (see el_raddstoreexp_fn). */
#include <math.h>

#include "../../include/el_kernels.h"

float el_f32_raddstoreexp_scalar(size_t n, const float *x, float max, float beta, float *y) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) sum += y[i] = expf((x[i] - max) * beta);
  return sum;
}
