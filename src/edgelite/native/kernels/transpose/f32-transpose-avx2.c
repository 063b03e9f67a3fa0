/* f32-transpose-avx2: 8 x 8 blocks transposed in registers (unpack, shuffle, 128-bit permute);
 * edge rows and columns one element at a time. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline void block8(const float *x, size_t xs, float *y, size_t ys) {
  __m256 r[8], t[8], s[8];
  for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(x + k * xs);
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    s[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; k++) {
    _mm256_storeu_ps(y + k * ys, _mm256_permute2f128_ps(s[k], s[k + 4], 0x20));
    _mm256_storeu_ps(y + (k + 4) * ys, _mm256_permute2f128_ps(s[k], s[k + 4], 0x31));
  }
}

EL_AVX2 void el_f32_transpose_avx2(size_t rows, size_t cols, const float *x, size_t x_stride, float *y,
                                   size_t y_stride) {
  const size_t full_rows = rows - rows % 8, full_cols = cols - cols % 8;
  for (size_t r0 = 0; r0 < full_rows; r0 += 8)
    for (size_t c0 = 0; c0 < full_cols; c0 += 8) block8(x + r0 * x_stride + c0, x_stride, y + c0 * y_stride + r0, y_stride);
  for (size_t c = 0; c < cols; c++) /* the edges: columns past full_cols, rows past full_rows */
    for (size_t r = c < full_cols ? full_rows : 0; r < rows; r++) y[c * y_stride + r] = x[r * x_stride + c];
}
#endif
