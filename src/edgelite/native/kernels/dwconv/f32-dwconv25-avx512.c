/* f32-dwconv25-avx512: the 5x5 case, 16 channels per zmm, the 25 weight vectors held in
 * registers across a row of pixels (el_dwconv16_fixed; see el_dwconv_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx512.h"

EL_AVX512 void el_f32_dwconv25_avx512(size_t taps, size_t channels, size_t pixels, const float **input,
                                   size_t pixel_stride, const float *w, float *out, float lo, float hi) {
  (void)taps;
  el_dwconv16_fixed(25, channels, pixels, input, pixel_stride, w, out, lo, hi);
}
#endif
