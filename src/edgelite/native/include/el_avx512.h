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
