/* qs8-dwconv-avx512vnni: one channel group (16 channels) at a time over all pixels, so its
 * requantization constants load once; two taps' inputs sign-extended to int16, interleaved and
 * accumulated against their weight pairs with vpdpwssd (ymm), a partial last group read with
 * masked loads (nothing past a row is touched), requantization in 16 lanes (el_qavx512.h).
 * Channels from ruy_channels on requantize with gemmlowp's scalar rounding. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include <string.h>

#include "../../include/el_qavx512.h"
#include "../../include/el_quant.h"

EL_AVX512VNNI static inline __m256i load16(const int8_t *p, __mmask16 keep) {
  return _mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(keep, p));
}

EL_AVX512VNNI void el_qs8_dwconv_avx512vnni(size_t taps, size_t channels, size_t pixels, const int8_t **input,
                                            const void *w, size_t group_bytes, int8_t *out, const el_qout *q,
                                            size_t ruy_channels) {
  const __m512i zp = _mm512_set1_epi32(q->zero_point), lo = _mm512_set1_epi32(q->lo), hi = _mm512_set1_epi32(q->hi);
  const char *group = w;
  for (size_t c0 = 0; c0 < channels; c0 += EL_QGROUP, group += group_bytes) {
    const size_t width = channels - c0 < EL_QGROUP ? channels - c0 : EL_QGROUP;
    const __mmask16 keep = (__mmask16)((1u << width) - 1);
    const el_qrq16 rq = el_qrq16_load(group, q->zero_point);
    const __m512i bias = _mm512_loadu_si512(group + EL_QHDR_BIAS);
    const int16_t *body = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    const int8_t **rows = input;
    for (size_t p = 0; p < pixels; p++, rows += taps) {
      const int16_t *wk = body;
      __m256i acc_lo = _mm256_setzero_si256(), acc_hi = _mm256_setzero_si256();
      for (size_t t = 0; t < taps; t += 2, wk += 2 * EL_QGROUP) {
        const __m256i x0 = load16(rows[t] + c0, keep);
        const __m256i x1 = t + 1 < taps ? load16(rows[t + 1] + c0, keep) : _mm256_setzero_si256();
        acc_lo = _mm256_dpwssd_epi32(acc_lo, _mm256_unpacklo_epi16(x0, x1), _mm256_loadu_si256((const __m256i *)wk));
        acc_hi = _mm256_dpwssd_epi32(acc_hi, _mm256_unpackhi_epi16(x0, x1),
                                     _mm256_loadu_si256((const __m256i *)(wk + 16)));
      }
      const __m512i acc = _mm512_add_epi32(
          _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_permute2x128_si256(acc_lo, acc_hi, 0x20)),
                             _mm256_permute2x128_si256(acc_lo, acc_hi, 0x31), 1),
          bias);
      int8_t *dst = out + p * channels + c0;
      _mm_mask_storeu_epi8(dst, keep, el_qrq16_apply(acc, &rq, zp, lo, hi));
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
