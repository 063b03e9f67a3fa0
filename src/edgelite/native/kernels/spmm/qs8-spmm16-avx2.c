/* qs8-spmm16-avx2: int8 block-CSR weights times a transposed int16 tile of 16 pixels (see
 * el_qspmm_fn): each int32 word (a pair of int16 weights) is broadcast and vpmaddwd'd into the
 * pixel pairs of its two columns (2 ymm: pixels 0-7, 8-15), int32 sums wrapping as the
 * reference's; ruy's requantization with the channel's constants broadcast (as el_qavx2.h). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

#if EL_ARCH_X86
#include "../../include/el_qavx2.h"

#define MT EL_SPMM_MT

/* ruy: (x << left) * m + 2^30 + 2^(30 + right), floor-shifted by 31 + right (logically, after
 * adding 2^63, then corrected), plus the zero point, clamped. */
EL_AVX2 static inline __m256i requantize(__m256i acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                                         __m256i lo, __m256i hi) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const __m256i x = left ? _mm256_sll_epi32(acc, _mm_cvtsi32_si128(left)) : acc, m = _mm256_set1_epi32(multiplier);
  const uint64_t round = ((uint64_t)1 << 30) + (right ? (uint64_t)1 << (30 + right) : 0) + ((uint64_t)1 << 63);
  const __m256i vround = _mm256_set1_epi64x((long long)round);
  const __m128i total = _mm_cvtsi32_si128(31 + right);
  const __m256i fix = _mm256_set1_epi64x((long long)(((uint64_t)1 << (32 - right)) - (uint64_t)(int64_t)zero_point));
  __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, m), vround);
  __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), m), vround);
  even = _mm256_sub_epi64(_mm256_srl_epi64(even, total), fix);
  odd = _mm256_sub_epi64(_mm256_srl_epi64(odd, total), fix);
  const __m256i scaled = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  return _mm256_min_epi32(_mm256_max_epi32(scaled, lo), hi);
}

#define MADD_PAIR(acc0, acc1, word, pair)                                                         \
  do {                                                                                            \
    const __m256i w_ = _mm256_set1_epi32(word);                                                   \
    const int16_t *x_ = xt + (size_t)(pair) * MT * 2;                                             \
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x_), w_));      \
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(x_ + 16)), w_)); \
  } while (0)

EL_AVX2 void el_qs8_spmm16_avx2(size_t mr, size_t nc, size_t block, const int16_t *xt, const int32_t *row_ptr,
                                const int32_t *pairs, const int32_t *words, const int32_t *ch, int8_t *y,
                                size_t y_stride, const el_qout *q) {
  const size_t width_words = el_sparse_words(block);
  const __m256i lo = _mm256_set1_epi32(q->lo), hi = _mm256_set1_epi32(q->hi);
  int8_t tmp[8][MT];
  for (size_t n0 = 0; n0 < nc; n0 += 8) {
    const size_t width = nc - n0 < 8 ? nc - n0 : 8;
    for (size_t c = 0; c < width; c++) {
      const int32_t *params = ch + 4 * (n0 + c);
      __m256i a0 = _mm256_set1_epi32(params[0]), a1 = a0, b0 = _mm256_setzero_si256(), b1 = b0;
      int32_t j = row_ptr[n0 + c];
      const int32_t end = row_ptr[n0 + c + 1];
      if (block == 1) {
        for (; j + 2 <= end; j += 2) {
          MADD_PAIR(a0, a1, words[j], pairs[j]);
          MADD_PAIR(b0, b1, words[j + 1], pairs[j + 1]);
        }
        if (j < end) MADD_PAIR(a0, a1, words[j], pairs[j]);
      } else {
        for (; j < end; j++) {
          const int32_t *w = words + (size_t)j * width_words;
          for (size_t p = 0; p < width_words; p += 2) {
            MADD_PAIR(a0, a1, w[p], pairs[j] + (int32_t)p);
            MADD_PAIR(b0, b1, w[p + 1], pairs[j] + (int32_t)p + 1);
          }
        }
      }
      const __m256i v0 = requantize(_mm256_add_epi32(a0, b0), params[1], params[2], q->zero_point, lo, hi);
      const __m256i v1 = requantize(_mm256_add_epi32(a1, b1), params[1], params[2], q->zero_point, lo, hi);
      _mm_storeu_si128((__m128i *)tmp[c], el_pack16_i8(v0, v1));
    }
    for (size_t i = 0; i < mr; i++)
      for (size_t c = 0; c < width; c++) y[i * y_stride + n0 + c] = tmp[c][i];
  }
}
#endif
