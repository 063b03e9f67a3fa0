/* f32-gemm6x16-avx2: 6 rows x 16 columns in 12 ymm accumulators with FMA (see el_gemm_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline void store16(float *out, size_t width, __m256 v0, __m256 v1) {
  if (width == 16) {
    _mm256_storeu_ps(out, v0);
    _mm256_storeu_ps(out + 8, v1);
    return;
  }
  if (width >= 8) {
    _mm256_storeu_ps(out, v0);
    v0 = v1;
    out += 8;
    width -= 8;
  }
  if (width) {
    __m256i mask = el_mask8(width);
    _mm256_maskstore_ps(out, mask, v0);
  }
}

EL_AVX2 void el_f32_gemm6x16_avx2(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
                                  const float *w, float *c, size_t c_stride, float lo, float hi) {
  const float *a0 = a, *a1 = mr > 1 ? a0 + a_stride : a0, *a2 = mr > 2 ? a1 + a_stride : a1;
  const float *a3 = mr > 3 ? a2 + a_stride : a2, *a4 = mr > 4 ? a3 + a_stride : a3;
  const float *a5 = mr > 5 ? a4 + a_stride : a4;
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  for (size_t n0 = 0; n0 < nc; n0 += EL_GEMM_NR) {
    __m256 c00 = _mm256_loadu_ps(w), c01 = _mm256_loadu_ps(w + 8);
    __m256 c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    __m256 c40 = c00, c41 = c01, c50 = c00, c51 = c01;
    w += EL_GEMM_NR;
    for (size_t k = 0; k < kc; k++, w += EL_GEMM_NR) {
      const __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8);
      __m256 v = _mm256_broadcast_ss(a0 + k);
      c00 = _mm256_fmadd_ps(v, b0, c00); c01 = _mm256_fmadd_ps(v, b1, c01);
      v = _mm256_broadcast_ss(a1 + k);
      c10 = _mm256_fmadd_ps(v, b0, c10); c11 = _mm256_fmadd_ps(v, b1, c11);
      v = _mm256_broadcast_ss(a2 + k);
      c20 = _mm256_fmadd_ps(v, b0, c20); c21 = _mm256_fmadd_ps(v, b1, c21);
      v = _mm256_broadcast_ss(a3 + k);
      c30 = _mm256_fmadd_ps(v, b0, c30); c31 = _mm256_fmadd_ps(v, b1, c31);
      v = _mm256_broadcast_ss(a4 + k);
      c40 = _mm256_fmadd_ps(v, b0, c40); c41 = _mm256_fmadd_ps(v, b1, c41);
      v = _mm256_broadcast_ss(a5 + k);
      c50 = _mm256_fmadd_ps(v, b0, c50); c51 = _mm256_fmadd_ps(v, b1, c51);
    }
    const size_t width = nc - n0 < EL_GEMM_NR ? nc - n0 : EL_GEMM_NR;
    float *out = c + n0;
    /* Rows past mr alias row mr-1 and hold the same values: store the high rows first. */
    if (mr > 5) store16(out + 5 * c_stride, width, el_clamp8(c50, vlo, vhi), el_clamp8(c51, vlo, vhi));
    if (mr > 4) store16(out + 4 * c_stride, width, el_clamp8(c40, vlo, vhi), el_clamp8(c41, vlo, vhi));
    if (mr > 3) store16(out + 3 * c_stride, width, el_clamp8(c30, vlo, vhi), el_clamp8(c31, vlo, vhi));
    if (mr > 2) store16(out + 2 * c_stride, width, el_clamp8(c20, vlo, vhi), el_clamp8(c21, vlo, vhi));
    if (mr > 1) store16(out + c_stride, width, el_clamp8(c10, vlo, vhi), el_clamp8(c11, vlo, vhi));
    store16(out, width, el_clamp8(c00, vlo, vhi), el_clamp8(c01, vlo, vhi));
  }
}
#endif
