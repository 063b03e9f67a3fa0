/* qs8-gemm4x16c4-scalar: portable int8 GEMM over uint8 inputs and quads of int8 weights with
 * int32 accumulators (see el_qgemmc4_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

void el_qs8_gemm4x16c4_scalar(size_t mr, size_t nc, size_t kq, const uint8_t *a, size_t a_stride,
                              const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                              const el_qout *q) {
  const uint8_t *rows[4];
  for (size_t r = 0; r < 4; r++) rows[r] = a + (r < mr ? r : mr - 1) * a_stride;
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_QGROUP, group += group_bytes) {
    uint32_t acc[4][EL_QGROUP]; /* unsigned: wraps like the int32 accumulator of the reference */
    for (size_t r = 0; r < 4; r++)
      for (size_t j = 0; j < EL_QGROUP; j++) acc[r][j] = (uint32_t)el_load_i32(group, EL_QHDR_BIAS + 4 * j);
    const int8_t *wk = (const int8_t *)(group + EL_QGROUP_HEADER);
    for (size_t k = 0; k < kq; k += 4, wk += 4 * EL_QGROUP)
      for (size_t r = 0; r < 4; r++)
        for (size_t j = 0; j < EL_QGROUP; j++) {
          int32_t dot = 0;
          for (size_t i = 0; i < 4; i++) dot += (int32_t)rows[r][k + i] * wk[4 * j + i];
          acc[r][j] += (uint32_t)dot;
        }
    const size_t width = nc - n0 < EL_QGROUP ? nc - n0 : EL_QGROUP;
    for (size_t r = 0; r < mr; r++)
      for (size_t j = 0; j < width; j++)
        c[r * c_stride + n0 + j] = el_qgroup_out(group, j, (int32_t)acc[r][j], 1, q);
  }
}
