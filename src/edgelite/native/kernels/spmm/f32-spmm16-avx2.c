/* f32-spmm16-avx2: block-CSR weights times a transposed tile of 16 pixels (see el_spmm_fn): per
 * channel, each weight is broadcast and FMA'd into the 16 pixels (2 ymm) of its column, over four
 * accumulator chains; 8 channels at a time are transposed into the NHWC output rows. */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

#define MT EL_SPMM_MT

#define FMA_COLUMN(acc0, acc1, weight, column)                           \
  do {                                                                   \
    const __m256 w_ = _mm256_broadcast_ss(weight);                       \
    const float *x_ = (column);                                          \
    acc0 = _mm256_fmadd_ps(w_, _mm256_loadu_ps(x_), acc0);                \
    acc1 = _mm256_fmadd_ps(w_, _mm256_loadu_ps(x_ + 8), acc1);            \
  } while (0)

/* One channel's 16 outputs (bias + products, clamped) into out[0..16). */
EL_AVX2 static inline void channel(size_t block, const float *xt, int32_t begin, int32_t end, const int32_t *cols,
                                   const float *values, float bias, __m256 lo, __m256 hi, float *out) {
  __m256 a0 = _mm256_set1_ps(bias), a1 = a0, b0 = _mm256_setzero_ps(), b1 = b0, c0 = b0, c1 = b0, d0 = b0, d1 = b0;
  int32_t j = begin;
  if (block == 1) {
    for (; j + 4 <= end; j += 4) {
      FMA_COLUMN(a0, a1, values + j, xt + (size_t)cols[j] * MT);
      FMA_COLUMN(b0, b1, values + j + 1, xt + (size_t)cols[j + 1] * MT);
      FMA_COLUMN(c0, c1, values + j + 2, xt + (size_t)cols[j + 2] * MT);
      FMA_COLUMN(d0, d1, values + j + 3, xt + (size_t)cols[j + 3] * MT);
    }
    for (; j < end; j++) FMA_COLUMN(a0, a1, values + j, xt + (size_t)cols[j] * MT);
  } else {
    for (; j < end; j++) {
      const float *w = values + (size_t)j * block, *x = xt + (size_t)cols[j] * MT;
      for (size_t b = 0; b < block; b += 4, w += 4, x += 4 * MT) {
        FMA_COLUMN(a0, a1, w, x);
        FMA_COLUMN(b0, b1, w + 1, x + MT);
        FMA_COLUMN(c0, c1, w + 2, x + 2 * MT);
        FMA_COLUMN(d0, d1, w + 3, x + 3 * MT);
      }
    }
  }
  a0 = _mm256_add_ps(_mm256_add_ps(a0, b0), _mm256_add_ps(c0, d0));
  a1 = _mm256_add_ps(_mm256_add_ps(a1, b1), _mm256_add_ps(c1, d1));
  _mm256_store_ps(out, el_clamp8(a0, lo, hi));
  _mm256_store_ps(out + 8, el_clamp8(a1, lo, hi));
}

/* Rows r[c] = channel c's 8 pixels -> pixel i's 8 channels at y + i * stride (i < count). */
EL_AVX2 static inline void transpose_store(const float (*tmp)[MT], size_t offset, float *y, size_t stride,
                                           size_t count) {
  __m256 r[8], t[8], s[8];
  for (int c = 0; c < 8; c++) r[c] = _mm256_load_ps(tmp[c] + offset);
  for (int c = 0; c < 8; c += 2) {
    t[c] = _mm256_unpacklo_ps(r[c], r[c + 1]);
    t[c + 1] = _mm256_unpackhi_ps(r[c], r[c + 1]);
  }
  for (int c = 0; c < 8; c += 4) {
    s[c] = _mm256_shuffle_ps(t[c], t[c + 2], 0x44);
    s[c + 1] = _mm256_shuffle_ps(t[c], t[c + 2], 0xEE);
    s[c + 2] = _mm256_shuffle_ps(t[c + 1], t[c + 3], 0x44);
    s[c + 3] = _mm256_shuffle_ps(t[c + 1], t[c + 3], 0xEE);
  }
  for (size_t i = 0; i < count; i++) {
    const int q = (int)(i % 4);
    const __m256 row = i < 4 ? _mm256_permute2f128_ps(s[q], s[q + 4], 0x20) : _mm256_permute2f128_ps(s[q], s[q + 4], 0x31);
    _mm256_storeu_ps(y + i * stride, row);
  }
}

EL_AVX2 void el_f32_spmm16_avx2(size_t mr, size_t nc, size_t block, const float *xt, const int32_t *row_ptr,
                                const int32_t *cols, const float *values, const float *bias, float *y, size_t y_stride,
                                float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  float tmp[8][MT] __attribute__((aligned(32)));
  for (size_t n0 = 0; n0 < nc; n0 += 8) {
    const size_t width = nc - n0 < 8 ? nc - n0 : 8;
    for (size_t c = 0; c < width; c++)
      channel(block, xt, row_ptr[n0 + c], row_ptr[n0 + c + 1], cols, values, bias[n0 + c], vlo, vhi, tmp[c]);
    if (width == 8) {
      transpose_store(tmp, 0, y + n0, y_stride, mr < 8 ? mr : 8);
      if (mr > 8) transpose_store(tmp, 8, y + 8 * y_stride + n0, y_stride, mr - 8);
      continue;
    }
    for (size_t i = 0; i < mr; i++)
      for (size_t c = 0; c < width; c++) y[i * y_stride + n0 + c] = tmp[c][i];
  }
}
#endif
