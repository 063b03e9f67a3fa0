/* Hybrid (dynamic-range) microkernel signatures, the packed layout they read and their dispatch
 * slots: float32 activations quantized to int8 at run time, int8 weights, int32 accumulation,
 * float32 output. Included by el_kernels.h before the manifest's declarations.
 *
 * An "hgemm channel group" is EL_HGROUP (16) output channels, [header][K pairs]:
 *   header (EL_HGROUP_HEADER bytes): float weight scale[16], float bias[16] (0 without a bias),
 *   then padding to 128 bytes; body: K/2 (K rounded up to even) pairs x 16 channels x 2 int16
 *   w[n][2p], w[n][2p+1] (qgemm's body layout, so vpmaddwd / vpdpwssd consume it directly).
 * pack.c writes these (for native_hybrid.py); ops_hybrid.c validates their size. */
#ifndef EL_HKERNELS_H
#define EL_HKERNELS_H

#include <stddef.h>
#include <stdint.h>

#define EL_HGROUP 16
#define EL_HGROUP_HEADER 128
#define EL_HHDR_SCALE 0
#define EL_HHDR_BIAS 64

/* hgemm: c[mr x nc] (float32) = clamp(float(acc) * (row_scale[r] * w_scale[n]) + bias[n], lo, hi)
 * with acc = a[r] . w[n] exact in int32 (wrapping). a is int16 (the quantized input minus its zero
 * point; kp even), w points at the first channel group, group_bytes apart; a_stride and c_stride
 * count elements. Each float operation is rounded once, in this order (no fused multiply-add), as
 * the reference's numpy float32 expressions. */
typedef void el_hgemm_fn(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride, const void *w,
                         size_t group_bytes, float *c, size_t c_stride, const float *row_scale, float lo,
                         float hi);

/* Input quantizations of a region (LiteRT's run-time quantization of hybrid kernels). */
enum el_hquant_mode {
  EL_HQUANT_SYMMETRIC = 0,   /* _quant.quantize_input_rows symmetric: +-127, zero point 0 */
  EL_HQUANT_ASYM_DOUBLE = 1, /* asymmetric, 1 / scale computed in double (quantize_input_rows) */
  EL_HQUANT_ASYM_FLOAT = 2   /* asymmetric, 1 / scale computed in float (_conv.hybrid_input) */
};

/* How a region whose values span [lo, hi] quantizes: q = clamp(round(x * inv) + zero_point,
 * qmin, 127) (round: ties away from zero); returns the scale. An all-zero region has scale 1 and
 * inv 0. The reference's formulas, operation for operation (float where it is float32). */
static inline float el_hquant_params(float lo, float hi, int mode, float *inv, int32_t *zero_point, int32_t *qmin) {
  *zero_point = 0;
  if (mode == EL_HQUANT_SYMMETRIC) {
    const float range = (lo < 0 ? -lo : lo) > (hi < 0 ? -hi : hi) ? (lo < 0 ? -lo : lo) : (hi < 0 ? -hi : hi);
    *qmin = -127;
    *inv = range == 0.0f ? 0.0f : 127.0f / range;
    return range == 0.0f ? 1.0f : range / 127.0f;
  }
  *qmin = -128;
  lo = lo < 0.0f ? lo : 0.0f;
  hi = hi > 0.0f ? hi : 0.0f;
  if (lo == hi) {
    *inv = 0.0f;
    return 1.0f;
  }
  const double scale64 = (double)(hi - lo) / 255.0, low = (double)lo / scale64, high = (double)hi / scale64;
  const double zero = 128.0 + (low < 0 ? -low : low) < 127.0 + (high < 0 ? -high : high) ? -128.0 - low : 127.0 - high;
  const double rounded = zero < 0 ? -(double)(int64_t)(-zero + 0.5) : (double)(int64_t)(zero + 0.5); /* |zero| < 2^9 */
  *zero_point = rounded < -128 ? -128 : rounded > 127 ? 127 : (int32_t)rounded;
  const float scale = (float)scale64;
  *inv = mode == EL_HQUANT_ASYM_DOUBLE ? (float)(1.0 / (double)scale) : 1.0f / scale;
  return scale;
}

/* hquant: n floats of one region quantized (el_hquant_params over their min and max) and stored
 * minus the zero point as int16; returns the region's scale. */
typedef float el_hquant_fn(size_t n, const float *x, int mode, int16_t *out);

/* hdwconv: one output pixel of a hybrid depthwise conv (multiplier 1) over `channels` channels:
 * acc[c] = sum over taps t of input[t][c] * w[t * w_stride + c] (exact, int32; a NULL input[t]
 * is padding and adds nothing), then out[c] = clamp(c < blocked ? (acc * scale[c]) * in_scale
 * : (acc * in_scale) * scale[c], + bias[c]) in float32 (the reference's order per channel). */
typedef void el_hdwconv_fn(size_t taps, size_t channels, const int16_t **input, const int16_t *w, size_t w_stride,
                           const float *scale, const float *bias, float in_scale, size_t blocked, float *out,
                           float lo, float hi);

/* hdwconv's epilogue for one channel (the kernels' scalar tails). */
static inline float el_hdw_out(int32_t acc, float scale, float bias, float in_scale, int blocked, float lo, float hi) {
  const float a = (float)acc;
  float v = blocked ? (a * scale) * in_scale : (a * in_scale) * scale;
  v = v + bias;
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

typedef struct {
  el_hgemm_fn *hgemm;
  size_t hgemm_mr;
  el_hquant_fn *hquant;
  el_hdwconv_fn *hdwconv;
} el_hukernels;

extern el_hukernels el_hkernels;

static inline void set_hgemm(el_hgemm_fn *fn, size_t mr) { el_hkernels.hgemm = fn; el_hkernels.hgemm_mr = mr; }
static inline void set_hdwconv(el_hdwconv_fn *fn, size_t arg) { (void)arg; el_hkernels.hdwconv = fn; }
static inline void set_hquant(el_hquant_fn *fn, size_t arg) { (void)arg; el_hkernels.hquant = fn; }

#endif
