/* f32-vunary-avx2: CLAMP and HSWISH in 8 lanes; SIGMOID goes to the scalar kernel (libm expf
 * keeps it within 1 ulp of the reference; a vector exp is future work). */
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

EL_AVX2 void el_f32_vunary_avx2(int op, size_t n, const float *x, float *y, float lo, float hi) {
  if (op != EL_UN_CLAMP && op != EL_UN_HSWISH) {
    el_f32_vunary_scalar(op, n, x, y, lo, hi);
    return;
  }
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const size_t tail = op == EL_UN_HSWISH ? n % 4 : 0; /* rounded as LiteRT's scalar tail: see el_math.h */
  size_t i = 0;
  n -= tail;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_ps(y + i, op == EL_UN_CLAMP ? el_clamp8(v, vlo, vhi) : hswish8(v));
  }
  if (i < n) {
    const __m256i mask = el_mask8(n - i);
    const __m256 v = _mm256_maskload_ps(x + i, mask);
    _mm256_maskstore_ps(y + i, mask, op == EL_UN_CLAMP ? el_clamp8(v, vlo, vhi) : hswish8(v));
  }
  for (i = n; i < n + tail; i++) y[i] = el_hswish(x[i], 1);
}
#endif
