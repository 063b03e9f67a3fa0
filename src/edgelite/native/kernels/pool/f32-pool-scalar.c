/* f32-pool-scalar: see el_pool_fn. */
#include <math.h>

#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_pool_scalar(int op, size_t taps, size_t channels, const float **input, float *out, int first,
                        int last, float scale, float lo, float hi) {
  for (size_t c = 0; c < channels; c++) {
    float acc = first ? (op == EL_POOL_MAX ? -INFINITY : 0.0f) : out[c];
    if (op == EL_POOL_MAX)
      for (size_t t = 0; t < taps; t++) acc = input[t][c] > acc ? input[t][c] : acc;
    else
      for (size_t t = 0; t < taps; t++) acc += input[t][c];
    out[c] = last ? el_clamp(op == EL_POOL_MAX ? acc : acc * scale, lo, hi) : acc;
  }
}
