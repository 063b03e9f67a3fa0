/* f32-conv12x16-avx512: 12 rows x 16 columns over strided window rows, one zmm accumulator per
 * row, the A values broadcast from memory (see el_conv_fn). Fewer than 12 rows take the 8-, 4-, 2-
 * or 1-row tile, 1 or 2 rows over 4 or 2 panels at once (independent FMA chains); a last panel of
 * at most 8 columns runs on ymm registers. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx512.h"

EL_AVX512 void el_f32_conv12x16_avx512(size_t mr, size_t nc, size_t segments, size_t seg_len,
                                       const float *const *seg, size_t a_stride, const float *w, float *c,
                                       size_t c_stride, float lo, float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const size_t tile = mr > 8 ? 12 : mr > 4 ? 8 : mr > 2 ? 4 : mr;
  if (tile == 12) el_conv12x16_tile(12, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
  else if (tile == 8) el_conv12x16_tile(8, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
  else if (tile == 4) el_conv12x16_tile(4, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
  else if (tile == 2) el_conv12x16_tile(2, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
  else el_conv12x16_tile(1, mr, nc, segments, seg_len, seg, a_stride, w, c, c_stride, vlo, vhi);
}
#endif
