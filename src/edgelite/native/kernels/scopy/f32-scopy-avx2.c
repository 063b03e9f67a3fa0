/* f32-scopy-avx2: y[i] = x[i * stride]; unit stride is a memcpy, small strides gather 8 lanes
 * (32-bit indices: |stride| < 2^27), larger ones copy one element at a time. */
#include <string.h>

#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 void el_f32_scopy_avx2(size_t n, const float *x, ptrdiff_t stride, float *y) {
  if (stride == 1) {
    memcpy(y, x, n * sizeof(float));
    return;
  }
  size_t i = 0;
  if (stride > -(1 << 27) && stride < (1 << 27)) {
    const int s = (int)stride;
    const __m256i lanes = _mm256_setr_epi32(0, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s, 7 * s);
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(y + i, _mm256_i32gather_ps(x + (ptrdiff_t)i * stride, lanes, 4));
  }
  for (; i < n; i++) y[i] = x[(ptrdiff_t)i * stride];
}
#endif
