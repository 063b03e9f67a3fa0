/* STRIDED_COPY glue: every float32 op whose output is an affine view of its input (TRANSPOSE,
 * DEPTH_TO_SPACE, SPACE_TO_DEPTH, SLICE, STRIDED_SLICE) copies y[i0..i5] = x[offset + sum_d i_d * s_d].
 *
 * Params: [offset, dims[6], strides[6]] in elements (strides may be negative or 0); native.py
 * merges adjacent dims. Rows (the innermost dim) are split over the pool in tiles of about
 * EL_COPY_CHUNK elements; each element is copied once, so any thread count gives the same result. */
#include "include/el_engine.h"
#include "include/el_kernels.h"

#define EL_COPY_CHUNK 16384

int el_validate_strided_copy(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  const int64_t offset = n->p[0], *dims = n->p + 1, *strides = n->p + 7;
  int64_t count = 1, low = offset, high = offset;
  if (offset < 0 || offset >= x->count) return el_fail(err, len, n, "offset outside the input");
  for (int d = 0; d < 6; d++) {
    if (dims[d] < 1 || dims[d] > EL_MAX_ELEMENTS) return el_fail(err, len, n, "bad dims");
    if (count > EL_MAX_ELEMENTS / dims[d]) return el_fail(err, len, n, "too many elements");
    count *= dims[d];
    const int64_t magnitude = strides[d] < 0 ? -strides[d] : strides[d];
    if (strides[d] < -EL_MAX_ELEMENTS || strides[d] > EL_MAX_ELEMENTS ||
        (dims[d] > 1 && magnitude > x->count / (dims[d] - 1)))
      return el_fail(err, len, n, "stride reaches outside the input");
    const int64_t reach = (dims[d] - 1) * strides[d];
    if (reach < 0) low += reach;
    else high += reach;
  }
  if (count != y->count) return el_fail(err, len, n, "dims do not match the output");
  if (low < 0 || high >= x->count) return el_fail(err, len, n, "strides reach outside the input");
  return 0;
}

typedef struct {
  const float *x;
  float *y;
  const int64_t *dims, *strides;
  int64_t offset, rows, rows_per_tile;
} copy_task;

static void copy_rows(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const copy_task *t = ctx;
  const int64_t *d = t->dims, *s = t->strides, r0 = (int64_t)tile * t->rows_per_tile;
  const int64_t r1 = r0 + t->rows_per_tile < t->rows ? r0 + t->rows_per_tile : t->rows;
  for (int64_t r = r0; r < r1; r++) {
    int64_t rest = r, source = t->offset;
    for (int k = 4; k >= 0; k--) {
      source += rest % d[k] * s[k];
      rest /= d[k];
    }
    el_kernels.scopy((size_t)d[5], t->x + source, (ptrdiff_t)s[5], t->y + r * d[5]);
  }
}

void el_run_strided_copy(const el_program *p, const el_node *n) {
  const el_tensor *y = el_out(p, n);
  const int64_t *dims = n->p + 1, inner = dims[5];
  copy_task t = {el_in(p, n, 0)->data, y->data, dims, n->p + 7, n->p[0], y->count / inner, 0};
  t.rows_per_tile = el_threads_for(p, (double)y->count) > 1 ? (EL_COPY_CHUNK + inner - 1) / inner : t.rows;
  el_parallel_work(p, copy_rows, &t, (size_t)((t.rows + t.rows_per_tile - 1) / t.rows_per_tile),
                   (double)y->count);
}
