/* Hybrid (dynamic-range) microkernel signatures, the packed layout they read and their dispatch
 * slots: float32 activations quantized to int8 at run time, int8 weights, int32 accumulation,
 * float32 output. Included by el_kernels.h before the manifest's declarations.
 *
 * An "hgemm channel group" is EL_HGROUP (16) output channels, [header][K pairs]:
 *   header (EL_HGROUP_HEADER bytes): float weight scale[16], float bias[16] (0 without a bias),
 *   then padding to 128 bytes; body: K/2 (K rounded up to even) pairs x 16 channels x 2 int16
 *   w[n][2p], w[n][2p+1] (qgemm's body layout, so vpmaddwd / vpdpwssd consume it directly).
 * native_hybrid.py writes these; ops_hybrid.c validates their size. */
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

typedef struct {
  el_hgemm_fn *hgemm;
  size_t hgemm_mr;
} el_hukernels;

extern el_hukernels el_hkernels;

static inline void set_hgemm(el_hgemm_fn *fn, size_t mr) { el_hkernels.hgemm = fn; el_hkernels.hgemm_mr = mr; }

#endif
