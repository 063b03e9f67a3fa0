/* NEON helpers of the Arm kernels (include only inside `#if EL_ARCH_ARM64`): TFLite's clamp order,
 * a lane-select pool max, and the int8 requantization of 4 channels from a group header.
 *
 * Requantization, bit-exact with el_quant.h:
 *   vqrdmulh(x, m) = sat((2 x m + 2^31) >> 32) = floor((x m + 2^30) / 2^31), which is both ruy's
 *   high multiply and gemmlowp's SaturatingRoundingDoublingHighMul (their tie rules agree for a
 *   product that is an exact multiple of 2^30 plus half), except for x = m = INT32_MIN: gemmlowp
 *   saturates too, ruy computes 2^31 in 64 bits and only then shifts right (or wraps to INT32_MIN
 *   when the shift is 0) -- the same value as vqrdmulh + vrshl for every right shift above 0.
 *   vrshl by -r = (h + 2^(r-1)) >> r, ruy's half-up shift; gemmlowp rounds ties away from zero,
 *   which is that shift of h - 1 for negative h (its NEON form: add (h & -r) >> 31, saturating).
 * Multipliers are TFLite's (in [2^30, 2^31)), so the INT32_MIN case only arises from a hand-made
 * header; el_nrq4_load flags it and el_nrq4_ruy then fixes those lanes. */
#ifndef EL_NEON_H
#define EL_NEON_H

#include <arm_neon.h>
#include <stdint.h>

#include "el_qkernels.h"

/* (lo > x ? lo : x) then (hi < x ? hi : x): NaN and -0.0 pass through, as el_clamp. */
static inline float32x4_t el_nclamp4(float32x4_t x, float32x4_t lo, float32x4_t hi) {
  x = vbslq_f32(vcgtq_f32(lo, x), lo, x);
  return vbslq_f32(vcltq_f32(hi, x), hi, x);
}

/* v > acc ? v : acc (a NaN tap never wins, as the scalar pool). */
static inline float32x4_t el_nmax4(float32x4_t acc, float32x4_t v) { return vbslq_f32(vcgtq_f32(v, acc), v, acc); }

/* exp(x) within ~1 ulp for -87 <= x <= 88 (where the result is a normal float): Cephes' expf as
 * el_avx2.h's el_exp8 (x = n ln2 + r, degree-6 polynomial, times 2^n); NaN stays NaN. Callers
 * send lanes outside that range to libm's expf. */
#define EL_NEXP_MIN -87.0f
#define EL_NEXP_MAX 88.0f

static inline float32x4_t el_nexp4(float32x4_t x) {
  const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
  r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
  float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
  p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
  p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
  p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
  const int32x4_t scale = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(scale));
}

/* All 4 lanes within [EL_NEXP_MIN, EL_NEXP_MAX] or NaN (el_nexp4 covers them). */
static inline int el_nexp4_covers(float32x4_t x) {
  const uint32x4_t out = vorrq_u32(vcltq_f32(x, vdupq_n_f32(EL_NEXP_MIN)), vcgtq_f32(x, vdupq_n_f32(EL_NEXP_MAX)));
  return vmaxvq_u32(out) == 0;
}

/* The requantization constants of channels [4 q, 4 q + 4) of a group. */
typedef struct {
  int32x4_t m, left, neg_right, min_fix; /* min_fix: lanes where m = INT32_MIN and right = 0 */
  int odd;                               /* some lane has min_fix set */
} el_nrq4;

static inline el_nrq4 el_nrq4_load(const char *group, size_t q) {
  el_nrq4 r;
  r.m = vld1q_s32((const int32_t *)(const void *)(group + EL_QHDR_MULT + 16 * q));
  const int32x4_t shift = vld1q_s32((const int32_t *)(const void *)(group + EL_QHDR_SHIFT + 16 * q));
  r.left = vmaxq_s32(shift, vdupq_n_s32(0));
  r.neg_right = vminq_s32(shift, vdupq_n_s32(0));
  r.min_fix = vreinterpretq_s32_u32(vandq_u32(vceqq_s32(r.m, vdupq_n_s32(INT32_MIN)), vceqzq_s32(r.neg_right)));
  r.odd = vmaxvq_u32(vreinterpretq_u32_s32(r.min_fix)) != 0;
  return r;
}

/* ruy's rounding (conv / fully-connected, depthwise SIMD channels); no zero point yet. */
static inline int32x4_t el_nrq4_ruy(int32x4_t acc, const el_nrq4 *r) {
  const int32x4_t x = vshlq_s32(acc, r->left);
  int32x4_t y = vrshlq_s32(vqrdmulhq_s32(x, r->m), r->neg_right);
  if (r->odd) { /* INT32_MIN * INT32_MIN with no right shift: ruy wraps to INT32_MIN (= MAX + 1) */
    const int32x4_t hit = vandq_s32(vreinterpretq_s32_u32(vceqq_s32(x, vdupq_n_s32(INT32_MIN))), r->min_fix);
    y = vsubq_s32(y, hit);
  }
  return y;
}

/* gemmlowp's rounding (LiteRT's scalar tails): ties away from zero. */
static inline int32x4_t el_nrq4_gemmlowp(int32x4_t acc, const el_nrq4 *r) {
  const int32x4_t h = vqrdmulhq_s32(vshlq_s32(acc, r->left), r->m);
  const int32x4_t fix = vshrq_n_s32(vandq_s32(h, r->neg_right), 31);
  return vrshlq_s32(vqaddq_s32(h, fix), r->neg_right);
}

/* 4 x 4 requantized int32 (+ zero point, wrapping; then clamped to [lo, hi] within int8) to 16 int8. */
static inline int8x16_t el_nq_pack16(int32x4_t v0, int32x4_t v1, int32x4_t v2, int32x4_t v3, const el_qout *q) {
  const int32x4_t zp = vdupq_n_s32(q->zero_point), lo = vdupq_n_s32(q->lo), hi = vdupq_n_s32(q->hi);
  v0 = vminq_s32(vmaxq_s32(vaddq_s32(v0, zp), lo), hi);
  v1 = vminq_s32(vmaxq_s32(vaddq_s32(v1, zp), lo), hi);
  v2 = vminq_s32(vmaxq_s32(vaddq_s32(v2, zp), lo), hi);
  v3 = vminq_s32(vmaxq_s32(vaddq_s32(v3, zp), lo), hi);
  const int16x8_t h0 = vcombine_s16(vmovn_s32(v0), vmovn_s32(v1)), h1 = vcombine_s16(vmovn_s32(v2), vmovn_s32(v3));
  return vcombine_s8(vmovn_s16(h0), vmovn_s16(h1));
}

#endif
