/* qs8-vbinary-avx512vnni: int8 ADD / MUL on LiteRT's vector path, 16 elements per step in one zmm
 * of int32 lanes (the AVX2 kernel's arithmetic, twice as wide); the scalar tail as
 * qs8-vbinary-scalar (see el_qvbinary_fn, el_qbinary_one). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_qavx512.h"
#include "../../include/el_quant.h"

EL_AVX512VNNI static inline __m512i load16(const int8_t *p) {
  return _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/* gemmlowp's SaturatingRoundingDoublingHighMul for non-negative multipliers: floor((x*m + 2^30) / 2^31). */
EL_AVX512VNNI static inline __m512i srdhm(__m512i x, __m512i m) {
  const __m512i round = _mm512_set1_epi64((int64_t)1 << 30);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, m), round);
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), m), round);
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
}

/* RoundingDivideByPOT: half away from zero. */
EL_AVX512VNNI static inline __m512i rdbp(__m512i x, int exponent) {
  const __m512i mask = _mm512_set1_epi32((int32_t)(((int64_t)1 << exponent) - 1));
  const __m512i threshold = _mm512_add_epi32(_mm512_srli_epi32(mask, 1), _mm512_srli_epi32(x, 31));
  const __mmask16 up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(x, mask), threshold);
  const __m512i shifted = _mm512_sra_epi32(x, _mm_cvtsi32_si128(exponent));
  return _mm512_mask_add_epi32(shifted, up, shifted, _mm512_set1_epi32(1));
}

EL_AVX512VNNI static inline __m512i vshl(__m512i x, int shift) {
  return shift >= 0 ? _mm512_sll_epi32(x, _mm_cvtsi32_si128(shift)) : _mm512_sra_epi32(x, _mm_cvtsi32_si128(-shift));
}

EL_AVX512VNNI static inline __m512i wrap16(__m512i x) { return _mm512_srai_epi32(_mm512_slli_epi32(x, 16), 16); }

EL_AVX512VNNI static inline __m512i add16(__m512i va, __m512i vb, const int64_t *p) {
  const int left = (int)p[13];
  const __m512i a = srdhm(vshl(va, left + (int)p[8]), _mm512_set1_epi32((int32_t)p[7]));
  const __m512i b = srdhm(vshl(vb, left + (int)p[10]), _mm512_set1_epi32((int32_t)p[9]));
  const __m512i scaled = rdbp(srdhm(_mm512_add_epi32(a, b), _mm512_set1_epi32((int32_t)p[11])), -(int)p[12]);
  return wrap16(_mm512_add_epi32(wrap16(scaled), _mm512_set1_epi32((int32_t)p[4])));
}

EL_AVX512VNNI static inline __m512i mul16(__m512i va, __m512i vb, const int64_t *p) {
  const int shift = (int)p[8];
  const __m512i product =
      _mm512_sll_epi32(_mm512_mullo_epi32(va, vb), _mm_cvtsi32_si128(shift > 0 ? shift & 31 : 0));
  __m512i scaled = rdbp(srdhm(product, _mm512_set1_epi32((int32_t)p[7])), shift > 0 ? 0 : -shift);
  scaled = _mm512_min_epi32(_mm512_max_epi32(scaled, _mm512_set1_epi32(INT16_MIN)), _mm512_set1_epi32(INT16_MAX));
  return wrap16(_mm512_add_epi32(scaled, _mm512_set1_epi32((int32_t)p[4])));
}

EL_AVX512VNNI void el_qs8_vbinary_avx512vnni(size_t n, const int8_t *a, const int8_t *b, int8_t *y, const int64_t *p,
                                             int vector) {
  size_t i = 0;
  if (vector) {
    const __m512i za = _mm512_set1_epi32((int32_t)p[2]), zb = _mm512_set1_epi32((int32_t)p[3]);
    const __m512i lo = _mm512_set1_epi32((int32_t)p[5]), hi = _mm512_set1_epi32((int32_t)p[6]);
    for (; i + 16 <= n; i += 16) {
      const __m512i va = _mm512_sub_epi32(load16(a + i), za), vb = _mm512_sub_epi32(load16(b + i), zb);
      const __m512i r = _mm512_min_epi32(_mm512_max_epi32(p[0] == 0 ? add16(va, vb, p) : mul16(va, vb, p), lo), hi);
      _mm_storeu_si128((__m128i *)(void *)(y + i), _mm512_cvtepi32_epi8(r));
    }
  }
  for (; i < n; i++) y[i] = el_qbinary_one(p, a[i], b[i], vector);
}
#endif
