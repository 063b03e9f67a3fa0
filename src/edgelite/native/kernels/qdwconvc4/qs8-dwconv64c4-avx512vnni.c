/* qs8-dwconv64c4-avx512vnni: depthwise conv over qdwconvc4 groups, 64 channels (four groups) per
 * pass in zmm, any number of taps. Per quad of taps: four 64-byte input loads flipped to uint8
 * (x ^ 0x80), interleaved into (tap 0..3) per channel by unpack{lo,hi}_epi8 then _epi16 (eight
 * shuffles per 64 channels and 4 taps, where the int16 pairs need about 40), and four vpdpbusd.
 * The unpacks work per 128-bit lane, so accumulator k holds channels 4k..4k+3 of group l in lane l:
 * the weights and requantization constants are gathered in that order once per pass, and
 * packs_epi32 / packs_epi16 bring the results back to channel order (saturating, then clamped as
 * bytes: the reference's clamp of the wrapped value). A short last block is read and written with
 * byte masks; channels from ruy_channels on requantize with gemmlowp's scalar rounding. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_engine.h"
#include "../../include/el_qavx512.h"
#include "../../include/el_quant.h"

/* 16 bytes at `offset` of groups g[0..3] as the four 128-bit lanes of a zmm. */
EL_AVX512VNNI static inline __m512i gather4(const char *const *g, size_t offset) {
  __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(g[0] + offset)));
  v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(g[1] + offset)), 1);
  v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(g[2] + offset)), 2);
  return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(g[3] + offset)), 3);
}

/* Accumulator k's constants: lane l = channels 4k..4k+3 of group l (even / odd 64-bit lanes as
 * el_qrq16, from the header's words). */
typedef struct {
  __m512i bias, m, m_odd, left, round_even, round_odd, total_even, total_odd;
} quarter;

EL_AVX512VNNI static inline quarter load_quarter(const char *const *g, size_t k) {
  const __m512i bias63 = _mm512_set1_epi64(INT64_MIN);
  const size_t words = 64 * (k / 2) + 16 * (k % 2); /* channel 4k's even word in its half */
  quarter r;
  r.bias = gather4(g, EL_QHDR_BIAS + 16 * k);
  r.m = gather4(g, EL_QHDR_MULT + 16 * k);
  r.m_odd = _mm512_srli_epi64(r.m, 32);
  r.left = gather4(g, EL_QHDR_LEFT + 16 * k);
  r.round_even = _mm512_xor_si512(gather4(g, EL_QHDR_ROUND + words), bias63);
  r.round_odd = _mm512_xor_si512(gather4(g, EL_QHDR_ROUND + words + 32), bias63);
  r.total_even = gather4(g, EL_QHDR_TOTAL + words);
  r.total_odd = gather4(g, EL_QHDR_TOTAL + words + 32);
  return r;
}

EL_AVX512VNNI static inline __m512i scale(__m512i acc, const quarter *r, int shifts_left, __m512i zp) {
  const __m512i x = shifts_left ? _mm512_sllv_epi32(acc, r->left) : acc; /* counts >= 32 give 0 */
  const __m512i even = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, r->m), r->round_even), r->total_even);
  const __m512i odd = _mm512_srav_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), r->m_odd), r->round_odd), r->total_odd);
  return _mm512_add_epi32(_mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CDAB), zp);
}

EL_AVX512VNNI static inline __m512i load_tap(const int8_t *row, __mmask64 keep, __m512i flip) {
  return _mm512_xor_si512(_mm512_maskz_loadu_epi8(keep, row), flip);
}

/* Channels [c0, c0 + width), width <= 64, groups g[0..3] (past the last: copies of it). */
EL_AVX512VNNI static void block(size_t taps, size_t c0, size_t width, size_t channels, size_t pixels,
                                const int8_t **input, const char *const *g, int8_t *out, const el_qout *q,
                                size_t ruy_channels) {
  const __mmask64 keep = width == 64 ? ~(__mmask64)0 : (((__mmask64)1 << width) - 1);
  const __m512i flip = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
  const __m512i zp = _mm512_set1_epi32(q->zero_point);
  const __m512i lo = _mm512_set1_epi8((char)q->lo), hi = _mm512_set1_epi8((char)q->hi);
  const quarter r[4] = {load_quarter(g, 0), load_quarter(g, 1), load_quarter(g, 2), load_quarter(g, 3)};
  const int shifts_left = (_mm512_test_epi32_mask(r[0].left, r[0].left) | _mm512_test_epi32_mask(r[1].left, r[1].left) |
                           _mm512_test_epi32_mask(r[2].left, r[2].left) |
                           _mm512_test_epi32_mask(r[3].left, r[3].left)) != 0;
  const size_t quads = (taps + 3) / 4;
  __m512i wq[EL_DW_MAX_TAPS / 4][4];
  for (size_t t = 0; t < quads; t++)
    for (size_t k = 0; k < 4; k++) wq[t][k] = gather4(g, EL_QGROUP_HEADER + 64 * t + 16 * k);
  const int8_t **rows = input;
  for (size_t p = 0; p < pixels; p++, rows += taps) {
    __m512i acc0 = r[0].bias, acc1 = r[1].bias, acc2 = r[2].bias, acc3 = r[3].bias;
    for (size_t t = 0; t < quads; t++) {
      const size_t t0 = 4 * t;
      const __m512i x0 = load_tap(rows[t0] + c0, keep, flip);
      const __m512i x1 = t0 + 1 < taps ? load_tap(rows[t0 + 1] + c0, keep, flip) : zero;
      const __m512i x2 = t0 + 2 < taps ? load_tap(rows[t0 + 2] + c0, keep, flip) : zero;
      const __m512i x3 = t0 + 3 < taps ? load_tap(rows[t0 + 3] + c0, keep, flip) : zero;
      const __m512i a_lo = _mm512_unpacklo_epi8(x0, x1), a_hi = _mm512_unpackhi_epi8(x0, x1);
      const __m512i b_lo = _mm512_unpacklo_epi8(x2, x3), b_hi = _mm512_unpackhi_epi8(x2, x3);
      acc0 = _mm512_dpbusd_epi32(acc0, _mm512_unpacklo_epi16(a_lo, b_lo), wq[t][0]);
      acc1 = _mm512_dpbusd_epi32(acc1, _mm512_unpackhi_epi16(a_lo, b_lo), wq[t][1]);
      acc2 = _mm512_dpbusd_epi32(acc2, _mm512_unpacklo_epi16(a_hi, b_hi), wq[t][2]);
      acc3 = _mm512_dpbusd_epi32(acc3, _mm512_unpackhi_epi16(a_hi, b_hi), wq[t][3]);
    }
    const __m512i v01 = _mm512_packs_epi32(scale(acc0, &r[0], shifts_left, zp), scale(acc1, &r[1], shifts_left, zp));
    const __m512i v23 = _mm512_packs_epi32(scale(acc2, &r[2], shifts_left, zp), scale(acc3, &r[3], shifts_left, zp));
    const __m512i bytes = _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(v01, v23), lo), hi);
    int8_t *dst = out + p * channels + c0;
    _mm512_mask_storeu_epi8(dst, keep, bytes);
    if (c0 + width > ruy_channels) { /* the gemmlowp-rounded tail channels (last group only) */
      int32_t lanes[4][16]; /* [k][4 * group + channel % 4] */
      _mm512_storeu_si512(lanes[0], acc0);
      _mm512_storeu_si512(lanes[1], acc1);
      _mm512_storeu_si512(lanes[2], acc2);
      _mm512_storeu_si512(lanes[3], acc3);
      for (size_t j = ruy_channels > c0 ? ruy_channels - c0 : 0; j < width; j++) {
        const size_t l = j / 16, c = j % 16;
        dst[j] = el_qgroup_out(g[l], c, lanes[c / 4][4 * l + c % 4], 0, q);
      }
    }
  }
}

EL_AVX512VNNI void el_qs8_dwconv64c4_avx512vnni(size_t taps, size_t channels, size_t pixels, const int8_t **input,
                                                const void *w, size_t group_bytes, int8_t *out, const el_qout *q,
                                                size_t ruy_channels) {
  for (size_t c0 = 0; c0 < channels; c0 += 64) {
    const size_t width = channels - c0 < 64 ? channels - c0 : 64, groups = (width + EL_QGROUP - 1) / EL_QGROUP;
    const char *g[4];
    for (size_t l = 0; l < 4; l++)
      g[l] = (const char *)w + (c0 / EL_QGROUP + (l < groups ? l : groups - 1)) * group_bytes;
    block(taps, c0, width, channels, pixels, input, g, out, q, ruy_channels);
  }
}
#endif
