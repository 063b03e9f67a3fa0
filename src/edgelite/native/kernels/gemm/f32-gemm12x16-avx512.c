/* f32-gemm12x16-avx512: 12 rows x 16 columns, one zmm accumulator per row, FMAs with the A value
 * broadcast from memory (see el_gemm_fn). Fewer than 12 rows take the 8-, 4-, 2- or 1-row tile, so
 * a tail does no wasted work beyond the next smaller tile; 1 or 2 rows take 4 or 2 panels at once
 * (enough independent FMA chains); a last panel of at most 8 columns runs on ymm registers: the
 * conv12x16 tile (el_avx512.h) over one segment of kc values. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx512.h"

EL_AVX512 void el_f32_gemm12x16_avx512(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
                                       const float *w, float *c, size_t c_stride, float lo, float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  while (mr > 0) {
    const size_t tile = mr > 8 ? 12 : mr > 4 ? 8 : mr > 2 ? 4 : mr;
    const size_t rows = mr < tile ? mr : tile;
    const float *const seg[1] = {a};
    if (tile == 12) el_conv12x16_tile(12, rows, nc, 1, kc, seg, a_stride, w, c, c_stride, vlo, vhi);
    else if (tile == 8) el_conv12x16_tile(8, rows, nc, 1, kc, seg, a_stride, w, c, c_stride, vlo, vhi);
    else if (tile == 4) el_conv12x16_tile(4, rows, nc, 1, kc, seg, a_stride, w, c, c_stride, vlo, vhi);
    else if (tile == 2) el_conv12x16_tile(2, rows, nc, 1, kc, seg, a_stride, w, c, c_stride, vlo, vhi);
    else el_conv12x16_tile(1, rows, nc, 1, kc, seg, a_stride, w, c, c_stride, vlo, vhi);
    a += rows * a_stride;
    c += rows * c_stride;
    mr -= rows;
  }
}
#endif
