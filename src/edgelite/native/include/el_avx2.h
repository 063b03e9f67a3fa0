/* Helpers for AVX2+FMA kernels: included only inside `#if EL_ARCH_X86`. Every function that uses
 * them carries EL_AVX2, so the rest of the library stays baseline x86-64. */
#ifndef EL_AVX2_H
#define EL_AVX2_H

#include <immintrin.h>

#define EL_AVX2 __attribute__((target("avx2,fma")))

/* Loaded at offset 8 - n: the first n lanes are set. */
static const int el_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

EL_AVX2 static inline __m256i el_mask8(size_t n) {
  return _mm256_loadu_si256((const __m256i *)(el_mask_table + 8 - n));
}

/* (lo > x ? lo : x) then (hi < x ? hi : x): NaN and -0.0 pass through, as in the scalar code. */
EL_AVX2 static inline __m256 el_clamp8(__m256 x, __m256 lo, __m256 hi) {
  return _mm256_min_ps(hi, _mm256_max_ps(lo, x));
}

/* exp(x) within ~1 ulp (Cephes' expf: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial, times
 * 2^n) for -87 <= x <= 88, where the result is a normal float, and NaN for NaN. el_exp8_all also
 * covers x < -87: subnormal results from a double-precision exp rounded once (so they are the
 * correctly rounded values, as libm's), +0 below EL_EXP8_ZERO. Callers send lanes above
 * EL_EXP8_MAX (el_exp8_fast_lanes leaves them out) to the scalar expf. */
#define EL_EXP8_MIN -87.0f
#define EL_EXP8_MAX 88.0f
#define EL_EXP8_ZERO -104.0f /* exp(-103.98) is half the smallest subnormal */

EL_AVX2 static inline __m256 el_exp8(__m256 x) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

/* exp of 4 doubles in [-110, -80] to ~1e-13 relative: Taylor degree 11 on |r| <= ln2/2. */
EL_AVX2 static inline __m256d el_exp4d_small(__m256d x) {
  const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0.6931471803691238), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.9082149292705877e-10), r);
  __m256d p = _mm256_set1_pd(1.0 / 39916800.0);
  static const double inverse_factorials[] = {1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
                                              1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
  for (int i = 0; i < 11; i++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(inverse_factorials[i]));
  const __m128i n32 = _mm256_cvtpd_epi32(n);
  const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(n32), _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

/* exp(x) for the lanes of x below EL_EXP8_MIN (any value elsewhere). */
EL_AVX2 static inline __m256 el_exp8_below(__m256 x) {
  const __m256 clamped = _mm256_max_ps(_mm256_set1_ps(EL_EXP8_ZERO - 4.0f), x);
  const __m128 lo = _mm256_cvtpd_ps(el_exp4d_small(_mm256_cvtps_pd(_mm256_castps256_ps128(clamped))));
  const __m128 hi = _mm256_cvtpd_ps(el_exp4d_small(_mm256_cvtps_pd(_mm256_extractf128_ps(clamped, 1))));
  return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(EL_EXP8_ZERO), _CMP_LT_OQ), _mm256_set_m128(hi, lo));
}

/* max(-87, x) keeps NaN (max_ps returns its second operand when one is NaN). */
EL_AVX2 static inline __m256 el_exp8_clamp(__m256 x) { return _mm256_max_ps(_mm256_set1_ps(EL_EXP8_MIN), x); }

EL_AVX2 static inline __m256 el_exp8_all(__m256 x) {
  const __m256 e = el_exp8(el_exp8_clamp(x));
  const __m256 below = _mm256_cmp_ps(x, _mm256_set1_ps(EL_EXP8_MIN), _CMP_LT_OQ);
  return _mm256_movemask_ps(below) ? _mm256_blendv_ps(e, el_exp8_below(x), below) : e;
}

/* Bit i set when el_exp8_all covers lane i of x (all but x > EL_EXP8_MAX). */
EL_AVX2 static inline int el_exp8_fast_lanes(__m256 x) {
  return _mm256_movemask_ps(_mm256_cmp_ps(x, _mm256_set1_ps(EL_EXP8_MAX), _CMP_NGT_UQ));
}

#endif
