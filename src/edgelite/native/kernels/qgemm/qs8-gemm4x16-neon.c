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

#define EL_MAC_PAIR(acc, wa, wb, av, L0, L1)                            \
  do {                                                                  \
    acc[0] = vmlal_lane_s16(acc[0], vget_low_s16(wa.val[0]), av, L0);   \
    acc[1] = vmlal_lane_s16(acc[1], vget_high_s16(wa.val[0]), av, L0);  \
    acc[2] = vmlal_lane_s16(acc[2], vget_low_s16(wb.val[0]), av, L0);   \
    acc[3] = vmlal_lane_s16(acc[3], vget_high_s16(wb.val[0]), av, L0);  \
    acc[0] = vmlal_lane_s16(acc[0], vget_low_s16(wa.val[1]), av, L1);   \
    acc[1] = vmlal_lane_s16(acc[1], vget_high_s16(wa.val[1]), av, L1);  \
    acc[2] = vmlal_lane_s16(acc[2], vget_low_s16(wb.val[1]), av, L1);   \
    acc[3] = vmlal_lane_s16(acc[3], vget_high_s16(wb.val[1]), av, L1);  \
  } while (0)

void el_qs8_gemm4x16_neon(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                          const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                          const el_qout *q) {
  const int16_t *rows[4];
  for (size_t r = 0; r < 4; r++) rows[r] = a + (r < mr ? r : mr - 1) * a_stride;
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_QGROUP, group += group_bytes) {
    int32x4_t acc[4][4];
    for (int j = 0; j < 4; j++) acc[0][j] = vld1q_s32((const int32_t *)(const void *)(group + EL_QHDR_BIAS + 16 * j));
    for (int r = 1; r < 4; r++)
      for (int j = 0; j < 4; j++) acc[r][j] = acc[0][j];
    const int16_t *wk = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    for (size_t k = 0; k < kp; k += 4) {
      const int16x4_t a0 = load_a(rows[0], k, kp), a1 = load_a(rows[1], k, kp);
      const int16x4_t a2 = load_a(rows[2], k, kp), a3 = load_a(rows[3], k, kp);
      int16x8x2_t wa = vld2q_s16(wk), wb = vld2q_s16(wk + 16);
      EL_MAC_PAIR(acc[0], wa, wb, a0, 0, 1);
      EL_MAC_PAIR(acc[1], wa, wb, a1, 0, 1);
      EL_MAC_PAIR(acc[2], wa, wb, a2, 0, 1);
      EL_MAC_PAIR(acc[3], wa, wb, a3, 0, 1);
      wk += 2 * EL_QGROUP;
      if (k + 2 >= kp) break;
      wa = vld2q_s16(wk);
      wb = vld2q_s16(wk + 16);
      EL_MAC_PAIR(acc[0], wa, wb, a0, 2, 3);
      EL_MAC_PAIR(acc[1], wa, wb, a1, 2, 3);
      EL_MAC_PAIR(acc[2], wa, wb, a2, 2, 3);
      EL_MAC_PAIR(acc[3], wa, wb, a3, 2, 3);
      wk += 2 * EL_QGROUP;
    }
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
