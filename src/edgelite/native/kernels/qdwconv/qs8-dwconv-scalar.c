/* qs8-dwconv-scalar: portable int8 depthwise conv, any even number of taps (see el_qdwconv_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

/* int16 index of (tap, channel j of its group) in a group body: see el_qkernels.h. */
static inline size_t slot(size_t t, size_t j) {
  return (t / 2) * 2 * EL_QGROUP + ((j >> 2) & 1) * EL_QGROUP + ((j & 3) + 4 * (j >> 3)) * 2 + (t & 1);
}

void el_qs8_dwconv_scalar(size_t taps, size_t channels, size_t pixels, const int8_t **input, const void *w,
                          size_t group_bytes, int8_t *out, const el_qout *q, size_t ruy_channels) {
  for (size_t p = 0; p < pixels; p++, input += taps, out += channels) {
    const char *group = w;
    for (size_t c0 = 0; c0 < channels; c0 += EL_QGROUP, group += group_bytes) {
      const int16_t *wk = (const int16_t *)(const void *)(group + EL_QGROUP_HEADER);
      const size_t width = channels - c0 < EL_QGROUP ? channels - c0 : EL_QGROUP;
      for (size_t j = 0; j < width; j++) {
        uint32_t acc = (uint32_t)el_load_i32(group, EL_QHDR_BIAS + 4 * j);
        for (size_t t = 0; t < taps; t++) acc += (uint32_t)(input[t][c0 + j] * wk[slot(t, j)]);
        out[c0 + j] = el_qgroup_out(group, j, (int32_t)acc, c0 + j < ruy_channels, q);
      }
    }
  }
}
