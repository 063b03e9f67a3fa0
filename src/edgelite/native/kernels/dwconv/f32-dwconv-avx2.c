/* f32-dwconv-avx2: any number of taps, 8 channels per ymm with FMA, masked channel tail. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 void el_f32_dwconv_avx2(size_t taps, size_t channels, size_t pixels, const float **input,
                                const float *w, float *out, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const size_t rem = channels & 7;
  const __m256i mask = el_mask8(rem);
  for (size_t p = 0; p < pixels; p++, input += taps, out += channels) {
    size_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      __m256 acc = _mm256_loadu_ps(w + c);
      for (size_t t = 0; t < taps; t++)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(input[t] + c), _mm256_loadu_ps(w + (1 + t) * channels + c), acc);
      _mm256_storeu_ps(out + c, el_clamp8(acc, vlo, vhi));
    }
    if (rem) {
      __m256 acc = _mm256_maskload_ps(w + c, mask);
      for (size_t t = 0; t < taps; t++)
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(input[t] + c, mask),
                              _mm256_maskload_ps(w + (1 + t) * channels + c, mask), acc);
      _mm256_maskstore_ps(out + c, mask, el_clamp8(acc, vlo, vhi));
    }
  }
}

#endif
