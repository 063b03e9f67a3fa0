/* qs8-pool-avx2: 8 channels per step in int32 lanes; the average's rounded division in float32,
 * exact for the validated window sizes (|sum| < 2^24: a quotient that is not an integer is at
 * least 1/count away from one). See el_qpool_fn. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"
#include "../../include/el_quant.h"

EL_AVX2 void el_qs8_pool_avx2(int op, size_t taps, size_t channels, const int8_t **input, int32_t *acc,
                              int8_t *out, int first, int last, int32_t count, int32_t lo, int32_t hi) {
  const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi), half = _mm256_set1_epi32(count / 2);
  const __m256 divisor = _mm256_set1_ps((float)count);
  size_t c = 0;
  for (; c + 8 <= channels; c += 8) {
    __m256i v = first ? _mm256_set1_epi32(op == 0 ? -128 : 0) : _mm256_loadu_si256((const __m256i *)(acc + c));
    for (size_t t = 0; t < taps; t++) {
      const __m256i x = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(input[t] + c)));
      v = op == 0 ? _mm256_max_epi32(v, x) : _mm256_add_epi32(v, x);
    }
    if (!last) {
      _mm256_storeu_si256((__m256i *)(acc + c), v);
      continue;
    }
    if (op == 1) { /* sign(v) * trunc((|v| + count / 2) / count) */
      const __m256 magnitude = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_abs_epi32(v), half));
      v = _mm256_sign_epi32(_mm256_cvttps_epi32(_mm256_div_ps(magnitude, divisor)), v);
    }
    v = _mm256_min_epi32(_mm256_max_epi32(v, vlo), vhi);
    const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)(void *)(out + c), _mm_packs_epi16(p16, p16));
  }
  if (c < channels) {
    const int8_t *rest[EL_QPOOL_TAPS];
    for (size_t t = 0; t < taps; t++) rest[t] = input[t] + c;
    el_qs8_pool_scalar(op, taps, channels - c, rest, acc + c, out + c, first, last, count, lo, hi);
  }
}
#endif
