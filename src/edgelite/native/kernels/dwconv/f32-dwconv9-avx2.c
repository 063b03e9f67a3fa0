/* f32-dwconv9-avx2: the 3x3 case with the nine taps unrolled, 8 channels per ymm, FMA. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

#define TAP(t) acc = _mm256_fmadd_ps(LOAD(i##t + c), LOAD(w + (1 + t) * channels + c), acc)

EL_AVX2 void el_f32_dwconv9_avx2(size_t taps, size_t channels, size_t pixels, const float **input,
                                 size_t pixel_stride, const float *w, float *out, float lo, float hi) {
  (void)taps;
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const size_t rem = channels & 7;
  const __m256i mask = el_mask8(rem);
  for (size_t p = 0; p < pixels; p++, out += channels) {
    const float **in = pixel_stride ? input : input + p * 9;
    const size_t offset = pixel_stride * p;
    const float *i0 = in[0] + offset, *i1 = in[1] + offset, *i2 = in[2] + offset, *i3 = in[3] + offset;
    const float *i4 = in[4] + offset, *i5 = in[5] + offset, *i6 = in[6] + offset, *i7 = in[7] + offset;
    const float *i8 = in[8] + offset;
    size_t c = 0;
#define LOAD(p) _mm256_loadu_ps(p)
    for (; c + 8 <= channels; c += 8) {
      __m256 acc = LOAD(w + c);
      TAP(0); TAP(1); TAP(2); TAP(3); TAP(4); TAP(5); TAP(6); TAP(7); TAP(8);
      _mm256_storeu_ps(out + c, el_clamp8(acc, vlo, vhi));
    }
#undef LOAD
#define LOAD(p) _mm256_maskload_ps(p, mask)
    if (rem) {
      __m256 acc = LOAD(w + c);
      TAP(0); TAP(1); TAP(2); TAP(3); TAP(4); TAP(5); TAP(6); TAP(7); TAP(8);
      _mm256_maskstore_ps(out + c, mask, el_clamp8(acc, vlo, vhi));
    }
#undef LOAD
  }
}
#endif
