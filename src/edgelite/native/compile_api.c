/* The compiler's helpers for its families (el_compile.h): deferring, shapes and option values for the
 * prepares; window geometry, table rows, PAD fusion and the Python table callback for the lowerers. */
#include "include/el_compile.h" /* Python.h first */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "include/el_slab_py.h"

int el_defer(el_compiler *c, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(c->reason, sizeof c->reason, format, args);
  va_end(args);
  return EL_DEFER;
}

int el_itemsize(int type) {
  switch (type) {
    case EL_T_FLOAT32: case EL_T_INT32: return 4;
    case EL_T_FLOAT16: case EL_T_INT16: return 2;
    case EL_T_INT8: case EL_T_UINT8: case EL_T_BOOL: return 1;
    case EL_T_INT64: return 8;
    default: return 0;
  }
}

/* enum el_dtype of a TensorType, -1 for types the engine has no tables for */
static int engine_dtype(int type) {
  switch (type) {
    case EL_T_FLOAT32: return EL_F32;
    case EL_T_INT8: return EL_I8;
    case EL_T_INT32: return EL_I32;
    case EL_T_INT16: return EL_I16;
    default: return -1;
  }
}

int64_t el_count(const el_ctensor *t) {
  int64_t n = 1;
  for (int d = 0; d < t->rank; d++) n *= t->dims[d];
  return n;
}

int el_is_constant(const el_compiler *c, int32_t i) { return i >= 0 && i < c->n_tensors && c->t[i].data != NULL; }

int64_t el_int_values(const el_compiler *c, int32_t i, int64_t *values, int64_t limit) {
  if (!el_is_constant(c, i)) return -1;
  const el_ctensor *t = &c->t[i];
  const int64_t count = el_count(t);
  if (count > limit || (t->type != EL_T_INT32 && t->type != EL_T_INT64)) return -1;
  for (int64_t k = 0; k < count; k++) {
    if (t->type == EL_T_INT32) {
      int32_t v;
      memcpy(&v, t->data + 4 * k, 4);
      values[k] = v;
    } else {
      memcpy(&values[k], t->data + 8 * k, 8);
    }
  }
  return count;
}

int el_set_shape(el_compiler *c, int32_t i, int rank, const int64_t *dims) {
  if (i < 0 || i >= c->n_tensors) return el_defer(c, "output %d out of range", i);
  if (rank < 0 || rank > EL_MAX_RANK) return el_defer(c, "output %d of rank %d", i, rank);
  int64_t count = 1;
  for (int d = 0; d < rank; d++) {
    if (dims[d] <= 0 || dims[d] > EL_MAX_ELEMENTS || (count *= dims[d]) > EL_MAX_ELEMENTS)
      return el_defer(c, "output %d has an empty or huge shape", i);
  }
  el_ctensor *t = &c->t[i];
  t->rank = rank;
  memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
  t->shaped = 1;
  return 0;
}

int el_opt_int(el_compiler *c, const el_cnode *node, int k, int64_t *value) {
  if (k < 0 || k >= node->n_opt || isnan(node->opt[k].f)) return el_defer(c, "option %d of node %d", k, node->index);
  *value = node->opt[k].i;
  return 0;
}

int el_opt_float(el_compiler *c, const el_cnode *node, int k, double *value) {
  if (k < 0 || k >= node->n_opt || isnan(node->opt[k].f)) return el_defer(c, "option %d of node %d", k, node->index);
  *value = node->opt[k].f;
  return 0;
}

int el_options_of(el_compiler *c, const el_cnode *node, int code, int optional) {
  if (node->options_code == code || (optional && node->options_code == 0 && node->n_opt == 0)) return 0;
  return el_defer(c, "node %d: options of table %d, not %d", node->index, node->options_code, code);
}

int el_window_of(el_compiler *c, const el_cnode *node, const int positions[5], int64_t kh, int64_t kw, int32_t x,
                 int32_t out, el_window *w) {
  int64_t padding, *fields[4] = {&w->sw, &w->sh, &w->dw, &w->dh};
  w->kh = kh, w->kw = kw, w->dh = w->dw = 1;
  if (el_opt_int(c, node, positions[0], &padding) < 0) return EL_DEFER;
  for (int k = 0; k < 4; k++)
    if ((k < 2 || positions[1 + k] >= 0) && el_opt_int(c, node, positions[1 + k], fields[k]) < 0) return EL_DEFER;
  if (padding != EL_PAD_SAME && padding != EL_PAD_VALID) return el_defer(c, "padding %lld", (long long)padding);
  const int64_t geometry[6] = {w->kh, w->kw, w->sh, w->sw, w->dh, w->dw};
  for (int i = 0; i < 6; i++)
    if (geometry[i] < 1 || geometry[i] > EL_WINDOW_LIMIT)
      return el_defer(c, "node %d: a window beyond the engine's range", node->index);
  const el_ctensor *in = &c->t[x], *o = &c->t[out];
  w->pads[0] = w->pads[1] = 0;
  if (padding == EL_PAD_SAME) {
    w->pads[0] = el_pad_before(in->dims[1], w->kh, w->sh, w->dh, o->dims[1]);
    w->pads[1] = el_pad_before(in->dims[2], w->kw, w->sw, w->dw, o->dims[2]);
  }
  if (w->pads[0] > EL_PAD_LIMIT || w->pads[1] > EL_PAD_LIMIT) return el_defer(c, "pads beyond the engine's range");
  return 0;
}

int64_t el_f32_bits(double value) {
  const float f = (float)value;
  uint32_t bits;
  memcpy(&bits, &f, 4);
  return bits;
}

/* ------------------------------------------------------------------ table rows */

static int64_t *new_row(int64_t **rows, int *n, int *cap, int words) {
  if (*n == *cap) {
    const int grown = *cap ? 2 * *cap : 64;
    int64_t *bigger = PyMem_Realloc(*rows, (size_t)grown * (size_t)words * sizeof(int64_t));
    if (bigger == NULL) return PyErr_NoMemory(), NULL;
    *rows = bigger, *cap = grown;
  }
  int64_t *row = *rows + (size_t)*n * (size_t)words;
  memset(row, 0, (size_t)words * sizeof(int64_t));
  (*n)++;
  return row;
}

static int add_tensor_row(el_compiler *c, int64_t buffer, int64_t offset, int64_t nbytes, int dtype, int rank,
                          const int64_t *dims) {
  int64_t *row = new_row(&c->trows, &c->n_trows, &c->cap_trows, EL_TENSOR_WORDS);
  if (row == NULL) return -1;
  row[0] = buffer, row[1] = offset, row[2] = nbytes, row[3] = dtype, row[4] = rank;
  for (int d = 0; d < rank; d++) row[5 + d] = dims[d];
  return c->n_trows - 1;
}

static int add_buffer(el_compiler *c, PyObject *buffer, int writable) {
  if (PyList_Append(c->buffers, buffer) < 0 || PyList_Append(c->writable, writable ? Py_True : Py_False) < 0)
    return -1;
  return (int)PyList_GET_SIZE(c->buffers) - 1;
}

int el_heap_row(el_compiler *c, int64_t nbytes, int zeroed, int dtype, int rank, const int64_t *dims,
                int writable, char **data) {
  Py_ssize_t offset;
  PyObject *slab = el_heap_carve(c->heap, (size_t)nbytes, zeroed, data, &offset);
  if (slab == NULL) return -1;
  const int buffer = add_buffer(c, slab, writable);
  Py_DECREF(slab);
  return buffer < 0 ? -1 : add_tensor_row(c, buffer, offset, nbytes, dtype, rank, dims);
}

int el_copy_row(el_compiler *c, const void *bytes, int64_t nbytes, int dtype, int rank, const int64_t *dims) {
  char *data;
  const int row = el_heap_row(c, nbytes, 0, dtype, rank, dims, 0, &data);
  if (row >= 0) memcpy(data, bytes, (size_t)nbytes);
  return row;
}

int el_tensor_row(el_compiler *c, int32_t i, unsigned types) {
  if (i < 0 || i >= c->n_tensors) return el_defer(c, "optional operand absent");
  el_ctensor *t = &c->t[i];
  if (t->type < 0 || t->type > 31 || !(types & (1u << t->type)) || engine_dtype(t->type) < 0)
    return el_defer(c, "tensor %d of type %d is not supported natively by this op", i, t->type);
  if (t->row >= 0) return t->row;
  const int64_t nbytes = el_count(t) * el_itemsize(t->type), one = 1;
  if (t->offset >= 0) t->row = add_tensor_row(c, 0, t->offset, nbytes, engine_dtype(t->type), t->rank, t->dims);
  else if (t->data != NULL) /* a scalar's copy is [1], as np.ascontiguousarray makes it */
    t->row = el_copy_row(c, t->data, nbytes, engine_dtype(t->type), t->rank ? t->rank : 1, t->rank ? t->dims : &one);
  else return el_defer(c, "tensor %d is neither in the arena nor a constant", i);
  return t->row;
}

static int shared_row(el_compiler *c, int *row, int64_t *floats, int64_t wanted) {
  if (wanted > *floats) *floats = wanted;
  if (*row < 0) *row = add_tensor_row(c, 0, 0, 0, EL_F32, 1, floats); /* filled in by finish_rows */
  return *row;
}

int el_scratch_row(el_compiler *c, int64_t floats) { return shared_row(c, &c->scratch_row, &c->scratch_floats, floats); }
int el_zeros_row(el_compiler *c, int64_t floats) { return shared_row(c, &c->zeros_row, &c->zero_floats, floats); }

/* native.Lowering.tables: the scratch (one slice per thread) and the zeros get their memory last. */
int el_finish_rows(el_compiler *c) {
  const int rows[2] = {c->scratch_row, c->zeros_row};
  const int64_t floats[2] = {c->scratch_floats * c->threads, c->zero_floats};
  for (int k = 0; k < 2; k++) {
    if (rows[k] < 0) continue;
    char *data;
    const int row = el_heap_row(c, floats[k] * 4, 1, EL_F32, 1, &floats[k], k == 0, &data);
    if (row < 0) return -1;
    memcpy(c->trows + (size_t)rows[k] * EL_TENSOR_WORDS, c->trows + (size_t)row * EL_TENSOR_WORDS,
           EL_TENSOR_WORDS * sizeof(int64_t));
    c->n_trows--; /* the new row moved into the placeholder */
  }
  return 0;
}

int el_node_row(el_compiler *c, int op, const int *inputs, int n_inputs, int32_t output, unsigned types,
                const int64_t *params, int n_params) {
  if (n_params > EL_NODE_PARAMS || n_inputs > EL_MAX_INPUTS) return el_defer(c, "too many params or inputs");
  if (el_is_constant(c, output)) return el_defer(c, "output %d is a constant", output);
  const int out = el_tensor_row(c, output, types);
  if (out < 0) return out;
  int64_t *row = new_row(&c->nrows, &c->n_nrows, &c->cap_nrows, EL_NODE_WORDS);
  if (row == NULL) return -1;
  row[0] = op, row[1] = n_inputs, row[2 + EL_MAX_INPUTS] = out;
  for (int k = 0; k < n_inputs; k++) row[2 + k] = inputs[k];
  for (int k = 0; k < n_params; k++) row[3 + EL_MAX_INPUTS + k] = params[k];
  return c->n_nrows - 1;
}

/* ------------------------------------------------------------------ PAD fusion */

static int is_boundary_output(const el_compiler *c, int32_t i) {
  for (int32_t k = 0; k < c->n_outputs; k++)
    if (c->outputs[k] == i) return 1;
  return 0;
}



void el_offer_pad(el_compiler *c, const el_cnode *node, int row, int rank, const int64_t *pairs) {
  if (rank != 4 || pairs[0] || pairs[1] || pairs[6] || pairs[7]) return;
  for (int k = 0; k < 8; k++)
    if (pairs[k] < 0) return;
  el_cpad *pad = &c->pads[c->n_pads % 8];
  c->n_pads++;
  pad->output = node->out[0], pad->source = node->in[0], pad->step = c->position, pad->node_row = row;
  for (int d = 0; d < 4; d++) pad->before[d] = pairs[2 * d];
}

static const el_cpad *pad_of(const el_compiler *c, int32_t output) {
  for (int k = c->n_pads - 1; k >= 0 && k >= c->n_pads - 8; k--)
    if (c->pads[k % 8].output == output) return &c->pads[k % 8];
  return NULL;
}

int el_fuse_pad_input(el_compiler *c, int32_t *x, int32_t out, int64_t pads[2]) {
  const el_cpad *pad = pad_of(c, *x);
  if (pad == NULL || pad->step != c->position - 1) return 0;
  const el_ctensor *padded = &c->t[*x], *source = &c->t[pad->source], *target = &c->t[out];
  if (padded->readers != 1 || is_boundary_output(c, *x) || is_boundary_output(c, pad->source) || padded->rank != 4)
    return 0;
  if (source->offset >= 0 && target->offset >= 0) {
    const int64_t source_end = source->offset + el_count(source) * el_itemsize(source->type);
    const int64_t target_end = target->offset + el_count(target) * el_itemsize(target->type);
    if (source->offset < target_end && target->offset < source_end) return 0;
  }
  *x = pad->source;
  pads[0] += pad->before[1], pads[1] += pad->before[2];
  return 1;
}

void el_skip_pad(el_compiler *c, int32_t pad_output) {
  const el_cpad *pad = pad_of(c, pad_output);
  int64_t *row = c->nrows + (size_t)pad->node_row * EL_NODE_WORDS;
  const int64_t output = row[2 + EL_MAX_INPUTS];
  memset(row, 0, EL_NODE_WORDS * sizeof(int64_t));
  row[0] = c->t[pad_output].type == EL_T_FLOAT32 ? EL_OP_COPY : EL_OP_BYTECOPY;
  row[1] = 1, row[2] = output, row[2 + EL_MAX_INPUTS] = output;
  PyObject *index = PyLong_FromLong(pad_output);
  if (index == NULL || PyList_Append(c->fused, index) < 0) PyErr_Clear(); /* reported by the caller's check */
  Py_XDECREF(index);
}

/* ------------------------------------------------------------------ Python tables */

PyObject *el_python_table(el_compiler *c, const char *kind, const char *format, ...) {
  va_list args;
  va_start(args, format);
  PyObject *values = Py_VaBuildValue(format, args);
  va_end(args);
  if (values == NULL) return NULL;
  PyObject *name = PyUnicode_FromString(kind);
  PyObject *call = name == NULL ? NULL : PyTuple_Pack(2, name, values);
  PyObject *result = call == NULL ? NULL : PyObject_CallObject(c->tables, call);
  Py_XDECREF(call), Py_XDECREF(name), Py_DECREF(values);
  if (result != NULL && !PyBytes_Check(result)) {
    Py_DECREF(result);
    return PyErr_Format(PyExc_TypeError, "tables(%s) did not return bytes", kind), NULL;
  }
  return result;
}

