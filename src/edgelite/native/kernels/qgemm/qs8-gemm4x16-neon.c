/* qs8-gemm4x16-neon: 4 rows x 16 channels in 16 int32x4 accumulators; vld2 splits each weight
 * pair row (el_qkernels.h) into the even-k and odd-k weights of 8 channels, which meet lanes of
 * the int16 inputs in smlal (exact products, accumulation wrapping as the reference's int32).
 * ruy's requantization with vqrdmulh + vrshl (el_neon.h). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <string.h>

#include "../../include/el_neon.h"

/* 4 int16 inputs from k (k + 4 may pass kp by one pair: the last 2 lanes are then zero). */
static inline int16x4_t load_a(const int16_t *row, size_t k, size_t kp) {
  if (k + 4 <= kp) return vld1_s16(row + k);
  int16_t tmp[4] = {row[k], row[k + 1], 0, 0};
  return vld1_s16(tmp);
}

#define EL_MAC_PAIR(r, wa, wb, av, L0, L1)                            \
  do {                                                                \
    c##r##0 = vmlal_lane_s16(c##r##0, vget_low_s16(wa.val[0]), av, L0);  \
    c##r##1 = vmlal_lane_s16(c##r##1, vget_high_s16(wa.val[0]), av, L0); \
    c##r##2 = vmlal_lane_s16(c##r##2, vget_low_s16(wb.val[0]), av, L0);  \
    c##r##3 = vmlal_lane_s16(c##r##3, vget_high_s16(wb.val[0]), av, L0); \
    c##r##0 = vmlal_lane_s16(c##r##0, vget_low_s16(wa.val[1]), av, L1);  \
    c##r##1 = vmlal_lane_s16(c##r##1, vget_high_s16(wa.val[1]), av, L1); \
    c##r##2 = vmlal_lane_s16(c##r##2, vget_low_s16(wb.val[1]), av, L1);  \
    c##r##3 = vmlal_lane_s16(c##r##3, vget_high_s16(wb.val[1]), av, L1); \
  } while (0)

void el_qs8_gemm4x16_neon(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                          const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                          const el_qout *q) {
  const int16_t *a0 = a, *a1 = mr > 1 ? a0 + a_stride : a0, *a2 = mr > 2 ? a1 + a_stride : a1;
  const int16_t *a3 = mr > 3 ? a2 + a_stride : a2;
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_QGROUP, group += group_bytes) {
    const int32_t *bias = (const int32_t *)(const void *)(group + EL_QHDR_BIAS);
    int32x4_t c00 = vld1q_s32(bias), c01 = vld1q_s32(bias + 4), c02 = vld1q_s32(bias + 8), c03 = vld1q_s32(bias + 12);
    int32x4_t c10 = c00, c11 = c01, c12 = c02, c13 = c03, c20 = c00, c21 = c01, c22 = c02, c23 = c03;
    int32x4_t c30 = c00, c31 = c01, c32 = c02, c33 = c03;
    const int16_t *wk = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    for (size_t k = 0; k < kp; k += 4) {
      const int16x4_t v0 = load_a(a0, k, kp), v1 = load_a(a1, k, kp), v2 = load_a(a2, k, kp), v3 = load_a(a3, k, kp);
      int16x8x2_t wa = vld2q_s16(wk), wb = vld2q_s16(wk + 16);
      EL_MAC_PAIR(0, wa, wb, v0, 0, 1);
      EL_MAC_PAIR(1, wa, wb, v1, 0, 1);
      EL_MAC_PAIR(2, wa, wb, v2, 0, 1);
      EL_MAC_PAIR(3, wa, wb, v3, 0, 1);
      wk += 2 * EL_QGROUP;
      if (k + 2 >= kp) break;
      wa = vld2q_s16(wk);
      wb = vld2q_s16(wk + 16);
      EL_MAC_PAIR(0, wa, wb, v0, 2, 3);
      EL_MAC_PAIR(1, wa, wb, v1, 2, 3);
      EL_MAC_PAIR(2, wa, wb, v2, 2, 3);
      EL_MAC_PAIR(3, wa, wb, v3, 2, 3);
      wk += 2 * EL_QGROUP;
    }
    const int32x4_t acc[4][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}};
    el_nrq4 rq[4];
    for (size_t j = 0; j < 4; j++) rq[j] = el_nrq4_load(group, j);
    const size_t width = nc - n0 < EL_QGROUP ? nc - n0 : EL_QGROUP;
    for (size_t r = 0; r < mr; r++) {
      const int8x16_t bytes = el_nq_pack16(el_nrq4_ruy(acc[r][0], &rq[0]), el_nrq4_ruy(acc[r][1], &rq[1]),
                                           el_nrq4_ruy(acc[r][2], &rq[2]), el_nrq4_ruy(acc[r][3], &rq[3]), q);
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
