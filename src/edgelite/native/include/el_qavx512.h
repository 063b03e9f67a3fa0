/* AVX-512 (F/BW/VL) + VNNI helpers of the int8 kernels (include only inside `#if EL_ARCH_X86`):
 * ruy's requantization of a whole channel group (16 int32 lanes) with 64-bit arithmetic shifts,
 * and saturating narrowing to int8. Functions carry EL_AVX512VNNI (per-function target), so the
 * rest of the library stays baseline x86-64. */
#ifndef EL_QAVX512_H
#define EL_QAVX512_H

#include <immintrin.h>

#include "el_qkernels.h"

#define EL_AVX512VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

/* Per 64-bit lane (even channels, or odd ones): the shift 31 + right and the rounding
 * 2^30 + (right ? 2^(30+right) : 0), right = max(-shift, 0): floor((x*m + round) >> total) is
 * ruy's two half-up roundings (see el_qavx2.h). Lane j of the even / odd vectors is channel 2j /
 * 2j + 1, the lanes vpmuldq multiplies. */
typedef struct {
  __m512i m, m_odd, left, round_even, round_odd, total_even, total_odd;
  int shifts_left, zp_folded;
} el_qrq16;

/* The two halves' 4-lane words at `offset` (+ 32 for odd lanes) of the header as 8 lanes. */
EL_AVX512VNNI static inline __m512i el_qhdr_lanes(const char *group, size_t offset) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(group + offset))),
                            _mm256_loadu_si256((const __m256i *)(group + offset + 64)), 1);
}

/* From the header's AVX2 words (validated against the shifts at program creation): their 2^63
 * bias, which the AVX2 kernels' logical shifts need, comes off with one xor. When every right
 * shift is at most 22 (total <= 53) the output zero point joins the rounding as zp * 2^total:
 * |x*m + round + zp * 2^total| < 2^62 + 2^53 + 2^60 stays inside int64, so the shifted sum is
 * exactly the rounded value plus zp, whose low 32 bits wrap as the reference's int32 sum. */
EL_AVX512VNNI static inline el_qrq16 el_qrq16_load(const char *group, int32_t zero_point) {
  el_qrq16 r;
  const __m512i bias63 = _mm512_set1_epi64(INT64_MIN);
  r.m = _mm512_loadu_si512(group + EL_QHDR_MULT);
  r.m_odd = _mm512_srli_epi64(r.m, 32);
  r.left = _mm512_loadu_si512(group + EL_QHDR_LEFT);
  r.shifts_left = _mm512_test_epi32_mask(r.left, r.left) != 0;
  r.round_even = _mm512_xor_si512(el_qhdr_lanes(group, EL_QHDR_ROUND), bias63);
  r.round_odd = _mm512_xor_si512(el_qhdr_lanes(group, EL_QHDR_ROUND + 32), bias63);
  r.total_even = el_qhdr_lanes(group, EL_QHDR_TOTAL);
  r.total_odd = el_qhdr_lanes(group, EL_QHDR_TOTAL + 32);
  const __m512i limit = _mm512_set1_epi64(53), zp = _mm512_set1_epi64(zero_point);
  r.zp_folded = (_mm512_cmpgt_epi64_mask(r.total_even, limit) | _mm512_cmpgt_epi64_mask(r.total_odd, limit)) == 0;
  if (r.zp_folded) {
    r.round_even = _mm512_add_epi64(r.round_even, _mm512_sllv_epi64(zp, r.total_even));
    r.round_odd = _mm512_add_epi64(r.round_odd, _mm512_sllv_epi64(zp, r.total_odd));
  }
  return r;
}

/* 16 accumulators requantized, plus the zero point (zp: the one given to el_qrq16_load),
 * clamped, as 16 int8. */
EL_AVX512VNNI static inline __m128i el_qrq16_apply(__m512i acc, const el_qrq16 *r, __m512i zp, __m512i lo,
                                                   __m512i hi) {
  const __m512i x = r->shifts_left ? _mm512_sllv_epi32(acc, r->left) : acc; /* counts >= 32 give 0 */
  const __m512i even = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, r->m), r->round_even), r->total_even);
  const __m512i odd = _mm512_srav_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), r->m_odd), r->round_odd), r->total_odd);
  /* odd lanes take the low dword of odd's qwords (one vpshufd merged under a mask) */
  const __m512i scaled = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CDAB);
  const __m512i shifted = r->zp_folded ? scaled : _mm512_add_epi32(scaled, zp);
  return _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(shifted, lo), hi));
}

#endif
