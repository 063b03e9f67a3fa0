/* qs8-spmv-avx2: int8 block-CSR weights times a few int16 rows, one int32 dot product per output
 * (see el_qspmv_fn): blocks of 16 as one vpmaddwd of 16 int16, blocks of 4 as one of 4, column
 * pairs (block 1) 8 at a time through a gather; ruy requantization (el_quant.h). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline uint32_t hsum8_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return (uint32_t)_mm_cvtsi128_si32(s);
}

EL_AVX2 static inline uint32_t dot(size_t block, const int16_t *x, int32_t j, int32_t end, const int32_t *pairs,
                                   const int32_t *words) {
  if (block == 16) {
    __m256i a = _mm256_setzero_si256();
    for (; j < end; j++)
      a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(x + 2 * (size_t)pairs[j])),
                                                _mm256_loadu_si256((const __m256i *)(words + (size_t)j * 8))));
    return hsum8_epi32(a);
  }
  if (block == 4) {
    __m128i a = _mm_setzero_si128();
    for (; j < end; j++)
      a = _mm_add_epi32(a, _mm_madd_epi16(_mm_loadl_epi64((const __m128i *)(x + 2 * (size_t)pairs[j])),
                                          _mm_loadl_epi64((const __m128i *)(words + (size_t)j * 2))));
    return (uint32_t)_mm_cvtsi128_si32(a) + (uint32_t)_mm_extract_epi32(a, 1);
  }
  __m256i a = _mm256_setzero_si256(); /* 8 pairs at a time: gathered x pairs times their words */
  for (; j + 8 <= end; j += 8) {
    const __m256i x_pairs = _mm256_i32gather_epi32((const int *)(const void *)x,
                                                   _mm256_loadu_si256((const __m256i *)(pairs + j)), 4);
    a = _mm256_add_epi32(a, _mm256_madd_epi16(x_pairs, _mm256_loadu_si256((const __m256i *)(words + j))));
  }
  uint32_t acc = hsum8_epi32(a);
  for (; j < end; j++) {
    const int16_t *xs = x + 2 * (size_t)pairs[j];
    const uint32_t w = (uint32_t)words[j];
    acc += (uint32_t)(xs[0] * (int16_t)(uint16_t)(w & 0xFFFF) + xs[1] * (int16_t)(uint16_t)(w >> 16));
  }
  return acc;
}

EL_AVX2 void el_qs8_spmv_avx2(size_t mr, size_t nc, size_t block, const int16_t *x, size_t x_stride,
                              const int32_t *row_ptr, const int32_t *pairs, const int32_t *words, const int32_t *ch,
                              int8_t *y, size_t y_stride, const el_qout *q) {
  for (size_t m = 0; m < mr; m++, x += x_stride, y += y_stride)
    for (size_t n = 0; n < nc; n++) {
      const uint32_t acc = (uint32_t)ch[4 * n] + dot(block, x, row_ptr[n], row_ptr[n + 1], pairs, words);
      const int32_t scaled = el_mbqm_ruy((int32_t)acc, ch[4 * n + 1], ch[4 * n + 2]);
      y[n] = (int8_t)el_clamp32(el_wrap32((int64_t)scaled + q->zero_point), q->lo, q->hi);
    }
}
#endif
