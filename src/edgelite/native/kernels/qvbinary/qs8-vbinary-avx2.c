/* qs8-vbinary-avx2: int8 ADD / MUL on LiteRT's vector path, 16 elements per step in int32 lanes;
 * the rest, and the scalar tail, as qs8-vbinary-scalar (see el_qvbinary_fn, el_qbinary_one).
 * gemmlowp's SaturatingRoundingDoublingHighMul is floor((x * m + 2^30) / 2^31) for the
 * non-negative multipliers validation allows; RoundingDivideByPOT rounds half away from zero. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_qavx2.h"
#include "../../include/el_quant.h"

EL_AVX2 static inline __m256i load8(const int8_t *p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p));
}

EL_AVX2 static inline __m256i srdhm(__m256i x, __m256i m) {
  const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, m), round);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), m), round);
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
}

EL_AVX2 static inline __m256i rdbp(__m256i x, int exponent) {
  const __m256i mask = _mm256_set1_epi32((int32_t)(((int64_t)1 << exponent) - 1));
  const __m256i threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_srli_epi32(x, 31));
  const __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(x, mask), threshold);
  return _mm256_sub_epi32(_mm256_sra_epi32(x, _mm_cvtsi32_si128(exponent)), up);
}

EL_AVX2 static inline __m256i vshl(__m256i x, int shift) {
  return shift >= 0 ? _mm256_sll_epi32(x, _mm_cvtsi32_si128(shift)) : _mm256_sra_epi32(x, _mm_cvtsi32_si128(-shift));
}

EL_AVX2 static inline __m256i wrap16(__m256i x) { return _mm256_srai_epi32(_mm256_slli_epi32(x, 16), 16); }

/* Eight elements: a and b minus their zero points in, the clamped result out. */
EL_AVX2 static inline __m256i add8(__m256i va, __m256i vb, const int64_t *p) {
  const int left = (int)p[13];
  const __m256i a = srdhm(vshl(va, left + (int)p[8]), _mm256_set1_epi32((int32_t)p[7]));
  const __m256i b = srdhm(vshl(vb, left + (int)p[10]), _mm256_set1_epi32((int32_t)p[9]));
  const __m256i scaled = rdbp(srdhm(_mm256_add_epi32(a, b), _mm256_set1_epi32((int32_t)p[11])), -(int)p[12]);
  return wrap16(_mm256_add_epi32(wrap16(scaled), _mm256_set1_epi32((int32_t)p[4])));
}

EL_AVX2 static inline __m256i mul8(__m256i va, __m256i vb, const int64_t *p) {
  const int shift = (int)p[8];
  const __m256i product = _mm256_sll_epi32(_mm256_mullo_epi32(va, vb), _mm_cvtsi32_si128(shift > 0 ? shift & 31 : 0));
  __m256i scaled = rdbp(srdhm(product, _mm256_set1_epi32((int32_t)p[7])), shift > 0 ? 0 : -shift);
  scaled = _mm256_min_epi32(_mm256_max_epi32(scaled, _mm256_set1_epi32(INT16_MIN)), _mm256_set1_epi32(INT16_MAX));
  return wrap16(_mm256_add_epi32(scaled, _mm256_set1_epi32((int32_t)p[4])));
}

EL_AVX2 void el_qs8_vbinary_avx2(size_t n, const int8_t *a, const int8_t *b, int8_t *y, const int64_t *p, int vector) {
  size_t i = 0;
  if (vector) {
    const __m256i za = _mm256_set1_epi32((int32_t)p[2]), zb = _mm256_set1_epi32((int32_t)p[3]);
    const __m256i lo = _mm256_set1_epi32((int32_t)p[5]), hi = _mm256_set1_epi32((int32_t)p[6]);
    for (; i + 16 <= n; i += 16) {
      __m256i r[2];
      for (int h = 0; h < 2; h++) {
        const __m256i va = _mm256_sub_epi32(load8(a + i + 8 * h), za), vb = _mm256_sub_epi32(load8(b + i + 8 * h), zb);
        r[h] = _mm256_min_epi32(_mm256_max_epi32(p[0] == 0 ? add8(va, vb, p) : mul8(va, vb, p), lo), hi);
      }
      _mm_storeu_si128((__m128i *)(y + i), el_pack16_i8(r[0], r[1]));
    }
  }
  for (; i < n; i++) y[i] = el_qbinary_one(p, a[i], b[i], vector);
}
#endif
