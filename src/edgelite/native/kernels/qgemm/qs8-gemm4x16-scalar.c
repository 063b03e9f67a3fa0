/* qs8-gemm4x16-scalar: portable int8 GEMM with int32 accumulators (see el_qgemm_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

void el_qs8_gemm4x16_scalar(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                            const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                            const el_qout *q) {
  const int16_t *rows[4];
  for (size_t r = 0; r < 4; r++) rows[r] = a + (r < mr ? r : mr - 1) * a_stride;
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_QGROUP, group += group_bytes) {
    uint32_t acc[4][EL_QGROUP]; /* unsigned: wraps like the int32 accumulator of the reference */
    for (size_t r = 0; r < 4; r++)
      for (size_t j = 0; j < EL_QGROUP; j++) acc[r][j] = (uint32_t)el_load_i32(group, EL_QHDR_BIAS + 4 * j);
    const int16_t *wk = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
    for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_QGROUP) {
      for (size_t r = 0; r < 4; r++) {
        const int32_t a0 = rows[r][k], a1 = rows[r][k + 1];
        for (size_t j = 0; j < EL_QGROUP; j++)
          acc[r][j] += (uint32_t)(a0 * wk[2 * j] + a1 * wk[2 * j + 1]);
      }
    }
    const size_t width = nc - n0 < EL_QGROUP ? nc - n0 : EL_QGROUP;
    for (size_t r = 0; r < mr; r++)
      for (size_t j = 0; j < width; j++)
        c[r * c_stride + n0 + j] = el_qgroup_out(group, j, (int32_t)acc[r][j], 1, q);
  }
}
