/* qs8-dwconv9-avx512vnni: 3x3 depthwise over all pixels, 32 channels (two channel groups) per
 * pass in zmm registers: each tap's 32 int8 inputs sign-extended to int16 (one zmm), two taps
 * interleaved (unpacklo/hi_epi16, per 128-bit lane) and accumulated with vpdpwssd against weight
 * pairs held in registers, which are the two groups' ymm pair vectors side by side (their lane
 * order is the unpack's, el_qkernels.h), so the packing is the 16-channel kernels'. The bias
 * starts the accumulators in that lane order; two permutes restore channel order for the 16-lane
 * requantization (el_qavx512.h). A last single or partial group runs 16 channels in ymm halves
 * with masked loads; channels from ruy_channels on requantize with gemmlowp's scalar rounding. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_qavx512.h"
#include "../../include/el_quant.h"

EL_AVX512VNNI static inline __m256i load16(const int8_t *p, __mmask16 keep) {
  return _mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(keep, p));
}

EL_AVX512VNNI static inline __m512i load32(const int8_t *p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)p));
}

/* Two ymm vectors of the same offset in groups g and g + 1, as one zmm. */
EL_AVX512VNNI static inline __m512i both(const char *g0, const char *g1, size_t offset) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(g0 + offset))),
                            _mm256_loadu_si256((const __m256i *)(g1 + offset)), 1);
}

#define EL_DW9_PAIR32(T, X1)                                                                   \
  {                                                                                            \
    const __m512i x0 = load32(rows[T] + c0), x1 = X1;                                          \
    lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(x0, x1), wlo[T / 2]);                   \
    hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(x0, x1), whi[T / 2]);                   \
  }

/* Channels [c0, c0 + 32): groups g0 and g1, both full (so every channel rounds as ruy). */
EL_AVX512VNNI static void two_groups(size_t c0, size_t channels, size_t pixels, const int8_t **input,
                                     const char *g0, const char *g1, int8_t *out, int32_t zero_point, __m512i zp,
                                     __m512i vlo, __m512i vhi) {
  const el_qrq16 rq0 = el_qrq16_load(g0, zero_point), rq1 = el_qrq16_load(g1, zero_point);
  __m512i wlo[5], whi[5];
  for (size_t k = 0; k < 5; k++) {
    wlo[k] = both(g0, g1, EL_QGROUP_HEADER + 64 * k);
    whi[k] = both(g0, g1, EL_QGROUP_HEADER + 64 * k + 32);
  }
  /* lo lanes hold channels {0-3, 8-11, 16-19, 24-27}, hi lanes {4-7, 12-15, 20-23, 28-31}. */
  const __m512i b0 = _mm512_loadu_si512(g0 + EL_QHDR_BIAS), b1 = _mm512_loadu_si512(g1 + EL_QHDR_BIAS);
  const __m512i bias_lo = _mm512_permutex2var_epi64(b0, _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13), b1);
  const __m512i bias_hi = _mm512_permutex2var_epi64(b0, _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15), b1);
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  const int8_t **rows = input;
  for (size_t p = 0; p < pixels; p++, rows += 9) {
    __m512i lo = bias_lo, hi = bias_hi;
    EL_DW9_PAIR32(0, load32(rows[1] + c0))
    EL_DW9_PAIR32(2, load32(rows[3] + c0))
    EL_DW9_PAIR32(4, load32(rows[5] + c0))
    EL_DW9_PAIR32(6, load32(rows[7] + c0))
    EL_DW9_PAIR32(8, _mm512_setzero_si512())
    int8_t *dst = out + p * channels + c0;
    _mm_storeu_si128((__m128i *)dst, el_qrq16_apply(_mm512_permutex2var_epi64(lo, first, hi), &rq0, zp, vlo, vhi));
    _mm_storeu_si128((__m128i *)(dst + 16),
                     el_qrq16_apply(_mm512_permutex2var_epi64(lo, second, hi), &rq1, zp, vlo, vhi));
  }
}

#define EL_DW9_PAIR(T, X1)                                                                      \
  {                                                                                             \
    const __m256i x0 = load16(rows[T] + c0, keep), x1 = X1;                                     \
    lo = _mm256_dpwssd_epi32(lo, _mm256_unpacklo_epi16(x0, x1), wlo[T / 2]);                    \
    hi = _mm256_dpwssd_epi32(hi, _mm256_unpackhi_epi16(x0, x1), whi[T / 2]);                    \
  }

/* Channels [c0, c0 + width) of one group, width <= 16: two pixels per step in zmm halves (the
 * unpacks stay in 128-bit lanes, so the permutes of two_groups sort them out), a last odd pixel
 * and groups with gemmlowp-rounded channels one pixel at a time in ymm. */
EL_AVX512VNNI static void one_group(size_t c0, size_t width, size_t channels, size_t pixels, const int8_t **input,
                                    const char *group, int8_t *out, const el_qout *q, size_t ruy_channels,
                                    __m512i zp, __m512i vlo, __m512i vhi) {
  const __mmask16 keep = (__mmask16)((1u << width) - 1);
  const el_qrq16 rq = el_qrq16_load(group, q->zero_point);
  const __m512i bias = _mm512_loadu_si512(group + EL_QHDR_BIAS);
  const __m256i *body = (const __m256i *)(const void *)(group + EL_QGROUP_HEADER);
  __m256i wlo[5], whi[5];
  for (int k = 0; k < 5; k++) {
    wlo[k] = _mm256_loadu_si256(body + 2 * k);
    whi[k] = _mm256_loadu_si256(body + 2 * k + 1);
  }
  const int8_t **rows = input;
  size_t p = 0;
  if (c0 + width <= ruy_channels) { /* pixel pairs in zmm: pixel p in the low half, p + 1 high */
    __m512i wlo2[5], whi2[5];
    for (int k = 0; k < 5; k++) {
      wlo2[k] = _mm512_broadcast_i64x4(wlo[k]);
      whi2[k] = _mm512_broadcast_i64x4(whi[k]);
    }
    const __m512i bias_lo = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 4, 5, 0, 1, 4, 5), bias);
    const __m512i bias_hi = _mm512_permutexvar_epi64(_mm512_setr_epi64(2, 3, 6, 7, 2, 3, 6, 7), bias);
    const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    for (; p + 2 <= pixels; p += 2, rows += 18) {
      __m512i lo2 = bias_lo, hi2 = bias_hi;
#define EL_DW9_TAP2(T) \
  _mm512_cvtepi8_epi16(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_maskz_loadu_epi8(keep, rows[T] + c0)), \
                                               _mm_maskz_loadu_epi8(keep, rows[9 + (T)] + c0), 1))
#define EL_DW9_PAIR2(T, X1)                                                                     \
  {                                                                                             \
    const __m512i x0 = EL_DW9_TAP2(T), x1 = X1;                                                 \
    lo2 = _mm512_dpwssd_epi32(lo2, _mm512_unpacklo_epi16(x0, x1), wlo2[T / 2]);                 \
    hi2 = _mm512_dpwssd_epi32(hi2, _mm512_unpackhi_epi16(x0, x1), whi2[T / 2]);                 \
  }
      EL_DW9_PAIR2(0, EL_DW9_TAP2(1))
      EL_DW9_PAIR2(2, EL_DW9_TAP2(3))
      EL_DW9_PAIR2(4, EL_DW9_TAP2(5))
      EL_DW9_PAIR2(6, EL_DW9_TAP2(7))
      EL_DW9_PAIR2(8, _mm512_setzero_si512())
#undef EL_DW9_PAIR2
#undef EL_DW9_TAP2
      int8_t *dst = out + p * channels + c0;
      _mm_mask_storeu_epi8(dst, keep, el_qrq16_apply(_mm512_permutex2var_epi64(lo2, first, hi2), &rq, zp, vlo, vhi));
      _mm_mask_storeu_epi8(dst + channels, keep,
                           el_qrq16_apply(_mm512_permutex2var_epi64(lo2, second, hi2), &rq, zp, vlo, vhi));
    }
  }
  for (; p < pixels; p++, rows += 9) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    EL_DW9_PAIR(0, load16(rows[1] + c0, keep))
    EL_DW9_PAIR(2, load16(rows[3] + c0, keep))
    EL_DW9_PAIR(4, load16(rows[5] + c0, keep))
    EL_DW9_PAIR(6, load16(rows[7] + c0, keep))
    EL_DW9_PAIR(8, _mm256_setzero_si256())
    const __m512i acc = _mm512_add_epi32(
        _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_permute2x128_si256(lo, hi, 0x20)),
                           _mm256_permute2x128_si256(lo, hi, 0x31), 1),
        bias);
    int8_t *dst = out + p * channels + c0;
    _mm_mask_storeu_epi8(dst, keep, el_qrq16_apply(acc, &rq, zp, vlo, vhi));
    if (c0 + width > ruy_channels) { /* the gemmlowp-rounded tail channels */
      int32_t lanes[EL_QGROUP];
      _mm512_storeu_si512(lanes, acc);
      for (size_t j = ruy_channels > c0 ? ruy_channels - c0 : 0; j < width; j++)
        dst[j] = el_qgroup_out(group, j, lanes[j], 0, q);
    }
  }
}

EL_AVX512VNNI void el_qs8_dwconv9_avx512vnni(size_t taps, size_t channels, size_t pixels, const int8_t **input,
                                             const void *w, size_t group_bytes, int8_t *out, const el_qout *q,
                                             size_t ruy_channels) {
  (void)taps; /* 9 */
  const __m512i zp = _mm512_set1_epi32(q->zero_point), vlo = _mm512_set1_epi32(q->lo), vhi = _mm512_set1_epi32(q->hi);
  const char *group = w;
  size_t c0 = 0;
  for (; c0 + 2 * EL_QGROUP <= channels && c0 + 2 * EL_QGROUP <= ruy_channels; c0 += 2 * EL_QGROUP) {
    two_groups(c0, channels, pixels, input, group, group + group_bytes, out, q->zero_point, zp, vlo, vhi);
    group += 2 * group_bytes;
  }
  for (; c0 < channels; c0 += EL_QGROUP, group += group_bytes) {
    const size_t width = channels - c0 < EL_QGROUP ? channels - c0 : EL_QGROUP;
    one_group(c0, width, channels, pixels, input, group, out, q, ruy_channels, zp, vlo, vhi);
  }
}
#endif
