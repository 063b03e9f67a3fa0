/* qs8-pool-scalar: see el_qpool_fn. */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

void el_qs8_pool_scalar(int op, size_t taps, size_t channels, const int8_t **input, int32_t *acc, int8_t *out,
                        int first, int last, int32_t count, int32_t lo, int32_t hi) {
  for (size_t c = 0; c < channels; c++) {
    int32_t v = first ? (op == 0 ? -128 : 0) : acc[c];
    if (op == 0)
      for (size_t t = 0; t < taps; t++) v = input[t][c] > v ? input[t][c] : v;
    else
      for (size_t t = 0; t < taps; t++) v += input[t][c];
    if (!last) {
      acc[c] = v;
      continue;
    }
    if (op == 1) v = el_qavg_round(v, count);
    out[c] = (int8_t)el_clamp32(v, lo, hi);
  }
}
