/* f32-dwconv-avx512: any number of taps, 16 channels per zmm (masked tail), the channel-block loop
 * outside the pixel loop so a block's weights stay in L1 (see el_dwconv_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx512.h"

EL_AVX512 void el_f32_dwconv_avx512(size_t taps, size_t channels, size_t pixels, const float **input,
                                    size_t pixel_stride, const float *w, float *out, float lo, float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  for (size_t c = 0; c < channels; c += 16) {
    const __mmask16 mask = el_mask16(channels - c < 16 ? channels - c : 16);
    const __m512 bias = _mm512_maskz_loadu_ps(mask, w + c);
    const float *wc = w + channels + c;
    float *o = out + c;
    for (size_t p = 0; p < pixels; p++, o += channels) {
      const float **in = pixel_stride ? input : input + p * taps;
      const size_t offset = pixel_stride * p + c;
      __m512 acc = bias;
      for (size_t t = 0; t < taps; t++)
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, in[t] + offset), _mm512_maskz_loadu_ps(mask, wc + t * channels),
                              acc);
      _mm512_mask_storeu_ps(o, mask, el_clamp16(acc, vlo, vhi));
    }
  }
}
#endif
