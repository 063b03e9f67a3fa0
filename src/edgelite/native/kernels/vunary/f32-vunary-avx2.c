/* f32-vunary-avx2: CLAMP, HSWISH and SIGMOID in 8 lanes. SIGMOID is the reference's formula
 * (e = exp(-|x|); x >= 0 ? 1 / (1 + e) : e / (1 + e)) with el_exp8_all, which covers every lane
 * (-|x| <= 0), subnormal results and NaN included. */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline __m256 hswish8(__m256 x) {
  /* t < 0 ? 0 : t, then t > 6 ? 6 : t: max/min with the constant first keeps NaN. */
  __m256 t = _mm256_add_ps(x, _mm256_set1_ps(3.0f));
  t = _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(_mm256_setzero_ps(), t));
  return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.0f / 6.0f)), t);
}

/* Lanes with -|x| < -87 take 1 or exp(-|x|) (1 + e rounds to 1), so no division sees a subnormal. */
EL_AVX2 static inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f), t = _mm256_or_ps(x, _mm256_set1_ps(-0.0f)); /* -|x| */
  const __m256 positive = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
  const __m256 e = el_exp8(el_exp8_clamp(t));
  const __m256 y = _mm256_div_ps(_mm256_blendv_ps(e, one, positive), _mm256_add_ps(one, e));
  const __m256 below = _mm256_cmp_ps(t, _mm256_set1_ps(EL_EXP8_MIN), _CMP_LT_OQ);
  if (!_mm256_movemask_ps(below)) return y;
  return _mm256_blendv_ps(y, _mm256_blendv_ps(el_exp8_below(t), one, positive), below);
}

EL_AVX2 static inline __m256 apply(int op, __m256 v, __m256 vlo, __m256 vhi) {
  return op == EL_UN_CLAMP ? el_clamp8(v, vlo, vhi) : op == EL_UN_HSWISH ? hswish8(v) : sigmoid8(v);
}

EL_AVX2 void el_f32_vunary_avx2(int op, size_t n, const float *x, float *y, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const size_t tail = op == EL_UN_HSWISH ? n % 4 : 0; /* rounded as LiteRT's scalar tail: see el_math.h */
  size_t i = 0;
  n -= tail;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, apply(op, _mm256_loadu_ps(x + i), vlo, vhi));
  if (i < n) {
    const __m256i mask = el_mask8(n - i);
    _mm256_maskstore_ps(y + i, mask, apply(op, _mm256_maskload_ps(x + i, mask), vlo, vhi));
  }
  for (i = n; i < n + tail; i++) y[i] = el_hswish(x[i], 1);
}
#endif
