/* qs8-pack16-avx2: 16 int8 sign-extended and offset per step, a scalar tail (see el_qpack_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 void el_qs8_pack16_avx2(size_t n, const int8_t *x, int32_t zero_point, int16_t *y) {
  const __m256i zp = _mm256_set1_epi16((int16_t)zero_point);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
    _mm256_storeu_si256((__m256i *)(y + i), _mm256_sub_epi16(v, zp));
  }
  for (; i < n; i++) y[i] = (int16_t)(x[i] - zero_point);
}
#endif
