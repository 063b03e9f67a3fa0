/* f32-qs8cvt-avx2: 16 floats per step: multiply, vcvtps2dq (half to even under the default
 * MXCSR; out of range and NaN give INT32_MIN, as the reference), add the zero point (wrapping),
 * clamp and pack; the rest and the scalar tail as f32-qs8cvt-scalar (see el_qvcvt_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_qavx2.h"
#include "../../include/el_quant.h"

EL_AVX2 static inline __m256i convert8(const float *x, __m256 inv, __m256i zp, __m256i lo, __m256i hi) {
  const __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), inv)), zp);
  return _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
}

EL_AVX2 void el_f32_qs8cvt_avx2(size_t n, const float *x, int8_t *y, float inv_scale, float scale,
                                int32_t zero_point, int vector) {
  size_t i = 0;
  if (vector) {
    const __m256 inv = _mm256_set1_ps(inv_scale);
    const __m256i zp = _mm256_set1_epi32(zero_point), lo = _mm256_set1_epi32(-128), hi = _mm256_set1_epi32(127);
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128((__m128i *)(y + i), el_pack16_i8(convert8(x + i, inv, zp, lo, hi),
                                                        convert8(x + i + 8, inv, zp, lo, hi)));
    for (; i < n; i++) y[i] = el_quantize_vector(x[i], inv_scale, zero_point);
    return;
  }
  for (; i < n; i++) y[i] = el_quantize_tail(x[i], scale, zero_point);
}
#endif
