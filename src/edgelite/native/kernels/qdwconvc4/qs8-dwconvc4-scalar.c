/* qs8-dwconvc4-scalar: portable int8 depthwise conv over qdwconvc4 groups, any number of taps
 * (see el_qdwconvc4_fn): uint8 inputs x ^ 0x80 times the int8 quads, int32 accumulators. */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

void el_qs8_dwconvc4_scalar(size_t taps, size_t channels, size_t pixels, const int8_t **input, const void *w,
                            size_t group_bytes, int8_t *out, const el_qout *q, size_t ruy_channels) {
  for (size_t p = 0; p < pixels; p++, input += taps, out += channels) {
    const char *group = w;
    for (size_t c0 = 0; c0 < channels; c0 += EL_QGROUP, group += group_bytes) {
      const int8_t *wk = (const int8_t *)(group + EL_QGROUP_HEADER);
      const size_t width = channels - c0 < EL_QGROUP ? channels - c0 : EL_QGROUP;
      for (size_t j = 0; j < width; j++) {
        uint32_t acc = (uint32_t)el_load_i32(group, EL_QHDR_BIAS + 4 * j);
        for (size_t t = 0; t < taps; t++) {
          const int32_t u = (uint8_t)(input[t][c0 + j] ^ (int8_t)0x80);
          acc += (uint32_t)(u * wk[64 * (t / 4) + 4 * j + t % 4]);
        }
        out[c0 + j] = el_qgroup_out(group, j, (int32_t)acc, c0 + j < ruy_channels, q);
      }
    }
  }
}
