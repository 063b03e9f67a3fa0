/* Helpers for the float32 AVX-512 kernels (level `avx512`: F/BW/VL/DQ): included only inside
 * `#if EL_ARCH_X86`. Every function that uses them carries EL_AVX512, so the rest of the library
 * stays baseline x86-64. */
#ifndef EL_AVX512_H
#define EL_AVX512_H

#include <immintrin.h>

#define EL_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq")))

/* The first n (<= 16) lanes. */
EL_AVX512 static inline __mmask16 el_mask16(size_t n) { return (__mmask16)((1u << n) - 1u); }

/* (lo > x ? lo : x) then (hi < x ? hi : x): NaN and -0.0 pass through, as in the scalar code. */
EL_AVX512 static inline __m512 el_clamp16(__m512 x, __m512 lo, __m512 hi) {
  return _mm512_min_ps(hi, _mm512_max_ps(lo, x));
}

/* `tile` rows (a compile-time constant at each call; rows past mr repeat row mr - 1) x nc columns
 * of packed panels, A read as `segments` runs of seg_len values (row r's at seg[j] + r * a_stride):
 * the conv12x16 kernel and, with one segment, the gemm12x16 kernel. 1 or 2 rows take 4 / tile
 * panels at once; a last panel of at most 8 columns runs on ymm registers. */
EL_AVX512 static inline __attribute__((always_inline)) void el_conv12x16_tile(
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

/* Depthwise convolution over 16-channel blocks (see el_dwconv_fn), the block loop outside the
 * pixel loop so that the `taps` weight vectors (a compile-time constant at each use) and the bias
 * stay in registers while a row of pixels streams through. */
EL_AVX512 static inline __attribute__((always_inline)) void el_dwconv16_fixed(
    const size_t taps, size_t channels, size_t pixels, const float **input, size_t pixel_stride, const float *w,
    float *out, float lo, float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  for (size_t c = 0; c < channels; c += 16) {
    const __mmask16 mask = el_mask16(channels - c < 16 ? channels - c : 16);
    const __m512 bias = _mm512_maskz_loadu_ps(mask, w + c);
    __m512 wt[25];
#pragma GCC unroll 25
    for (size_t t = 0; t < taps; t++) wt[t] = _mm512_maskz_loadu_ps(mask, w + (1 + t) * channels + c);
    float *o = out + c;
    if (pixel_stride) {
      for (size_t p = 0, offset = c; p < pixels; p++, offset += pixel_stride, o += channels) {
        __m512 acc = bias;
#pragma GCC unroll 25
        for (size_t t = 0; t < taps; t++) acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, input[t] + offset), wt[t], acc);
        _mm512_mask_storeu_ps(o, mask, el_clamp16(acc, vlo, vhi));
      }
    } else {
      const float **in = input;
      for (size_t p = 0; p < pixels; p++, in += taps, o += channels) {
        __m512 acc = bias;
#pragma GCC unroll 25
        for (size_t t = 0; t < taps; t++) acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, in[t] + c), wt[t], acc);
        _mm512_mask_storeu_ps(o, mask, el_clamp16(acc, vlo, vhi));
      }
    }
  }
}
#endif
