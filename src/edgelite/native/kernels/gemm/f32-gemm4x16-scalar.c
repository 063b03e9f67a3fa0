/* f32-gemm4x16-scalar: portable 4x16 register tile (see el_gemm_fn). */
#include <string.h>

#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_gemm4x16_scalar(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
                            const float *w, float *c, size_t c_stride, float lo, float hi) {
  const float *rows[4];
  for (size_t r = 0; r < 4; r++) rows[r] = a + (r < mr ? r : mr - 1) * a_stride;
  for (size_t n0 = 0; n0 < nc; n0 += EL_GEMM_NR) {
    float acc[4][EL_GEMM_NR];
    for (size_t r = 0; r < 4; r++) memcpy(acc[r], w, sizeof(acc[r]));
    const float *wk = w + EL_GEMM_NR;
    for (size_t k = 0; k < kc; k++, wk += EL_GEMM_NR) {
      for (size_t r = 0; r < 4; r++) {
        const float av = rows[r][k];
        for (size_t j = 0; j < EL_GEMM_NR; j++) acc[r][j] += av * wk[j];
      }
    }
    w = wk;
    const size_t width = nc - n0 < EL_GEMM_NR ? nc - n0 : EL_GEMM_NR;
    for (size_t r = 0; r < mr; r++) {
      float *out = c + r * c_stride + n0;
      for (size_t j = 0; j < width; j++) out[j] = el_clamp(acc[r][j], lo, hi);
    }
  }
}
