/* f32-spmm32-avx2: block-CSR weights times a transposed tile of 32 pixels (see el_spmm_fn): per
 * channel, each weight is broadcast and FMA'd into the 32 pixels (4 ymm) of its column, over two
 * accumulator chains; 8 channels at a time are transposed into the NHWC output rows. */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

#define MT EL_SPMM_MT

#define FMA_COLUMN(p, weight, column)                                    \
  do {                                                                   \
    const __m256 w_ = _mm256_broadcast_ss(weight);                       \
    const float *x_ = (column);                                          \
    p##0 = _mm256_fmadd_ps(w_, _mm256_loadu_ps(x_), p##0);               \
    p##1 = _mm256_fmadd_ps(w_, _mm256_loadu_ps(x_ + 8), p##1);           \
    p##2 = _mm256_fmadd_ps(w_, _mm256_loadu_ps(x_ + 16), p##2);          \
    p##3 = _mm256_fmadd_ps(w_, _mm256_loadu_ps(x_ + 24), p##3);          \
  } while (0)

/* One channel's 32 outputs (bias + products, clamped) into out[0..32). */
EL_AVX2 static inline void channel(size_t block, const float *xt, int32_t begin, int32_t end, const int32_t *cols,
                                   const float *values, float bias, __m256 lo, __m256 hi, float *out) {
  __m256 a0 = _mm256_set1_ps(bias), a1 = a0, a2 = a0, a3 = a0;
  __m256 b0 = _mm256_setzero_ps(), b1 = b0, b2 = b0, b3 = b0;
  int32_t j = begin;
  if (block == 1) {
    for (; j + 2 <= end; j += 2) {
      FMA_COLUMN(a, values + j, xt + (size_t)cols[j] * MT);
      FMA_COLUMN(b, values + j + 1, xt + (size_t)cols[j + 1] * MT);
    }
    if (j < end) FMA_COLUMN(a, values + j, xt + (size_t)cols[j] * MT);
  } else {
    for (; j < end; j++) {
      const float *w = values + (size_t)j * block, *x = xt + (size_t)cols[j] * MT;
      for (size_t k = 0; k < block; k += 2, w += 2, x += 2 * MT) {
        FMA_COLUMN(a, w, x);
        FMA_COLUMN(b, w + 1, x + MT);
      }
    }
  }
  _mm256_store_ps(out, el_clamp8(_mm256_add_ps(a0, b0), lo, hi));
  _mm256_store_ps(out + 8, el_clamp8(_mm256_add_ps(a1, b1), lo, hi));
  _mm256_store_ps(out + 16, el_clamp8(_mm256_add_ps(a2, b2), lo, hi));
  _mm256_store_ps(out + 24, el_clamp8(_mm256_add_ps(a3, b3), lo, hi));
}

#define FMA_COLUMN16(p, weight, column)                                  \
  do {                                                                   \
    const __m256 w_ = _mm256_broadcast_ss(weight);                       \
    const float *x_ = (column);                                          \
    p##0 = _mm256_fmadd_ps(w_, _mm256_loadu_ps(x_), p##0);               \
    p##1 = _mm256_fmadd_ps(w_, _mm256_loadu_ps(x_ + 8), p##1);           \
  } while (0)

/* channel() for tiles of at most 16 pixels (FULLY_CONNECTED at batch 8 to 16): two ymm per chain,
 * four chains. */
EL_AVX2 static inline void channel16(size_t block, const float *xt, int32_t begin, int32_t end, const int32_t *cols,
                                     const float *values, float bias, __m256 lo, __m256 hi, float *out) {
  __m256 a0 = _mm256_set1_ps(bias), a1 = a0, b0 = _mm256_setzero_ps(), b1 = b0, c0 = b0, c1 = b0, d0 = b0, d1 = b0;
  int32_t j = begin;
  if (block == 1) {
    for (; j + 4 <= end; j += 4) {
      FMA_COLUMN16(a, values + j, xt + (size_t)cols[j] * MT);
      FMA_COLUMN16(b, values + j + 1, xt + (size_t)cols[j + 1] * MT);
      FMA_COLUMN16(c, values + j + 2, xt + (size_t)cols[j + 2] * MT);
      FMA_COLUMN16(d, values + j + 3, xt + (size_t)cols[j + 3] * MT);
    }
    for (; j < end; j++) FMA_COLUMN16(a, values + j, xt + (size_t)cols[j] * MT);
  } else {
    for (; j < end; j++) {
      const float *w = values + (size_t)j * block, *x = xt + (size_t)cols[j] * MT;
      for (size_t k = 0; k < block; k += 4, w += 4, x += 4 * MT) {
        FMA_COLUMN16(a, w, x);
        FMA_COLUMN16(b, w + 1, x + MT);
        FMA_COLUMN16(c, w + 2, x + 2 * MT);
        FMA_COLUMN16(d, w + 3, x + 3 * MT);
      }
    }
  }
  _mm256_store_ps(out, el_clamp8(_mm256_add_ps(_mm256_add_ps(a0, b0), _mm256_add_ps(c0, d0)), lo, hi));
  _mm256_store_ps(out + 8, el_clamp8(_mm256_add_ps(_mm256_add_ps(a1, b1), _mm256_add_ps(c1, d1)), lo, hi));
}

/* Rows tmp[c] + offset = channel c's 8 pixels -> pixel i's 8 channels at y + i * stride (i < count). */
EL_AVX2 static inline void transpose_store(const float (*tmp)[MT], size_t offset, float *y, size_t stride,
                                           size_t count) {
  const __m256 r0 = _mm256_load_ps(tmp[0] + offset), r1 = _mm256_load_ps(tmp[1] + offset);
  const __m256 r2 = _mm256_load_ps(tmp[2] + offset), r3 = _mm256_load_ps(tmp[3] + offset);
  const __m256 r4 = _mm256_load_ps(tmp[4] + offset), r5 = _mm256_load_ps(tmp[5] + offset);
  const __m256 r6 = _mm256_load_ps(tmp[6] + offset), r7 = _mm256_load_ps(tmp[7] + offset);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  if (count == 8) {
    _mm256_storeu_ps(y, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(y + stride, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(y + 2 * stride, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(y + 3 * stride, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(y + 4 * stride, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(y + 5 * stride, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(y + 6 * stride, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(y + 7 * stride, _mm256_permute2f128_ps(s3, s7, 0x31));
    return;
  }
  const __m256 rows[8] = {_mm256_permute2f128_ps(s0, s4, 0x20), _mm256_permute2f128_ps(s1, s5, 0x20),
                          _mm256_permute2f128_ps(s2, s6, 0x20), _mm256_permute2f128_ps(s3, s7, 0x20),
                          _mm256_permute2f128_ps(s0, s4, 0x31), _mm256_permute2f128_ps(s1, s5, 0x31),
                          _mm256_permute2f128_ps(s2, s6, 0x31), _mm256_permute2f128_ps(s3, s7, 0x31)};
  for (size_t i = 0; i < count; i++) _mm256_storeu_ps(y + i * stride, rows[i]);
}

EL_AVX2 void el_f32_spmm32_avx2(size_t mr, size_t nc, size_t block, const float *xt, const int32_t *row_ptr,
                                const int32_t *cols, const float *values, const float *bias, float *y, size_t y_stride,
                                float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  float tmp[8][MT] __attribute__((aligned(32)));
  for (size_t n0 = 0; n0 < nc; n0 += 8) {
    const size_t width = nc - n0 < 8 ? nc - n0 : 8;
    for (size_t c = 0; c < width; c++) {
      if (mr <= 16)
        channel16(block, xt, row_ptr[n0 + c], row_ptr[n0 + c + 1], cols, values, bias[n0 + c], vlo, vhi, tmp[c]);
      else
        channel(block, xt, row_ptr[n0 + c], row_ptr[n0 + c + 1], cols, values, bias[n0 + c], vlo, vhi, tmp[c]);
    }
    if (width == 8) {
      for (size_t i0 = 0; i0 < mr; i0 += 8)
        transpose_store(tmp, i0, y + i0 * y_stride + n0, y_stride, mr - i0 < 8 ? mr - i0 : 8);
      continue;
    }
    for (size_t i = 0; i < mr; i++)
      for (size_t c = 0; c < width; c++) y[i * y_stride + n0 + c] = tmp[c][i];
  }
}
#endif
