/* f32-pool-avx2: 8 channels per ymm, masked tail (see el_pool_fn); max_ps(v, acc) is exactly
 * v > acc ? v : acc, so NaN inputs are skipped as in the scalar kernel. */
#include <math.h>

#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline __m256 pool8(int op, size_t taps, const float **input, size_t c, __m256 acc, __m256i mask,
                                   int masked) {
  for (size_t t = 0; t < taps; t++) {
    const __m256 v = masked ? _mm256_maskload_ps(input[t] + c, mask) : _mm256_loadu_ps(input[t] + c);
    acc = op == EL_POOL_MAX ? _mm256_max_ps(v, acc) : _mm256_add_ps(acc, v);
  }
  return acc;
}

EL_AVX2 void el_f32_pool_avx2(int op, size_t taps, size_t channels, const float **input, float *out, int first,
                              int last, float scale, float lo, float hi) {
  const __m256 init = _mm256_set1_ps(op == EL_POOL_MAX ? -INFINITY : 0.0f), vscale = _mm256_set1_ps(scale);
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const __m256i mask = el_mask8(channels & 7);
  for (size_t c = 0; c < channels; c += 8) {
    const int masked = channels - c < 8;
    __m256 acc = first ? init : masked ? _mm256_maskload_ps(out + c, mask) : _mm256_loadu_ps(out + c);
    acc = pool8(op, taps, input, c, acc, mask, masked);
    if (last) acc = el_clamp8(op == EL_POOL_MAX ? acc : _mm256_mul_ps(acc, vscale), vlo, vhi);
    if (masked) _mm256_maskstore_ps(out + c, mask, acc);
    else _mm256_storeu_ps(out + c, acc);
  }
}
#endif
