/* STRIDED_COPY and GATHER glue. STRIDED_COPY: every float32 op whose output is an affine view of its
 * input (TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SLICE, STRIDED_SLICE) copies
 * y[i0..i5] = x[offset + sum_d i_d * s_d].
 *
 * Params: [offset, dims[6], strides[6]] in elements (strides may be negative or 0); native.py
 * merges adjacent dims. Rows (the innermost dim) are split over the pool in tiles of about
 * EL_COPY_CHUNK elements; a transpose plane (see transpose_plane) goes to the transpose kernel, one
 * plane per tile. Each element is copied once, so any thread count gives the same result. */
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

/* The plane of a transpose: input-contiguous dim k (stride 1) is not the output's innermost (dim 5,
 * input stride > 1). Each tile transposes one [d5 x dk] plane (its other dims fixed) in blocks. */
typedef struct {
  const float *x;
  float *y;
  const int64_t *dims, *strides;
  int64_t offset, k, out_stride[6];
} plane_task;

static void copy_plane(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const plane_task *t = ctx;
  const int64_t *d = t->dims, *s = t->strides;
  int64_t rest = (int64_t)tile, source = t->offset, target = 0;
  for (int k = 4; k >= 0; k--) {
    if (k == t->k) continue;
    const int64_t i = rest % d[k];
    rest /= d[k];
    source += i * s[k];
    target += i * t->out_stride[k];
  }
  el_kernels.transpose((size_t)d[5], (size_t)d[t->k], t->x + source, (size_t)s[5], t->y + target,
                       (size_t)t->out_stride[t->k]);
}

static int transpose_plane(const int64_t *dims, const int64_t *strides) {
  if (strides[5] <= 1 || dims[5] < 8) return -1;
  for (int k = 4; k >= 0; k--)
    if (strides[k] == 1 && dims[k] >= 8) return k;
  return -1;
}

void el_run_strided_copy(const el_program *p, const el_node *n) {
  const el_tensor *y = el_out(p, n);
  const int64_t *dims = n->p + 1, inner = dims[5];
  const int k = transpose_plane(dims, n->p + 7);
  if (k >= 0) {
    plane_task t = {el_in(p, n, 0)->data, y->data, dims, n->p + 7, n->p[0], k, {0}};
    t.out_stride[5] = 1;
    for (int d = 4; d >= 0; d--) t.out_stride[d] = t.out_stride[d + 1] * dims[d + 1];
    el_parallel_work(p, copy_plane, &t, (size_t)(y->count / (dims[k] * inner)), (double)y->count);
    return;
  }
  copy_task t = {el_in(p, n, 0)->data, y->data, dims, n->p + 7, n->p[0], y->count / inner, 0};
  t.rows_per_tile = el_threads_for(p, (double)y->count) > 1 ? (EL_COPY_CHUNK + inner - 1) / inner : t.rows;
  el_parallel_work(p, copy_rows, &t, (size_t)((t.rows + t.rows_per_tile - 1) / t.rows_per_tile),
                   (double)y->count);
}

/* GATHER glue: params [B, O, A, I, J]: the output is [B, O, J, I] with out[b, o, j] = params[b, o,
 * index[b, j]] (rows of I floats); input 1 holds the B x J indices as float32 (exact integers),
 * a constant that validation checks lie in [0, A). Runs copy whole rows; an index that is not one
 * (never, once validated) writes zeros rather than reading outside params. */
int el_validate_gather(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *index = el_in(p, n, 1), *y = el_out(p, n);
  const int64_t *g = n->p;
  for (int i = 0; i < 5; i++)
    if (g[i] < 1 || g[i] > (1 << 24)) return el_fail(err, len, n, "bad gather geometry");
  if (g[0] * g[1] > EL_MAX_ELEMENTS / (g[2] * g[3]) || g[0] * g[1] * g[2] * g[3] != x->count)
    return el_fail(err, len, n, "geometry differs from the params tensor");
  if (g[0] * g[1] > EL_MAX_ELEMENTS / (g[4] * g[3]) || g[0] * g[1] * g[4] * g[3] != y->count)
    return el_fail(err, len, n, "geometry differs from the output");
  if (index->count != g[0] * g[4] || index->writable)
    return el_fail(err, len, n, "indices must be a read-only constant of B x J");
  for (int64_t i = 0; i < index->count; i++) {
    const float v = index->data[i];
    if (!(v >= 0.0f && v < (float)g[2]) || v != (float)(int64_t)v)
      return el_fail(err, len, n, "index %lld is not an integer in [0, %lld)", (long long)i, (long long)g[2]);
  }
  return 0;
}

typedef struct {
  const float *x, *index;
  float *y;
  int64_t B, O, A, I, J;
} gather_task;

static void gather_rows(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const gather_task *t = ctx;
  const int64_t b = (int64_t)tile / t->O, o = (int64_t)tile % t->O;
  const float *source = t->x + (b * t->O + o) * t->A * t->I;
  float *out = t->y + (b * t->O + o) * t->J * t->I;
  for (int64_t j = 0; j < t->J; j++, out += t->I) {
    const float v = t->index[b * t->J + j];
    if (v >= 0.0f && v < (float)t->A) memcpy(out, source + (int64_t)v * t->I, (size_t)t->I * sizeof(float));
    else memset(out, 0, (size_t)t->I * sizeof(float));
  }
}

void el_run_gather(const el_program *p, const el_node *n) {
  const gather_task t = {el_in(p, n, 0)->data, el_in(p, n, 1)->data, el_out(p, n)->data,
                         n->p[0], n->p[1], n->p[2], n->p[3], n->p[4]};
  el_parallel_work(p, gather_rows, &t, (size_t)(t.B * t.O), (double)el_out(p, n)->count);
}
