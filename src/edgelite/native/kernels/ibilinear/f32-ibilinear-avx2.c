/* f32-ibilinear-avx2: 8 channels per ymm, masked tail; no FMA, so every product and sum rounds as
 * in the scalar kernel and the numpy reference. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline __m256 blend4(__m256 t0, __m256 t1, __m256 b0, __m256 b1, __m256 uy, __m256 ux,
                                   __m256 dy, __m256 dx) {
  __m256 v = _mm256_mul_ps(_mm256_mul_ps(t0, uy), ux);
  v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(b0, dy), ux));
  v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(t1, uy), dx));
  return _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(b1, dy), dx));
}

EL_AVX2 void el_f32_ibilinear_avx2(size_t channels, const float *t0, const float *t1, const float *b0,
                                   const float *b1, float dy, float dx, float *out) {
  const __m256 vdy = _mm256_set1_ps(dy), vdx = _mm256_set1_ps(dx);
  const __m256 vuy = _mm256_set1_ps(1.0f - dy), vux = _mm256_set1_ps(1.0f - dx);
  size_t c = 0;
  for (; c + 8 <= channels; c += 8)
    _mm256_storeu_ps(out + c, blend4(_mm256_loadu_ps(t0 + c), _mm256_loadu_ps(t1 + c), _mm256_loadu_ps(b0 + c),
                                     _mm256_loadu_ps(b1 + c), vuy, vux, vdy, vdx));
  if (c < channels) {
    const __m256i mask = el_mask8(channels - c);
    _mm256_maskstore_ps(out + c, mask,
                        blend4(_mm256_maskload_ps(t0 + c, mask), _mm256_maskload_ps(t1 + c, mask),
                               _mm256_maskload_ps(b0 + c, mask), _mm256_maskload_ps(b1 + c, mask), vuy, vux,
                               vdy, vdx));
  }
}
#endif
