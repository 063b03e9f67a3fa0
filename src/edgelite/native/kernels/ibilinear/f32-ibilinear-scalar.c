/* f32-ibilinear-scalar: see el_ibilinear_fn (products and sums in the reference's order). */
#include "../../include/el_kernels.h"

void el_f32_ibilinear_scalar(size_t channels, const float *t0, const float *t1, const float *b0,
                             const float *b1, float dy, float dx, float *out) {
  const float uy = 1.0f - dy, ux = 1.0f - dx;
  for (size_t c = 0; c < channels; c++)
    out[c] = t0[c] * uy * ux + b0[c] * dy * ux + t1[c] * uy * dx + b1[c] * dy * dx;
}
