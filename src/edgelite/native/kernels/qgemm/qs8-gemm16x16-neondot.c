/* qs8-gemm16x16-neondot: int8 GEMM with the dot product (sdot: 4 int8 products per int32 lane) on
 * the packed int16 channel groups every level reads (el_qkernels.h), so packing does not depend on
 * the dispatch level. Up to 16 rows per call share each conversion:
 *   - weights: a chunk of a group's int16 pairs narrowed to int8 and regrouped in quads of k
 *     (16 channels x 4 k per 64 bytes, sdot's layout); exact when every weight fits int8 (conv
 *     weights do), checked, else that group runs the smlal kernel (qs8-gemm4x16-neon);
 *   - inputs: a row of x - zero point (int16) spans at most 256 values; plus c = -128 - min it fits
 *     int8, and sum (a + c) w - c sum w is the same int32 (mod 2^32, as the reference wraps).
 * Calls of at most 4 rows (fully-connected batches) go to the smlal kernel, which converts nothing.
 * 4 rows x 16 channels accumulate in 16 registers per step; ruy's requantization (el_neon.h). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <string.h>

#include "../../include/el_neon.h"

/* "arch=armv8.2-a+dotprod" as arm_neon.h declares the intrinsics (GCC 12 rejects inlining
 * vdotq_laneq_s32 into a plain "+dotprod" function); every CPU with the dot product is v8.2+. */
#define EL_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#define MR 16
#define KC 512 /* k per converted chunk (a multiple of 16) */

/* Rows' minimum (for the offset) and whether every row spans at most 256 values. */
static int row_offsets(size_t mr, size_t kp, const int16_t *a, size_t a_stride, int32_t *offset) {
  for (size_t r = 0; r < mr; r++) {
    const int16_t *row = a + r * a_stride;
    int16x8_t lo = vdupq_n_s16(INT16_MAX), hi = vdupq_n_s16(INT16_MIN);
    size_t k = 0;
    for (; k + 8 <= kp; k += 8) {
      const int16x8_t v = vld1q_s16(row + k);
      lo = vminq_s16(lo, v);
      hi = vmaxq_s16(hi, v);
    }
    int32_t mn = vminvq_s16(lo), mx = vmaxvq_s16(hi);
    for (; k < kp; k++) {
      mn = row[k] < mn ? row[k] : mn;
      mx = row[k] > mx ? row[k] : mx;
    }
    if (mx - mn > 255) return 0;
    offset[r] = -128 - mn;
  }
  return 1;
}

/* Rows' k in [k0, k0 + len) plus their offsets as int8, zero from kp up to the padded length. */
static void convert_rows(size_t mr, size_t kp, size_t k0, size_t padded, const int16_t *a, size_t a_stride,
                         const int32_t *offset, int8_t *out) {
  const size_t end = kp - k0 < padded ? kp - k0 : padded;
  for (size_t r = 0; r < mr; r++, out += padded) {
    const int16_t *row = a + r * a_stride + k0;
    const int16x8_t c = vdupq_n_s16((int16_t)offset[r]);
    size_t k = 0;
    for (; k + 16 <= end; k += 16)
      vst1q_s8(out + k, vcombine_s8(vmovn_s16(vaddq_s16(vld1q_s16(row + k), c)),
                                    vmovn_s16(vaddq_s16(vld1q_s16(row + k + 8), c))));
    for (; k < end; k++) out[k] = (int8_t)(row[k] + offset[r]);
    for (; k < padded; k++) out[k] = 0;
  }
}

static inline uint16x8_t spread8(int16x8_t a, int16x8_t b) { /* (a + 128) | (b + 128) as uint16 */
  const int16x8_t bias = vdupq_n_s16(128);
  return vorrq_u16(vreinterpretq_u16_s16(vaddq_s16(a, bias)), vreinterpretq_u16_s16(vaddq_s16(b, bias)));
}

/* The low bytes of two int16 vectors, in order. */
static inline int8x16_t low_bytes(int16x8_t a, int16x8_t b) {
  return vuzp1q_s8(vreinterpretq_s8_s16(a), vreinterpretq_s8_s16(b));
}

static inline int8x16_t zip_pairs(int8x16_t a, int8x16_t b, int high) {
  const int16x8_t x = vreinterpretq_s16_s8(a), y = vreinterpretq_s16_s8(b);
  return vreinterpretq_s8_s16(high ? vzip2q_s16(x, y) : vzip1q_s16(x, y));
}

/* Pairs [p0, p0 + pairs) of a group body as sdot quads (16 channels x 4 k, 64 bytes each), zero
 * past the body up to `padded` k, their column sums added to colsum; returns 0 if some weight
 * does not fit int8 (w + 128 outside [0, 255]). */
EL_DOTPROD static int convert_weights(const int16_t *body, size_t p0, size_t pairs, size_t padded, int8_t *out,
                                      int32x4_t colsum[4]) {
  const int8x16_t ones = vdupq_n_s8(1);
  int32x4_t s0 = colsum[0], s1 = colsum[1], s2 = colsum[2], s3 = colsum[3];
  uint16x8_t spread = vdupq_n_u16(0);
  const int16_t *w = body + p0 * 2 * EL_QGROUP;
  size_t q = 0;
  for (; 2 * q < pairs; q++, w += 4 * EL_QGROUP, out += 64) {
    /* pair 2q: channels 0-3, 4-7, 8-11, 12-15 x (k, k + 1); pair 2q + 1 the same for k + 2, k + 3 */
    const int16x8_t a0 = vld1q_s16(w), a1 = vld1q_s16(w + 8), a2 = vld1q_s16(w + 16), a3 = vld1q_s16(w + 24);
    int16x8_t b0 = vdupq_n_s16(0), b1 = b0, b2 = b0, b3 = b0;
    if (2 * q + 1 < pairs) {
      b0 = vld1q_s16(w + 32), b1 = vld1q_s16(w + 40), b2 = vld1q_s16(w + 48), b3 = vld1q_s16(w + 56);
    }
    spread = vorrq_u16(spread, vorrq_u16(vorrq_u16(spread8(a0, a1), spread8(a2, a3)),
                                         vorrq_u16(spread8(b0, b1), spread8(b2, b3))));
    const int8x16_t n0 = low_bytes(a0, a1), n1 = low_bytes(a2, a3), m0 = low_bytes(b0, b1), m1 = low_bytes(b2, b3);
    const int8x16_t q0 = zip_pairs(n0, m0, 0), q1 = zip_pairs(n0, m0, 1);
    const int8x16_t q2 = zip_pairs(n1, m1, 0), q3 = zip_pairs(n1, m1, 1);
    vst1q_s8(out, q0), vst1q_s8(out + 16, q1), vst1q_s8(out + 32, q2), vst1q_s8(out + 48, q3);
    s0 = vdotq_s32(s0, q0, ones), s1 = vdotq_s32(s1, q1, ones);
    s2 = vdotq_s32(s2, q2, ones), s3 = vdotq_s32(s3, q3, ones);
  }
  memset(out, 0, (padded / 4 - q) * 64);
  colsum[0] = s0, colsum[1] = s1, colsum[2] = s2, colsum[3] = s3;
  return vmaxvq_u16(spread) < 256;
}

#define EL_DOT_ROW(r, L)                           \
  do {                                             \
    c##r##0 = vdotq_laneq_s32(c##r##0, b0, x##r, L); \
    c##r##1 = vdotq_laneq_s32(c##r##1, b1, x##r, L); \
    c##r##2 = vdotq_laneq_s32(c##r##2, b2, x##r, L); \
    c##r##3 = vdotq_laneq_s32(c##r##3, b3, x##r, L); \
  } while (0)

#define EL_QUAD(L)                                                                           \
  do {                                                                                       \
    const int8x16_t b0 = vld1q_s8(w), b1 = vld1q_s8(w + 16), b2 = vld1q_s8(w + 32), b3 = vld1q_s8(w + 48); \
    w += 64;                                                                                 \
    EL_DOT_ROW(0, L);                                                                        \
    EL_DOT_ROW(1, L);                                                                        \
    EL_DOT_ROW(2, L);                                                                        \
    EL_DOT_ROW(3, L);                                                                        \
  } while (0)

/* acc[rows x 16] += a8 rows (padded k each) x the weight quads, 4 rows at a time in 16 named
 * accumulators (rows past mr repeat the last one and are not stored). */
EL_DOTPROD static void dot_rows(size_t mr, size_t padded, const int8_t *a8, const int8_t *w8, int32_t *acc) {
  for (size_t r0 = 0; r0 < mr; r0 += 4) {
    const size_t n = mr - r0 < 4 ? mr - r0 : 4;
    const int8_t *p0 = a8 + r0 * padded, *p1 = n > 1 ? p0 + padded : p0, *p2 = n > 2 ? p1 + padded : p1;
    const int8_t *p3 = n > 3 ? p2 + padded : p2;
    int32_t *o0 = acc + r0 * EL_QGROUP, *o1 = n > 1 ? o0 + EL_QGROUP : o0, *o2 = n > 2 ? o1 + EL_QGROUP : o1;
    int32_t *o3 = n > 3 ? o2 + EL_QGROUP : o2;
    int32x4_t c00 = vld1q_s32(o0), c01 = vld1q_s32(o0 + 4), c02 = vld1q_s32(o0 + 8), c03 = vld1q_s32(o0 + 12);
    int32x4_t c10 = vld1q_s32(o1), c11 = vld1q_s32(o1 + 4), c12 = vld1q_s32(o1 + 8), c13 = vld1q_s32(o1 + 12);
    int32x4_t c20 = vld1q_s32(o2), c21 = vld1q_s32(o2 + 4), c22 = vld1q_s32(o2 + 8), c23 = vld1q_s32(o2 + 12);
    int32x4_t c30 = vld1q_s32(o3), c31 = vld1q_s32(o3 + 4), c32 = vld1q_s32(o3 + 8), c33 = vld1q_s32(o3 + 12);
    const int8_t *w = w8;
    for (size_t k = 0; k < padded; k += 16) {
      const int8x16_t x0 = vld1q_s8(p0 + k), x1 = vld1q_s8(p1 + k), x2 = vld1q_s8(p2 + k), x3 = vld1q_s8(p3 + k);
      EL_QUAD(0);
      EL_QUAD(1);
      EL_QUAD(2);
      EL_QUAD(3);
    }
    /* highest rows first: aliased rows (n < 4) hold row n - 1's values, stored last */
    vst1q_s32(o3, c30), vst1q_s32(o3 + 4, c31), vst1q_s32(o3 + 8, c32), vst1q_s32(o3 + 12, c33);
    vst1q_s32(o2, c20), vst1q_s32(o2 + 4, c21), vst1q_s32(o2 + 8, c22), vst1q_s32(o2 + 12, c23);
    vst1q_s32(o1, c10), vst1q_s32(o1 + 4, c11), vst1q_s32(o1 + 8, c12), vst1q_s32(o1 + 12, c13);
    vst1q_s32(o0, c00), vst1q_s32(o0 + 4, c01), vst1q_s32(o0 + 8, c02), vst1q_s32(o0 + 12, c03);
  }
}

EL_DOTPROD void el_qs8_gemm16x16_neondot(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                                         const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                                         const el_qout *q) {
  int32_t offset[MR];
  if (mr <= 4 || !row_offsets(mr, kp, a, a_stride, offset)) {
    for (size_t m = 0; m < mr; m += 4)
      el_qs8_gemm4x16_neon(mr - m < 4 ? mr - m : 4, nc, kp, a + m * a_stride, a_stride, w, group_bytes,
                           c + m * c_stride, c_stride, q);
    return;
  }
  int8_t a8[MR * KC], w8[EL_QGROUP * KC]; /* 16 KB of stack */
  const size_t chunks = (kp + KC - 1) / KC, first_len = kp < KC ? (kp + 15) / 16 * 16 : KC;
  if (chunks == 1) convert_rows(mr, kp, 0, first_len, a, a_stride, offset, a8);
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_QGROUP, group += group_bytes) {
    const size_t width = nc - n0 < EL_QGROUP ? nc - n0 : EL_QGROUP;
    const int16_t *body = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    int32_t acc[MR * EL_QGROUP];
    for (size_t r = 0; r < mr; r++) memcpy(acc + r * EL_QGROUP, group + EL_QHDR_BIAS, 64);
    int32x4_t colsum[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    int fits = 1;
    for (size_t k0 = 0; k0 < kp && fits; k0 += KC) {
      const size_t len = kp - k0 < KC ? kp - k0 : KC, padded = (len + 15) / 16 * 16;
      fits = convert_weights(body, k0 / 2, len / 2, padded, w8, colsum);
      if (!fits) break;
      if (chunks > 1) convert_rows(mr, kp, k0, padded, a, a_stride, offset, a8);
      dot_rows(mr, padded, a8, w8, acc);
    }
    if (!fits) { /* a weight outside int8 (a fully-connected weight zero point folded in) */
      for (size_t m = 0; m < mr; m += 4)
        el_qs8_gemm4x16_neon(mr - m < 4 ? mr - m : 4, width, kp, a + m * a_stride, a_stride, group, group_bytes,
                             c + m * c_stride + n0, c_stride, q);
      continue;
    }
    el_nrq4 rq[4];
    for (size_t j = 0; j < 4; j++) rq[j] = el_nrq4_load(group, j);
    for (size_t r = 0; r < mr; r++) {
      int32x4_t v[4];
      for (int j = 0; j < 4; j++)
        v[j] = el_nrq4_ruy(vmlsq_n_s32(vld1q_s32(acc + r * EL_QGROUP + 4 * j), colsum[j], offset[r]), &rq[j]);
      const int8x16_t bytes = el_nq_pack16(v[0], v[1], v[2], v[3], q);
      int8_t *out = c + r * c_stride + n0;
      if (width == EL_QGROUP) {
        vst1q_s8(out, bytes);
      } else {
        int8_t tmp[EL_QGROUP];
        vst1q_s8(tmp, bytes);
        memcpy(out, tmp, width);
      }
    }
  }
}
#endif
