/* Byte movers of non-float tensors (int8, int16, int32: raw values, as the reference moves them).
 *
 * QCONCAT params: [axis]; inputs of the output's dtype and rank whose dims agree off the axis.
 * QGATHER params: [fill]; inputs: x and a table (int32, one entry per output element): y[i] =
 *   x[table[i]] when table[i] >= 0, else the fill value (PAD's zero point or constant). The table
 *   is the reference kernel of a movement op (TRANSPOSE, PAD, RESIZE_NEAREST_NEIGHBOR, ...) run
 *   once on the input's element indices (runtime/native_int8.py). */
#include "include/el_engine.h"
#include "include/el_ops_common.h"
#include "include/el_quant.h"

int el_validate_qconcat(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *y = el_out(p, n);
  const int64_t axis = n->p[0];
  if (y->dtype == EL_F32) return el_fail(err, len, n, "float32 tensors take CONCAT");
  if (axis < 0 || axis >= y->rank) return el_fail(err, len, n, "bad axis");
  int64_t total = 0;
  for (int64_t i = 0; i < n->n_inputs; i++) {
    const el_tensor *x = el_in(p, n, (int)i);
    if (x->rank != y->rank || x->dtype != y->dtype) return el_fail(err, len, n, "ranks or dtypes differ");
    for (int64_t d = 0; d < y->rank; d++)
      if (d != axis && x->dims[d] != y->dims[d]) return el_fail(err, len, n, "dims differ off the axis");
    total += x->dims[axis];
  }
  if (total != y->dims[axis]) return el_fail(err, len, n, "axis sizes do not add up");
  return 0;
}

void el_run_qconcat(const el_program *p, const el_node *n) {
  const el_tensor *y = el_out(p, n);
  const size_t size = (size_t)el_dtype_size(y->dtype);
  int64_t outer = 1;
  for (int64_t d = 0; d < n->p[0]; d++) outer *= y->dims[d];
  char *dst = (char *)y->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < n->n_inputs; i++) {
      const el_tensor *x = el_in(p, n, (int)i);
      const size_t inner = (size_t)(x->count / outer) * size;
      memcpy(dst, (const char *)x->data + (size_t)o * inner, inner);
      dst += inner;
    }
}

int el_validate_qgather(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *table = el_in(p, n, 1), *y = el_out(p, n);
  if (x->dtype == EL_F32 || y->dtype != x->dtype || table->dtype != EL_I32 || table->count != y->count)
    return el_fail(err, len, n, "needs a non-float input, an output of its type and one int32 entry per output");
  const int64_t lo = x->dtype == EL_I8 ? -128 : x->dtype == EL_I16 ? INT16_MIN : INT32_MIN;
  const int64_t hi = x->dtype == EL_I8 ? 127 : x->dtype == EL_I16 ? INT16_MAX : INT32_MAX;
  if (!EL_RANGE(n->p[0], lo, hi)) return el_fail(err, len, n, "fill value outside the type");
  const int32_t *entry = (const int32_t *)(const void *)table->data;
  for (int64_t i = 0; i < table->count; i++)
    if (entry[i] < -1 || entry[i] >= x->count) return el_fail(err, len, n, "table entry %lld out of range", (long long)i);
  return 0;
}

void el_run_qgather(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  const int32_t *entry = (const int32_t *)(const void *)el_in(p, n, 1)->data;
  const size_t count = (size_t)y->count;
  if (x->dtype == EL_I8) {
    const int8_t *src = el_i8(x), fill = (int8_t)n->p[0];
    int8_t *dst = el_i8(y);
    for (size_t i = 0; i < count; i++) dst[i] = entry[i] >= 0 ? src[entry[i]] : fill;
  } else if (x->dtype == EL_I16) {
    const int16_t *src = (const int16_t *)(const void *)x->data, fill = (int16_t)n->p[0];
    int16_t *dst = (int16_t *)(void *)y->data;
    for (size_t i = 0; i < count; i++) dst[i] = entry[i] >= 0 ? src[entry[i]] : fill;
  } else {
    const int32_t *src = (const int32_t *)(const void *)x->data, fill = (int32_t)n->p[0];
    int32_t *dst = (int32_t *)(void *)y->data;
    for (size_t i = 0; i < count; i++) dst[i] = entry[i] >= 0 ? src[entry[i]] : fill;
  }
}
