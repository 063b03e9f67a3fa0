/* f32-qs8cvt-scalar: QUANTIZE float32 -> int8 one value at a time (see el_qvcvt_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

void el_f32_qs8cvt_scalar(size_t n, const float *x, int8_t *y, float inv_scale, float scale, int32_t zero_point,
                          int vector) {
  if (vector)
    for (size_t i = 0; i < n; i++) y[i] = el_quantize_vector(x[i], inv_scale, zero_point);
  else
    for (size_t i = 0; i < n; i++) y[i] = el_quantize_tail(x[i], scale, zero_point);
}
