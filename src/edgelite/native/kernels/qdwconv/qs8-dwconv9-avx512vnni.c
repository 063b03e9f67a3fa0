/* qs8-dwconv9-avx512vnni: 3x3 depthwise, one channel group over all pixels with its 5 weight
 * pairs held in registers; otherwise as qs8-dwconv-avx512vnni (masked loads for a partial last
 * group, vpdpwssd, 16-lane requantization, gemmlowp rounding from ruy_channels on). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_qavx512.h"
#include "../../include/el_quant.h"

EL_AVX512VNNI static inline __m256i load16(const int8_t *p, __mmask16 keep) {
  return _mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(keep, p));
}

#define EL_DW9_PAIR(T, X1)                                                                      \
  {                                                                                             \
    const __m256i x0 = load16(rows[T] + c0, keep), x1 = X1;                                     \
    lo = _mm256_dpwssd_epi32(lo, _mm256_unpacklo_epi16(x0, x1), wlo[T / 2]);                    \
    hi = _mm256_dpwssd_epi32(hi, _mm256_unpackhi_epi16(x0, x1), whi[T / 2]);                    \
  }

EL_AVX512VNNI void el_qs8_dwconv9_avx512vnni(size_t taps, size_t channels, size_t pixels, const int8_t **input,
                                             const void *w, size_t group_bytes, int8_t *out, const el_qout *q,
                                             size_t ruy_channels) {
  (void)taps; /* 9 */
  const __m512i zp = _mm512_set1_epi32(q->zero_point), vlo = _mm512_set1_epi32(q->lo), vhi = _mm512_set1_epi32(q->hi);
  const char *group = w;
  for (size_t c0 = 0; c0 < channels; c0 += EL_QGROUP, group += group_bytes) {
    const size_t width = channels - c0 < EL_QGROUP ? channels - c0 : EL_QGROUP;
    const __mmask16 keep = (__mmask16)((1u << width) - 1);
    const el_qrq16 rq = el_qrq16_load(group);
    const __m512i bias = _mm512_loadu_si512(group + EL_QHDR_BIAS);
    const __m256i *body = (const __m256i *)(const void *)(group + EL_QGROUP_HEADER);
    __m256i wlo[5], whi[5];
    for (int k = 0; k < 5; k++) {
      wlo[k] = _mm256_loadu_si256(body + 2 * k);
      whi[k] = _mm256_loadu_si256(body + 2 * k + 1);
    }
    const int8_t **rows = input;
    for (size_t p = 0; p < pixels; p++, rows += 9) {
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
}
#endif
