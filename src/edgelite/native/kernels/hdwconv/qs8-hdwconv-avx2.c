/* qs8-hdwconv-avx2: a hybrid depthwise output pixel 8 channels per step (int16 inputs and weights
 * widened to int32, exact products and sums), the float epilogue in both of the reference's
 * orders blended by channel; the last channels % 8 as the scalar kernel. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline __m256i load8(const int16_t *p) {
  return _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)p));
}

EL_AVX2 void el_qs8_hdwconv_avx2(size_t taps, size_t channels, const int16_t **input, const int16_t *w,
                                 size_t w_stride, const float *scale, const float *bias, float in_scale,
                                 size_t blocked, float *out, float lo, float hi) {
  const __m256 vis = _mm256_set1_ps(in_scale), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), vblocked = _mm256_set1_epi32((int32_t)blocked);
  size_t c = 0;
  for (; c + 8 <= channels; c += 8) {
    __m256i acc = _mm256_setzero_si256();
    for (size_t t = 0; t < taps; t++)
      if (input[t] != NULL) acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(load8(input[t] + c), load8(w + t * w_stride + c)));
    const __m256 a = _mm256_cvtepi32_ps(acc), ws = _mm256_loadu_ps(scale + c);
    const __m256 first = _mm256_mul_ps(_mm256_mul_ps(a, ws), vis), second = _mm256_mul_ps(_mm256_mul_ps(a, vis), ws);
    const __m256i inside = _mm256_cmpgt_epi32(vblocked, _mm256_add_epi32(lane, _mm256_set1_epi32((int32_t)c)));
    __m256 v = _mm256_blendv_ps(second, first, _mm256_castsi256_ps(inside));
    v = _mm256_add_ps(v, _mm256_loadu_ps(bias + c));
    _mm256_storeu_ps(out + c, _mm256_min_ps(vhi, _mm256_max_ps(vlo, v)));
  }
  for (; c < channels; c++) {
    uint32_t acc = 0;
    for (size_t t = 0; t < taps; t++)
      if (input[t] != NULL) acc += (uint32_t)((int32_t)input[t][c] * w[t * w_stride + c]);
    out[c] = el_hdw_out((int32_t)acc, scale[c], bias[c], in_scale, c < blocked, lo, hi);
  }
}
#endif
