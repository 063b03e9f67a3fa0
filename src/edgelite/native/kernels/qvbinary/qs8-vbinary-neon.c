/* qs8-vbinary-neon: int8 ADD / MUL on LiteRT's vector path, 16 elements per step in int32 lanes
 * (vqrdmulh is gemmlowp's SaturatingRoundingDoublingHighMul, RoundingDivideByPOT is gemmlowp's
 * NEON fixup + vrshl, el_neon.h); the rest, and the scalar tail, as qs8-vbinary-scalar (see
 * el_qvbinary_fn, el_qbinary_one). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include <arm_neon.h>

#include "../../include/el_quant.h"

/* RoundingDivideByPOT by `exponent` (>= 0): ties away from zero. */
static inline int32x4_t rdbp(int32x4_t x, int32x4_t neg_exponent) {
  const int32x4_t fix = vshrq_n_s32(vandq_s32(x, neg_exponent), 31);
  return vrshlq_s32(vqaddq_s32(x, fix), neg_exponent);
}

/* The 16-bit result (before the clamp) of 4 elements, a and b minus their zero points. */
static inline int16x4_t add4(int32x4_t va, int32x4_t vb, const int64_t *p) {
  const int left = (int)p[13];
  const int32x4_t a = vqrdmulhq_s32(vshlq_s32(va, vdupq_n_s32(left + (int)p[8])), vdupq_n_s32((int32_t)p[7]));
  const int32x4_t b = vqrdmulhq_s32(vshlq_s32(vb, vdupq_n_s32(left + (int)p[10])), vdupq_n_s32((int32_t)p[9]));
  const int32x4_t scaled = rdbp(vqrdmulhq_s32(vaddq_s32(a, b), vdupq_n_s32((int32_t)p[11])), vdupq_n_s32((int32_t)p[12]));
  return vmovn_s32(scaled); /* wrap16, the zero point is added in int16 */
}

static inline int16x4_t mul4(int32x4_t va, int32x4_t vb, const int64_t *p) {
  const int shift = (int)p[8];
  const int32x4_t product = vshlq_s32(vmulq_s32(va, vb), vdupq_n_s32(shift > 0 ? shift & 31 : 0));
  const int32x4_t scaled = rdbp(vqrdmulhq_s32(product, vdupq_n_s32((int32_t)p[7])), vdupq_n_s32(shift > 0 ? 0 : shift));
  return vqmovn_s32(scaled); /* clamped to int16 */
}

static inline int16x8_t half(int16x8_t va, int16x8_t vb, const int64_t *p) {
  const int32x4_t a0 = vmovl_s16(vget_low_s16(va)), a1 = vmovl_s16(vget_high_s16(va));
  const int32x4_t b0 = vmovl_s16(vget_low_s16(vb)), b1 = vmovl_s16(vget_high_s16(vb));
  const int16x8_t r = p[0] == 0 ? vcombine_s16(add4(a0, b0, p), add4(a1, b1, p))
                                : vcombine_s16(mul4(a0, b0, p), mul4(a1, b1, p));
  const int16x8_t v = vaddq_s16(r, vdupq_n_s16((int16_t)p[4])); /* wrap16 */
  return vminq_s16(vmaxq_s16(v, vdupq_n_s16((int16_t)p[5])), vdupq_n_s16((int16_t)p[6]));
}

void el_qs8_vbinary_neon(size_t n, const int8_t *a, const int8_t *b, int8_t *y, const int64_t *p, int vector) {
  size_t i = 0;
  if (vector) {
    const int16x8_t za = vdupq_n_s16((int16_t)p[2]), zb = vdupq_n_s16((int16_t)p[3]);
    for (; i + 16 <= n; i += 16) {
      const int8x16_t xa = vld1q_s8(a + i), xb = vld1q_s8(b + i);
      const int16x8_t lo = half(vsubq_s16(vmovl_s8(vget_low_s8(xa)), za), vsubq_s16(vmovl_s8(vget_low_s8(xb)), zb), p);
      const int16x8_t hi = half(vsubq_s16(vmovl_s8(vget_high_s8(xa)), za), vsubq_s16(vmovl_s8(vget_high_s8(xb)), zb), p);
      vst1q_s8(y + i, vcombine_s8(vmovn_s16(lo), vmovn_s16(hi)));
    }
  }
  for (; i < n; i++) y[i] = el_qbinary_one(p, a[i], b[i], vector);
}
#endif
