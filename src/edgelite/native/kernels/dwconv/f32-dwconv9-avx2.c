/* f32-dwconv9-avx2: the 3x3 case, 8 channels per ymm with FMA; the channel-block loop is outside
 * the pixel loop so the nine weight vectors and the bias stay in registers across a row of pixels
 * (see el_dwconv_fn). Full blocks use plain loads and stores (masked ones are slow on AMD). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline __attribute__((always_inline)) void block(const int tail, size_t c, __m256i mask,
                                                               size_t channels, size_t pixels, const float **input,
                                                               size_t pixel_stride, const float *w, float *out,
                                                               __m256 vlo, __m256 vhi) {
#define LOAD(p) (tail ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p))
  const __m256 bias = LOAD(w + c);
  __m256 wt[9];
#pragma GCC unroll 9
  for (size_t t = 0; t < 9; t++) wt[t] = LOAD(w + (1 + t) * channels + c);
  float *o = out + c;
  for (size_t p = 0; p < pixels; p++, o += channels) {
    const float **in = pixel_stride ? input : input + p * 9;
    const size_t offset = pixel_stride * p + c;
    __m256 acc = bias;
#pragma GCC unroll 9
    for (size_t t = 0; t < 9; t++) acc = _mm256_fmadd_ps(LOAD(in[t] + offset), wt[t], acc);
    if (tail) _mm256_maskstore_ps(o, mask, el_clamp8(acc, vlo, vhi));
    else _mm256_storeu_ps(o, el_clamp8(acc, vlo, vhi));
  }
#undef LOAD
}

EL_AVX2 void el_f32_dwconv9_avx2(size_t taps, size_t channels, size_t pixels, const float **input,
                                 size_t pixel_stride, const float *w, float *out, float lo, float hi) {
  (void)taps;
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const __m256i all = el_mask8(8);
  size_t c = 0;
  for (; c + 8 <= channels; c += 8) block(0, c, all, channels, pixels, input, pixel_stride, w, out, vlo, vhi);
  if (c < channels) block(1, c, el_mask8(channels - c), channels, pixels, input, pixel_stride, w, out, vlo, vhi);
}
#endif
