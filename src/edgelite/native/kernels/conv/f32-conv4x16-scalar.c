/* f32-conv4x16-scalar: portable 4x16 register tile over strided window rows (see el_conv_fn). */
#include <string.h>

#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

void el_f32_conv4x16_scalar(size_t mr, size_t nc, size_t segments, size_t seg_len, const float *const *seg,
                            size_t a_stride, const float *w, float *c, size_t c_stride, float lo, float hi) {
  const size_t kc = segments * seg_len;
  for (size_t n0 = 0; n0 < nc; n0 += EL_GEMM_NR, w += (kc + 1) * EL_GEMM_NR) {
    float acc[4][EL_GEMM_NR];
    for (size_t r = 0; r < 4; r++) memcpy(acc[r], w, sizeof(acc[r]));
    const float *wk = w + EL_GEMM_NR;
    for (size_t j = 0; j < segments; j++)
      for (size_t i = 0; i < seg_len; i++, wk += EL_GEMM_NR)
        for (size_t r = 0; r < mr; r++) {
          const float av = seg[j][r * a_stride + i];
          for (size_t x = 0; x < EL_GEMM_NR; x++) acc[r][x] += av * wk[x];
        }
    const size_t width = nc - n0 < EL_GEMM_NR ? nc - n0 : EL_GEMM_NR;
    for (size_t r = 0; r < mr; r++) {
      float *out = c + r * c_stride + n0;
      for (size_t x = 0; x < width; x++) out[x] = el_clamp(acc[r][x], lo, hi);
    }
  }
}
