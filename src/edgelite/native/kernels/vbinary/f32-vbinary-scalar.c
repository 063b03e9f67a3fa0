/* f32-vbinary-scalar: ADD/SUB/MUL/PRELU/DIV/MAXIMUM/MINIMUM with a fused clamp (see el_vbinary_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_vbinary_scalar(int op, size_t n, const float *a, size_t sa, const float *b, size_t sb,
                           float *y, float lo, float hi) {
  switch (op) {
    case EL_BIN_ADD:
      for (size_t i = 0; i < n; i++) y[i] = el_clamp(a[i * sa] + b[i * sb], lo, hi);
      break;
    case EL_BIN_SUB:
      for (size_t i = 0; i < n; i++) y[i] = el_clamp(a[i * sa] - b[i * sb], lo, hi);
      break;
    case EL_BIN_PRELU:
      for (size_t i = 0; i < n; i++) {
        const float v = a[i * sa];
        y[i] = el_clamp(v >= 0.0f ? v : v * b[i * sb], lo, hi);
      }
      break;
    case EL_BIN_DIV:
      for (size_t i = 0; i < n; i++) y[i] = el_clamp(a[i * sa] / b[i * sb], lo, hi);
      break;
    case EL_BIN_MAX:
      for (size_t i = 0; i < n; i++) {
        const float u = a[i * sa], v = b[i * sb];
        y[i] = el_clamp(u > v ? u : v, lo, hi);
      }
      break;
    case EL_BIN_MIN:
      for (size_t i = 0; i < n; i++) {
        const float u = a[i * sa], v = b[i * sb];
        y[i] = el_clamp(u < v ? u : v, lo, hi);
      }
      break;
    default:
      for (size_t i = 0; i < n; i++) y[i] = el_clamp(a[i * sa] * b[i * sb], lo, hi);
      break;
  }
}
