/* The compiler's driver (el_compile.h): the graph from the walker's tuples, the plan (shapes,
 * float16 folding, lifetimes, aliases, arena) as runtime/plan.py makes it, the lowering loop and the
 * CPython binding. The helpers the families call are in compile_api.c. */
#include "include/el_compile.h" /* Python.h first */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "include/el_convert.h"
#include "include/el_planner.h"
#include "include/el_slab_py.h"

#define ARENA_ALIGNMENT 64

/* ------------------------------------------------------------------ the graph from the walker */

static int64_t as_int(PyObject *obj, int *ok) {
  int overflow = 0;
  const long long v = PyLong_Check(obj) ? PyLong_AsLongLongAndOverflow(obj, &overflow) : -1;
  if (!PyLong_Check(obj) || overflow || (v == -1 && PyErr_Occurred())) {
    PyErr_Clear();
    *ok = 0;
  }
  return v;
}

static int read_dims(PyObject *tuple, int *rank, int64_t *dims) {
  if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) > EL_MAX_RANK) return -1;
  int ok = 1;
  *rank = (int)PyTuple_GET_SIZE(tuple);
  for (int d = 0; d < *rank; d++) dims[d] = as_int(PyTuple_GET_ITEM(tuple, d), &ok);
  return ok ? 0 : -1;
}

typedef struct {
  PyObject *spans;                 /* [start0, length0, ...] per buffer */
  const char *data;                /* the file */
  Py_ssize_t size;
  const float *floats;             /* the walker's pools */
  Py_ssize_t n_floats;
  const int64_t *ints;
  Py_ssize_t n_ints;
} el_source;

/* (name, shape, type, buffer, quantization, sparsity, signature, is_variable, has_rank) */
static int read_tensor(el_compiler *c, const el_source *src, PyObject *entry, el_ctensor *t, int32_t index) {
  if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 9) return el_defer(c, "tensor %d entry", index);
  int ok = 1;
  t->type = (int)as_int(PyTuple_GET_ITEM(entry, 2), &ok);
  const int64_t buffer = as_int(PyTuple_GET_ITEM(entry, 3), &ok);
  if (!ok || read_dims(PyTuple_GET_ITEM(entry, 1), &t->rank, t->dims) < 0)
    return el_defer(c, "tensor %d has a rank above %d", index, EL_MAX_RANK);
  if (PyTuple_GET_ITEM(entry, 5) != Py_None) return el_defer(c, "tensor %d is sparse", index);
  if (PyTuple_GET_ITEM(entry, 7) != Py_False) return el_defer(c, "tensor %d is a variable", index);
  if (PyTuple_GET_ITEM(entry, 8) != Py_True) return el_defer(c, "tensor %d has no rank", index);
  if (el_itemsize(t->type) == 0) return el_defer(c, "tensor %d of type %d", index, t->type);
  for (int d = 0; d < t->rank; d++)
    if (t->dims[d] <= 0 || t->dims[d] > EL_MAX_ELEMENTS) return el_defer(c, "tensor %d is empty or huge", index);
  if (el_count(t) > EL_MAX_ELEMENTS) return el_defer(c, "tensor %d is huge", index);
  PyObject *quant = PyTuple_GET_ITEM(entry, 4);
  if (quant != Py_None) {
    if (!PyTuple_Check(quant) || PyTuple_GET_SIZE(quant) != 7) return el_defer(c, "tensor %d quantization", index);
    const int64_t axis = as_int(PyTuple_GET_ITEM(quant, 0), &ok), scales = as_int(PyTuple_GET_ITEM(quant, 1), &ok);
    const int64_t zeros = as_int(PyTuple_GET_ITEM(quant, 2), &ok), f = as_int(PyTuple_GET_ITEM(quant, 5), &ok);
    const int64_t z = as_int(PyTuple_GET_ITEM(quant, 6), &ok);
    if (!ok || scales < 0 || zeros < 0 || f < 0 || z < 0 || f > src->n_floats - scales || z > src->n_ints - zeros)
      return el_defer(c, "tensor %d quantization out of the pools", index);
    t->quant_axis = (int)axis;
    t->n_scales = (int)scales, t->n_zeros = (int)zeros;
    t->scales = src->floats + f, t->zeros = src->ints + z;
  }
  const Py_ssize_t n_spans = PyList_GET_SIZE(src->spans);
  if (buffer > 0) {
    if (2 * buffer + 1 >= n_spans) return el_defer(c, "tensor %d buffer", index);
    const int64_t start = as_int(PyList_GET_ITEM(src->spans, 2 * buffer), &ok);
    const int64_t length = as_int(PyList_GET_ITEM(src->spans, 2 * buffer + 1), &ok);
    if (!ok || start < 0 || length < 0 || start > src->size || length > src->size - start)
      return el_defer(c, "tensor %d buffer span", index);
    if (length > 0) {
      if (length != el_count(t) * el_itemsize(t->type)) return el_defer(c, "constant %d size", index);
      t->data = src->data + start;
      t->data_bytes = length;
      t->shaped = 1;
    }
  }
  return 0;
}

static int read_value(PyObject *v, el_cvalue *out) {
  if (PyBool_Check(v) || PyLong_Check(v)) {
    int ok = 1;
    out->i = as_int(v, &ok);
    out->f = ok ? (double)out->i : NAN;
  } else if (PyFloat_Check(v)) {
    out->i = 0;
    out->f = PyFloat_AS_DOUBLE(v);
  } else { /* vectors, strings: not read by the families */
    out->i = 0;
    out->f = NAN;
  }
  return 0;
}

/* A vector option (None, or a tuple of ints) into node->vec / n_vec unless one is there already. */
static void read_vector(PyObject *v, el_cnode *node) {
  if (node->n_vec != 0 || v == Py_None || !PyTuple_Check(v)) return;
  int ok = 1;
  const Py_ssize_t n = PyTuple_GET_SIZE(v);
  for (Py_ssize_t k = 0; k < n && k < EL_MAX_RANK; k++) node->vec[k] = as_int(PyTuple_GET_ITEM(v, k), &ok);
  node->n_vec = ok && n <= EL_MAX_RANK ? (int)n : -1;
}

static int index_list(el_compiler *c, PyObject *tuple, int32_t *out, int *n, int low) {
  if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) > EL_C_MAX_IO) return el_defer(c, "too many operands");
  *n = (int)PyTuple_GET_SIZE(tuple);
  int ok = 1;
  for (int k = 0; k < *n; k++) {
    const int64_t i = as_int(PyTuple_GET_ITEM(tuple, k), &ok);
    if (!ok || i < low || i >= c->n_tensors) return el_defer(c, "operand %lld out of range", (long long)i);
    out[k] = (int32_t)i;
  }
  return 0;
}

/* (opcode index, inputs, outputs, intermediates, options, custom options) */
static int read_operator(el_compiler *c, PyObject *codes, PyObject *entry, el_cnode *node, int index) {
  if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 6) return el_defer(c, "operator %d entry", index);
  int ok = 1, status;
  const int64_t code = as_int(PyTuple_GET_ITEM(entry, 0), &ok);
  if (!ok || code < 0 || code >= PyTuple_GET_SIZE(codes)) return el_defer(c, "operator %d code", index);
  PyObject *opcode = PyTuple_GET_ITEM(codes, code);
  const int64_t builtin = PyTuple_Check(opcode) && PyTuple_GET_SIZE(opcode) == 3
                              ? as_int(PyTuple_GET_ITEM(opcode, 0), &ok) : -1;
  if (!ok || builtin < 0 || builtin >= EL_B_COUNT) return el_defer(c, "operator %d: builtin %lld", index, (long long)builtin);
  node->index = index;
  node->builtin = (int)builtin;
  if (builtin == EL_B_CUSTOM) {
    PyObject *custom = PyTuple_GET_ITEM(opcode, 1), *bytes = PyTuple_GET_ITEM(entry, 5);
    if (!PyUnicode_Check(custom) || PyUnicode_CompareWithASCIIString(custom, "Convolution2DTransposeBias") != 0 ||
        !PyBytes_Check(bytes))
      return el_defer(c, "operator %d: a custom op", index);
    node->builtin = EL_B_TCONV_BIAS;
    node->custom_options = PyBytes_AS_STRING(bytes), node->custom_size = PyBytes_GET_SIZE(bytes);
  }
  if ((status = index_list(c, PyTuple_GET_ITEM(entry, 1), node->in, &node->n_in, -1)) < 0 ||
      (status = index_list(c, PyTuple_GET_ITEM(entry, 2), node->out, &node->n_out, 0)) < 0)
    return status;
  if (!PyTuple_Check(PyTuple_GET_ITEM(entry, 3)) || PyTuple_GET_SIZE(PyTuple_GET_ITEM(entry, 3)))
    return el_defer(c, "operator %d has intermediates", index);
  PyObject *options = PyTuple_GET_ITEM(entry, 4);
  if (options != Py_None) {
    if (!PyTuple_Check(options) || PyTuple_GET_SIZE(options) != 3) return el_defer(c, "operator %d options", index);
    const int64_t table = as_int(PyTuple_GET_ITEM(options, 1), &ok);
    PyObject *values = PyTuple_GET_ITEM(options, 2);
    if (!ok || as_int(PyTuple_GET_ITEM(options, 0), &ok) != 1 || !ok || !PyTuple_Check(values) ||
        PyTuple_GET_SIZE(values) > EL_C_MAX_OPTS)
      return el_defer(c, "operator %d: options of another union", index);
    node->options_code = (int)table;
    node->n_opt = (int)PyTuple_GET_SIZE(values);
    for (int k = 0; k < node->n_opt; k++) read_value(PyTuple_GET_ITEM(values, k), &node->opt[k]);
    for (int k = 0; k < node->n_opt && node->n_vec == 0; k++) read_vector(PyTuple_GET_ITEM(values, k), node);
  }
  return 0;
}

/* ------------------------------------------------------------------ plan */

static int quantized(int type) {
  return type == EL_T_INT8 || type == EL_T_UINT8 || type == EL_T_INT16 || type == EL_T_INT32;
}

/* native_int8._is_quantized_node: the first input's or the output's type is quantized */
static const el_compile_op *family_of(const el_compiler *c, const el_cnode *node) {
  const int first = node->n_in && node->in[0] >= 0 ? c->t[node->in[0]].type : -1;
  const int output = node->n_out ? c->t[node->out[0]].type : -1;
  return quantized(first) || quantized(output) ? &el_compile_int8[node->builtin] : &el_compile_f32[node->builtin];
}

static int written_by_any(const el_compiler *c, const el_cnode *nodes, int32_t count, int32_t tensor) {
  for (int32_t k = 0; k < count; k++)
    for (int o = 0; o < nodes[k].n_out; o++)
      if (nodes[k].out[o] == tensor) return 1;
  (void)c;
  return 0;
}

/* plan._widened_constants: every DEQUANTIZE of a float16 constant nobody writes, widened into one
 * block of the heap; any other DEQUANTIZE of a constant folds in Python (defer). */
static int fold_float16(el_compiler *c, el_cnode *ops, int32_t n_ops, PyObject **block_out, Py_ssize_t *block_offset) {
  int64_t total = 0;
  for (int32_t k = 0; k < n_ops; k++) {
    el_cnode *op = &ops[k];
    if (op->builtin != EL_B_DEQUANTIZE || op->n_in != 1 || op->n_out != 1 || op->in[0] < 0) continue;
    const el_ctensor *source = &c->t[op->in[0]], *target = &c->t[op->out[0]];
    if (source->data == NULL) continue; /* a DEQUANTIZE at run time */
    if (source->type != EL_T_FLOAT16 || target->type != EL_T_FLOAT32 || written_by_any(c, ops, n_ops, op->in[0]))
      return el_defer(c, "DEQUANTIZE %d of a constant folds in Python", k);
    op->folded = 1;
    total += (el_count(source) + 15) / 16 * 16;
  }
  if (total == 0) return 0;
  char *block;
  *block_out = el_heap_carve(c->heap, (size_t)total * 4, 0, &block, block_offset);
  if (*block_out == NULL) return -1;
  int64_t start = 0;
  for (int32_t k = 0; k < n_ops; k++) {
    if (!ops[k].folded) continue;
    const el_ctensor *source = &c->t[ops[k].in[0]];
    el_ctensor *target = &c->t[ops[k].out[0]];
    const int64_t count = el_count(source);
    el_widen_f16((const uint16_t *)(const void *)source->data, (uint32_t *)(void *)(block + 4 * start), (size_t)count);
    target->rank = source->rank;
    memcpy(target->dims, source->dims, sizeof target->dims);
    target->data = block + 4 * start;
    target->data_bytes = count * 4;
    target->shaped = 1;
    ops[k].opt[0].i = start; /* the folded value's first element in the block, for the result */
    start += (count + 15) / 16 * 16;
  }
  return 0;
}

static int prepare_all(el_compiler *c) {
  for (int32_t k = 0; k < c->n_nodes; k++) {
    el_cnode *node = &c->nodes[k];
    for (int i = 0; i < node->n_in; i++)
      if (node->in[i] >= 0 && !c->t[node->in[i]].shaped)
        return el_defer(c, "node %d reads tensor %d before anything writes it", node->index, node->in[i]);
    for (int o = 0; o < node->n_out; o++)
      if (c->t[node->out[o]].data != NULL) return el_defer(c, "node %d writes a constant", node->index);
    const el_compile_op *op = family_of(c, node);
    if (op->prepare == NULL || op->lower == NULL)
      return el_defer(c, "node %d: builtin %d of this type is not compiled", node->index, node->builtin);
    const int status = op->prepare(c, node);
    if (status < 0) return status;
    for (int o = 0; o < node->n_out; o++)
      if (!c->t[node->out[o]].shaped) return el_defer(c, "node %d left output %d unshaped", node->index, o);
  }
  return 0;
}

/* planner.lifetime_steps over every operator (folded ones included), then plan._padded_reads. */
static int lifetimes(el_compiler *c, const el_cnode *ops, int32_t n_ops) {
  const int32_t end = n_ops > 0 ? n_ops - 1 : 0;
  for (int32_t i = 0; i < c->n_tensors; i++) c->t[i].first = c->t[i].last = -1, c->t[i].alias = -1;
  for (int pass = 0; pass < 2; pass++) {
    const int32_t *list = pass ? c->outputs : c->inputs;
    for (int32_t k = 0; k < (pass ? c->n_outputs : c->n_inputs); k++) {
      el_ctensor *t = &c->t[list[k]];
      if (t->data == NULL) t->first = 0, t->last = end;
    }
  }
  uint8_t *pinned = PyMem_Calloc((size_t)c->n_tensors + 1, 1);
  if (pinned == NULL) return PyErr_NoMemory(), -1;
  for (int32_t i = 0; i < c->n_tensors; i++) pinned[i] = c->t[i].first == 0 && c->t[i].last == end && c->t[i].data == NULL;
  int status = 0;
  for (int32_t step = 0; step < n_ops && status == 0; step++) {
    const el_cnode *op = &ops[step];
    for (int k = 0; k < op->n_in; k++) {
      const int32_t i = op->in[k];
      if (i < 0 || c->t[i].data != NULL || pinned[i]) continue;
      if (c->t[i].first < 0) status = el_defer(c, "tensor %d read before it is written", i);
      c->t[i].last = step;
    }
    for (int k = 0; k < op->n_out; k++) {
      const int32_t i = op->out[k];
      if (c->t[i].data != NULL || pinned[i]) continue;
      if (c->t[i].first < 0) c->t[i].first = step;
      c->t[i].last = step;
    }
  }
  PyMem_Free(pinned);
  if (status < 0) return status;
  for (int32_t step = 0; step + 1 < n_ops; step++) { /* a PAD the next convolution may read through */
    const el_cnode *pad = &ops[step], *next = &ops[step + 1];
    if (pad->builtin != EL_B_PAD || pad->n_in == 0 || pad->n_out != 1) continue;
    if ((next->builtin != EL_B_CONV_2D && next->builtin != EL_B_DEPTHWISE_CONV_2D) || next->n_in == 0 ||
        next->in[0] != pad->out[0] || c->t[pad->out[0]].readers != 1)
      continue;
    el_ctensor *source = &c->t[pad->in[0]];
    if (pad->in[0] >= 0 && source->first >= 0 && step + 1 > source->last) source->last = step + 1;
  }
  return 0;
}

static int is_boundary(const el_compiler *c, int32_t i) {
  for (int32_t k = 0; k < c->n_inputs; k++)
    if (c->inputs[k] == i) return 1;
  for (int32_t k = 0; k < c->n_outputs; k++)
    if (c->outputs[k] == i) return 1;
  return 0;
}

/* plan._aliases: RESHAPE-like outputs sharing their input's bytes; a shared buffer's lifetime
 * covers all its tensors. */
static void aliases(el_compiler *c, const el_cnode *ops, int32_t n_ops) {
  int any = 0;
  for (int32_t k = 0; k < n_ops; k++) {
    const el_cnode *op = &ops[k];
    if ((op->builtin != EL_B_RESHAPE && op->builtin != EL_B_SQUEEZE && op->builtin != EL_B_EXPAND_DIMS) ||
        op->n_in == 0 || op->n_out != 1 || op->in[0] < 0)
      continue;
    const int32_t source = op->in[0], target = op->out[0];
    el_ctensor *s = &c->t[source], *t = &c->t[target];
    if (is_boundary(c, source) || is_boundary(c, target) || s->first < 0 || t->first < 0 || source == target ||
        s->type != t->type || t->alias >= 0 || el_count(s) != el_count(t))
      continue;
    t->alias = s->alias >= 0 ? s->alias : source;
    any = 1;
  }
  if (!any) return;
  for (int32_t i = 0; i < c->n_tensors; i++) {
    el_ctensor *t = &c->t[i];
    if (t->alias < 0 || t->first < 0) continue;
    el_ctensor *root = &c->t[t->alias];
    if (t->first < root->first) root->first = t->first;
    if (t->last > root->last) root->last = t->last;
  }
}

static int plan_arena(el_compiler *c, int64_t *arena_size, int64_t *lower_bound) {
  size_t count = 0;
  for (int32_t i = 0; i < c->n_tensors; i++) count += c->t[i].first >= 0 && c->t[i].alias < 0;
  int64_t *words = PyMem_Malloc((4 * count + 1) * sizeof(int64_t));
  int32_t *placed = PyMem_Malloc((count + 1) * sizeof(int32_t));
  if (words == NULL || placed == NULL) {
    PyMem_Free(words), PyMem_Free(placed);
    return PyErr_NoMemory(), -1;
  }
  int64_t *size = words, *first = words + count, *last = words + 2 * count, *offsets = words + 3 * count;
  size_t n = 0;
  for (int32_t i = 0; i < c->n_tensors; i++) {
    const el_ctensor *t = &c->t[i];
    if (t->first < 0 || t->alias >= 0) continue;
    const int64_t bytes = el_count(t) * el_itemsize(t->type);
    placed[n] = i, first[n] = t->first, last[n] = t->last;
    size[n++] = (bytes + ARENA_ALIGNMENT - 1) / ARENA_ALIGNMENT * ARENA_ALIGNMENT;
  }
  int status = 0;
  for (size_t k = 0; k < count; k++)
    if (size[k] > EL_PLAN_MAX_SIZE - ARENA_ALIGNMENT || last[k] > EL_PLAN_MAX_STEP) status = el_defer(c, "arena too large");
  if (status == 0 && el_plan_arena(count, size, first, last, ARENA_ALIGNMENT, offsets, arena_size, lower_bound) < 0)
    status = -1, PyErr_NoMemory();
  for (size_t k = 0; status == 0 && k < count; k++) c->t[placed[k]].offset = offsets[k];
  for (int32_t i = 0; status == 0 && i < c->n_tensors; i++)
    if (c->t[i].alias >= 0) c->t[i].offset = c->t[c->t[i].alias].offset;
  PyMem_Free(words), PyMem_Free(placed);
  return status;
}

/* ------------------------------------------------------------------ the pass */

static int lower_all(el_compiler *c) {
  for (int32_t k = 0; k < c->n_nodes; k++) {
    c->position = k;
    const int status = family_of(c, &c->nodes[k])->lower(c, &c->nodes[k]);
    if (status < 0) return status;
  }
  return PyErr_Occurred() ? -1 : 0;
}

static PyObject *int32_vector(el_compiler *c, PyObject *tuple, const int32_t **out, int32_t *n) {
  int count = 0, status;
  if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) > 4096) return el_defer(c, "graph inputs / outputs"), NULL;
  int32_t *list = PyMem_Malloc(sizeof(int32_t) * ((size_t)PyTuple_GET_SIZE(tuple) + 1));
  if (list == NULL) return PyErr_NoMemory(), NULL;
  int ok = 1;
  for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(tuple); k++) {
    const int64_t i = as_int(PyTuple_GET_ITEM(tuple, k), &ok);
    if (!ok || i < 0 || i >= c->n_tensors) {
      PyMem_Free(list);
      return el_defer(c, "graph input / output %lld out of range", (long long)i), NULL;
    }
    list[count++] = (int32_t)i;
  }
  (void)status;
  *out = list, *n = count;
  return Py_None;
}

static int apply_input_shapes(el_compiler *c, PyObject *shapes) {
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next(shapes, &pos, &key, &value)) {
    int ok = 1, rank;
    int64_t dims[EL_MAX_RANK];
    const int64_t i = as_int(key, &ok);
    if (!ok || i < 0 || i >= c->n_tensors || c->t[i].data != NULL || read_dims(value, &rank, dims) < 0)
      return el_defer(c, "input shape override of tensor %lld", (long long)i);
    const int status = el_set_shape(c, (int32_t)i, rank, dims);
    if (status < 0) return status;
  }
  return 0;
}

/* The result: (tensor rows, node rows, buffers, writable, shapes, offsets, arena size, lower bound,
 * planned operator indices, fused PAD outputs, (float16 block, its offset, ((tensor, first element),
 * ...)) or None). */
static PyObject *rows_bytes(const int64_t *rows, int n, int words) {
  return PyByteArray_FromStringAndSize((const char *)rows, (Py_ssize_t)n * words * 8);
}

static PyObject *shapes_tuple(const el_compiler *c) {
  PyObject *shapes = PyTuple_New(c->n_tensors);
  for (int32_t i = 0; shapes && i < c->n_tensors; i++) {
    const el_ctensor *t = &c->t[i];
    PyObject *dims = PyTuple_New(t->rank);
    for (int d = 0; dims && d < t->rank; d++) PyTuple_SET_ITEM(dims, d, PyLong_FromLongLong(t->dims[d]));
    if (dims == NULL) Py_CLEAR(shapes);
    else PyTuple_SET_ITEM(shapes, i, dims);
  }
  return shapes;
}

static PyObject *offsets_tuple(const el_compiler *c) {
  PyObject *offsets = PyTuple_New(c->n_tensors);
  for (int32_t i = 0; offsets && i < c->n_tensors; i++) PyTuple_SET_ITEM(offsets, i, PyLong_FromLongLong(c->t[i].offset));
  return offsets;
}

static PyObject *planned_tuple(const el_compiler *c) {
  PyObject *planned = PyTuple_New(c->n_nodes);
  for (int32_t k = 0; planned && k < c->n_nodes; k++) PyTuple_SET_ITEM(planned, k, PyLong_FromLong(c->nodes[k].index));
  return planned;
}

/* (float16 block, its offset, ((tensor, first element), ...)) or None */
static PyObject *folding_of(const el_cnode *ops, int32_t n_ops, PyObject *block, Py_ssize_t block_offset) {
  if (block == NULL) Py_RETURN_NONE;
  PyObject *folded = PyList_New(0);
  for (int32_t k = 0; folded && k < n_ops; k++) {
    if (!ops[k].folded) continue;
    PyObject *entry = Py_BuildValue("(iL)", ops[k].out[0], (long long)ops[k].opt[0].i);
    if (entry == NULL || PyList_Append(folded, entry) < 0) Py_CLEAR(folded);
    Py_XDECREF(entry);
  }
  return folded ? Py_BuildValue("(OnN)", block, block_offset, folded) : NULL;
}

/* The result: (tensor rows, node rows, buffers, writable, shapes, offsets, arena size, lower bound,
 * planned operator indices, fused PAD outputs, folding_of(...)). A failed item is NULL, which
 * Py_BuildValue reports. */
static PyObject *result_of(el_compiler *c, const el_cnode *ops, int32_t n_ops, int64_t arena, int64_t bound,
                           PyObject *block, Py_ssize_t block_offset) {
  return Py_BuildValue("(NNOONNLLNON)", rows_bytes(c->trows, c->n_trows, EL_TENSOR_WORDS),
                       rows_bytes(c->nrows, c->n_nrows, EL_NODE_WORDS), c->buffers, c->writable, shapes_tuple(c),
                       offsets_tuple(c), (long long)arena, (long long)bound, planned_tuple(c), c->fused,
                       folding_of(ops, n_ops, block, block_offset));
}

static void count_readers(el_compiler *c, const el_cnode *ops, int32_t n_ops) {
  for (int32_t k = 0; k < n_ops; k++)
    for (int i = 0; i < ops[k].n_in; i++)
      if (ops[k].in[i] >= 0) c->t[ops[k].in[i]].readers++;
}

/* The lowering's slabs, the first sized as native.heap_estimate: the constants, int8 ones twice
 * (as int16 pairs), float16 ones three times (with their widened copy), plus 64 KiB. */
static int make_heap(el_compiler *c) {
  int64_t estimate = 64 << 10;
  for (int32_t i = 0; i < c->n_tensors; i++) {
    const el_ctensor *t = &c->t[i];
    if (t->data != NULL) estimate += t->data_bytes * (t->type == EL_T_FLOAT16 ? 3 : el_itemsize(t->type) == 1 ? 2 : 1);
  }
  PyObject *args = Py_BuildValue("(L)", (long long)estimate);
  c->heap = args ? el_py_heap(NULL, args) : NULL;
  Py_XDECREF(args);
  return c->heap ? 0 : -1;
}

static int compile_graph(el_compiler *c, const el_source *src, PyObject *entry, PyObject *codes, PyObject *input_shapes,
                         el_cnode **ops_out, int32_t *n_ops_out, int64_t *arena, int64_t *bound, PyObject **block,
                         Py_ssize_t *block_offset) {
  PyObject *tensors = PyTuple_GET_ITEM(entry, 1), *operators = PyTuple_GET_ITEM(entry, 4);
  if (!PyTuple_Check(tensors) || !PyTuple_Check(operators)) return el_defer(c, "subgraph entry");
  c->n_tensors = (int32_t)PyTuple_GET_SIZE(tensors);
  const int32_t n_ops = (int32_t)PyTuple_GET_SIZE(operators);
  c->t = PyMem_Calloc((size_t)c->n_tensors + 1, sizeof(el_ctensor));
  el_cnode *ops = *ops_out = PyMem_Calloc((size_t)n_ops + 1, sizeof(el_cnode));
  c->nodes = PyMem_Calloc((size_t)n_ops + 1, sizeof(el_cnode));
  if (c->t == NULL || ops == NULL || c->nodes == NULL) return PyErr_NoMemory(), -1;
  *n_ops_out = n_ops;
  int status;
  for (int32_t i = 0; i < c->n_tensors; i++) {
    c->t[i].offset = -1, c->t[i].row = -1, c->t[i].alias = -1, c->t[i].first = c->t[i].last = -1;
    if ((status = read_tensor(c, src, PyTuple_GET_ITEM(tensors, i), &c->t[i], i)) < 0) return status;
  }
  if (int32_vector(c, PyTuple_GET_ITEM(entry, 2), &c->inputs, &c->n_inputs) == NULL ||
      int32_vector(c, PyTuple_GET_ITEM(entry, 3), &c->outputs, &c->n_outputs) == NULL)
    return PyErr_Occurred() ? -1 : EL_DEFER;
  for (int32_t k = 0; k < c->n_inputs; k++)
    if (c->t[c->inputs[k]].data == NULL) c->t[c->inputs[k]].shaped = 1;
  if (make_heap(c) < 0) return -1;
  if ((status = apply_input_shapes(c, input_shapes)) < 0) return status;
  for (int32_t k = 0; k < n_ops; k++)
    if ((status = read_operator(c, codes, PyTuple_GET_ITEM(operators, k), &ops[k], k)) < 0) return status;
  count_readers(c, ops, n_ops);
  if ((status = fold_float16(c, ops, n_ops, block, block_offset)) < 0) return status;
  for (int32_t k = 0; k < n_ops; k++)
    if (!ops[k].folded) c->nodes[c->n_nodes++] = ops[k];
  if (c->n_nodes == 0) return el_defer(c, "no node to run");
  if ((status = prepare_all(c)) < 0 || (status = lifetimes(c, ops, n_ops)) < 0) return status;
  aliases(c, ops, n_ops);
  if ((status = plan_arena(c, arena, bound)) < 0) return status;
  if ((status = lower_all(c)) < 0 || (status = el_finish_rows(c)) < 0) return status;
  return 0;
}

static void release(el_compiler *c, el_cnode *ops) {
  PyMem_Free(c->t), PyMem_Free(c->nodes), PyMem_Free(ops), PyMem_Free(c->trows), PyMem_Free(c->nrows);
  PyMem_Free((void *)c->inputs), PyMem_Free((void *)c->outputs);
  Py_XDECREF(c->buffers), Py_XDECREF(c->writable), Py_XDECREF(c->fused), Py_XDECREF(c->heap);
}

/* compile(subgraph entry, operator codes, buffer spans, float pool, int pool, data, input shapes,
 * threads, prefer_quads, dw_format, tables) -> result_of(...), or (None, reason) to defer. */
PyObject *el_py_compile(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *entry, *codes, *spans, *floats_obj, *ints_obj, *data_obj, *input_shapes, *tables;
  int threads, prefer_quads, dw_format;
  if (!PyArg_ParseTuple(args, "O!O!O!OOOO!iiiO", &PyTuple_Type, &entry, &PyTuple_Type, &codes, &PyList_Type, &spans,
                        &floats_obj, &ints_obj, &data_obj, &PyDict_Type, &input_shapes, &threads, &prefer_quads,
                        &dw_format, &tables))
    return NULL;
  if (PyTuple_GET_SIZE(entry) != 7 || threads < 1 || threads > 64)
    return PyErr_Format(PyExc_ValueError, "compile: a subgraph entry of 7 items and 1..64 threads");
  Py_buffer data, floats, ints;
  if (PyObject_GetBuffer(data_obj, &data, PyBUF_SIMPLE) < 0) return NULL;
  if (PyObject_GetBuffer(floats_obj, &floats, PyBUF_SIMPLE) < 0) {
    PyBuffer_Release(&data);
    return NULL;
  }
  if (PyObject_GetBuffer(ints_obj, &ints, PyBUF_SIMPLE) < 0) {
    PyBuffer_Release(&data), PyBuffer_Release(&floats);
    return NULL;
  }
  const el_source src = {spans, data.buf, data.len, floats.buf, floats.len / 4, ints.buf, ints.len / 8};
  el_compiler c;
  memset(&c, 0, sizeof c);
  c.threads = threads, c.prefer_quads = prefer_quads, c.dw_format = dw_format, c.tables = tables;
  c.scratch_row = c.zeros_row = -1;
  c.buffers = PyList_New(0), c.writable = PyList_New(0), c.fused = PyList_New(0);
  el_cnode *ops = NULL;
  int32_t n_ops = 0;
  int64_t arena = 0, bound = 0;
  PyObject *block = NULL, *result = NULL;
  Py_ssize_t block_offset = 0;
  int status = -1;
  if (c.buffers && c.writable && c.fused && PyList_Append(c.buffers, Py_None) == 0 &&
      PyList_Append(c.writable, Py_True) == 0)
    status = compile_graph(&c, &src, entry, codes, input_shapes, &ops, &n_ops, &arena, &bound, &block, &block_offset);
  if (status == 0) result = result_of(&c, ops, n_ops, arena, bound, block, block_offset);
  else if (status == EL_DEFER && !PyErr_Occurred()) result = Py_BuildValue("(Os)", Py_None, c.reason);
  Py_XDECREF(block);
  release(&c, ops);
  PyBuffer_Release(&data), PyBuffer_Release(&floats), PyBuffer_Release(&ints);
  return result;
}
