/* f32-dwconv-avx2: any number of taps, 8 channels per ymm with FMA, masked channel tail. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 void el_f32_dwconv_avx2(size_t taps, size_t channels, size_t pixels, const float **input,
                                size_t pixel_stride, const float *w, float *out, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const size_t rem = channels & 7;
  const __m256i mask = el_mask8(rem);
  for (size_t p = 0; p < pixels; p++, out += channels) {
    const float **in = pixel_stride ? input : input + p * taps;
    const size_t offset = pixel_stride * p;
    size_t c = 0;
    for (; c + 32 <= channels; c += 32) { /* four blocks share each tap's pointer load */
      const float *wc = w + c;
      __m256 a0 = _mm256_loadu_ps(wc), a1 = _mm256_loadu_ps(wc + 8), a2 = _mm256_loadu_ps(wc + 16);
      __m256 a3 = _mm256_loadu_ps(wc + 24);
      for (size_t t = 0; t < taps; t++) {
        const float *i = in[t] + offset + c, *wt = wc + (1 + t) * channels;
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(i), _mm256_loadu_ps(wt), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(i + 8), _mm256_loadu_ps(wt + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(i + 16), _mm256_loadu_ps(wt + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(i + 24), _mm256_loadu_ps(wt + 24), a3);
      }
      _mm256_storeu_ps(out + c, el_clamp8(a0, vlo, vhi));
      _mm256_storeu_ps(out + c + 8, el_clamp8(a1, vlo, vhi));
      _mm256_storeu_ps(out + c + 16, el_clamp8(a2, vlo, vhi));
      _mm256_storeu_ps(out + c + 24, el_clamp8(a3, vlo, vhi));
    }
    for (; c + 8 <= channels; c += 8) {
      __m256 acc = _mm256_loadu_ps(w + c);
      for (size_t t = 0; t < taps; t++)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(in[t] + offset + c), _mm256_loadu_ps(w + (1 + t) * channels + c), acc);
      _mm256_storeu_ps(out + c, el_clamp8(acc, vlo, vhi));
    }
    if (rem) {
      __m256 acc = _mm256_maskload_ps(w + c, mask);
      for (size_t t = 0; t < taps; t++)
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(in[t] + offset + c, mask),
                              _mm256_maskload_ps(w + (1 + t) * channels + c, mask), acc);
      _mm256_maskstore_ps(out + c, mask, el_clamp8(acc, vlo, vhi));
    }
  }
}

#endif
