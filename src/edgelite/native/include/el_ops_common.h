/* Helpers shared by the convolution-like ops' glue: validation and the gemm tiling. */
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

/* How a gemm-like op splits into tiles: row blocks of up to EL_IM2COL_ROWS (a multiple of every MR)
 * and, with threads, enough tiles for about 4 per thread, splitting the column groups (panels)
 * when the rows alone do not give that many. Tiling never changes a result. */
typedef struct {
  size_t row_block, blocks, splits, group_block;
} el_gemm_tiling;

static inline el_gemm_tiling el_gemm_tiles(size_t rows, size_t outer, size_t groups, size_t mr, size_t threads) {
  const size_t target = threads > 1 ? 4 * threads : 1;
  el_gemm_tiling t = {EL_IM2COL_ROWS, 0, 1, 0};
  if (threads > 1 && outer * ((rows + t.row_block - 1) / t.row_block) < target) {
    const size_t want = (rows * outer + target - 1) / target;
    t.row_block = (want + mr - 1) / mr * mr;
    if (t.row_block > EL_IM2COL_ROWS) t.row_block = EL_IM2COL_ROWS;
  }
  t.blocks = (rows + t.row_block - 1) / t.row_block;
  if (outer * t.blocks < target) {
    t.splits = (target + outer * t.blocks - 1) / (outer * t.blocks);
    if (t.splits > groups) t.splits = groups;
  }
  t.group_block = (groups + t.splits - 1) / t.splits;
  return t;
}

#endif
