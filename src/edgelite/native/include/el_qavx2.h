/* AVX2 helpers of the int8 kernels (include only inside `#if EL_ARCH_X86`): ruy's requantization
 * of 8 int32 accumulators from a channel group header (see el_qkernels.h) and int8 packing.
 *
 * ruy rounds twice, half up: high = (x * m + 2^30) >> 31, then (high + 2^(r-1)) >> r. Nested floor
 * divisions compose, so that is one floor shift of x * m + 2^30 + 2^(30+r) by 31 + r. AVX2 has no
 * 64-bit arithmetic shift: adding 2^63 makes the sum non-negative, a logical shift then gives the
 * result plus 2^(63 - shift), which the correction subtracts (all in the header, per channel). */
#ifndef EL_QAVX2_H
#define EL_QAVX2_H

#include <immintrin.h>

#include "el_avx2.h"
#include "el_qkernels.h"

/* The requantization constants of channels [8 * half, 8 * half + 8) of a group, loaded once per
 * group; the output zero point is folded into the correction (all mod 2^32, as the reference). */
typedef struct {
  __m256i m, m_odd, left, round_even, round_odd, total_even, total_odd, fix_even, fix_odd;
  int shifts_left;
} el_qrq8;

EL_AVX2 static inline el_qrq8 el_qrq8_load(const char *group, int half, __m256i zp) {
  el_qrq8 r;
  const __m256i zp64 = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(zp));
  const char *round = group + EL_QHDR_ROUND + 64 * half, *total = group + EL_QHDR_TOTAL + 64 * half;
  const char *fix = group + EL_QHDR_FIX + 64 * half;
  r.m = _mm256_loadu_si256((const __m256i *)(group + EL_QHDR_MULT + 32 * half));
  r.m_odd = _mm256_srli_epi64(r.m, 32);
  r.left = _mm256_loadu_si256((const __m256i *)(group + EL_QHDR_LEFT + 32 * half));
  r.shifts_left = !_mm256_testz_si256(r.left, r.left);
  r.round_even = _mm256_loadu_si256((const __m256i *)round);
  r.round_odd = _mm256_loadu_si256((const __m256i *)(round + 32));
  r.total_even = _mm256_loadu_si256((const __m256i *)total);
  r.total_odd = _mm256_loadu_si256((const __m256i *)(total + 32));
  r.fix_even = _mm256_sub_epi64(_mm256_loadu_si256((const __m256i *)fix), zp64);
  r.fix_odd = _mm256_sub_epi64(_mm256_loadu_si256((const __m256i *)(fix + 32)), zp64);
  return r;
}

/* 8 accumulators ruy-requantized, plus the zero point, clamped. */
EL_AVX2 static inline __m256i el_qrq8_apply(__m256i acc, const el_qrq8 *r, __m256i lo, __m256i hi) {
  const __m256i x = r->shifts_left ? _mm256_sllv_epi32(acc, r->left) : acc; /* counts >= 32 give 0 */
  __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, r->m), r->round_even);
  __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), r->m_odd), r->round_odd);
  even = _mm256_sub_epi64(_mm256_srlv_epi64(even, r->total_even), r->fix_even);
  odd = _mm256_sub_epi64(_mm256_srlv_epi64(odd, r->total_odd), r->fix_odd);
  const __m256i scaled = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  return _mm256_min_epi32(_mm256_max_epi32(scaled, lo), hi);
}

/* Two rows of 16 int32 (in int8 range) to 2 x 16 int8: row 0 in the low 16 bytes. */
EL_AVX2 static inline __m256i el_pack2x16_i8(__m256i r0a, __m256i r0b, __m256i r1a, __m256i r1b) {
  const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(r0a, r0b), _mm256_packs_epi32(r1a, r1b));
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Two vectors of 8 int32 (already in int8 range) to 16 int8, in order. */
EL_AVX2 static inline __m128i el_pack16_i8(__m256i v0, __m256i v1) {
  const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
  return _mm_packs_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
}

#endif
