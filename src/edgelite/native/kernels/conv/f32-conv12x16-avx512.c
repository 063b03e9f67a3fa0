/* f32-conv12x16-avx512: 12 rows x 16 columns over strided window rows, one zmm accumulator per
 * row, the A values broadcast from memory (see el_conv_fn). Fewer than 12 rows take the 8-, 4-, 2-
 * or 1-row tile, 1 or 2 rows over 4 or 2 panels at once (independent FMA chains); a last panel of
 * at most 8 columns runs on ymm registers. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx512.h"

EL_AVX512 static inline __attribute__((always_inline)) void conv_tile(
    const size_t tile, size_t mr, size_t nc, size_t segments, size_t seg_len, const float *const *seg,
    size_t a_stride, const float *w, float *c, size_t c_stride, __m512 vlo, __m512 vhi) {
  size_t off[12];
#pragma GCC unroll 12
  for (size_t r = 0; r < tile; r++) off[r] = (r < mr ? r : mr - 1) * a_stride;
  size_t n0 = 0;
  if (tile <= 2) { /* 1 or 2 rows: 4 / tile whole panels at once, so 4 FMA chains hide the latency */
    const size_t P = 4 / tile, panel = (segments * seg_len + 1) * EL_GEMM_NR;
    for (; nc - n0 >= P * EL_GEMM_NR; n0 += P * EL_GEMM_NR, w += P * panel) {
      __m512 acc[2][4];
#pragma GCC unroll 4
      for (size_t q = 0; q < P; q++) {
        const __m512 bias = _mm512_loadu_ps(w + q * panel);
#pragma GCC unroll 2
        for (size_t r = 0; r < tile; r++) acc[r][q] = bias;
      }
      const float *wk = w + EL_GEMM_NR;
      for (size_t j = 0; j < segments; j++) {
        const float *a = seg[j];
        for (size_t i = 0; i < seg_len; i++, wk += EL_GEMM_NR) {
#pragma GCC unroll 4
          for (size_t q = 0; q < P; q++) {
            const __m512 b = _mm512_loadu_ps(wk + q * panel);
#pragma GCC unroll 2
            for (size_t r = 0; r < tile; r++) acc[r][q] = _mm512_fmadd_ps(_mm512_set1_ps(a[off[r] + i]), b, acc[r][q]);
          }
        }
      }
#pragma GCC unroll 2
      for (size_t r = 0; r < tile; r++)
#pragma GCC unroll 4
        for (size_t q = 0; q < P; q++)
          if (r < mr) _mm512_storeu_ps(c + r * c_stride + n0 + q * EL_GEMM_NR, el_clamp16(acc[r][q], vlo, vhi));
    }
  }
  for (; n0 < nc; n0 += EL_GEMM_NR) {
    const size_t width = nc - n0 < EL_GEMM_NR ? nc - n0 : EL_GEMM_NR;
    float *out = c + n0;
    if (width <= 8) { /* a narrow last panel: ymm FMAs, which issue twice as fast as zmm ones */
      __m256 acc[12];
      const __m256 bias = _mm256_loadu_ps(w);
#pragma GCC unroll 12
      for (size_t r = 0; r < tile; r++) acc[r] = bias;
      w += EL_GEMM_NR;
      for (size_t j = 0; j < segments; j++) {
        const float *a = seg[j];
        for (size_t i = 0; i < seg_len; i++, w += EL_GEMM_NR) {
          const __m256 b = _mm256_loadu_ps(w);
#pragma GCC unroll 12
          for (size_t r = 0; r < tile; r++) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(a[off[r] + i]), b, acc[r]);
        }
      }
      const __mmask8 mask = (__mmask8)((1u << width) - 1u);
#pragma GCC unroll 12
      for (size_t r = 0; r < tile; r++)
        if (r < mr)
          _mm256_mask_storeu_ps(out + r * c_stride, mask,
                                _mm256_min_ps(_mm512_castps512_ps256(vhi),
                                              _mm256_max_ps(_mm512_castps512_ps256(vlo), acc[r])));
      continue;
    }
    __m512 acc[12];
    const __m512 bias = _mm512_loadu_ps(w);
#pragma GCC unroll 12
    for (size_t r = 0; r < tile; r++) acc[r] = bias;
    w += EL_GEMM_NR;
    for (size_t j = 0; j < segments; j++) {
      const float *a = seg[j];
      for (size_t i = 0; i < seg_len; i++, w += EL_GEMM_NR) {
        const __m512 b = _mm512_loadu_ps(w);
#pragma GCC unroll 12
        for (size_t r = 0; r < tile; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[off[r] + i]), b, acc[r]);
      }
    }
    const __mmask16 mask = el_mask16(width);
#pragma GCC unroll 12
    for (size_t r = 0; r < tile; r++)
      if (r < mr) _mm512_mask_storeu_ps(out + r * c_stride, mask, el_clamp16(acc[r], vlo, vhi));
  }
}

EL_AVX512 void el_f32_conv12x16_avx512(size_t mr, size_t nc, size_t segments, size_t seg_len,
                                       const float *const *seg, size_t a_stride, const float *w, float *c,
                                       size_t c_stride, float lo, float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const size_t tile = mr > 8 ? 12 : mr > 4 ? 8 : mr > 2 ? 4 : mr;
  if (tile == 12) conv_tile(12, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
  else if (tile == 8) conv_tile(8, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
  else if (tile == 4) conv_tile(4, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
  else if (tile == 2) conv_tile(2, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
  else conv_tile(1, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
}
#endif
