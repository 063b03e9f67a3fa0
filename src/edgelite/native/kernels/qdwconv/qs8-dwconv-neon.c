/* qs8-dwconv-neon: one channel group (16 channels) at a time over all pixels; per tap pair, vld2
 * splits the group's interleaved weights (el_qkernels.h: channels {0-3, 8-11} then {4-7, 12-15})
 * into each tap's weights, which meet the sign-extended inputs in smlal. Channels from
 * ruy_channels on requantize with gemmlowp's rounding, the others with ruy's (el_neon.h).
 * A last group of fewer than 16 channels is copied to a zero-filled buffer first. */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <string.h>

#include "../../include/el_engine.h"
#include "../../include/el_neon.h"

/* Channels [c, c + 4) of the output: ruy's rounding below `ruy`, gemmlowp's from it. */
static inline int32x4_t requantize(int32x4_t acc, const el_nrq4 *r, size_t c, size_t ruy) {
  if (c + 4 <= ruy) return el_nrq4_ruy(acc, r);
  if (c >= ruy) return el_nrq4_gemmlowp(acc, r);
  const int32_t lane[4] = {0, 1, 2, 3};
  const uint32x4_t is_ruy = vcltq_s32(vaddq_s32(vld1q_s32(lane), vdupq_n_s32((int32_t)c)), vdupq_n_s32((int32_t)ruy));
  return vbslq_s32(is_ruy, el_nrq4_ruy(acc, r), el_nrq4_gemmlowp(acc, r));
}

void el_qs8_dwconv_neon(size_t taps, size_t channels, size_t pixels, const int8_t **input,
                        const void *w, size_t group_bytes, int8_t *out, const el_qout *q,
                        size_t ruy_channels) {
  int8_t tail[EL_DW_MAX_TAPS][EL_QGROUP];
  const int8_t *tail_rows[EL_DW_MAX_TAPS];
  for (size_t t = 0; t < EL_DW_MAX_TAPS; t++) tail_rows[t] = tail[t];
  const char *group = w;
  for (size_t c0 = 0; c0 < channels; c0 += EL_QGROUP, group += group_bytes) {
    const size_t width = channels - c0 < EL_QGROUP ? channels - c0 : EL_QGROUP;
    el_nrq4 rq[4];
    int32x4_t bias[4];
    for (size_t j = 0; j < 4; j++) {
      rq[j] = el_nrq4_load(group, j);
      bias[j] = vld1q_s32((const int32_t *)(const void *)(group + EL_QHDR_BIAS + 16 * j));
    }
    const int16_t *body = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    if (width < EL_QGROUP) memset(tail, 0, sizeof(tail[0]) * taps);
    for (size_t p = 0; p < pixels; p++) {
      const int8_t *const *rows = input + p * taps;
      size_t offset = c0;
      if (width < EL_QGROUP) {
        for (size_t t = 0; t < taps; t++) memcpy(tail[t], rows[t] + c0, width);
        rows = tail_rows;
        offset = 0;
      }
      int32x4_t acc0 = bias[0], acc1 = bias[1], acc2 = bias[2], acc3 = bias[3];
      const int16_t *wk = body;
      for (size_t t = 0; t < taps; t += 2, wk += 2 * EL_QGROUP) {
        const int16x8x2_t wa = vld2q_s16(wk), wb = vld2q_s16(wk + 16); /* {0-3, 8-11}, {4-7, 12-15} */
        const int8x16_t x = vld1q_s8(rows[t] + offset);
        int16x8_t xl = vmovl_s8(vget_low_s8(x)), xh = vmovl_s8(vget_high_s8(x));
        acc0 = vmlal_s16(acc0, vget_low_s16(xl), vget_low_s16(wa.val[0]));
        acc1 = vmlal_s16(acc1, vget_high_s16(xl), vget_low_s16(wb.val[0]));
        acc2 = vmlal_s16(acc2, vget_low_s16(xh), vget_high_s16(wa.val[0]));
        acc3 = vmlal_s16(acc3, vget_high_s16(xh), vget_high_s16(wb.val[0]));
        if (t + 1 == taps) break; /* an odd last tap: its pair's second weights are zero */
        const int8x16_t y = vld1q_s8(rows[t + 1] + offset);
        xl = vmovl_s8(vget_low_s8(y)), xh = vmovl_s8(vget_high_s8(y));
        acc0 = vmlal_s16(acc0, vget_low_s16(xl), vget_low_s16(wa.val[1]));
        acc1 = vmlal_s16(acc1, vget_high_s16(xl), vget_low_s16(wb.val[1]));
        acc2 = vmlal_s16(acc2, vget_low_s16(xh), vget_high_s16(wa.val[1]));
        acc3 = vmlal_s16(acc3, vget_high_s16(xh), vget_high_s16(wb.val[1]));
      }
      const int8x16_t bytes = el_nq_pack16(requantize(acc0, &rq[0], c0, ruy_channels),
                                           requantize(acc1, &rq[1], c0 + 4, ruy_channels),
                                           requantize(acc2, &rq[2], c0 + 8, ruy_channels),
                                           requantize(acc3, &rq[3], c0 + 12, ruy_channels), q);
      if (width == EL_QGROUP) {
        vst1q_s8(out + p * channels + c0, bytes);
      } else {
        int8_t result[EL_QGROUP];
        vst1q_s8(result, bytes);
        memcpy(out + p * channels + c0, result, width);
      }
    }
  }
}
#endif
