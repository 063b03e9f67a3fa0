/* Scalar fixed-point arithmetic of LiteRT's int8 kernels, as edgelite's reference defines it
 * (ops/_quant.py): int32 values wrap like C's int32 on x86, shifts are validated to [-31, 31]. */
#ifndef EL_QUANT_H
#define EL_QUANT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "el_qkernels.h"

#include "el_engine.h"

static inline int64_t el_dtype_size(int dtype) {
  static const int64_t sizes[EL_DTYPE_COUNT] = {4, 1, 4, 2}; /* enum el_dtype */
  return dtype >= 0 && dtype < EL_DTYPE_COUNT ? sizes[dtype] : 0;
}

static inline int32_t el_wrap32(int64_t x) { return (int32_t)(uint32_t)(uint64_t)x; }
static inline int32_t el_shl32(int32_t x, int s) { return (int32_t)((uint32_t)x << s); }
static inline int32_t el_clamp32(int64_t x, int32_t lo, int32_t hi) { return x < lo ? lo : x > hi ? hi : (int32_t)x; }
static inline int32_t el_wrap16(int32_t x) { return (int16_t)(uint16_t)(uint32_t)x; }

/* gemmlowp's SaturatingRoundingDoublingHighMul: ties away from zero. */
static inline int32_t el_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * b;
  const int64_t nudged = ab + (ab >= 0 ? (1 << 30) : 1 - (1 << 30));
  return (int32_t)(nudged / ((int64_t)1 << 31)); /* C division truncates */
}

/* gemmlowp's RoundingDivideByPOT, exponent in [0, 31]: ties away from zero. */
static inline int32_t el_rdbp(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t threshold = (mask >> 1) + (x < 0);
  return (x >> exponent) + ((x & mask) > threshold);
}

/* TFLite's MultiplyByQuantizedMultiplier (reference kernels): x << max(shift, 0) wrapping,
 * then the doubling high multiply and a rounding shift, both ties away from zero. */
static inline int32_t el_mbqm(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift & 31 : 0, right = shift > 0 ? 0 : -shift;
  return el_rdbp(el_srdhm(el_shl32(x, left), multiplier), right);
}

/* ruy's (and NEON's vqrdmulh + vrshl) form: both roundings half up. */
static inline int32_t el_mbqm_ruy(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int32_t scaled = left >= 32 ? 0 : el_shl32(x, left);
  int64_t high = ((int64_t)scaled * multiplier + ((int64_t)1 << 30)) >> 31;
  if (right > 0) high = (high + ((int64_t)1 << (right - 1))) >> right;
  return (int32_t)high;
}

static inline int32_t el_load_i32(const void *base, size_t byte_offset) {
  int32_t v;
  memcpy(&v, (const char *)base + byte_offset, sizeof(v));
  return v;
}

/* Channel c (< 16) of a group header: requantized accumulator, ruy or gemmlowp rounding. */
static inline int8_t el_qgroup_out(const void *group, size_t c, int32_t acc, int ruy, const el_qout *q) {
  const int32_t m = el_load_i32(group, EL_QHDR_MULT + 4 * c);
  const int shift = (int)el_load_i32(group, EL_QHDR_SHIFT + 4 * c);
  const int32_t scaled = ruy ? el_mbqm_ruy(acc, m, shift) : el_mbqm(acc, m, shift);
  return (int8_t)el_clamp32(el_wrap32((int64_t)scaled + q->zero_point), q->lo, q->hi);
}

/* TFLite's integer average: (sum +- count / 2) / count, C's truncating division. */
static inline int32_t el_qavg_round(int32_t sum, int32_t count) {
  return sum > 0 ? (sum + count / 2) / count : -((count / 2 - sum) / count);
}

/* An int8 ADD (p[0] == 0) or MUL element, QBINARY's params p = [op, lanes, zp a, zp b, output zp,
 * lo, hi, m a, shift a, m b, shift b, m out, shift out, left shift], as the reference (_qbinary.py,
 * _qneon.py) computes it on LiteRT's vector path (`vector`) or its scalar tail. */
static inline int32_t el_vshl(int32_t v, int shift) { return shift >= 0 ? el_shl32(v, shift) : v >> -shift; }

static inline int8_t el_qbinary_one(const int64_t *p, int32_t a, int32_t b, int vector) {
  const int32_t va = a - (int32_t)p[2], vb = b - (int32_t)p[3], zp = (int32_t)p[4], lo = (int32_t)p[5], hi = (int32_t)p[6];
  const int32_t ma = (int32_t)p[7], mb = (int32_t)p[9], mo = (int32_t)p[11];
  const int sa = (int)p[8], sb = (int)p[10], so = (int)p[12], left = (int)p[13];
  if (p[0] == 0) { /* ADD: the int8 rows combine the left shift with the input shift */
    if (vector) {
      const int32_t raw = el_wrap32((int64_t)el_srdhm(el_vshl(va, left + sa), ma) + el_srdhm(el_vshl(vb, left + sb), mb));
      const int32_t scaled = el_rdbp(el_srdhm(raw, mo), -so);
      return (int8_t)el_clamp32(el_clamp32(el_wrap16(el_wrap16(scaled) + zp), -128, 127), lo, hi);
    }
    const int32_t raw = el_wrap32((int64_t)el_mbqm(el_shl32(va, left), ma, sa) + el_mbqm(el_shl32(vb, left), mb, sb));
    return (int8_t)el_clamp32((int64_t)el_mbqm(raw, mo, so) + zp, lo, hi);
  }
  const int32_t scaled = el_mbqm(va * vb, ma, sa); /* MUL */
  if (vector)
    return (int8_t)el_clamp32(el_clamp32(el_wrap16(el_clamp32(scaled, INT16_MIN, INT16_MAX) + zp), -128, 127), lo, hi);
  return (int8_t)el_clamp32((int64_t)scaled + zp, lo, hi);
}

/* QUANTIZE float32 -> int8: LiteRT's vector loop (x * (1/scale), half to even; out of range and
 * NaN become INT32_MIN) and its scalar tail (x / scale in double, half away from zero). */
static inline int8_t el_quantize_vector(float x, float inv_scale, int32_t zp) {
  const float r = rintf(x * inv_scale);
  const int32_t v = r >= -2147483648.0f && r < 2147483648.0f ? (int32_t)r : INT32_MIN;
  return (int8_t)el_clamp32(el_wrap32((int64_t)v + zp), -128, 127);
}

static inline int8_t el_quantize_tail(float x, float scale, int32_t zp) {
  const double d = (double)x / (double)scale, r = copysign(floor(fabs(d) + 0.5), d);
  const int32_t v = r >= -2147483648.0 && r <= 2147483647.0 ? (int32_t)r : INT32_MIN;
  return (int8_t)el_clamp32(el_wrap32((int64_t)v + zp), -128, 127);
}

#endif
