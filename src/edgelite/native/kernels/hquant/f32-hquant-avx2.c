/* f32-hquant-avx2: a hybrid input region quantized 16 values per step (see el_hquant_fn): vector
 * min/max, x * inv rounded half away from zero exactly (truncate, then step by the fraction's
 * sign when |fraction| >= 0.5), zero point, clamp, int16 narrowing. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline __m256i quantize8(__m256 v, __m256 inv, __m256i zp, __m256i qmin) {
  const __m256 limit = _mm256_set1_ps(1048576.0f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v, inv), _mm256_sub_ps(_mm256_setzero_ps(), limit)), limit);
  const __m256 whole = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), frac = _mm256_sub_ps(v, whole);
  const __m256 up = _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), one);
  const __m256 down = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_sub_ps(_mm256_setzero_ps(), half), _CMP_LE_OQ), one);
  const __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(_mm256_sub_ps(_mm256_add_ps(whole, up), down)), zp);
  return _mm256_sub_epi32(_mm256_min_epi32(_mm256_max_epi32(q, qmin), _mm256_set1_epi32(127)), zp);
}

EL_AVX2 static inline float reduce(__m256 v, int max) {
  __m128 h = max ? _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))
                 : _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = max ? _mm_max_ps(h, _mm_movehl_ps(h, h)) : _mm_min_ps(h, _mm_movehl_ps(h, h));
  h = max ? _mm_max_ss(h, _mm_shuffle_ps(h, h, 1)) : _mm_min_ss(h, _mm_shuffle_ps(h, h, 1));
  return _mm_cvtss_f32(h);
}

EL_AVX2 float el_f32_hquant_avx2(size_t n, const float *x, int mode, int16_t *out) {
  float lo = x[0], hi = x[0];
  size_t i = 0;
  if (n >= 8) {
    __m256 vlo = _mm256_loadu_ps(x), vhi = vlo;
    for (i = 8; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      vlo = _mm256_min_ps(vlo, v);
      vhi = _mm256_max_ps(vhi, v);
    }
    lo = reduce(vlo, 0);
    hi = reduce(vhi, 1);
  }
  for (; i < n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  float inv;
  int32_t zero_point, qmin;
  const float scale = el_hquant_params(lo, hi, mode, &inv, &zero_point, &qmin);
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256i zp = _mm256_set1_epi32(zero_point), vqmin = _mm256_set1_epi32(qmin);
  for (i = 0; i + 16 <= n; i += 16) {
    const __m256i a = quantize8(_mm256_loadu_ps(x + i), vinv, zp, vqmin);
    const __m256i b = quantize8(_mm256_loadu_ps(x + i + 8), vinv, zp, vqmin);
    _mm256_storeu_si256((__m256i *)(out + i), _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8));
  }
  for (; i < n; i++) {
    float one[8] = {x[i]};
    int32_t q[8];
    _mm256_storeu_si256((__m256i *)q, quantize8(_mm256_loadu_ps(one), vinv, zp, vqmin));
    out[i] = (int16_t)q[0];
  }
  return scale;
}
#endif
