/* qs8-gemm8x16-avx512vnni: up to 8 rows x one channel group (16 int32 lanes of a zmm) per step;
 * vpdpwssd multiplies a broadcast pair of int16 inputs by the group's 16 weight pairs and
 * accumulates in one instruction (exact, as vpmaddwd + vpaddd). Calls of 4 rows or fewer run a
 * 4-row body; groups with at most 8 channels in use run on ymm halves. Requantization in 16
 * lanes (el_qavx512.h). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include <string.h>

#include "../../include/el_qavx512.h"

EL_AVX512VNNI static inline int32_t pair(const int16_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

/* Rows 0-3 (and 4-7 with EIGHT) of the group: acc_r += pair(row r, k) . weights over the kp / 2
 * pairs; written out so that the accumulators stay in registers. */
#define EL_QGEMM_BODY(VEC, SET1, LOAD, DOT, EIGHT)                                             \
  {                                                                                            \
    VEC c0 = acc[0], c1 = acc[1], c2 = acc[2], c3 = acc[3], c4 = acc[4], c5 = acc[5];          \
    VEC c6 = acc[6], c7 = acc[7];                                                              \
    for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_QGROUP) {                                  \
      const VEC wv = LOAD(wk);                                                                 \
      c0 = DOT(c0, SET1(pair(a0 + k)), wv);                                                    \
      c1 = DOT(c1, SET1(pair(a1 + k)), wv);                                                    \
      c2 = DOT(c2, SET1(pair(a2 + k)), wv);                                                    \
      c3 = DOT(c3, SET1(pair(a3 + k)), wv);                                                    \
      if (EIGHT) {                                                                             \
        c4 = DOT(c4, SET1(pair(a4 + k)), wv);                                                  \
        c5 = DOT(c5, SET1(pair(a5 + k)), wv);                                                  \
        c6 = DOT(c6, SET1(pair(a6 + k)), wv);                                                  \
        c7 = DOT(c7, SET1(pair(a7 + k)), wv);                                                  \
      }                                                                                        \
    }                                                                                          \
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5, acc[6] = c6; \
    acc[7] = c7;                                                                               \
  }

#define LOAD512(p) _mm512_loadu_si512(p)
#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(p))

EL_AVX512VNNI void el_qs8_gemm8x16_avx512vnni(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                                              const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                                              const el_qout *q) {
  const int16_t *row[8];
  for (size_t r = 0; r < 8; r++) row[r] = a + (r < mr ? r : mr - 1) * a_stride;
  const int16_t *a0 = row[0], *a1 = row[1], *a2 = row[2], *a3 = row[3], *a4 = row[4], *a5 = row[5];
  const int16_t *a6 = row[6], *a7 = row[7];
  const __m512i zp = _mm512_set1_epi32(q->zero_point), lo = _mm512_set1_epi32(q->lo), hi = _mm512_set1_epi32(q->hi);
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_QGROUP, group += group_bytes) {
    const size_t width = nc - n0 < EL_QGROUP ? nc - n0 : EL_QGROUP;
    const int16_t *wk = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    __m512i acc[8];
    if (width <= 8) { /* the first 8 channels only: ymm accumulators, widened for requantization */
      __m256i half[8];
      for (size_t r = 0; r < 8; r++) half[r] = _mm256_loadu_si256((const __m256i *)(group + EL_QHDR_BIAS));
#define acc half
      if (mr <= 4) {
        EL_QGEMM_BODY(__m256i, _mm256_set1_epi32, LOAD256, _mm256_dpwssd_epi32, 0)
      } else {
        EL_QGEMM_BODY(__m256i, _mm256_set1_epi32, LOAD256, _mm256_dpwssd_epi32, 1)
      }
#undef acc
      for (size_t r = 0; r < 8; r++) acc[r] = _mm512_castsi256_si512(half[r]);
    } else {
      for (size_t r = 0; r < 8; r++) acc[r] = _mm512_loadu_si512(group + EL_QHDR_BIAS);
      if (mr <= 4) {
        EL_QGEMM_BODY(__m512i, _mm512_set1_epi32, LOAD512, _mm512_dpwssd_epi32, 0)
      } else {
        EL_QGEMM_BODY(__m512i, _mm512_set1_epi32, LOAD512, _mm512_dpwssd_epi32, 1)
      }
    }
    const el_qrq16 rq = el_qrq16_load(group, q->zero_point);
    const __mmask16 keep = (__mmask16)((1u << width) - 1);
    for (size_t r = 0; r < mr; r++)
      _mm_mask_storeu_epi8(c + r * c_stride + n0, keep, el_qrq16_apply(acc[r], &rq, zp, lo, hi));
  }
}
#endif
