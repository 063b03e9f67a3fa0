/* f32-gemm6x16-neon: 6 rows x 16 columns in 24 q-register accumulators with FMA (see el_gemm_fn);
 * 4 registers of weights and one broadcast input per step leave 2 of the 32 registers spare.
 * Named accumulators (no arrays) so that GCC keeps them all in registers. */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <string.h>

#include "../../include/el_neon.h"

static inline void store16(float *out, size_t width, float32x4_t v0, float32x4_t v1, float32x4_t v2,
                           float32x4_t v3, float32x4_t lo, float32x4_t hi) {
  v0 = el_nclamp4(v0, lo, hi), v1 = el_nclamp4(v1, lo, hi), v2 = el_nclamp4(v2, lo, hi), v3 = el_nclamp4(v3, lo, hi);
  if (width == 16) {
    vst1q_f32(out, v0);
    vst1q_f32(out + 4, v1);
    vst1q_f32(out + 8, v2);
    vst1q_f32(out + 12, v3);
    return;
  }
  float tmp[16];
  vst1q_f32(tmp, v0);
  vst1q_f32(tmp + 4, v1);
  vst1q_f32(tmp + 8, v2);
  vst1q_f32(tmp + 12, v3);
  memcpy(out, tmp, width * sizeof(float));
}

#define EL_ROW_FMA(r, p)                          \
  do {                                            \
    const float32x4_t v = vld1q_dup_f32(p);       \
    c##r##0 = vfmaq_f32(c##r##0, v, b0);          \
    c##r##1 = vfmaq_f32(c##r##1, v, b1);          \
    c##r##2 = vfmaq_f32(c##r##2, v, b2);          \
    c##r##3 = vfmaq_f32(c##r##3, v, b3);          \
  } while (0)

void el_f32_gemm6x16_neon(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
                          const float *w, float *c, size_t c_stride, float lo, float hi) {
  const float *a0 = a, *a1 = mr > 1 ? a0 + a_stride : a0, *a2 = mr > 2 ? a1 + a_stride : a1;
  const float *a3 = mr > 3 ? a2 + a_stride : a2, *a4 = mr > 4 ? a3 + a_stride : a3;
  const float *a5 = mr > 5 ? a4 + a_stride : a4;
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (size_t n0 = 0; n0 < nc; n0 += EL_GEMM_NR) {
    float32x4_t c00 = vld1q_f32(w), c01 = vld1q_f32(w + 4), c02 = vld1q_f32(w + 8), c03 = vld1q_f32(w + 12);
    float32x4_t c10 = c00, c11 = c01, c12 = c02, c13 = c03, c20 = c00, c21 = c01, c22 = c02, c23 = c03;
    float32x4_t c30 = c00, c31 = c01, c32 = c02, c33 = c03, c40 = c00, c41 = c01, c42 = c02, c43 = c03;
    float32x4_t c50 = c00, c51 = c01, c52 = c02, c53 = c03;
    w += EL_GEMM_NR;
    for (size_t k = 0; k < kc; k++, w += EL_GEMM_NR) {
      const float32x4_t b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4), b2 = vld1q_f32(w + 8), b3 = vld1q_f32(w + 12);
      EL_ROW_FMA(0, a0 + k);
      EL_ROW_FMA(1, a1 + k);
      EL_ROW_FMA(2, a2 + k);
      EL_ROW_FMA(3, a3 + k);
      EL_ROW_FMA(4, a4 + k);
      EL_ROW_FMA(5, a5 + k);
    }
    const size_t width = nc - n0 < EL_GEMM_NR ? nc - n0 : EL_GEMM_NR;
    float *out = c + n0;
    store16(out, width, c00, c01, c02, c03, vlo, vhi);
    if (mr > 1) store16(out + c_stride, width, c10, c11, c12, c13, vlo, vhi);
    if (mr > 2) store16(out + 2 * c_stride, width, c20, c21, c22, c23, vlo, vhi);
    if (mr > 3) store16(out + 3 * c_stride, width, c30, c31, c32, c33, vlo, vhi);
    if (mr > 4) store16(out + 4 * c_stride, width, c40, c41, c42, c43, vlo, vhi);
    if (mr > 5) store16(out + 5 * c_stride, width, c50, c51, c52, c53, vlo, vhi);
  }
}
#endif
