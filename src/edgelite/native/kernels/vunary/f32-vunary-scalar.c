/* f32-vunary-scalar: CLAMP, HSWISH, SIGMOID, TANH, GELU (erfc and tanh forms), LEAKY (see
 * el_vunary_fn). GELU and GELU_TANH follow the reference's float32 steps, with libm's erfc (in
 * double, as the reference's math.erfc) and tanhf. */
#include <math.h>

#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

static float gelu(float x) {
  const float erfc_value = (float)erfc((double)(x * -0.70710677f));
  return 0.5f * x * erfc_value;
}

static float gelu_tanh(float x) {
  const float inner = 0.7978846f * (x + 0.044715f * (x * x * x));
  return 0.5f * x * (1.0f + tanhf(inner));
}

void el_f32_vunary_scalar(int op, size_t n, const float *x, float *y, float lo, float hi) {
  switch (op) {
    case EL_UN_CLAMP:
      for (size_t i = 0; i < n; i++) y[i] = el_clamp(x[i], lo, hi);
      break;
    case EL_UN_HSWISH:
      for (size_t i = 0; i < n; i++) y[i] = el_hswish(x[i], i >= n - n % 4);
      break;
    case EL_UN_TANH:
      for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
      break;
    case EL_UN_GELU:
      for (size_t i = 0; i < n; i++) y[i] = gelu(x[i]);
      break;
    case EL_UN_GELU_TANH:
      for (size_t i = 0; i < n; i++) y[i] = gelu_tanh(x[i]);
      break;
    case EL_UN_LEAKY:
      for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : x[i] * lo;
      break;
    default:
      for (size_t i = 0; i < n; i++) y[i] = el_sigmoid(x[i]);
      break;
  }
}
