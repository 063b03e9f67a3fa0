/* AVX-512 (F/BW/VL) + VNNI helpers of the int8 kernels (include only inside `#if EL_ARCH_X86`):
 * ruy's requantization of a whole channel group (16 int32 lanes) with 64-bit arithmetic shifts,
 * and saturating narrowing to int8. Functions carry EL_AVX512VNNI (per-function target), so the
 * rest of the library stays baseline x86-64. */
#ifndef EL_QAVX512_H
#define EL_QAVX512_H

#include <immintrin.h>
#include <string.h>

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

/* acc[0..3] (and acc[4..7] with EIGHT) += rows a0.. a7 . one channel group's weights: 4 input bytes
 * (two int16 or four uint8) broadcast per step against 64 weight bytes, over kbytes of each row;
 * written out so that the accumulators stay in registers. */
#define EL_QGEMM8X16_ROWS(VEC, SET1, LOAD, DOT, EIGHT)                                              \
  {                                                                                                 \
    VEC c0 = acc[0], c1 = acc[1], c2 = acc[2], c3 = acc[3], c4 = acc[4], c5 = acc[5];               \
    VEC c6 = acc[6], c7 = acc[7];                                                                   \
    const char *wk = group + EL_QGROUP_HEADER;                                                      \
    for (size_t k = 0; k < kbytes; k += 4, wk += 64) {                                              \
      const VEC wv = LOAD(wk);                                                                      \
      c0 = DOT(c0, SET1(el_qword32(a0 + k)), wv);                                                   \
      c1 = DOT(c1, SET1(el_qword32(a1 + k)), wv);                                                   \
      c2 = DOT(c2, SET1(el_qword32(a2 + k)), wv);                                                   \
      c3 = DOT(c3, SET1(el_qword32(a3 + k)), wv);                                                   \
      if (EIGHT) {                                                                                  \
        c4 = DOT(c4, SET1(el_qword32(a4 + k)), wv);                                                 \
        c5 = DOT(c5, SET1(el_qword32(a5 + k)), wv);                                                 \
        c6 = DOT(c6, SET1(el_qword32(a6 + k)), wv);                                                 \
        c7 = DOT(c7, SET1(el_qword32(a7 + k)), wv);                                                 \
      }                                                                                             \
    }                                                                                               \
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5, acc[6] = c6;      \
    acc[7] = c7;                                                                                    \
  }

EL_AVX512VNNI static inline int32_t el_qword32(const char *p) {
  int32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

#define EL_LOAD512(p) _mm512_loadu_si512(p)
#define EL_LOAD256(p) _mm256_loadu_si256((const __m256i *)(p))

/* The qgemm8x16 kernels over either packed format (`quads` a compile-time constant): vpdpwssd on
 * int16 pairs, or vpdpbusd on uint8 quads against int8 weights (64 multiply-adds per instruction;
 * exact: the sums wrap like the reference's int32). Up to 8 rows x one channel group (16 int32
 * lanes) per step; calls of 4 rows or fewer run a 4-row body; groups with at most 8 channels in
 * use run on ymm halves (the first 32 bytes of each 64-byte weight step). Requantization in 16
 * lanes. a_stride and kbytes are in bytes. */
EL_AVX512VNNI static inline __attribute__((always_inline)) void el_qgemm8x16(
    const int quads, size_t mr, size_t nc, size_t kbytes, const char *a, size_t a_stride, const void *w,
    size_t group_bytes, int8_t *c, size_t c_stride, const el_qout *q) {
  const char *row[8];
  for (size_t r = 0; r < 8; r++) row[r] = a + (r < mr ? r : mr - 1) * a_stride;
  const char *a0 = row[0], *a1 = row[1], *a2 = row[2], *a3 = row[3], *a4 = row[4], *a5 = row[5];
  const char *a6 = row[6], *a7 = row[7];
  const __m512i zp = _mm512_set1_epi32(q->zero_point), lo = _mm512_set1_epi32(q->lo), hi = _mm512_set1_epi32(q->hi);
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_QGROUP, group += group_bytes) {
    const size_t width = nc - n0 < EL_QGROUP ? nc - n0 : EL_QGROUP;
    __m512i acc[8];
    if (width <= 8) { /* the first 8 channels only: ymm accumulators, widened for requantization */
      __m256i half[8];
      for (size_t r = 0; r < 8; r++) half[r] = _mm256_loadu_si256((const __m256i *)(group + EL_QHDR_BIAS));
#define acc half
      if (quads && mr <= 4) EL_QGEMM8X16_ROWS(__m256i, _mm256_set1_epi32, EL_LOAD256, _mm256_dpbusd_epi32, 0)
      else if (quads) EL_QGEMM8X16_ROWS(__m256i, _mm256_set1_epi32, EL_LOAD256, _mm256_dpbusd_epi32, 1)
      else if (mr <= 4) EL_QGEMM8X16_ROWS(__m256i, _mm256_set1_epi32, EL_LOAD256, _mm256_dpwssd_epi32, 0)
      else EL_QGEMM8X16_ROWS(__m256i, _mm256_set1_epi32, EL_LOAD256, _mm256_dpwssd_epi32, 1)
#undef acc
      for (size_t r = 0; r < 8; r++) acc[r] = _mm512_castsi256_si512(half[r]);
    } else {
      for (size_t r = 0; r < 8; r++) acc[r] = _mm512_loadu_si512(group + EL_QHDR_BIAS);
      if (quads && mr <= 4) EL_QGEMM8X16_ROWS(__m512i, _mm512_set1_epi32, EL_LOAD512, _mm512_dpbusd_epi32, 0)
      else if (quads) EL_QGEMM8X16_ROWS(__m512i, _mm512_set1_epi32, EL_LOAD512, _mm512_dpbusd_epi32, 1)
      else if (mr <= 4) EL_QGEMM8X16_ROWS(__m512i, _mm512_set1_epi32, EL_LOAD512, _mm512_dpwssd_epi32, 0)
      else EL_QGEMM8X16_ROWS(__m512i, _mm512_set1_epi32, EL_LOAD512, _mm512_dpwssd_epi32, 1)
    }
    const el_qrq16 rq = el_qrq16_load(group, q->zero_point);
    const __mmask16 keep = (__mmask16)((1u << width) - 1);
    for (size_t r = 0; r < mr; r++)
      _mm_mask_storeu_epi8(c + r * c_stride + n0, keep, el_qrq16_apply(acc[r], &rq, zp, lo, hi));
  }
}

#endif
