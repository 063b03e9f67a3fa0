/* Validation helpers shared by the convolution-like ops' glue (ops_conv.c, ops_dwconv.c, ops_tconv.c). */
#ifndef EL_OPS_COMMON_H
#define EL_OPS_COMMON_H

#include "el_engine.h"

#define EL_RANGE(v, lo, hi) ((v) >= (lo) && (v) <= (hi))

/* g: kh, kw, stride h, w, dilation h, w, pad top, pad left. */
static inline int el_check_window(const el_node *n, const int64_t *g, char *err, size_t len) {
  for (int i = 0; i < 6; i++)
    if (!EL_RANGE(g[i], 1, 1 << 16)) return el_fail(err, len, n, "window parameter %d is %lld", i, (long long)g[i]);
  if (!EL_RANGE(g[6], 0, 1 << 20) || !EL_RANGE(g[7], 0, 1 << 20)) return el_fail(err, len, n, "bad padding");
  return 0;
}

static inline int el_check_nhwc_pair(const el_node *n, const el_tensor *x, const el_tensor *y, char *err,
                                     size_t len) {
  if (x->rank != 4 || y->rank != 4 || x->dims[0] != y->dims[0])
    return el_fail(err, len, n, "input and output must be NHWC with the same batch");
  return 0;
}

#endif
