/* qs8-spmm32-scalar: int8 block-CSR weights times a transposed int16 tile of 32 pixels, int32
 * accumulators (wrapping, as the reference's), ruy requantization (see el_qspmm_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

void el_qs8_spmm32_scalar(size_t mr, size_t nc, size_t block, const int16_t *xt, const int32_t *row_ptr,
                          const int32_t *pairs, const int32_t *words, const int32_t *ch, int8_t *y,
                          size_t y_stride, const el_qout *q) {
  const size_t width = el_sparse_words(block);
  for (size_t n = 0; n < nc; n++) {
    uint32_t acc[EL_SPMM_MT];
    for (size_t i = 0; i < EL_SPMM_MT; i++) acc[i] = (uint32_t)ch[4 * n];
    for (int32_t j = row_ptr[n]; j < row_ptr[n + 1]; j++) {
      const int32_t *w = words + (size_t)j * width;
      const int16_t *x = xt + (size_t)pairs[j] * EL_SPMM_MT * 2;
      for (size_t p = 0; p < width; p++, x += EL_SPMM_MT * 2) {
        const int32_t w0 = (int16_t)(uint16_t)((uint32_t)w[p] & 0xFFFF), w1 = (int16_t)(uint16_t)((uint32_t)w[p] >> 16);
        for (size_t i = 0; i < EL_SPMM_MT; i++) acc[i] += (uint32_t)(x[2 * i] * w0 + x[2 * i + 1] * w1);
      }
    }
    const int32_t multiplier = ch[4 * n + 1], shift = ch[4 * n + 2];
    for (size_t i = 0; i < mr; i++) {
      const int32_t scaled = el_mbqm_ruy((int32_t)acc[i], multiplier, shift);
      y[i * y_stride + n] = (int8_t)el_clamp32(el_wrap32((int64_t)scaled + q->zero_point), q->lo, q->hi);
    }
  }
}
