/* BINARY (ADD/SUB/MUL, broadcast), UNARY and SOFTMAX glue.
 *
 * BINARY params: [op, lo, hi, dims[6], a strides[6], b strides[6]] in elements; native.py collapses
 *   the broadcast to at most 6 dims; the innermost strides are 0 or 1.
 * UNARY params: [op, lo, hi].   SOFTMAX params: [beta]; rows over the last dimension. */
#include <float.h>
#include <math.h>

#include "include/el_engine.h"
#include "include/el_kernels.h"

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

void el_run_binary(const el_program *p, const el_node *n) {
  const float *a = el_in(p, n, 0)->data, *b = el_in(p, n, 1)->data;
  float *y = el_out(p, n)->data;
  const int64_t *d = n->p + 3, *sa = n->p + 9, *sb = n->p + 15;
  const int op = (int)n->p[0];
  const float lo = el_param_f32(n->p[1]), hi = el_param_f32(n->p[2]);
  for (int64_t i0 = 0; i0 < d[0]; i0++)
    for (int64_t i1 = 0; i1 < d[1]; i1++)
      for (int64_t i2 = 0; i2 < d[2]; i2++)
        for (int64_t i3 = 0; i3 < d[3]; i3++)
          for (int64_t i4 = 0; i4 < d[4]; i4++) {
            const int64_t oa = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3] + i4 * sa[4];
            const int64_t ob = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3] + i4 * sb[4];
            el_kernels.vbinary(op, (size_t)d[5], a + oa, (size_t)sa[5], b + ob, (size_t)sb[5], y, lo, hi);
            y += d[5];
          }
}

int el_validate_unary(const el_program *p, const el_node *n, char *err, size_t len) {
  if (n->p[0] < 0 || n->p[0] >= EL_UN_COUNT) return el_fail(err, len, n, "unknown unary op");
  if (el_in(p, n, 0)->count != el_out(p, n)->count) return el_fail(err, len, n, "sizes differ");
  return 0;
}

void el_run_unary(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0);
  el_kernels.vunary((int)n->p[0], (size_t)x->count, x->data, el_out(p, n)->data, el_param_f32(n->p[1]),
                    el_param_f32(n->p[2]));
}

int el_validate_softmax(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0);
  if (x->count != el_out(p, n)->count || x->rank < 1) return el_fail(err, len, n, "sizes differ");
  return 0;
}

/* exp((x - max) * beta) * (1 / sum), as edgelite's reference. */
void el_run_softmax(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0);
  const int64_t inner = x->dims[x->rank - 1];
  if (inner == 0) return;
  const float beta = el_param_f32(n->p[0]);
  float *y = el_out(p, n)->data;
  for (int64_t r = 0; r < x->count / inner; r++) {
    const float *row = x->data + r * inner;
    float *out = y + r * inner;
    float max = row[0], sum = 0.0f;
    for (int64_t i = 1; i < inner; i++) max = row[i] > max ? row[i] : max;
    for (int64_t i = 0; i < inner; i++) sum += out[i] = expf((row[i] - max) * beta);
    const float scale = 1.0f / sum;
    for (int64_t i = 0; i < inner; i++) out[i] *= scale;
  }
}
