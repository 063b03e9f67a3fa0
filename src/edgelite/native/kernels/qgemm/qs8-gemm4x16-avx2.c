/* qs8-gemm4x16-avx2: 4 rows x 16 channels in 8 ymm int32 accumulators; each step multiplies a
 * broadcast pair of int16 inputs by 16 channels' weight pairs with vpmaddwd (exact: products of
 * values within +-255 and their pair sums fit int32), then ruy's requantization (el_qavx2.h).
 * A group with at most 8 channels in use (N = 8 layers, tails) runs its first half only. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include <string.h>

#include "../../include/el_qavx2.h"

EL_AVX2 static inline __m256i pair(const int16_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

EL_AVX2 static inline void store_row(int8_t *out, __m128i bytes, size_t width) {
  if (width == EL_QGROUP) {
    _mm_storeu_si128((__m128i *)out, bytes);
    return;
  }
  int8_t tmp[EL_QGROUP];
  _mm_storeu_si128((__m128i *)tmp, bytes);
  memcpy(out, tmp, width);
}

EL_AVX2 void el_qs8_gemm4x16_avx2(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                                  const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                                  const el_qout *q) {
  const int16_t *a0 = a, *a1 = mr > 1 ? a + a_stride : a0, *a2 = mr > 2 ? a + 2 * a_stride : a1;
  const int16_t *a3 = mr > 3 ? a + 3 * a_stride : a2;
  const __m256i zp = _mm256_set1_epi32(q->zero_point), lo = _mm256_set1_epi32(q->lo);
  const __m256i hi = _mm256_set1_epi32(q->hi);
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_QGROUP, group += group_bytes) {
    const size_t width = nc - n0 < EL_QGROUP ? nc - n0 : EL_QGROUP;
    __m256i c00 = _mm256_loadu_si256((const __m256i *)(group + EL_QHDR_BIAS));
    __m256i c01 = _mm256_loadu_si256((const __m256i *)(group + EL_QHDR_BIAS + 32));
    __m256i c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    const int16_t *wk = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    if (width > 8) {
      for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_QGROUP) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)wk);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wk + 16));
        const __m256i v0 = pair(a0 + k), v1 = pair(a1 + k), v2 = pair(a2 + k), v3 = pair(a3 + k);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(v0, w0));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(v0, w1));
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(v1, w0));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(v1, w1));
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(v2, w0));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(v2, w1));
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(v3, w0));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(v3, w1));
      }
    } else {
      for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_QGROUP) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)wk);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(pair(a0 + k), w0));
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(pair(a1 + k), w0));
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(pair(a2 + k), w0));
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(pair(a3 + k), w0));
      }
    }
    const el_qrq8 q0 = el_qrq8_load(group, 0, zp), q1 = el_qrq8_load(group, 1, zp);
    const __m256i acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    for (size_t r = 0; r < mr; r += 2) {
      const __m256i r0a = el_qrq8_apply(acc[r][0], &q0, lo, hi);
      const __m256i r0b = width > 8 ? el_qrq8_apply(acc[r][1], &q1, lo, hi) : r0a;
      const __m256i r1a = r + 1 < mr ? el_qrq8_apply(acc[r + 1][0], &q0, lo, hi) : r0a;
      const __m256i r1b = r + 1 < mr && width > 8 ? el_qrq8_apply(acc[r + 1][1], &q1, lo, hi) : r1a;
      const __m256i bytes = el_pack2x16_i8(r0a, r0b, r1a, r1b);
      store_row(c + r * c_stride + n0, _mm256_castsi256_si128(bytes), width);
      if (r + 1 < mr) store_row(c + (r + 1) * c_stride + n0, _mm256_extracti128_si256(bytes, 1), width);
    }
  }
}
#endif
