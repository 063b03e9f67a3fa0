/* f32-raddstoreexp-avx2: el_exp8_all on 8 lanes (libm expf above its range), eight partial
 * sums added at the end (see el_raddstoreexp_fn). */
#include <math.h>

#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

/* y[0..count) = exp(t) for the lanes of t; returns them (lanes past count zero). */
EL_AVX2 static inline __m256 exp_store(__m256 t, float *y, size_t count) {
  __m256 e = el_exp8_all(t);
  if (el_exp8_fast_lanes(t) != 0xff) {
    float lanes[8], values[8];
    _mm256_storeu_ps(lanes, t);
    _mm256_storeu_ps(values, e);
    for (int l = 0; l < 8; l++)
      if (lanes[l] > EL_EXP8_MAX) values[l] = expf(lanes[l]);
    e = _mm256_loadu_ps(values);
  }
  if (count == 8) {
    _mm256_storeu_ps(y, e);
    return e;
  }
  const __m256i mask = el_mask8(count);
  _mm256_maskstore_ps(y, mask, e);
  return _mm256_and_ps(e, _mm256_castsi256_ps(mask));
}

EL_AVX2 float el_f32_raddstoreexp_avx2(size_t n, const float *x, float max, float beta, float *y) {
  const __m256 vmax = _mm256_set1_ps(max), vbeta = _mm256_set1_ps(beta);
  __m256 sum = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    sum = _mm256_add_ps(sum, exp_store(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax), vbeta), y + i, 8));
  if (i < n) {
    const __m256 v = _mm256_maskload_ps(x + i, el_mask8(n - i));
    sum = _mm256_add_ps(sum, exp_store(_mm256_mul_ps(_mm256_sub_ps(v, vmax), vbeta), y + i, n - i));
  }
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  return _mm_cvtss_f32(half);
}
#endif
