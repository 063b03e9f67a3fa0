/* f32-gemm6x16-neon: 6 rows x 16 columns in 24 q-register accumulators with FMA (see el_gemm_fn);
 * 4 registers of weights and one broadcast input per step leave 2 of the 32 registers spare. */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <string.h>

#include "../../include/el_neon.h"

static inline void store16(float *out, size_t width, const float32x4_t v[4]) {
  if (width == 16) {
    vst1q_f32(out, v[0]);
    vst1q_f32(out + 4, v[1]);
    vst1q_f32(out + 8, v[2]);
    vst1q_f32(out + 12, v[3]);
    return;
  }
  float tmp[16];
  for (int i = 0; i < 4; i++) vst1q_f32(tmp + 4 * i, v[i]);
  memcpy(out, tmp, width * sizeof(float));
}

void el_f32_gemm6x16_neon(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
                          const float *w, float *c, size_t c_stride, float lo, float hi) {
  const float *rows[6];
  for (size_t r = 0; r < 6; r++) rows[r] = a + (r < mr ? r : mr - 1) * a_stride;
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (size_t n0 = 0; n0 < nc; n0 += EL_GEMM_NR) {
    float32x4_t acc[6][4];
    for (int j = 0; j < 4; j++) acc[0][j] = vld1q_f32(w + 4 * j);
    for (int r = 1; r < 6; r++)
      for (int j = 0; j < 4; j++) acc[r][j] = acc[0][j];
    w += EL_GEMM_NR;
    for (size_t k = 0; k < kc; k++, w += EL_GEMM_NR) {
      const float32x4_t b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4), b2 = vld1q_f32(w + 8), b3 = vld1q_f32(w + 12);
      for (int r = 0; r < 6; r++) {
        const float32x4_t v = vld1q_dup_f32(rows[r] + k);
        acc[r][0] = vfmaq_f32(acc[r][0], v, b0);
        acc[r][1] = vfmaq_f32(acc[r][1], v, b1);
        acc[r][2] = vfmaq_f32(acc[r][2], v, b2);
        acc[r][3] = vfmaq_f32(acc[r][3], v, b3);
      }
    }
    const size_t width = nc - n0 < EL_GEMM_NR ? nc - n0 : EL_GEMM_NR;
    for (size_t r = 0; r < mr; r++) {
      for (int j = 0; j < 4; j++) acc[r][j] = el_nclamp4(acc[r][j], vlo, vhi);
      store16(c + r * c_stride + n0, width, acc[r]);
    }
  }
}
#endif
