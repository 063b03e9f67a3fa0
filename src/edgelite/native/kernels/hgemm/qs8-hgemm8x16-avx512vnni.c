/* qs8-hgemm8x16-avx512vnni: up to 8 rows x one channel group (16 int32 lanes of a zmm); vpdpwssd
 * multiplies a broadcast int16 input pair by the group's 16 weight pairs and accumulates (exact).
 * Calls of 4 rows or fewer run a 4-row body. Float epilogue in 16 lanes, masked stores. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include <string.h>

#include "../../include/el_qavx512.h"

EL_AVX512VNNI static inline __m512i pair(const int16_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

EL_AVX512VNNI void el_qs8_hgemm8x16_avx512vnni(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                                               const void *w, size_t group_bytes, float *c, size_t c_stride,
                                               const float *row_scale, float lo, float hi) {
  const int16_t *row[8];
  for (size_t r = 0; r < 8; r++) row[r] = a + (r < mr ? r : mr - 1) * a_stride;
  const int16_t *a0 = row[0], *a1 = row[1], *a2 = row[2], *a3 = row[3], *a4 = row[4], *a5 = row[5];
  const int16_t *a6 = row[6], *a7 = row[7];
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_HGROUP, group += group_bytes) {
    const size_t width = nc - n0 < EL_HGROUP ? nc - n0 : EL_HGROUP;
    const int16_t *wk = (const int16_t *)(const void *)(group + EL_HGROUP_HEADER);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    if (mr <= 4) {
      for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_HGROUP) {
        const __m512i wv = _mm512_loadu_si512(wk);
        c0 = _mm512_dpwssd_epi32(c0, pair(a0 + k), wv);
        c1 = _mm512_dpwssd_epi32(c1, pair(a1 + k), wv);
        c2 = _mm512_dpwssd_epi32(c2, pair(a2 + k), wv);
        c3 = _mm512_dpwssd_epi32(c3, pair(a3 + k), wv);
      }
    } else {
      for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_HGROUP) {
        const __m512i wv = _mm512_loadu_si512(wk);
        c0 = _mm512_dpwssd_epi32(c0, pair(a0 + k), wv);
        c1 = _mm512_dpwssd_epi32(c1, pair(a1 + k), wv);
        c2 = _mm512_dpwssd_epi32(c2, pair(a2 + k), wv);
        c3 = _mm512_dpwssd_epi32(c3, pair(a3 + k), wv);
        c4 = _mm512_dpwssd_epi32(c4, pair(a4 + k), wv);
        c5 = _mm512_dpwssd_epi32(c5, pair(a5 + k), wv);
        c6 = _mm512_dpwssd_epi32(c6, pair(a6 + k), wv);
        c7 = _mm512_dpwssd_epi32(c7, pair(a7 + k), wv);
      }
    }
    const __m512i acc[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
    const __m512 ws = _mm512_loadu_ps(group + EL_HHDR_SCALE), bias = _mm512_loadu_ps(group + EL_HHDR_BIAS);
    const __mmask16 keep = (__mmask16)((1u << width) - 1);
    for (size_t r = 0; r < mr; r++) {
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[r]), _mm512_mul_ps(_mm512_set1_ps(row_scale[r]), ws));
      v = _mm512_add_ps(v, bias);
      v = _mm512_min_ps(vhi, _mm512_max_ps(vlo, v));
      _mm512_mask_storeu_ps(c + r * c_stride + n0, keep, v);
    }
  }
}
#endif
