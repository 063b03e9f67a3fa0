/* qs8-dwconv-avx2: one channel group (16 channels) at a time over all pixels, so its constants
 * load once; two taps' int8 inputs sign-extended to int16 and interleaved (unpacklo/hi) meet their
 * interleaved weight pairs in vpmaddwd (see el_qkernels.h).
 * A last group of fewer than 16 channels is copied to a zero-filled buffer first, so no load
 * reaches past a row; channels from ruy_channels on requantize with gemmlowp's scalar rounding. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include <string.h>

#include "../../include/el_engine.h"
#include "../../include/el_qavx2.h"
#include "../../include/el_quant.h"

EL_AVX2 static inline __m256i load16(const int8_t *p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
}

EL_AVX2 void el_qs8_dwconv_avx2(size_t taps, size_t channels, size_t pixels, const int8_t **input,
                                const void *w, size_t group_bytes, int8_t *out, const el_qout *q,
                                size_t ruy_channels) {
  const __m256i zp = _mm256_set1_epi32(q->zero_point), lo = _mm256_set1_epi32(q->lo);
  const __m256i hi = _mm256_set1_epi32(q->hi);
  int8_t tail[EL_DW_MAX_TAPS][EL_QGROUP];
  const int8_t *tail_rows[EL_DW_MAX_TAPS];
  for (size_t t = 0; t < EL_DW_MAX_TAPS; t++) tail_rows[t] = tail[t];
  const char *group = w;
  for (size_t c0 = 0; c0 < channels; c0 += EL_QGROUP, group += group_bytes) {
    const size_t width = channels - c0 < EL_QGROUP ? channels - c0 : EL_QGROUP;
    const el_qrq8 q0 = el_qrq8_load(group, 0, zp), q1 = el_qrq8_load(group, 1, zp);
    const __m256i bias0 = _mm256_loadu_si256((const __m256i *)(group + EL_QHDR_BIAS));
    const __m256i bias1 = _mm256_loadu_si256((const __m256i *)(group + EL_QHDR_BIAS + 32));
    const int16_t *body = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    if (width < EL_QGROUP) memset(tail, 0, sizeof(tail[0]) * taps);
    for (size_t p = 0; p < pixels; p++) {
      const int8_t *const *rows = input + p * taps;
      size_t offset = c0; /* rows: input[t] + offset, or the copies in tail[t] */
      if (width < EL_QGROUP) {
        for (size_t t = 0; t < taps; t++) memcpy(tail[t], rows[t] + c0, width);
        rows = tail_rows;
        offset = 0;
      }
      const int16_t *wk = body;
      __m256i acc_lo = _mm256_setzero_si256(), acc_hi = _mm256_setzero_si256();
      for (size_t t = 0; t < taps; t += 2, wk += 2 * EL_QGROUP) {
        const __m256i x0 = load16(rows[t] + offset);
        const __m256i x1 = t + 1 < taps ? load16(rows[t + 1] + offset) : _mm256_setzero_si256();
        acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
                                                             _mm256_loadu_si256((const __m256i *)wk)));
        acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
                                                             _mm256_loadu_si256((const __m256i *)(wk + 16))));
      }
      const __m256i a0 = _mm256_add_epi32(_mm256_permute2x128_si256(acc_lo, acc_hi, 0x20), bias0);
      const __m256i a1 = _mm256_add_epi32(_mm256_permute2x128_si256(acc_lo, acc_hi, 0x31), bias1);
      int8_t result[EL_QGROUP];
      const __m128i packed = el_pack16_i8(el_qrq8_apply(a0, &q0, lo, hi), el_qrq8_apply(a1, &q1, lo, hi));
      _mm_storeu_si128((__m128i *)result, packed);
      if (c0 + width > ruy_channels) { /* the gemmlowp-rounded tail channels */
        int32_t acc[EL_QGROUP];
        _mm256_storeu_si256((__m256i *)acc, a0);
        _mm256_storeu_si256((__m256i *)(acc + 8), a1);
        for (size_t j = ruy_channels > c0 ? ruy_channels - c0 : 0; j < width; j++)
          result[j] = el_qgroup_out(group, j, acc[j], 0, q);
      }
      memcpy(out + p * channels + c0, result, width);
    }
  }
}
#endif
