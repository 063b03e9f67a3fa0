/* f32-vunary-avx2: CLAMP, HSWISH, SIGMOID, TANH, GELU (both forms) and LEAKY in 8 lanes. SIGMOID is
 * the reference's formula (e = exp(-|x|); x >= 0 ? 1 / (1 + e) : e / (1 + e)) with el_exp8_all,
 * which covers every lane (-|x| <= 0), subnormal results and NaN included. TANH: Cephes' odd
 * polynomial below 0.625, (1 - e) / (1 + e) with e = exp(-2|x|) above. GELU: erfc from Numerical
 * Recipes' erfcc (t exp(-z^2 + P(t)), t = 1 / (1 + z/2), relative error < 1.2e-7), z^2 split
 * exactly with an FMA. GELU_TANH: 0.5 x (1 + tanh u) = x sigmoid(2u), without the cancellation. */
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

EL_AVX2 static inline __m256 tanh8(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f), a = _mm256_andnot_ps(sign, x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  const __m256 e = el_exp8(el_exp8_clamp(_mm256_mul_ps(a, _mm256_set1_ps(-2.0f))));
  const __m256 large = _mm256_or_ps(_mm256_and_ps(sign, x), _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e)));
  return _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

/* erfc(z) for any z: 2 - erfc(|z|) below 0; |z| is capped at 10.5 (erfc = 0 in float32 there). */
EL_AVX2 static inline __m256 erfc8(__m256 z) {
  const __m256 a = _mm256_min_ps(_mm256_set1_ps(10.5f), _mm256_andnot_ps(_mm256_set1_ps(-0.0f), z));
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(a, _mm256_set1_ps(0.5f), one));
  static const float coefficients[] = {-0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f,
                                       0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
  __m256 p = _mm256_set1_ps(0.17087277f);
  for (int i = 0; i < 9; i++) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(coefficients[i]));
  const __m256 zz = _mm256_mul_ps(a, a), zz_low = _mm256_fmsub_ps(a, a, zz); /* a*a = zz + zz_low exactly */
  const __m256 near = _mm256_mul_ps(t, el_exp8(_mm256_sub_ps(p, zz_low)));
  const __m256 tail = _mm256_mul_ps(near, el_exp8_all(_mm256_sub_ps(_mm256_setzero_ps(), zz)));
  const __m256 negative = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ);
  return _mm256_blendv_ps(tail, _mm256_sub_ps(_mm256_set1_ps(2.0f), tail), negative);
}

EL_AVX2 static inline __m256 gelu8(__m256 x) {
  const __m256 erfc_value = erfc8(_mm256_mul_ps(x, _mm256_set1_ps(-0.70710677f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), erfc_value);
}

EL_AVX2 static inline __m256 gelu_tanh8(__m256 x) {
  const __m256 cube = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  const __m256 inner = _mm256_mul_ps(_mm256_set1_ps(0.7978846f),
                                     _mm256_add_ps(x, _mm256_mul_ps(_mm256_set1_ps(0.044715f), cube)));
  return _mm256_mul_ps(x, sigmoid8(_mm256_add_ps(inner, inner)));
}

EL_AVX2 static inline __m256 leaky8(__m256 x, __m256 alpha) {
  return _mm256_blendv_ps(_mm256_mul_ps(x, alpha), x, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
}

EL_AVX2 static inline __m256 apply(int op, __m256 v, __m256 vlo, __m256 vhi) {
  switch (op) {
    case EL_UN_CLAMP: return el_clamp8(v, vlo, vhi);
    case EL_UN_HSWISH: return hswish8(v);
    case EL_UN_TANH: return tanh8(v);
    case EL_UN_GELU: return gelu8(v);
    case EL_UN_GELU_TANH: return gelu_tanh8(v);
    case EL_UN_LEAKY: return leaky8(v, vlo);
    default: return sigmoid8(v);
  }
}

/* One loop per op (the op is a compile-time constant inside each), then the masked tail. */
#define EL_VUNARY_LOOP(OP)                                                                   \
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, apply(OP, _mm256_loadu_ps(x + i), vlo, vhi)); \
  break;

EL_AVX2 void el_f32_vunary_avx2(int op, size_t n, const float *x, float *y, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const size_t tail = op == EL_UN_HSWISH ? n % 4 : 0; /* rounded as LiteRT's scalar tail: see el_math.h */
  size_t i = 0;
  n -= tail;
  switch (op) {
    case EL_UN_CLAMP: EL_VUNARY_LOOP(EL_UN_CLAMP)
    case EL_UN_HSWISH: EL_VUNARY_LOOP(EL_UN_HSWISH)
    case EL_UN_TANH: EL_VUNARY_LOOP(EL_UN_TANH)
    case EL_UN_GELU: EL_VUNARY_LOOP(EL_UN_GELU)
    case EL_UN_GELU_TANH: EL_VUNARY_LOOP(EL_UN_GELU_TANH)
    case EL_UN_LEAKY: EL_VUNARY_LOOP(EL_UN_LEAKY)
    default: EL_VUNARY_LOOP(EL_UN_SIGMOID)
  }
  if (i < n) {
    const __m256i mask = el_mask8(n - i);
    _mm256_maskstore_ps(y + i, mask, apply(op, _mm256_maskload_ps(x + i, mask), vlo, vhi));
  }
  for (i = n; i < n + tail; i++) y[i] = el_hswish(x[i], 1);
}
#endif
