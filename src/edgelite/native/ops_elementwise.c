/* BINARY (ADD/SUB/MUL/PRELU, broadcast), UNARY and SOFTMAX glue.
 *
 * BINARY params: [op, lo, hi, dims[6], a strides[6], b strides[6]] in elements; native.py collapses
 *   the broadcast to at most 6 dims; the innermost strides are 0 or 1.
 * UNARY params: [op, lo, hi].   SOFTMAX params: [beta]; rows over the last dimension.
 *
 * Large tensors are split over the pool in chunks of whole runs (BINARY), multiples of 8
 * elements (UNARY: the same elements take HARD_SWISH's tail rounding whatever the split) or rows
 * (SOFTMAX); every element is computed the same way for any thread count. */
#include <float.h>
#include <math.h>

#include "include/el_engine.h"
#include "include/el_kernels.h"

#define EL_CHUNK 16384 /* elements per tile of an elementwise op */

static int64_t reach(const int64_t *dims, const int64_t *strides) {
  int64_t last = 0;
  for (int d = 0; d < 6; d++) last += (dims[d] - 1) * strides[d];
  return last;
}

int el_validate_binary(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *a = el_in(p, n, 0), *b = el_in(p, n, 1), *y = el_out(p, n);
  const int64_t *dims = n->p + 3, *sa = n->p + 9, *sb = n->p + 15;
  if (n->p[0] < 0 || n->p[0] >= EL_BIN_COUNT) return el_fail(err, len, n, "unknown binary op");
  int64_t count = 1;
  for (int d = 0; d < 6; d++) {
    if (dims[d] < 1 || dims[d] > EL_MAX_ELEMENTS || sa[d] < 0 || sb[d] < 0 || sa[d] > EL_MAX_ELEMENTS ||
        sb[d] > EL_MAX_ELEMENTS)
      return el_fail(err, len, n, "bad dims or strides");
    if (count > EL_MAX_ELEMENTS / dims[d]) return el_fail(err, len, n, "too many elements");
    count *= dims[d];
  }
  if (count != y->count) return el_fail(err, len, n, "dims do not match the output");
  if (sa[5] > 1 || sb[5] > 1) return el_fail(err, len, n, "inner strides must be 0 or 1");
  if (reach(dims, sa) >= a->count || reach(dims, sb) >= b->count) return el_fail(err, len, n, "strides reach outside an input");
  return 0;
}

#define EL_REPEAT_MAX 1024 /* floats: a short repeated operand run is copied this far (on the stack) */

/* The output is a sequence of units: up to `k` consecutive runs (inner dimension d5) along dim 4
 * for one index of dims 0-3. With `repeat` (1: b, 2: a), that operand's run is the same for the
 * runs of a unit and the other is contiguous across them: the unit is one kernel call against the
 * run copied k times. Long runs (k = 1) split into `pieces` of EL_CHUNK elements for the pool. */
typedef struct {
  const float *a, *b;
  float *y;
  const int64_t *d, *sa, *sb;
  int64_t k, units_per_row, units, units_per_tile, pieces;
  int op, repeat;
  float lo, hi;
} binary_task;

static void binary_piece(const binary_task *t, int64_t u) {
  const int64_t *d = t->d, *sa = t->sa, *sb = t->sb, run = u / t->pieces, i0 = u % t->pieces * EL_CHUNK;
  const int64_t count = d[5] - i0 < EL_CHUNK ? d[5] - i0 : EL_CHUNK;
  int64_t rest = run, oa = i0 * sa[5], ob = i0 * sb[5];
  for (int k = 4; k >= 0; k--) {
    const int64_t i = rest % d[k];
    rest /= d[k];
    oa += i * sa[k];
    ob += i * sb[k];
  }
  el_kernels.vbinary(t->op, (size_t)count, t->a + oa, (size_t)sa[5], t->b + ob, (size_t)sb[5],
                     t->y + run * d[5] + i0, t->lo, t->hi);
}

static void binary_tile(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const binary_task *t = ctx;
  const int64_t *d = t->d, *sa = t->sa, *sb = t->sb, inner = d[5];
  const int64_t u0 = (int64_t)tile * t->units_per_tile;
  const int64_t u1 = u0 + t->units_per_tile < t->units ? u0 + t->units_per_tile : t->units;
  if (t->pieces > 1) {
    for (int64_t u = u0; u < u1; u++) binary_piece(t, u);
    return;
  }
  float repeated[EL_REPEAT_MAX];
  const float *source = NULL; /* the run `repeated` holds */
  for (int64_t u = u0; u < u1; u++) {
    const int64_t row = u / t->units_per_row, j4 = u % t->units_per_row * t->k;
    const int64_t runs = d[4] - j4 < t->k ? d[4] - j4 : t->k;
    int64_t rest = row, oa = j4 * sa[4], ob = j4 * sb[4];
    for (int k = 3; k >= 0; k--) {
      const int64_t i = rest % d[k];
      rest /= d[k];
      oa += i * sa[k];
      ob += i * sb[k];
    }
    float *y = t->y + (row * d[4] + j4) * inner;
    if (t->repeat) {
      const float *run = t->repeat == 1 ? t->b + ob : t->a + oa;
      if (run != source) {
        for (int64_t r = 0; r < t->k; r++) memcpy(repeated + r * inner, run, (size_t)inner * 4);
        source = run;
      }
      const size_t n = (size_t)(runs * inner);
      if (t->repeat == 1) el_kernels.vbinary(t->op, n, t->a + oa, 1, repeated, 1, y, t->lo, t->hi);
      else el_kernels.vbinary(t->op, n, repeated, 1, t->b + ob, 1, y, t->lo, t->hi);
      continue;
    }
    for (int64_t r = 0; r < runs; r++, y += inner)
      el_kernels.vbinary(t->op, (size_t)inner, t->a + oa + r * sa[4], (size_t)sa[5], t->b + ob + r * sb[4],
                         (size_t)sb[5], y, t->lo, t->hi);
  }
}

void el_run_binary(const el_program *p, const el_node *n) {
  const int64_t *d = n->p + 3, *sa = n->p + 9, *sb = n->p + 15;
  binary_task t = {el_in(p, n, 0)->data, el_in(p, n, 1)->data, el_out(p, n)->data, d, sa, sb, 1, 0, 0, 0, 1,
                   (int)n->p[0], 0, el_param_f32(n->p[1]), el_param_f32(n->p[2])};
  if (d[4] > 1 && 2 * d[5] <= EL_REPEAT_MAX) {
    const int b_repeats = sb[4] == 0 && sb[5] == 1 && sa[4] == d[5] && sa[5] == 1;
    const int a_repeats = sa[4] == 0 && sa[5] == 1 && sb[4] == d[5] && sb[5] == 1;
    if (b_repeats || a_repeats) {
      t.repeat = b_repeats ? 1 : 2;
      t.k = EL_REPEAT_MAX / d[5] < d[4] ? EL_REPEAT_MAX / d[5] : d[4];
    }
  }
  t.units_per_row = (d[4] + t.k - 1) / t.k;
  t.units = d[0] * d[1] * d[2] * d[3] * t.units_per_row;
  const int64_t unit_floats = t.k * d[5];
  t.units_per_tile = p->n_threads > 1 ? (EL_CHUNK + unit_floats - 1) / unit_floats : t.units;
  if (p->n_threads > 1 && t.k == 1 && d[5] >= 2 * EL_CHUNK) {
    t.pieces = (d[5] + EL_CHUNK - 1) / EL_CHUNK;
    t.units *= t.pieces;
    t.units_per_tile = 1;
  }
  el_parallel(p, binary_tile, &t, (size_t)((t.units + t.units_per_tile - 1) / t.units_per_tile));
}

int el_validate_unary(const el_program *p, const el_node *n, char *err, size_t len) {
  if (n->p[0] < 0 || n->p[0] >= EL_UN_COUNT) return el_fail(err, len, n, "unknown unary op");
  if (el_in(p, n, 0)->count != el_out(p, n)->count) return el_fail(err, len, n, "sizes differ");
  return 0;
}

typedef struct {
  const float *x;
  float *y;
  size_t count;
  int op;
  float lo, hi;
} unary_task;

static void unary_tile(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const unary_task *t = ctx;
  const size_t start = tile * EL_CHUNK, count = t->count - start < EL_CHUNK ? t->count - start : EL_CHUNK;
  el_kernels.vunary(t->op, count, t->x + start, t->y + start, t->lo, t->hi);
}

void el_run_unary(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0);
  const unary_task t = {x->data, el_out(p, n)->data, (size_t)x->count, (int)n->p[0], el_param_f32(n->p[1]),
                        el_param_f32(n->p[2])};
  if (p->n_threads == 1) {
    el_kernels.vunary(t.op, t.count, t.x, t.y, t.lo, t.hi);
    return;
  }
  el_parallel(p, unary_tile, &t, (t.count + EL_CHUNK - 1) / EL_CHUNK);
}

int el_validate_softmax(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0);
  if (x->count != el_out(p, n)->count || x->rank < 1) return el_fail(err, len, n, "sizes differ");
  return 0;
}

typedef struct {
  const float *x;
  float *y;
  int64_t inner, rows_per_tile, rows;
  float beta;
} softmax_task;

/* exp((x - max) * beta) * (1 / sum), as edgelite's reference. */
static void softmax_tile(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const softmax_task *t = ctx;
  const int64_t r0 = (int64_t)tile * t->rows_per_tile;
  const int64_t r1 = r0 + t->rows_per_tile < t->rows ? r0 + t->rows_per_tile : t->rows;
  for (int64_t r = r0; r < r1; r++) {
    const float *row = t->x + r * t->inner;
    float *out = t->y + r * t->inner;
    float max = row[0];
    for (int64_t i = 1; i < t->inner; i++) max = row[i] > max ? row[i] : max;
    float scale = 1.0f / el_kernels.raddstoreexp((size_t)t->inner, row, max, t->beta, out);
    el_kernels.vbinary(EL_BIN_MUL, (size_t)t->inner, out, 1, &scale, 0, out, -INFINITY, INFINITY);
  }
}

void el_run_softmax(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0);
  const int64_t inner = x->dims[x->rank - 1];
  if (inner == 0) return;
  softmax_task t = {x->data, el_out(p, n)->data, inner, 1, x->count / inner, el_param_f32(n->p[0])};
  t.rows_per_tile = p->n_threads > 1 ? (EL_CHUNK + inner - 1) / inner : t.rows;
  el_parallel(p, softmax_tile, &t, (size_t)((t.rows + t.rows_per_tile - 1) / t.rows_per_tile));
}
