/* int8 microkernel signatures, the packed layouts they read, their dispatch slots and the setters
 * dispatch.c's manifest walk calls (set_<family>). Included by el_kernels.h before the manifest's
 * declarations. The arithmetic is LiteRT's (see el_quant.h), bit-exact at every level.
 *
 * A "channel group" is EL_QGROUP (16) output channels of packed weights, [header][taps or K pairs]:
 *   header (EL_QGROUP_HEADER bytes): int32 bias[16], int32 multiplier[16], int32 shift[16]
 *   (TFLite's signed exponent), int32 left shift[16] (max(shift, 0)), then for the AVX2 ruy
 *   requantization of each half (channels 0-7, 8-15), in 64-bit lanes ordered even channels then
 *   odd ones: rounding[8] (2^30 + (right ? 2^(30+right) : 0) + 2^63, wrapped), total shift[8]
 *   (31 + right), correction[8] (2^(63 - total shift)); right = max(-shift, 0).
 *   qgemm body: K/2 (K rounded up to even) pairs x 16 channels x 2 int16: w[n][2p], w[n][2p+1].
 *   qgemmc4 body: K/4 (K rounded up to a multiple of 4) quads x 16 channels x 4 int8: w[n][4q..4q+3]
 *   (the layout of vpdpbusd); the header's bias already holds -(input zero point + 128) x sum(w).
 *   qdwconvc4 body: (taps + 3) / 4 quads x 16 channels x 4 int8: w[tap 4q + i][c] at 64q + 4c + i
 *   (taps past the window 0); its bias holds -(input zero point + 128) x sum(w), the kernels
 *   reading x ^ 0x80 as uint8 (the layout of vpdpbusd).
 *   qdwconv body: (taps + 1) / 2 pairs x 32 int16, two vectors of 8 pairs holding
 *   channels {0-3, 8-11} and {4-7, 12-15} (the lane order of _mm256_unpack{lo,hi}_epi16).
 * pack.c writes these (for native_int8.py); engine validation checks sizes and shift ranges. */
#ifndef EL_QKERNELS_H
#define EL_QKERNELS_H

#include <stddef.h>
#include <stdint.h>

#define EL_QGROUP 16
#define EL_QGROUP_HEADER 640
#define EL_QHDR_BIAS 0
#define EL_QHDR_MULT 64
#define EL_QHDR_SHIFT 128
#define EL_QHDR_LEFT 192
#define EL_QHDR_ROUND 256 /* + 64 * half: even lanes [4], odd lanes [4] (int64) */
#define EL_QHDR_TOTAL 384
#define EL_QHDR_FIX 512

/* Output stage shared by the int8 kernels: zero point and clamp. */
typedef struct {
  int32_t zero_point, lo, hi;
} el_qout;

/* qgemm: c[mr x nc] (int8) = requantize(bias + a[mr x kp] * w) per output channel, ruy rounding.
 * a is int16 (already minus the input zero point; pairs (2p, 2p+1) adjacent; kp even), w points
 * at the first channel group, group_bytes apart; a_stride and c_stride count elements. */
typedef void el_qgemm_fn(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                         const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                         const el_qout *q);

/* qgemmc4: as qgemm, but a holds uint8 rows (input + 128, i.e. x ^ 0x80; padding the zero point
 * + 128) of kq (a multiple of 4) values and w the qgemmc4 groups; a_stride counts bytes. */
typedef void el_qgemmc4_fn(size_t mr, size_t nc, size_t kq, const uint8_t *a, size_t a_stride,
                           const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                           const el_qout *q);

/* qdwconv: for each of `pixels` outputs, channels [0, channels): bias + sum over `taps` of
 * input[p*taps + t][c] * w (groups hold (taps + 1) / 2 tap pairs, an odd last tap paired with zero
 * weights); channels below `ruy_channels` requantize with ruy's rounding, the rest with gemmlowp's
 * (LiteRT's 8-channel SIMD blocks and scalar tail). */
typedef void el_qdwconv_fn(size_t taps, size_t channels, size_t pixels, const int8_t **input,
                           const void *w, size_t group_bytes, int8_t *out, const el_qout *q,
                           size_t ruy_channels);

/* qdwconvc4: as qdwconv over qdwconvc4 groups (raw int8 inputs, flipped to uint8 inside). */
typedef el_qdwconv_fn el_qdwconvc4_fn;

/* qpack: y[i] = x[i] - zero_point as int16 (the qgemm's input rows). */
typedef void el_qpack_fn(size_t n, const int8_t *x, int32_t zero_point, int16_t *y);

/* qvbinary: y[i] = int8 ADD or MUL of a[i] and b[i] with QBINARY's params p (ops_qmisc.c) as
 * LiteRT's vector loop computes it (vector != 0) or as its scalar tail does (el_qbinary_one). */
typedef void el_qvbinary_fn(size_t n, const int8_t *a, const int8_t *b, int8_t *y, const int64_t *p, int vector);

/* qvcvt: float32 -> int8 QUANTIZE of n values as LiteRT's vector loop (vector != 0: x * inv_scale
 * rounded half to even) or scalar tail (x / scale in double, half away from zero) computes it. */
typedef void el_qvcvt_fn(size_t n, const float *x, int8_t *y, float inv_scale, float scale, int32_t zero_point,
                         int vector);

/* qpool: one output pixel of an int8 MAX (op 0) / AVERAGE (op 1) pool over `taps` input pixels
 * (pointers to `channels` int8): acc = (first ? -128 or 0 : acc) folded with every tap (max, or
 * sum), then out = last ? clamp(MAX ? acc : acc / count rounded half away from zero) : acc kept.
 * acc holds `channels` int32; windows larger than a chunk of taps run in several calls. */
#define EL_QPOOL_TAPS 64 /* taps per qpool call at most */
typedef void el_qpool_fn(int op, size_t taps, size_t channels, const int8_t **input, int32_t *acc, int8_t *out,
                         int first, int last, int32_t count, int32_t lo, int32_t hi);

typedef struct {
  el_qpool_fn *qpool;
  el_qgemm_fn *qgemm;
  size_t qgemm_mr;
  el_qgemmc4_fn *qgemmc4;
  size_t qgemmc4_mr;
  el_qdwconv_fn *qdwconv;
  el_qdwconv_fn *qdwconv9; /* specialised for 9 taps (3x3), or NULL */
  el_qdwconvc4_fn *qdwconvc4;
  el_qpack_fn *qpack;
  el_qvbinary_fn *qvbinary;
  el_qvcvt_fn *qvcvt;
} el_qukernels;

extern el_qukernels el_qkernels;

/* Called by dispatch.c's manifest walk (lowest level first, so the best kernel wins). */
static inline void set_qgemm(el_qgemm_fn *fn, size_t mr) { el_qkernels.qgemm = fn; el_qkernels.qgemm_mr = mr; }
static inline void set_qgemmc4(el_qgemmc4_fn *fn, size_t mr) {
  el_qkernels.qgemmc4 = fn;
  el_qkernels.qgemmc4_mr = mr;
}
static inline void set_qdwconv(el_qdwconv_fn *fn, size_t taps) {
  if (taps == 9) el_qkernels.qdwconv9 = fn;
  else el_qkernels.qdwconv = fn;
}
static inline void set_qdwconvc4(el_qdwconvc4_fn *fn, size_t taps) {
  (void)taps;
  el_qkernels.qdwconvc4 = fn;
}
static inline void set_qpool(el_qpool_fn *fn, size_t arg) { (void)arg; el_qkernels.qpool = fn; }
static inline void set_qpack(el_qpack_fn *fn, size_t arg) { (void)arg; el_qkernels.qpack = fn; }
static inline void set_qvbinary(el_qvbinary_fn *fn, size_t arg) { (void)arg; el_qkernels.qvbinary = fn; }
static inline void set_qvcvt(el_qvcvt_fn *fn, size_t arg) { (void)arg; el_qkernels.qvcvt = fn; }

#endif
