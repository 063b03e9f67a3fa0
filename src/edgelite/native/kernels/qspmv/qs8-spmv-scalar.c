/* qs8-spmv-scalar: int8 block-CSR weights times a few int16 rows (input minus its zero point),
 * one int32 dot product per output, ruy requantization (see el_qspmv_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

void el_qs8_spmv_scalar(size_t mr, size_t nc, size_t block, const int16_t *x, size_t x_stride,
                        const int32_t *row_ptr, const int32_t *pairs, const int32_t *words, const int32_t *ch,
                        int8_t *y, size_t y_stride, const el_qout *q) {
  const size_t width = el_sparse_words(block);
  for (size_t m = 0; m < mr; m++, x += x_stride, y += y_stride)
    for (size_t n = 0; n < nc; n++) {
      uint32_t acc = (uint32_t)ch[4 * n];
      for (int32_t j = row_ptr[n]; j < row_ptr[n + 1]; j++) {
        const int32_t *w = words + (size_t)j * width;
        const int16_t *xs = x + (size_t)pairs[j] * 2;
        for (size_t p = 0; p < width; p++) {
          const int32_t w0 = (int16_t)(uint16_t)((uint32_t)w[p] & 0xFFFF), w1 = (int16_t)(uint16_t)((uint32_t)w[p] >> 16);
          acc += (uint32_t)(xs[2 * p] * w0 + xs[2 * p + 1] * w1);
        }
      }
      const int32_t scaled = el_mbqm_ruy((int32_t)acc, ch[4 * n + 1], ch[4 * n + 2]);
      y[n] = (int8_t)el_clamp32(el_wrap32((int64_t)scaled + q->zero_point), q->lo, q->hi);
    }
}
