/* f32-conv6x16-avx2: 6 rows x 16 columns in 12 ymm accumulators over strided window rows (see
 * el_conv_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 void el_f32_conv6x16_avx2(size_t mr, size_t nc, size_t segments, size_t seg_len, const float *const *seg,
                                  size_t a_stride, const float *w, float *c, size_t c_stride, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const size_t kc = segments * seg_len;
  const size_t s1 = mr > 1 ? a_stride : 0, s2 = mr > 2 ? 2 * a_stride : s1, s3 = mr > 3 ? 3 * a_stride : s2;
  const size_t s4 = mr > 4 ? 4 * a_stride : s3, s5 = mr > 5 ? 5 * a_stride : s4;
  for (size_t n0 = 0; n0 < nc; n0 += EL_GEMM_NR) {
    __m256 acc[6][2];
    acc[0][0] = _mm256_loadu_ps(w), acc[0][1] = _mm256_loadu_ps(w + 8);
    for (int r = 1; r < 6; r++) acc[r][0] = acc[0][0], acc[r][1] = acc[0][1];
    w += EL_GEMM_NR;
    for (size_t j = 0; j < segments; j++) {
      const float *a = seg[j];
      for (size_t i = 0; i < seg_len; i++, w += EL_GEMM_NR) {
        const __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8);
        const size_t off[6] = {i, s1 + i, s2 + i, s3 + i, s4 + i, s5 + i};
        for (int r = 0; r < 6; r++) {
          const __m256 v = _mm256_broadcast_ss(a + off[r]);
          acc[r][0] = _mm256_fmadd_ps(v, b0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(v, b1, acc[r][1]);
        }
      }
    }
    (void)kc;
    const size_t width = nc - n0 < EL_GEMM_NR ? nc - n0 : EL_GEMM_NR;
    for (size_t r = 0; r < mr; r++) {
      float *out = c + r * c_stride + n0;
      __m256 v0 = el_clamp8(acc[r][0], vlo, vhi), v1 = el_clamp8(acc[r][1], vlo, vhi);
      size_t left = width;
      if (left >= 8) {
        _mm256_storeu_ps(out, v0);
        v0 = v1, out += 8, left -= 8;
      }
      if (left == 8) _mm256_storeu_ps(out, v0);
      else if (left) _mm256_maskstore_ps(out, el_mask8(left), v0);
    }
  }
}
#endif
