/* qs8-hgemm4x16-avx2: 4 rows x 16 channels in 8 ymm int32 accumulators (vpmaddwd of a broadcast
 * int16 input pair by 16 channels' weight pairs, exact), then the float epilogue: convert, times
 * row scale x weight scale, plus bias, clamp (separate multiply and add, as the reference rounds). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include <string.h>

#include "../../include/el_avx2.h"

EL_AVX2 static inline __m256i pair(const int16_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

/* 8 outputs of one row: clamp(float(acc) * (rs * ws) + bias) stored (width of them, <= 8). */
EL_AVX2 static inline void store8(float *out, __m256i acc, __m256 rs, const char *group, size_t half, size_t width,
                                  __m256 lo, __m256 hi) {
  const __m256 ws = _mm256_loadu_ps((const float *)(const void *)(group + EL_HHDR_SCALE) + 8 * half);
  const __m256 bias = _mm256_loadu_ps((const float *)(const void *)(group + EL_HHDR_BIAS) + 8 * half);
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_mul_ps(rs, ws));
  v = _mm256_add_ps(v, bias);
  v = _mm256_min_ps(hi, _mm256_max_ps(lo, v)); /* NaN passes through, as np.clip */
  if (width >= 8) {
    _mm256_storeu_ps(out, v);
  } else {
    float tmp[8];
    _mm256_storeu_ps(tmp, v);
    memcpy(out, tmp, width * sizeof(float));
  }
}

EL_AVX2 void el_qs8_hgemm4x16_avx2(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride, const void *w,
                                   size_t group_bytes, float *c, size_t c_stride, const float *row_scale, float lo,
                                   float hi) {
  const int16_t *a0 = a, *a1 = mr > 1 ? a + a_stride : a0, *a2 = mr > 2 ? a + 2 * a_stride : a1;
  const int16_t *a3 = mr > 3 ? a + 3 * a_stride : a2;
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_HGROUP, group += group_bytes) {
    const size_t width = nc - n0 < EL_HGROUP ? nc - n0 : EL_HGROUP;
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00;
    __m256i c31 = c00;
    const int16_t *wk = (const int16_t *)(const void *)(group + EL_HGROUP_HEADER);
    if (width > 8) {
      for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_HGROUP) {
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
      for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_HGROUP) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)wk);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(pair(a0 + k), w0));
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(pair(a1 + k), w0));
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(pair(a2 + k), w0));
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(pair(a3 + k), w0));
      }
    }
    const __m256i acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    for (size_t r = 0; r < mr; r++) {
      const __m256 rs = _mm256_set1_ps(row_scale[r]);
      float *out = c + r * c_stride + n0;
      store8(out, acc[r][0], rs, group, 0, width, vlo, vhi);
      if (width > 8) store8(out + 8, acc[r][1], rs, group, 1, width - 8, vlo, vhi);
    }
  }
}
#endif
