/* qs8-hgemm4x16-scalar: portable hybrid GEMM, int32 accumulators and the float epilogue (see
 * el_hgemm_fn). */
#include <string.h>

#include "../../include/el_kernels.h"

static inline float load_f32(const char *group, size_t offset) {
  float v;
  memcpy(&v, group + offset, sizeof(v));
  return v;
}

void el_qs8_hgemm4x16_scalar(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride, const void *w,
                             size_t group_bytes, float *c, size_t c_stride, const float *row_scale, float lo,
                             float hi) {
  const int16_t *rows[4];
  for (size_t r = 0; r < 4; r++) rows[r] = a + (r < mr ? r : mr - 1) * a_stride;
  const char *group = w;
  for (size_t n0 = 0; n0 < nc; n0 += EL_HGROUP, group += group_bytes) {
    uint32_t acc[4][EL_HGROUP] = {{0}}; /* unsigned: wraps like the reference's int32 */
    const int16_t *wk = (const int16_t *)(const void *)(group + EL_HGROUP_HEADER);
    for (size_t k = 0; k < kp; k += 2, wk += 2 * EL_HGROUP) {
      for (size_t r = 0; r < 4; r++) {
        const int32_t a0 = rows[r][k], a1 = rows[r][k + 1];
        for (size_t j = 0; j < EL_HGROUP; j++) acc[r][j] += (uint32_t)(a0 * wk[2 * j] + a1 * wk[2 * j + 1]);
      }
    }
    const size_t width = nc - n0 < EL_HGROUP ? nc - n0 : EL_HGROUP;
    for (size_t r = 0; r < mr; r++)
      for (size_t j = 0; j < width; j++) {
        const float scale = row_scale[r] * load_f32(group, EL_HHDR_SCALE + 4 * j);
        float v = (float)(int32_t)acc[r][j] * scale;
        v = v + load_f32(group, EL_HHDR_BIAS + 4 * j);
        v = v < lo ? lo : v;
        c[r * c_stride + n0 + j] = v > hi ? hi : v;
      }
  }
}
