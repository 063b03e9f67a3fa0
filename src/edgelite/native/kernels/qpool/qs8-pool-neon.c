/* qs8-pool-neon: 16 channels per step in int32 (see el_qpool_fn); the average's rounded division
 * (el_qavg_round) and the channels past the last 16 run one at a time. */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <arm_neon.h>

#include "../../include/el_quant.h"

void el_qs8_pool_neon(int op, size_t taps, size_t channels, const int8_t **input, int32_t *acc, int8_t *out,
                      int first, int last, int32_t count, int32_t lo, int32_t hi) {
  size_t c = 0;
  for (; c + 16 <= channels; c += 16) {
    int32x4_t v[4];
    for (int j = 0; j < 4; j++) v[j] = first ? vdupq_n_s32(op == 0 ? -128 : 0) : vld1q_s32(acc + c + 4 * j);
    for (size_t t = 0; t < taps; t++) {
      const int8x16_t x = vld1q_s8(input[t] + c);
      const int16x8_t xl = vmovl_s8(vget_low_s8(x)), xh = vmovl_s8(vget_high_s8(x));
      const int32x4_t x4[4] = {vmovl_s16(vget_low_s16(xl)), vmovl_s16(vget_high_s16(xl)),
                               vmovl_s16(vget_low_s16(xh)), vmovl_s16(vget_high_s16(xh))};
      for (int j = 0; j < 4; j++) v[j] = op == 0 ? vmaxq_s32(v[j], x4[j]) : vaddq_s32(v[j], x4[j]);
    }
    if (!last) {
      for (int j = 0; j < 4; j++) vst1q_s32(acc + c + 4 * j, v[j]);
      continue;
    }
    int32_t s[16];
    for (int j = 0; j < 4; j++) vst1q_s32(s + 4 * j, v[j]);
    for (int j = 0; j < 16; j++) out[c + j] = (int8_t)el_clamp32(op == 1 ? el_qavg_round(s[j], count) : s[j], lo, hi);
  }
  for (; c < channels; c++) {
    int32_t v = first ? (op == 0 ? -128 : 0) : acc[c];
    for (size_t t = 0; t < taps; t++) v = op == 0 ? (input[t][c] > v ? input[t][c] : v) : v + input[t][c];
    if (!last) {
      acc[c] = v;
      continue;
    }
    out[c] = (int8_t)el_clamp32(op == 1 ? el_qavg_round(v, count) : v, lo, hi);
  }
}
#endif
