/* qs8-spmm32-avx2: int8 block-CSR weights times a transposed int16 tile of 32 pixels (see
 * el_qspmm_fn): each int32 word (a pair of int16 weights) is broadcast and vpmaddwd'd into the
 * pixel pairs of its two columns (4 ymm of 8 pixels), int32 sums wrapping as the reference's;
 * ruy's requantization with the channel's constants broadcast (as el_qavx2.h); 8 channels at a
 * time are transposed (bytes) into the NHWC output rows. */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

#if EL_ARCH_X86
#include "../../include/el_qavx2.h"

#define MT EL_SPMM_MT

/* ruy: (x << left) * m + 2^30 + 2^(30 + right), floor-shifted by 31 + right (logically, after
 * adding 2^63, then corrected), plus the zero point, clamped. */
typedef struct {
  __m256i m, round, fix, lo, hi;
  __m128i left, total;
  int shifts_left;
} requant;

EL_AVX2 static inline requant requant_load(const int32_t *params, const el_qout *q) {
  const int32_t shift = params[2];
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const uint64_t round = ((uint64_t)1 << 30) + (right ? (uint64_t)1 << (30 + right) : 0) + ((uint64_t)1 << 63);
  requant r;
  r.m = _mm256_set1_epi32(params[1]);
  r.round = _mm256_set1_epi64x((long long)round);
  r.fix = _mm256_set1_epi64x((long long)(((uint64_t)1 << (32 - right)) - (uint64_t)(int64_t)q->zero_point));
  r.lo = _mm256_set1_epi32(q->lo);
  r.hi = _mm256_set1_epi32(q->hi);
  r.left = _mm_cvtsi32_si128(left);
  r.total = _mm_cvtsi32_si128(31 + right);
  r.shifts_left = left > 0;
  return r;
}

EL_AVX2 static inline __m256i requantize(__m256i acc, const requant *r) {
  const __m256i x = r->shifts_left ? _mm256_sll_epi32(acc, r->left) : acc;
  __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, r->m), r->round);
  __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), r->m), r->round);
  even = _mm256_sub_epi64(_mm256_srl_epi64(even, r->total), r->fix);
  odd = _mm256_sub_epi64(_mm256_srl_epi64(odd, r->total), r->fix);
  const __m256i scaled = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  return _mm256_min_epi32(_mm256_max_epi32(scaled, r->lo), r->hi);
}

#define MADD_PAIR(word, pair)                                                                            \
  do {                                                                                                   \
    const __m256i w_ = _mm256_set1_epi32(word);                                                          \
    const __m256i *x_ = (const __m256i *)(const void *)(xt + (size_t)(pair) * MT * 2);                   \
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256(x_), w_));                            \
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_loadu_si256(x_ + 1), w_));                        \
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_loadu_si256(x_ + 2), w_));                        \
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_loadu_si256(x_ + 3), w_));                        \
  } while (0)

#define MADD_PAIR16(word, pair)                                                                          \
  do {                                                                                                   \
    const __m256i w_ = _mm256_set1_epi32(word);                                                          \
    const __m256i *x_ = (const __m256i *)(const void *)(xt + (size_t)(pair) * MT * 2);                   \
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256(x_), w_));                            \
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_loadu_si256(x_ + 1), w_));                        \
  } while (0)

/* Rows tmp[c] (channel c's 32 pixels, int8) -> pixel i's 8 channels (8 bytes) at y + i * stride. */
EL_AVX2 static inline void transpose_store(const int8_t (*tmp)[MT], size_t half, int8_t *y, size_t stride,
                                           size_t count) {
  __m128i a[8], b[8], c[8], d[8];
  for (int k = 0; k < 8; k++) a[k] = _mm_loadu_si128((const __m128i *)(tmp[k] + 16 * half));
  for (int k = 0; k < 8; k += 2) {
    b[k] = _mm_unpacklo_epi8(a[k], a[k + 1]);
    b[k + 1] = _mm_unpackhi_epi8(a[k], a[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) { /* k = 0: channels 0-3, k = 4: channels 4-7 */
    c[k] = _mm_unpacklo_epi16(b[k], b[k + 2]);     /* pixels 0-3 */
    c[k + 1] = _mm_unpackhi_epi16(b[k], b[k + 2]); /* 4-7 */
    c[k + 2] = _mm_unpacklo_epi16(b[k + 1], b[k + 3]); /* 8-11 */
    c[k + 3] = _mm_unpackhi_epi16(b[k + 1], b[k + 3]); /* 12-15 */
  }
  for (int k = 0; k < 4; k++) {
    d[2 * k] = _mm_unpacklo_epi32(c[k], c[k + 4]);     /* pixels 4k, 4k + 1 */
    d[2 * k + 1] = _mm_unpackhi_epi32(c[k], c[k + 4]); /* 4k + 2, 4k + 3 */
  }
  for (size_t i = 0; i < count; i++) {
    const __m128i v = d[i / 2];
    _mm_storel_epi64((__m128i *)(void *)(y + i * stride), i % 2 ? _mm_unpackhi_epi64(v, v) : v);
  }
}

EL_AVX2 void el_qs8_spmm32_avx2(size_t mr, size_t nc, size_t block, const int16_t *xt, const int32_t *row_ptr,
                                const int32_t *pairs, const int32_t *words, const int32_t *ch, int8_t *y,
                                size_t y_stride, const el_qout *q) {
  const size_t width_words = el_sparse_words(block);
  int8_t tmp[8][MT];
  for (size_t n0 = 0; n0 < nc; n0 += 8) {
    const size_t width = nc - n0 < 8 ? nc - n0 : 8;
    for (size_t c = 0; c < width; c++) {
      const int32_t *params = ch + 4 * (n0 + c);
      __m256i a0 = _mm256_set1_epi32(params[0]), a1 = a0, a2 = a0, a3 = a0;
      const int32_t end = row_ptr[n0 + c + 1];
      if (mr <= 16) { /* half a tile (FULLY_CONNECTED at batch 8 to 16): pixels 0-15 only */
        if (block == 1) {
          for (int32_t j = row_ptr[n0 + c]; j < end; j++) MADD_PAIR16(words[j], pairs[j]);
        } else {
          for (int32_t j = row_ptr[n0 + c]; j < end; j++) {
            const int32_t *w = words + (size_t)j * width_words;
            for (size_t p = 0; p < width_words; p++) MADD_PAIR16(w[p], pairs[j] + (int32_t)p);
          }
        }
      } else if (block == 1) {
        for (int32_t j = row_ptr[n0 + c]; j < end; j++) MADD_PAIR(words[j], pairs[j]);
      } else {
        for (int32_t j = row_ptr[n0 + c]; j < end; j++) {
          const int32_t *w = words + (size_t)j * width_words;
          for (size_t p = 0; p < width_words; p++) MADD_PAIR(w[p], pairs[j] + (int32_t)p);
        }
      }
      const requant r = requant_load(params, q);
      const __m128i low = el_pack16_i8(requantize(a0, &r), requantize(a1, &r));
      const __m128i high = el_pack16_i8(requantize(a2, &r), requantize(a3, &r));
      _mm_storeu_si128((__m128i *)(void *)tmp[c], low);
      _mm_storeu_si128((__m128i *)(void *)(tmp[c] + 16), high);
    }
    if (width == 8) {
      transpose_store(tmp, 0, y + n0, y_stride, mr < 16 ? mr : 16);
      if (mr > 16) transpose_store(tmp, 1, y + 16 * y_stride + n0, y_stride, mr - 16);
      continue;
    }
    for (size_t i = 0; i < mr; i++)
      for (size_t c = 0; c < width; c++) y[i * y_stride + n0 + c] = tmp[c][i];
  }
}
#endif
