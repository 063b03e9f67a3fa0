/* f32-spmv-avx2: block-CSR weights times a few contiguous rows, one dot product per output (see
 * el_spmv_fn): blocks of 16 as two ymm FMAs, blocks of 4 as one xmm FMA, single weights eight at a
 * time through a gather of their columns. */
#include "../../include/el_kernels.h"
#include "../../include/el_math.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline float hsum4(__m128 s) {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

EL_AVX2 static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

EL_AVX2 static inline float dot(size_t block, const float *x, int32_t j, int32_t end, const int32_t *cols,
                                const float *values) {
  __m256 a = _mm256_setzero_ps(), b = a;
  if (block == 16) {
    for (; j < end; j++) {
      const float *w = values + (size_t)j * 16, *xs = x + cols[j];
      a = _mm256_fmadd_ps(_mm256_loadu_ps(w), _mm256_loadu_ps(xs), a);
      b = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8), _mm256_loadu_ps(xs + 8), b);
    }
    return hsum8(_mm256_add_ps(a, b));
  }
  if (block == 4) {
    __m128 p = _mm_setzero_ps(), q = p;
    for (; j + 2 <= end; j += 2) {
      p = _mm_fmadd_ps(_mm_loadu_ps(values + (size_t)j * 4), _mm_loadu_ps(x + cols[j]), p);
      q = _mm_fmadd_ps(_mm_loadu_ps(values + (size_t)j * 4 + 4), _mm_loadu_ps(x + cols[j + 1]), q);
    }
    if (j < end) p = _mm_fmadd_ps(_mm_loadu_ps(values + (size_t)j * 4), _mm_loadu_ps(x + cols[j]), p);
    return hsum4(_mm_add_ps(p, q));
  }
  for (; j + 16 <= end; j += 16) {
    a = _mm256_fmadd_ps(_mm256_loadu_ps(values + j),
                        _mm256_i32gather_ps(x, _mm256_loadu_si256((const __m256i *)(cols + j)), 4), a);
    b = _mm256_fmadd_ps(_mm256_loadu_ps(values + j + 8),
                        _mm256_i32gather_ps(x, _mm256_loadu_si256((const __m256i *)(cols + j + 8)), 4), b);
  }
  float tail = 0.0f;
  for (; j < end; j++) tail += values[j] * x[cols[j]];
  return hsum8(_mm256_add_ps(a, b)) + tail;
}

EL_AVX2 void el_f32_spmv_avx2(size_t mr, size_t nc, size_t block, const float *x, size_t x_stride,
                              const int32_t *row_ptr, const int32_t *cols, const float *values, const float *bias,
                              float *y, size_t y_stride, float lo, float hi) {
  for (size_t m = 0; m < mr; m++, x += x_stride, y += y_stride)
    for (size_t n = 0; n < nc; n++)
      y[n] = el_clamp(bias[n] + dot(block, x, row_ptr[n], row_ptr[n + 1], cols, values), lo, hi);
}
#endif
