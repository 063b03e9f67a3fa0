/* f32-dwconv9-avx2: the 3x3 case with the nine taps unrolled, 8 channels per ymm, FMA. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

#define TAP(t) acc = _mm256_fmadd_ps(LOAD(i##t + c), LOAD(w + (1 + t) * channels + c), acc)

EL_AVX2 void el_f32_dwconv9_avx2(size_t taps, size_t channels, size_t pixels, const float **input,
                                 const float *w, float *out, float lo, float hi) {
  (void)taps;
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const size_t rem = channels & 7;
  const __m256i mask = el_mask8(rem);
  for (size_t p = 0; p < pixels; p++, input += 9, out += channels) {
    const float *i0 = input[0], *i1 = input[1], *i2 = input[2], *i3 = input[3], *i4 = input[4];
    const float *i5 = input[5], *i6 = input[6], *i7 = input[7], *i8 = input[8];
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
